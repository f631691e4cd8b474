"""The history of batches and jobs: read-only summaries by local day and batch, and pruning.

History wraps one sqlite3 connection, as Gallery does. Its queries never decode a job's prompt,
and they count a batch's jobs through the index on (batch_id, status), so listing the days of
10,000 jobs reads no job row. prune_history() and remove_batches() delete whole batches whose
jobs have all ended. Deleting a batch row deletes its jobs, and through them their events,
outputs and webhook deliveries (ON DELETE CASCADE, with PRAGMA foreign_keys on, as
Store.open sets it). Image files stay on disk, and their rows in ``images`` stay too, because
those foreign keys are ON DELETE SET NULL, so the gallery keeps every picture.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from cmfy_desk.store.database import Store
from cmfy_desk.store.models import FINAL_STATUSES, JobStatus, Output

SECONDS_PER_DAY = 86_400
# The largest --older-than / history.keep_days accepted, about 270 years. It keeps the cutoff
# a finite float.
MAX_KEEP_DAYS = 100_000
# Batches deleted per transaction. Each transaction holds the database's write lock, and a
# short one keeps the window's own writes from waiting (see tests/benchmarks/history.py).
_PRUNE_CHUNK = 20

_FINAL_VALUES = tuple(sorted(status.value for status in FINAL_STATUSES))
_FINAL_PLACEHOLDERS = ",".join("?" * len(_FINAL_VALUES))

# A job's run time in seconds: the service's own execution time when it reported one, else
# from our started to finished timestamps.
_RUN_SECONDS_SQL = (
    "CASE WHEN jobs.execution_time_ms IS NOT NULL THEN jobs.execution_time_ms / 1000.0"
    " WHEN jobs.started_at IS NOT NULL AND jobs.finished_at IS NOT NULL"
    " THEN jobs.finished_at - jobs.started_at END"
)


@dataclass(frozen=True)
class JobCounts:
    """Jobs by status. ``other`` counts the final statuses partial and lost, and
    ``unfinished`` the jobs that have not ended (queued, running, downloading...)."""

    succeeded: int = 0
    failed: int = 0
    cancelled: int = 0
    other: int = 0
    unfinished: int = 0

    @property
    def total(self) -> int:
        return self.succeeded + self.failed + self.cancelled + self.other + self.unfinished

    @property
    def finished(self) -> bool:
        """Whether every job has ended (true for no jobs at all)."""
        return self.unfinished == 0

    def __add__(self, other: JobCounts) -> JobCounts:
        return JobCounts(
            self.succeeded + other.succeeded,
            self.failed + other.failed,
            self.cancelled + other.cancelled,
            self.other + other.other,
            self.unfinished + other.unfinished,
        )

    @classmethod
    def of(cls, by_status: Iterable[tuple[str, int]]) -> JobCounts:
        """Sum (status value, count) pairs into counts."""
        values = {"succeeded": 0, "failed": 0, "cancelled": 0, "other": 0, "unfinished": 0}
        for status, count in by_status:
            values[_count_field(status)] += count
        return cls(**values)


@dataclass(frozen=True)
class DaySummary:
    """One local calendar day with batches. ``day`` is ``YYYY-MM-DD``, and ``start`` and
    ``end`` are the Unix times at which it starts and ends."""

    day: str
    start: float
    end: float
    batch_count: int
    counts: JobCounts


@dataclass(frozen=True)
class BatchSummary:
    """A batch with its jobs counted and timed.

    ``finished_at`` is the time its last job ended, or None while a job has not.
    ``mean_run_seconds`` averages the run time of the jobs that have one (see
    JobSummary.run_seconds), and ``total_seconds`` is the time from the batch's creation to
    ``finished_at``.
    """

    id: int
    name: str
    workflow_name: str
    workflow_path: str
    connection: str
    output_dir: str
    created_at: float
    finished_at: float | None
    counts: JobCounts
    mean_run_seconds: float | None
    output_count: int

    @property
    def total_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return max(0.0, self.finished_at - self.created_at)


@dataclass(frozen=True)
class JobSummary:
    """A job without its prompt and parameters: its status, seed, times, error and number of
    outputs. Times are Unix times, and ``execution_time_ms`` is the service's own figure."""

    id: int
    batch_id: int
    position: int
    status: JobStatus
    seed: int | None
    attempts: int
    created_at: float
    submitted_at: float | None
    started_at: float | None
    finished_at: float | None
    execution_time_ms: int | None
    error_code: str | None
    error_message: str | None
    output_count: int

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def run_seconds(self) -> float | None:
        """The service's execution time when it reported one, else started to finished."""
        if self.execution_time_ms is not None:
            return self.execution_time_ms / 1000
        if self.started_at is not None and self.finished_at is not None:
            return max(0.0, self.finished_at - self.started_at)
        return None

    @property
    def total_seconds(self) -> float | None:
        """Seconds from the job's creation (queued) to its end."""
        if self.finished_at is None:
            return None
        return max(0.0, self.finished_at - self.created_at)


