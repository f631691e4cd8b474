"""Each job's times and durations as read from the store, the scope's WHERE clause, and the
ISO-8601 conversions that the figures and the CSV export share."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cmfy_desk.metrics.model import MetricsScope
from cmfy_desk.store import JobStatus, Store


@dataclass(frozen=True)
class JobTiming:
    """One job's times (Unix seconds) and durations (seconds), None where not recorded."""

    job_id: int
    batch_id: int
    batch_name: str
    connection: str
    status: JobStatus
    model_key: str
    attempts: int
    created_at: float
    submitted_at: float | None
    started_at: float | None
    completed_at: float | None
    finished_at: float | None
    queue_seconds: float | None
    execution_seconds: float | None
    total_seconds: float | None
    # Time on the node beyond execution: model downloads and loading.
    overhead_seconds: float | None

    # Start and end of the run by the service's clock where reported, else the local one.
    run_started_at: float | None = None
    run_ended_at: float | None = None

    @property
    def activity_at(self) -> float:
        return self.finished_at or self.submitted_at or self.created_at


_TIMING_QUERY = """
SELECT jobs.id, jobs.batch_id, batches.name AS batch_name, jobs.connection, jobs.status,
       jobs.model_key, jobs.attempts, jobs.created_at, jobs.submitted_at, jobs.started_at,
       jobs.finished_at, jobs.remote_created_at, jobs.remote_started_at,
       jobs.remote_completed_at, jobs.execution_time_ms,
       (SELECT MAX(at) FROM job_events
         WHERE job_events.job_id = jobs.id AND job_events.status = 'downloading') AS completed_at
FROM jobs JOIN batches ON batches.id = jobs.batch_id
"""


def scope_clause(scope: MetricsScope) -> tuple[str, list[Any]]:
    """Return the WHERE clause (on the jobs table) and its values that select the scope."""
    clauses: list[str] = []
    values: list[Any] = []
    if scope.connection is not None:
        clauses.append("jobs.connection = ?")
        values.append(scope.connection)
    if scope.batch_id is not None:
        clauses.append("jobs.batch_id = ?")
        values.append(scope.batch_id)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", values


def load_timings(store: Store, scope: MetricsScope) -> list[JobTiming]:
    """Return the timing of every job in ``scope``, in job id order."""
    where, values = scope_clause(scope)
    rows = store.connection.execute(_TIMING_QUERY + where + " ORDER BY jobs.id", values).fetchall()
    timings = [_timing_from_row(row) for row in rows]
    return [timing for timing in timings if _in_window(timing.activity_at, scope)]


def _in_window(moment: float, scope: MetricsScope) -> bool:
    if scope.since is not None and moment < scope.since:
        return False
    return not (scope.until is not None and moment > scope.until)


def _timing_from_row(row: sqlite3.Row) -> JobTiming:
    remote_created = parse_iso(row["remote_created_at"])
    remote_started = parse_iso(row["remote_started_at"])
    remote_completed = parse_iso(row["remote_completed_at"])
    submitted, started = row["submitted_at"], row["started_at"]
    completed, finished = row["completed_at"], row["finished_at"]
    execution_ms = row["execution_time_ms"]

    # The service's own clock is preferred: the local start time is when a status read or
    # webhook reported the start, which can be much later.
    queue = _difference(remote_created, remote_started)
    if queue is None:
        queue = _difference(submitted, started)
    run_wall = _difference(remote_started, remote_completed)
    if run_wall is None:
        run_wall = _difference(started, completed)
    execution = execution_ms / 1000 if execution_ms is not None else run_wall
    overhead = None
    if execution_ms is not None and run_wall is not None:
        overhead = max(0.0, run_wall - execution_ms / 1000)
    return JobTiming(
        job_id=row["id"],
        batch_id=row["batch_id"],
        batch_name=row["batch_name"],
        connection=row["connection"],
        status=JobStatus(row["status"]),
        model_key=row["model_key"],
        attempts=row["attempts"],
        created_at=row["created_at"],
        submitted_at=submitted,
        started_at=started,
        completed_at=completed,
        finished_at=finished,
        queue_seconds=queue,
        execution_seconds=execution,
        total_seconds=_difference(submitted, finished),
        overhead_seconds=overhead,
        run_started_at=remote_started if remote_started is not None else started,
        run_ended_at=remote_completed if remote_completed is not None else completed,
    )


def _difference(start: float | None, end: float | None) -> float | None:
    if start is None or end is None or end < start:
        return None
    return end - start


def parse_iso(text: str | None) -> float | None:
    """Return Unix seconds of an ISO-8601 time with ``Z`` or an offset (UTC when it has
    neither). Return None for None and for text that is not such a time."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def iso_time(seconds: float | None) -> str:
    """Return Unix seconds as ISO-8601 UTC with milliseconds, or "" for None."""
    if seconds is None:
        return ""
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Requeue:
    """A job put back in the queue at ``at`` (Unix seconds), and the time of its next status
    change, None when it has had none."""

    job_id: int
    at: float
    next_submission_at: float | None


def load_requeues(store: Store, scope: MetricsScope, job_ids: set[int]) -> list[Requeue]:
    """Return each step of a job in scope from SUBMITTING back to QUEUED, with the time of
    its next submission."""
    where, values = scope_clause(scope)
    rows = store.connection.execute(
        "SELECT job_id, at, next_at, next_status FROM ("
        " SELECT job_events.job_id, job_events.at, job_events.status,"
        "  LAG(job_events.status) OVER events AS previous_status,"
        "  LEAD(job_events.at) OVER events AS next_at,"
        "  LEAD(job_events.status) OVER events AS next_status"
        " FROM job_events JOIN jobs ON jobs.id = job_events.job_id" + where + " WINDOW events AS"
        " (PARTITION BY job_events.job_id ORDER BY job_events.id))"
        " WHERE status = 'queued' AND previous_status = 'submitting'",
        values,
    ).fetchall()
    return [
        Requeue(row["job_id"], row["at"], row["next_at"] if row["next_status"] else None)
        for row in rows
        if row["job_id"] in job_ids and _in_window(row["at"], scope)
    ]
