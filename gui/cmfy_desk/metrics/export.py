"""CSV export: the figures of every connection and batch, and the history of every job, written
to a temporary file and renamed over the target."""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from cmfy_desk.metrics.compute import compute_metrics
from cmfy_desk.metrics.model import ConnectionFacts, Metrics, MetricsScope
from cmfy_desk.metrics.timings import iso_time, load_timings
from cmfy_desk.scheduler.failures import FailureCause, failure_cause
from cmfy_desk.store import JobStatus, Store
from cmfy_desk.workflows.graph import Graph
from cmfy_desk.workflows.model_urls import model_inputs

METRICS_CSV_COLUMNS = (
    "scope",
    "connection",
    "batch_id",
    "batch_name",
    "window_start",
    "window_end",
    "jobs",
    *(f"jobs_{status.value}" for status in JobStatus),
    *(
        f"{figure}_{part}"
        for figure in ("queue_seconds", "execution_seconds", "total_seconds")
        for part in ("count", "mean", "p50", "p95", "max")
    ),
    "throughput_per_minute",
    "cache_hits",
    "cache_misses",
    "cache_hit_rate",
    "cache_source",
    "rate_limited",
    "rate_limited_by_code",
    "rate_limit_source",
    "requests",
    *(f"failures_{cause.value}" for cause in FailureCause),
    "warnings",
)

JOB_HISTORY_COLUMNS = (
    "job_id",
    "batch_id",
    "batch_name",
    "position",
    "connection",
    "workflow_name",
    "status",
    "failure_cause",
    "seed",
    "attempts",
    "remote_id",
    "idempotency_key",
    "model_urls",
    "created_at",
    "submitted_at",
    "started_at",
    "completed_at",
    "finished_at",
    "remote_created_at",
    "remote_started_at",
    "remote_completed_at",
    "queue_seconds",
    "execution_seconds",
    "total_seconds",
    "execution_time_ms",
    "error_code",
    "error_message",
    "error_request_id",
    "outputs",
    "output_paths",
    "parameters",
)


def every_scope(
    store: Store, since: float | None = None, until: float | None = None
) -> list[MetricsScope]:
    """Return one scope per connection that has jobs, then one per batch, in id order."""
    connections = [
        row[0]
        for row in store.connection.execute("SELECT DISTINCT connection FROM jobs ORDER BY 1")
    ]
    scopes = [MetricsScope(connection=name, since=since, until=until) for name in connections]
    scopes += [
        MetricsScope(connection=batch.connection, batch_id=batch.id, since=since, until=until)
        for batch in store.batches()
    ]
    return scopes


def export_metrics_csv(
    store: Store,
    path: Path,
    facts_for: Callable[[str], ConnectionFacts | None],
    *,
    since: float | None = None,
    until: float | None = None,
    now: float | None = None,
) -> int:
    """Write the figures of every connection and every batch to ``path``; return the rows.
    Raises OSError when the file cannot be written."""
    names = {batch.id: batch.name for batch in store.batches()}
    rows = []
    for scope in every_scope(store, since, until):
        facts = facts_for(scope.connection) if scope.connection is not None else None
        rows.append(metrics_csv_row(compute_metrics(store, scope, facts, now=now), names))
    _write_csv(path, METRICS_CSV_COLUMNS, rows)
    return len(rows)


def metrics_csv_row(metrics: Metrics, batch_names: Mapping[int, str]) -> list[object]:
    scope = metrics.scope
    if scope.batch_id is not None:
        kind = "batch"
    elif scope.connection is not None:
        kind = "connection"
    else:
        kind = "all"
    row: list[object] = [
        kind,
        scope.connection or "",
        scope.batch_id if scope.batch_id is not None else "",
        batch_names.get(scope.batch_id, "") if scope.batch_id is not None else "",
        iso_time(metrics.window_start),
        iso_time(metrics.window_end),
        metrics.jobs,
        *(metrics.status_counts.get(status, 0) for status in JobStatus),
    ]
    for distribution in (metrics.queue, metrics.execution, metrics.total):
        row += [
            distribution.count,
            distribution.mean,
            distribution.p50,
            distribution.p95,
            distribution.maximum,
        ]
    cache, limits = metrics.cache, metrics.rate_limits
    row += [
        metrics.throughput_per_minute,
        cache.hits,
        cache.misses,
        cache.hit_rate,
        cache.source.value,
        limits.total,
        ";".join(f"{code}={count}" for code, count in sorted(limits.by_code.items())),
        limits.source.value,
        limits.requests,
        *(metrics.failures.get(cause, 0) for cause in FailureCause),
        ";".join(advice.code.value for advice in metrics.advice),
    ]
    return row


def export_job_history_csv(store: Store, path: Path, scope: MetricsScope | None = None) -> int:
    """Write one row per job of ``scope`` (default: every job) to ``path`` and return the row
    count. Local times are written as ISO-8601 UTC, the service's times as it reported them.
    Raises OSError when the file cannot be written."""
    scope = scope or MetricsScope()
    timings = {timing.job_id: timing for timing in load_timings(store, scope)}
    batch_ids = None if scope.batch_id is None else [scope.batch_id]
    outputs: dict[int, list[str]] = {}
    for output in store.outputs():
        outputs.setdefault(output.job_id, []).append(output.local_path)

    rows: list[list[object]] = []
    for job in store.jobs(batch_ids=batch_ids):
        timing = timings.get(job.id)
        if timing is None:
            continue
        cause = failure_cause(job)
        paths = outputs.get(job.id, [])
        rows.append(
            [
                job.id,
                job.batch_id,
                timing.batch_name,
                job.position,
                job.connection,
                job.workflow_name,
                job.status.value,
                cause.value if cause is not None else "",
                job.seed,
                job.attempts,
                job.remote_id,
                job.idempotency_key,
                ";".join(_graph_model_urls(job.prompt)),
                iso_time(job.created_at),
                iso_time(job.submitted_at),
                iso_time(job.started_at),
                iso_time(timing.completed_at),
                iso_time(job.finished_at),
                job.remote_created_at,
                job.remote_started_at,
                job.remote_completed_at,
                timing.queue_seconds,
                timing.execution_seconds,
                timing.total_seconds,
                job.execution_time_ms,
                job.error_code,
                job.error_message,
                job.error_request_id,
                len(paths),
                ";".join(paths),
                json.dumps(job.parameters, sort_keys=True, ensure_ascii=False)
                if job.parameters
                else "",
            ]
        )

    _write_csv(path, JOB_HISTORY_COLUMNS, rows)
    return len(rows)


def _graph_model_urls(graph: Graph) -> list[str]:
    found: list[str] = []
    for _node_id, _name, value in model_inputs(graph):
        if value not in found:
            found.append(value)
    return found


def _csv_cell(value: object) -> object:
    """Return a value as written to CSV: None empty, floats rounded to milliseconds, and text
    that a spreadsheet would run as a formula prefixed with an apostrophe."""
    if value is None:
        return ""
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _write_csv(path: Path, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Write a UTF-8 CSV with a header row to a temporary file, then rename it over ``path``,
    so a failed export never leaves half a file."""
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(columns)
            for row in rows:
                writer.writerow([_csv_cell(value) for value in row])
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