@dataclass(frozen=True)
class StoredJob:
    """A job's prompt and parameters as the database stores them, as JSON text not yet
    decoded, because a record written by an older version may hold no valid prompt."""

    id: int
    position: int
    status: JobStatus
    seed: int | None
    prompt_json: str
    parameters_json: str


@dataclass(frozen=True)
class ErrorCount:
    """An error (code and message, each possibly empty) and how many jobs of a batch had it."""

    code: str
    message: str
    jobs: int


@dataclass(frozen=True)
class PruneResult:
    """Batches removed from the history (or that would be, for a preview), with the number of
    their jobs and output rows. ``cutoff`` is the Unix time before which batches were
    created, or None for batches removed by id."""

    batch_ids: tuple[int, ...]
    jobs: int
    outputs: int
    cutoff: float | None = None

    @property
    def batches(self) -> int:
        return len(self.batch_ids)


class History:
    """Reads the history of batches and jobs through ``connection`` (autocommit mode)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    # Days -------------------------------------------------------------------------------

    def days(self, since: float | None = None) -> list[DaySummary]:
        """Return the local days with batches created at or after ``since`` (all days for
        None), newest first, with their batches and jobs counted."""
        where, values = (
            ("WHERE batches.created_at >= ?", [since]) if since is not None else ("", [])
        )
        rows = self._db.execute(
            "SELECT batches.id, batches.created_at, jobs.status, COUNT(jobs.id) FROM batches"
            f" LEFT JOIN jobs ON jobs.batch_id = batches.id {where}"
            " GROUP BY batches.id, jobs.status",
            values,
        )
        batch_days: dict[int, str] = {}
        batch_counts: dict[str, int] = {}
        status_counts: dict[str, dict[str, int]] = {}
        for batch_id, created_at, status, count in rows:
            day = batch_days.get(batch_id)
            if day is None:
                day = batch_days[batch_id] = local_day(created_at)
                batch_counts[day] = batch_counts.get(day, 0) + 1
            if status is not None:
                by_status = status_counts.setdefault(day, {})
                by_status[status] = by_status.get(status, 0) + count
        result = []
        for day in sorted(batch_counts, reverse=True):
            start, end = day_bounds(day)
            counts = JobCounts.of(status_counts.get(day, {}).items())
            result.append(DaySummary(day, start, end, batch_counts[day], counts))
        return result

    def day(self, day: str) -> DaySummary | None:
        """Return the summary of local day ``day`` (``YYYY-MM-DD``), or None without batches.
        Raises ValueError for a malformed day."""
        start, end = day_bounds(day)
        row = self._db.execute(
            "SELECT COUNT(*) FROM batches WHERE created_at >= ? AND created_at < ?", (start, end)
        ).fetchone()
        if not row[0]:
            return None
        status_rows = self._db.execute(
            "SELECT jobs.status, COUNT(*) FROM batches JOIN jobs ON jobs.batch_id = batches.id"
            " WHERE batches.created_at >= ? AND batches.created_at < ? GROUP BY jobs.status",
            (start, end),
        )
        return DaySummary(day, start, end, int(row[0]), JobCounts.of(status_rows))

    # Batches ----------------------------------------------------------------------------

    def batches(self, start: float, end: float) -> list[BatchSummary]:
        """Return the batches created from ``start`` up to (not including) ``end``, newest
        first."""
        rows = self._db.execute(
            "SELECT id FROM batches WHERE created_at >= ? AND created_at < ?"
            " ORDER BY created_at DESC, id DESC",
            (start, end),
        ).fetchall()
        return self.batch_summaries([int(row[0]) for row in rows])

    def batches_of_day(self, day: str) -> list[BatchSummary]:
        return self.batches(*day_bounds(day))

    def batch(self, batch_id: int) -> BatchSummary | None:
        summaries = self.batch_summaries([batch_id])
        return summaries[0] if summaries else None

    def batch_summaries(self, batch_ids: Sequence[int]) -> list[BatchSummary]:
        """Return the summaries of the batches in ``batch_ids`` that exist, in that order."""
        found: dict[int, BatchSummary] = {}
        for chunk in _chunks(batch_ids, 500):
            placeholders = ",".join("?" * len(chunk))
            batch_rows = self._db.execute(
                "SELECT id, name, workflow_name, workflow_path, connection, output_dir,"
                f" created_at FROM batches WHERE id IN ({placeholders})",
                chunk,
            ).fetchall()
            status_rows = self._db.execute(
                "SELECT batch_id, status, COUNT(*) FROM jobs"
                f" WHERE batch_id IN ({placeholders}) GROUP BY batch_id, status",
                chunk,
            )
            by_status: dict[int, list[tuple[str, int]]] = {}
            for batch_id, status, count in status_rows:
                by_status.setdefault(batch_id, []).append((status, count))
            timing_rows = self._db.execute(
                f"SELECT batch_id, AVG({_RUN_SECONDS_SQL}), MAX(finished_at),"
                " SUM((SELECT COUNT(*) FROM outputs WHERE outputs.job_id = jobs.id))"
                f" FROM jobs WHERE batch_id IN ({placeholders}) GROUP BY batch_id",
                chunk,
            )
            timings = {row[0]: row[1:] for row in timing_rows}
            for row in batch_rows:
                batch_id = int(row[0])
                counts = JobCounts.of(by_status.get(batch_id, []))
                mean_run, last_finished, outputs = timings.get(batch_id, (None, None, 0))
                found[batch_id] = BatchSummary(
                    id=batch_id,
                    name=row[1],
                    workflow_name=row[2],
                    workflow_path=row[3],
                    connection=row[4],
                    output_dir=row[5],
                    created_at=row[6],
                    finished_at=last_finished if counts.finished else None,
                    counts=counts,
                    mean_run_seconds=mean_run,
                    output_count=int(outputs or 0),
                )
        return [found[batch_id] for batch_id in batch_ids if batch_id in found]

    def batch_days(self, batch_ids: Iterable[int]) -> set[str]:
        """Return the local days on which the batches of ``batch_ids`` were created."""
        days: set[str] = set()
        for chunk in _chunks(list(batch_ids), 500):
            rows = self._db.execute(
                f"SELECT created_at FROM batches WHERE id IN ({','.join('?' * len(chunk))})",
                chunk,
            )
            days.update(local_day(row[0]) for row in rows)
        return days

    def errors(self, batch_id: int, limit: int = 5) -> list[ErrorCount]:
        """Return the most frequent errors of the jobs of ``batch_id``, most frequent first."""
        rows = self._db.execute(
            "SELECT COALESCE(error_code, ''), COALESCE(error_message, ''), COUNT(*) AS jobs"
            " FROM jobs WHERE batch_id = ? AND (error_code IS NOT NULL OR error_message IS NOT"
            " NULL) GROUP BY error_code, error_message ORDER BY jobs DESC, error_code LIMIT ?",
            (batch_id, limit),
        )
        return [ErrorCount(code, message, count) for code, message, count in rows]

    # Jobs and outputs -------------------------------------------------------------------

    def jobs(
        self, batch_id: int, *, after_position: int | None = None, limit: int | None = None
    ) -> list[JobSummary]:
        """Return the jobs of ``batch_id`` in position order: those after ``after_position``
        (from the first for None), at most ``limit`` of them (all for None)."""
        rows = self._db.execute(
            "SELECT id, batch_id, position, status, seed, attempts, created_at, submitted_at,"
            " started_at, finished_at, execution_time_ms, error_code, error_message,"
            " (SELECT COUNT(*) FROM outputs WHERE outputs.job_id = jobs.id)"
            " FROM jobs WHERE batch_id = ? AND position > ? ORDER BY position LIMIT ?",
            (
                batch_id,
                -1 if after_position is None else after_position,
                -1 if limit is None else limit,
            ),
        )
        return [_job_from_row(row) for row in rows]

    def stored_jobs(
        self,
        batch_id: int,
        *,
        statuses: Iterable[JobStatus] | None = None,
        job_ids: Iterable[int] | None = None,
    ) -> list[StoredJob]:
        """Return the jobs of ``batch_id`` with their stored prompts, in position order:
        those in ``statuses`` and of ``job_ids`` (all for None)."""
        clauses = ["batch_id = ?"]
        values: list[Any] = [batch_id]
        if statuses is not None:
            status_values = [status.value for status in statuses]
            clauses.append(f"status IN ({','.join('?' * len(status_values))})")
            values.extend(status_values)
        if job_ids is not None:
            ids = list(job_ids)
            clauses.append(f"id IN ({','.join('?' * len(ids))})")
            values.extend(ids)
        rows = self._db.execute(
            "SELECT id, position, status, seed, prompt_json, parameters_json FROM jobs"
            f" WHERE {' AND '.join(clauses)} ORDER BY position",
            values,
        )
        return [
            StoredJob(
                id=int(row[0]),
                position=int(row[1]),
                status=JobStatus(row[2]),
                seed=row[3],
                prompt_json=row[4] or "",
                parameters_json=row[5] or "",
            )
            for row in rows
        ]

    def job(self, job_id: int) -> JobSummary | None:
        row = self._db.execute(
            "SELECT id, batch_id, position, status, seed, attempts, created_at, submitted_at,"
            " started_at, finished_at, execution_time_ms, error_code, error_message,"
            " (SELECT COUNT(*) FROM outputs WHERE outputs.job_id = jobs.id)"
            " FROM jobs WHERE id = ?",
            (job_id,),
        ).fetchone()
        return _job_from_row(row) if row is not None else None

    def outputs(self, job_id: int) -> list[Output]:
        """Return the recorded outputs of ``job_id`` in their order."""
        rows = self._db.execute(
            "SELECT id, job_id, idx, remote_url, local_path, size, sha256, width, height,"
            " created_at FROM outputs WHERE job_id = ? ORDER BY idx",
            (job_id,),
        )
        return [Output(*row) for row in rows]

    def batch_outputs(self, batch_id: int, limit: int) -> list[Output]:
        """Return up to ``limit`` outputs of ``batch_id``, in job position order."""
        rows = self._db.execute(
            "SELECT outputs.id, outputs.job_id, outputs.idx, outputs.remote_url,"
            " outputs.local_path, outputs.size, outputs.sha256, outputs.width, outputs.height,"
            " outputs.created_at FROM jobs JOIN outputs ON outputs.job_id = jobs.id"
            " WHERE jobs.batch_id = ? ORDER BY jobs.position, outputs.idx LIMIT ?",
            (batch_id, limit),
        )
        return [Output(*row) for row in rows]

    # Pruning ----------------------------------------------------------------------------

    def prunable(self, cutoff: float) -> PruneResult:
        """Return the finished batches created before ``cutoff`` with their job and output
        counts, without deleting anything."""
        rows = self._db.execute(
            "SELECT id FROM batches WHERE created_at < ? AND NOT EXISTS (SELECT 1 FROM jobs"
            f" WHERE jobs.batch_id = batches.id AND jobs.status NOT IN ({_FINAL_PLACEHOLDERS}))"
            " ORDER BY id",
            (cutoff, *_FINAL_VALUES),
        ).fetchall()
        batch_ids = tuple(int(row[0]) for row in rows)
        jobs, outputs = self._count_contents(batch_ids)
        return PruneResult(batch_ids, jobs, outputs, cutoff)

    def _count_contents(self, batch_ids: Sequence[int]) -> tuple[int, int]:
        jobs = outputs = 0
        for chunk in _chunks(batch_ids, 500):
            placeholders = ",".join("?" * len(chunk))
            row = self._db.execute(
                "SELECT COUNT(*), SUM((SELECT COUNT(*) FROM outputs"
                f" WHERE outputs.job_id = jobs.id)) FROM jobs WHERE batch_id IN ({placeholders})",
                chunk,
            ).fetchone()
            jobs += int(row[0])
            outputs += int(row[1] or 0)
        return jobs, outputs

    def delete_finished(self, batch_ids: Iterable[int]) -> PruneResult:
        """Delete the batches of ``batch_ids`` whose jobs have all ended, with their jobs,
        events, outputs and webhook deliveries; leave the others. Each transaction covers a
        few batches, and it checks their jobs again, because a job may be retried meanwhile.
        """
        if not _foreign_keys_on(self._db):
            # Without them SQLite would delete the batch rows alone and leave their jobs.
            raise RuntimeError("Foreign keys are off on this connection; nothing was deleted.")
        deleted: list[int] = []
        jobs = outputs = 0
        for chunk in _chunks(list(batch_ids), _PRUNE_CHUNK):
            placeholders = ",".join("?" * len(chunk))
            self._db.execute("BEGIN IMMEDIATE")
            try:
                rows = self._db.execute(
                    f"SELECT id FROM batches WHERE id IN ({placeholders}) AND NOT EXISTS"
                    " (SELECT 1 FROM jobs WHERE jobs.batch_id = batches.id"
                    f" AND jobs.status NOT IN ({_FINAL_PLACEHOLDERS}))",
                    (*chunk, *_FINAL_VALUES),
                ).fetchall()
                finished = [int(row[0]) for row in rows]
                chunk_jobs, chunk_outputs = self._count_contents(finished)
                if finished:
                    self._db.execute(
                        f"DELETE FROM batches WHERE id IN ({','.join('?' * len(finished))})",
                        finished,
                    )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            deleted.extend(finished)
            jobs += chunk_jobs
            outputs += chunk_outputs
        return PruneResult(tuple(sorted(deleted)), jobs, outputs)


# Pruning by age ---------------------------------------------------------------------------


def prune_cutoff(older_than_days: int, now: float | None = None) -> float:
    """Return the Unix time ``older_than_days`` days before ``now`` (default: the current
    time). Raises ValueError for a number of days outside 1..MAX_KEEP_DAYS."""
    if isinstance(older_than_days, bool) or not isinstance(older_than_days, int):
        raise ValueError(f"Invalid number of days {older_than_days!r}: expected a whole number.")
    if not 1 <= older_than_days <= MAX_KEEP_DAYS:
        raise ValueError(
            f"Invalid number of days {older_than_days}: expected 1 to {MAX_KEEP_DAYS}."
        )
    return (time.time() if now is None else now) - older_than_days * SECONDS_PER_DAY


def preview_prune(store: Store, older_than_days: int, now: float | None = None) -> PruneResult:
    """Return what prune_history() would delete now, deleting nothing."""
    return History(store.connection).prunable(prune_cutoff(older_than_days, now))


def prune_history(store: Store, older_than_days: int, now: float | None = None) -> PruneResult:
    """Delete the batches created more than ``older_than_days`` days before ``now`` whose jobs
    have all ended, with their jobs, job events, outputs and webhook deliveries.

    A batch with a job that has not ended stays, however old. Image files and their rows in
    the image index stay. Raises ValueError for a number of days outside 1..MAX_KEEP_DAYS.
    """
    history = History(store.connection)
    cutoff = prune_cutoff(older_than_days, now)
    result = history.delete_finished(history.prunable(cutoff).batch_ids)
    return PruneResult(result.batch_ids, result.jobs, result.outputs, cutoff)


def remove_batches(store: Store, batch_ids: Iterable[int]) -> PruneResult:
    """Delete the batches of ``batch_ids`` whose jobs have all ended, as prune_history() does;
    batches with a job that has not ended stay."""
    return History(store.connection).delete_finished(batch_ids)


# Local days -------------------------------------------------------------------------------


def local_day(timestamp: float) -> str:
    """Return the local calendar day (``YYYY-MM-DD``) of a Unix time."""
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d")


def day_bounds(day: str) -> tuple[float, float]:
    """Return the Unix times at which local day ``YYYY-MM-DD`` starts and the next one starts.
    Raises ValueError for a malformed day."""
    start = datetime.strptime(day, "%Y-%m-%d")
    return start.timestamp(), (start + timedelta(days=1)).timestamp()


def days_back_start(days: int, today: date | None = None) -> float:
    """Return the Unix time at which the earliest of the last ``days`` local days starts
    (``days=1`` is today since midnight)."""
    first = (today or date.today()) - timedelta(days=days - 1)
    return datetime.combine(first, datetime.min.time()).timestamp()


# Helpers ----------------------------------------------------------------------------------


def _count_field(status: str) -> str:
    match status:
        case JobStatus.SUCCEEDED.value:
            return "succeeded"
        case JobStatus.FAILED.value:
            return "failed"
        case JobStatus.CANCELLED.value:
            return "cancelled"
        case JobStatus.PARTIAL.value | JobStatus.LOST.value:
            return "other"
    return "unfinished"


def _job_from_row(row: Sequence[Any]) -> JobSummary:
    return JobSummary(
        id=row[0],
        batch_id=row[1],
        position=row[2],
        status=JobStatus(row[3]),
        seed=row[4],
        attempts=row[5],
        created_at=row[6],
        submitted_at=row[7],
        started_at=row[8],
        finished_at=row[9],
        execution_time_ms=row[10],
        error_code=row[11],
        error_message=row[12],
        output_count=int(row[13] or 0),
    )


def _foreign_keys_on(connection: sqlite3.Connection) -> bool:
    return bool(connection.execute("PRAGMA foreign_keys").fetchone()[0])


def _chunks(items: Sequence[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])
