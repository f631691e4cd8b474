"""Queue and run times, throughput, cache hits, 429 responses and failures, read from the store.

Figures cover one connection, one batch or everything, optionally within a time window. Every
figure that could come from more than one place names its source (``CacheSource``,
``RateLimitSource``), because a server's counters cover the whole connection since the server
started, while figures inferred from the store cover exactly the jobs in scope.

``compute_metrics`` returns the figures with warnings and ``production_checklist`` the state of
each practice cmfy.cloud advises. Both return codes and values rather than sentences, so that the
window words them in the user's language. ``write_metrics_csv`` and ``write_job_history_csv``
export them. Nothing here imports Qt.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import logging
import math
import os
import sqlite3
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cmfy_desk.connections import COMFYUI, SANDBOX, ConnectionConfig
from cmfy_desk.scheduler.failures import FailureCause, failure_cause
from cmfy_desk.store import ACTIVE_STATUSES, FINAL_STATUSES, JobStatus, Store
from cmfy_desk.workflows.graph import Graph
from cmfy_desk.workflows.model_urls import (
    canonical_form,
    model_inputs,
    parse_model_reference,
    same_model,
)
from cmfy_desk.workflows.preflight import remove_unused_nodes

if TYPE_CHECKING:
    from cmfy_desk.sandbox import SandboxServer
    from cmfy_desk.workflows.definitions import NodeDefinitions

log = logging.getLogger(__name__)

# Warning thresholds. cmfy.cloud's performance guide advises one URL per model, jobs that share
# models sent together, and webhooks instead of polling. These numbers decide when to remind.
QUEUE_P95_WARNING_SECONDS = 30.0
CACHE_HIT_RATE_WARNING = 0.5
# Fewer cache lookups than this give no hit rate worth warning about.
MIN_CACHE_LOOKUPS = 4
# 429 responses are frequent above this share of requests. Where the request count is unknown,
# they are frequent above this many per minute of the window. Fewer than the minimum never are.
FREQUENT_RATE_LIMIT_SHARE = 0.05
FREQUENT_RATE_LIMITS_PER_MINUTE = 1.0
MIN_RATE_LIMITS_FOR_WARNING = 3

# A job whose time on the node beyond its execution time exceeds this waited for a model
# download. The service's docs give 1-5 s for a cached model and 30-60 s for a download.
COLD_START_THRESHOLD_SECONDS = 10.0
# The scheduler waits Retry-After (whole seconds, at least 1) or 2 s before it submits a job
# again after a 429; a resubmission sooner than this was no backoff.
MIN_BACKOFF_SECONDS = 0.5

BUCKET_SECONDS = 60.0
# Longer windows get wider buckets, so a chart never has more points than this.
MAX_BUCKETS = 720
HISTOGRAM_BINS = 12
# Share of finished jobs with every timestamp needed for the figures above.
RECORDED_SHARE_OK = 0.95
# Graphs read from the store for the URL and unused-node checks, newest first.
MAX_GRAPHS_CHECKED = 200
MAX_EXAMPLES = 3

_TERMINAL_SUCCESS = frozenset({JobStatus.SUCCEEDED, JobStatus.PARTIAL})
_FAILED_STATUSES = frozenset({JobStatus.FAILED, JobStatus.LOST})


# Scope and inputs ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricsScope:
    """The jobs to measure: one connection, one batch, or all (both None), whose last activity
    (finish, else submission, else creation; Unix seconds) lies in [since, until]."""

    connection: str | None = None
    batch_id: int | None = None
    since: float | None = None
    until: float | None = None

    @property
    def whole_connection(self) -> bool:
        """Whether the scope is every job of one connection, so server counters apply."""
        return self.connection is not None and self.batch_id is None


@dataclass(frozen=True)
class ConnectionFacts:
    """Facts about a connection that the store does not record; None where not reported.

    ``rate_limited`` counts the 429 responses the scheduler received since it started, by
    error code, and ``avoidable_rate_limits`` those the latest response headers had already
    announced. ``requests`` counts the requests sent to the server. ``sandbox_stats`` is the
    body of the sandbox's ``GET /sandbox/stats``.
    """

    label: str
    kind: str | None = None
    webhooks_configured: bool | None = None
    running_limit: int | None = None
    max_running: int | None = None
    requests: int | None = None
    rate_limited: Mapping[str, int] | None = None
    avoidable_rate_limits: int | None = None
    pooled_http: bool | None = None
    sandbox_stats: Mapping[str, Any] | None = None
    cold_start_threshold: float = COLD_START_THRESHOLD_SECONDS


def connection_facts(
    config: ConnectionConfig,
    *,
    sandbox: SandboxServer | None = None,
    max_running: int | None = None,
    running_limit: int | None = None,
) -> ConnectionFacts:
    """Return the facts that a connection's settings and its sandbox give.

    A cmfy.cloud client and a ComfyUI client each keep one httpx.AsyncClient for the life of
    the connection, and httpx pools its connections. So ``pooled_http`` is true for every kind.
    """
    webhooks = (
        config.kind != COMFYUI
        and config.status_mode != "poll"
        and (
            config.status_mode == "webhook"
            or bool(config.public_base_url)
            or config.kind == SANDBOX
        )
    )
    stats: Mapping[str, Any] | None = None
    threshold = COLD_START_THRESHOLD_SECONDS
    requests: int | None = None
    if sandbox is not None:
        stats = sandbox.stats
        requests = int(stats.get("requests_total", 0))
        # Half of a simulated download, so a download counts as a miss and a render does not.
        threshold = sandbox.config.timings.model_download_seconds / sandbox.config.speed / 2
    return ConnectionFacts(
        label=config.label,
        kind=config.kind,
        webhooks_configured=webhooks,
        running_limit=running_limit,
        max_running=max_running or None,
        requests=requests,
        pooled_http=True,
        sandbox_stats=stats,
        cold_start_threshold=threshold,
    )


# Results -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Distribution:
    """Summary of durations in seconds; None figures when there are no values."""

    count: int
    mean: float | None
    p50: float | None
    p95: float | None
    maximum: float | None

    @classmethod
    def of(cls, values: Iterable[float]) -> Distribution:
        ordered = sorted(values)
        if not ordered:
            return cls(0, None, None, None, None)
        return cls(
            count=len(ordered),
            mean=sum(ordered) / len(ordered),
            p50=percentile(ordered, 50),
            p95=percentile(ordered, 95),
            maximum=ordered[-1],
        )


def percentile(ordered: Sequence[float], percent: float) -> float:
    """Return the ``percent`` percentile of sorted values, interpolating linearly between the
    two nearest ranks (numpy's default method)."""
    if not ordered:
        raise ValueError("percentile() of no values: pass at least one value.")
    position = (len(ordered) - 1) * percent / 100
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


class CacheSource(StrEnum):
    SANDBOX = "sandbox"  # the sandbox's counters: one lookup per model URL of each started job
    INFERRED = "inferred"  # the jobs' start delays: one lookup per job
    NONE = "none"  # no job has the times needed


@dataclass(frozen=True)
class CacheFigures:
    hits: int
    misses: int
    source: CacheSource
    threshold_seconds: float | None = None

    @property
    def lookups(self) -> int:
        return self.hits + self.misses

    @property
    def hit_rate(self) -> float | None:
        return self.hits / self.lookups if self.lookups else None


class RateLimitSource(StrEnum):
    SCHEDULER = "scheduler"  # every 429 the scheduler received since it started
    SANDBOX = "sandbox"  # every 429 the sandbox sent since it started
    JOB_EVENTS = "job_events"  # submissions put back in the queue after a 429


# The code under which JOB_EVENTS counts: a job went from SUBMITTING back to QUEUED, which the
# scheduler does after concurrent_limit_reached and queue_full. A rate_limit_exceeded wait
# leaves no event, and a rejected key or a restart mid-submission does the same step.
REQUEUE_CODE = "requeued"


@dataclass(frozen=True)
class RateLimitFigures:
    by_code: dict[str, int]
    source: RateLimitSource
    requests: int | None = None
    avoidable: int | None = None
    # Jobs submitted again sooner than MIN_BACKOFF_SECONDS after being put back.
    without_backoff: int = 0
    per_minute: float | None = None

    @property
    def total(self) -> int:
        return sum(self.by_code.values())

    @property
    def share_of_requests(self) -> float | None:
        return self.total / self.requests if self.requests else None


@dataclass(frozen=True)
class TimeBucket:
    """Jobs that finished in [start, start + bucket seconds), with their mean durations."""

    start: float
    finished: int
    failed: int
    queue_mean: float | None
    execution_mean: float | None
    total_mean: float | None


@dataclass(frozen=True)
class Histogram:
    """Counts of values in bins. Bin i counts edges[i] <= value < edges[i + 1], and the last
    bin also counts its upper edge."""

    edges: tuple[float, ...]
    counts: tuple[int, ...]

    @classmethod
    def of(cls, values: Sequence[float], bins: int = HISTOGRAM_BINS) -> Histogram:
        if not values:
            return cls((), ())
        low, high = min(values), max(values)
        width = _nice_width((high - low) / bins) if high > low else 1.0
        start = math.floor(low / width) * width
        count = max(1, math.ceil((high - start) / width + 1e-9))
        if start + count * width <= high:
            count += 1
        counts = [0] * count
        for value in values:
            index = min(int((value - start) // width), count - 1)
            counts[index] += 1
        edges = tuple(start + width * i for i in range(count + 1))
        return cls(edges, tuple(counts))


def _nice_width(raw: float) -> float:
    """Return the smallest 1, 2 or 5 times a power of ten that is at least ``raw``."""
    if raw <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(raw))
    for step in (1, 2, 5, 10):
        if step * power >= raw - 1e-12:
            return float(step * power)
    return float(10 * power)


class FixAction(StrEnum):
    """A window to open that fixes a warning or a checklist item."""

    MODEL_LIBRARY = "model_library"  # the model-URL check: one canonical URL per model
    QUEUE_SETTINGS = "queue_settings"  # most jobs at once, cache-aware order
    CONNECTION_SETTINGS = "connection_settings"  # webhooks, tunnel address


class AdviceCode(StrEnum):
    QUEUE_P95 = "queue_p95"  # values: p95, threshold (seconds)
    CACHE_HIT_RATE = "cache_hit_rate"  # values: rate, threshold (fractions), source
    FREQUENT_429 = "frequent_429"  # values: count, share or per_minute


@dataclass(frozen=True)
class Advice:
    """A warning from the figures, with what to open to fix it."""

    code: AdviceCode
    values: dict[str, Any]
    action: FixAction | None


@dataclass(frozen=True)
class Metrics:
    scope: MetricsScope
    jobs: int
    status_counts: dict[JobStatus, int]
    window_start: float | None
    window_end: float | None
    queue: Distribution
    execution: Distribution
    total: Distribution
    throughput_per_minute: float | None
    cache: CacheFigures
    rate_limits: RateLimitFigures
    failures: dict[FailureCause, int]
    series: tuple[TimeBucket, ...]
    bucket_seconds: float
    total_histogram: Histogram
    advice: tuple[Advice, ...]


class CheckState(StrEnum):
    OK = "ok"
    AMBER = "amber"
    UNKNOWN = "unknown"  # nothing to judge by yet


class CheckCode(StrEnum):
    WEBHOOKS = "webhooks"
    CANONICAL_URLS = "canonical_urls"
    CONCURRENCY = "concurrency"
    IDEMPOTENCY = "idempotency"
    BACKOFF = "backoff"
    POOLING = "pooling"
    RECORDING = "recording"
    UNUSED_NODES = "unused_nodes"


@dataclass(frozen=True)
class ChecklistItem:
    """One practice of the production checklist. ``reason`` names the evidence that decided
    ``state`` (for example ``polling_chosen``), and ``values`` contains its numbers and
    examples."""

    code: CheckCode
    state: CheckState
    reason: str
    values: dict[str, Any] = field(default_factory=dict)
    action: FixAction | None = None


# Reading the store ---------------------------------------------------------------------------


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


def _scope_clause(scope: MetricsScope) -> tuple[str, list[Any]]:
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
    where, values = _scope_clause(scope)
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
class _Requeue:
    job_id: int
    at: float
    next_submission_at: float | None


def _requeues(store: Store, scope: MetricsScope, job_ids: set[int]) -> list[_Requeue]:
    """Return each step of a job in scope from SUBMITTING back to QUEUED, with the time of
    its next submission."""
    where, values = _scope_clause(scope)
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
        _Requeue(row["job_id"], row["at"], row["next_at"] if row["next_status"] else None)
        for row in rows
        if row["job_id"] in job_ids and _in_window(row["at"], scope)
    ]


# Figures -------------------------------------------------------------------------------------


def compute_metrics(
    store: Store,
    scope: MetricsScope,
    facts: ConnectionFacts | None = None,
    *,
    now: float | None = None,
    bucket_seconds: float = BUCKET_SECONDS,
) -> Metrics:
    """Return the figures of the jobs in ``scope``. ``facts`` are those of the scope's
    connection; its counters are used only when the scope is the whole connection."""
    now = time.time() if now is None else now
    timings = load_timings(store, scope)
    counters = facts if facts is not None and scope.whole_connection else None

    finished = [t for t in timings if t.finished_at is not None and t.status in FINAL_STATUSES]
    window_start, window_end = _window(timings, scope, now)
    succeeded = sum(1 for t in finished if t.status in _TERMINAL_SUCCESS)
    throughput = None
    if window_start is not None and window_end is not None and window_end > window_start:
        throughput = succeeded / ((window_end - window_start) / 60)

    status_counts = Counter(t.status for t in timings)
    cache = _cache_figures(store, scope, timings, facts, counters)
    rate_limits = _rate_limit_figures(store, scope, timings, counters, window_start, window_end)
    series, width = _series(finished, bucket_seconds)
    metrics = Metrics(
        scope=scope,
        jobs=len(timings),
        status_counts=dict(status_counts),
        window_start=window_start,
        window_end=window_end,
        queue=Distribution.of(t.queue_seconds for t in timings if t.queue_seconds is not None),
        execution=Distribution.of(
            t.execution_seconds for t in timings if t.execution_seconds is not None
        ),
        total=Distribution.of(t.total_seconds for t in finished if t.total_seconds is not None),
        throughput_per_minute=throughput,
        cache=cache,
        rate_limits=rate_limits,
        failures=_failures(store, scope, timings),
        series=series,
        bucket_seconds=width,
        total_histogram=Histogram.of(
            [t.total_seconds for t in finished if t.total_seconds is not None]
        ),
        advice=(),
    )
    return _with_advice(metrics)


def _window(
    timings: Sequence[JobTiming], scope: MetricsScope, now: float
) -> tuple[float | None, float | None]:
    """Return the measured span: from the first submission (not before ``since``) to the last
    finish (or now, while jobs of the scope are still active)."""
    submitted = [t.submitted_at for t in timings if t.submitted_at is not None]
    if not submitted:
        return None, None
    start = min(submitted)
    if scope.since is not None:
        start = max(start, scope.since)
    if any(t.status in ACTIVE_STATUSES for t in timings):
        end = now
    else:
        end = max((t.finished_at for t in timings if t.finished_at is not None), default=now)
    if scope.until is not None:
        end = min(end, scope.until)
    return start, max(start, end)


def _failures(
    store: Store, scope: MetricsScope, timings: Sequence[JobTiming]
) -> dict[FailureCause, int]:
    ended = {
        t.job_id
        for t in timings
        if t.status in (_FAILED_STATUSES | {JobStatus.PARTIAL, JobStatus.CANCELLED})
    }
    if not ended:
        return {}
    causes: Counter[FailureCause] = Counter()
    batch_ids = None if scope.batch_id is None else [scope.batch_id]
    statuses = [JobStatus.FAILED, JobStatus.LOST, JobStatus.PARTIAL, JobStatus.CANCELLED]
    for job in store.jobs(statuses=statuses, batch_ids=batch_ids):
        if job.id in ended:
            cause = failure_cause(job)
            if cause is not None:
                causes[cause] += 1
    return dict(causes)


def _cache_figures(
    store: Store,
    scope: MetricsScope,
    timings: Sequence[JobTiming],
    facts: ConnectionFacts | None,
    counters: ConnectionFacts | None,
) -> CacheFigures:
    if counters is not None and counters.sandbox_stats is not None:
        cache = counters.sandbox_stats.get("cache", {})
        return CacheFigures(
            int(cache.get("hits", 0)), int(cache.get("misses", 0)), CacheSource.SANDBOX
        )
    threshold = facts.cold_start_threshold if facts is not None else COLD_START_THRESHOLD_SECONDS
    hits, misses = infer_cache_lookups(_connection_timings(store, scope, timings), threshold)
    in_scope = {t.job_id for t in timings}
    hit_count = sum(1 for job_id in hits if job_id in in_scope)
    miss_count = sum(1 for job_id in misses if job_id in in_scope)
    if not hit_count and not miss_count:
        return CacheFigures(0, 0, CacheSource.NONE, threshold)
    return CacheFigures(hit_count, miss_count, CacheSource.INFERRED, threshold)


def _connection_timings(
    store: Store, scope: MetricsScope, timings: Sequence[JobTiming]
) -> list[JobTiming]:
    """Return the jobs whose start order decides a model change: every job of the scope's
    connections, including jobs of other batches that started in between."""
    if scope.batch_id is None and scope.since is None and scope.until is None:
        return list(timings)
    connections = {t.connection for t in timings}
    everything: list[JobTiming] = []
    for connection in sorted(connections):
        everything += load_timings(store, MetricsScope(connection=connection))
    return everything


def infer_cache_lookups(
    timings: Iterable[JobTiming], threshold: float
) -> tuple[set[int], set[int]]:
    """Return the ids of jobs judged cache hits and cache misses from how their runs began.

    Where the time on the node beyond execution is known, a job whose overhead exceeds
    ``threshold`` seconds waited for a download: a miss. Otherwise only the queue time is
    known, and it also contains waiting for a free slot. So a long queue time counts as a miss
    only when the job uses other models than the job that started before it on its connection.
    """
    hits: set[int] = set()
    misses: set[int] = set()
    by_connection: dict[str, list[JobTiming]] = {}
    for timing in timings:
        if timing.run_started_at is not None:
            by_connection.setdefault(timing.connection, []).append(timing)
    for started in by_connection.values():
        started.sort(key=lambda t: (t.run_started_at or 0.0, t.job_id))
        previous_key: str | None = None
        for timing in started:
            changed = timing.model_key != previous_key
            previous_key = timing.model_key
            if timing.overhead_seconds is not None:
                cold = timing.overhead_seconds > threshold
            elif timing.queue_seconds is not None:
                cold = changed and timing.queue_seconds > threshold
            else:
                continue
            (misses if cold else hits).add(timing.job_id)
    return hits, misses


def _rate_limit_figures(
    store: Store,
    scope: MetricsScope,
    timings: Sequence[JobTiming],
    counters: ConnectionFacts | None,
    window_start: float | None,
    window_end: float | None,
) -> RateLimitFigures:
    requeues = _requeues(store, scope, {t.job_id for t in timings})
    without_backoff = sum(
        1
        for requeue in requeues
        if requeue.next_submission_at is not None
        and requeue.next_submission_at - requeue.at < MIN_BACKOFF_SECONDS
    )
    minutes = None
    if window_start is not None and window_end is not None and window_end > window_start:
        minutes = (window_end - window_start) / 60

    if counters is not None and counters.rate_limited is not None:
        by_code = {code: count for code, count in counters.rate_limited.items() if count}
        source = RateLimitSource.SCHEDULER
        avoidable = counters.avoidable_rate_limits
    elif counters is not None and counters.sandbox_stats is not None:
        limited = counters.sandbox_stats.get("rate_limited", {})
        by_code = {str(code): int(count) for code, count in limited.items() if count}
        source = RateLimitSource.SANDBOX
        avoidable = None
    else:
        by_code = {REQUEUE_CODE: len(requeues)} if requeues else {}
        source = RateLimitSource.JOB_EVENTS
        avoidable = None
    total = sum(by_code.values())
    return RateLimitFigures(
        by_code=by_code,
        source=source,
        requests=counters.requests if counters is not None else None,
        avoidable=avoidable,
        without_backoff=without_backoff,
        per_minute=total / minutes if minutes else None,
    )


def _series(
    finished: Sequence[JobTiming], bucket_seconds: float
) -> tuple[tuple[TimeBucket, ...], float]:
    """Return per-bucket counts and mean durations by finish time, empty buckets included,
    and the bucket width (wider than ``bucket_seconds`` when the span needs more than
    MAX_BUCKETS buckets)."""
    if bucket_seconds <= 0:
        raise ValueError(f"The bucket width must be positive, got {bucket_seconds} s.")
    moments = [t.finished_at for t in finished if t.finished_at is not None]
    if not moments:
        return (), bucket_seconds

    first = math.floor(min(moments) / bucket_seconds) * bucket_seconds
    span = max(moments) - first
    width = bucket_seconds
    while span / width >= MAX_BUCKETS:
        width *= 2
    first = math.floor(min(moments) / width) * width
    count = int((max(moments) - first) // width) + 1

    grouped: list[list[JobTiming]] = [[] for _ in range(count)]
    for timing in finished:
        assert timing.finished_at is not None
        grouped[int((timing.finished_at - first) // width)].append(timing)
    buckets = tuple(
        TimeBucket(
            start=first + index * width,
            finished=len(group),
            failed=sum(1 for t in group if t.status in _FAILED_STATUSES),
            queue_mean=_mean(t.queue_seconds for t in group),
            execution_mean=_mean(t.execution_seconds for t in group),
            total_mean=_mean(t.total_seconds for t in group),
        )
        for index, group in enumerate(grouped)
    )
    return buckets, width


def _mean(values: Iterable[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return sum(present) / len(present) if present else None


def _with_advice(metrics: Metrics) -> Metrics:
    advice: list[Advice] = []
    p95 = metrics.queue.p95
    if p95 is not None and p95 > QUEUE_P95_WARNING_SECONDS:
        advice.append(
            Advice(
                AdviceCode.QUEUE_P95,
                {"p95": p95, "threshold": QUEUE_P95_WARNING_SECONDS},
                FixAction.QUEUE_SETTINGS,
            )
        )
    cache = metrics.cache
    rate = cache.hit_rate
    if rate is not None and cache.lookups >= MIN_CACHE_LOOKUPS and rate < CACHE_HIT_RATE_WARNING:
        advice.append(
            Advice(
                AdviceCode.CACHE_HIT_RATE,
                {"rate": rate, "threshold": CACHE_HIT_RATE_WARNING, "source": cache.source},
                FixAction.MODEL_LIBRARY,
            )
        )
    limits = metrics.rate_limits
    if limits.total >= MIN_RATE_LIMITS_FOR_WARNING:
        share = limits.share_of_requests
        if share is not None:
            frequent = share > FREQUENT_RATE_LIMIT_SHARE
        else:
            frequent = (limits.per_minute or 0.0) > FREQUENT_RATE_LIMITS_PER_MINUTE
        if frequent:
            advice.append(
                Advice(
                    AdviceCode.FREQUENT_429,
                    {"count": limits.total, "share": share, "per_minute": limits.per_minute},
                    FixAction.QUEUE_SETTINGS,
                )
            )
    return dataclasses.replace(metrics, advice=tuple(advice))


# Production checklist ------------------------------------------------------------------------


def production_checklist(
    store: Store,
    scope: MetricsScope,
    facts: ConnectionFacts | None,
    metrics: Metrics | None = None,
    *,
    library: Mapping[str, str] | None = None,
    definitions: NodeDefinitions | None = None,
) -> tuple[ChecklistItem, ...]:
    """Judge each practice of the production checklist for the jobs in ``scope``.

    ``facts`` are those of the scope's connection (None where unknown, for example over all
    connections); ``metrics`` are the scope's figures, computed when not given. ``library``
    maps model file names to the URL the model library uses for them.
    """
    if metrics is None:
        metrics = compute_metrics(store, scope, facts)
    timings = load_timings(store, scope)
    graphs, queued_only = _recent_graphs(store, scope)
    return (
        _check_webhooks(store, scope, timings, facts),
        _check_model_urls(graphs, queued_only, library),
        _check_concurrency(timings, facts, metrics.rate_limits),
        _check_idempotency(store, scope, timings, facts if scope.whole_connection else None),
        _check_backoff(metrics.rate_limits),
        _check_pooling(facts),
        _check_recording(timings),
        _check_unused_nodes(graphs, definitions),
    )


@dataclass(frozen=True)
class _StoredGraph:
    workflow_name: str
    graph: Graph


def _recent_graphs(store: Store, scope: MetricsScope) -> tuple[list[_StoredGraph], bool]:
    """Return the graphs of the scope's queued work, else of its newest jobs (at most
    MAX_GRAPHS_CHECKED), and whether they are queued work."""
    where, values = _scope_clause(scope)
    active = [status.value for status in ACTIVE_STATUSES]
    active_clause = f"jobs.status IN ({','.join('?' * len(active))})"
    queued_where = (where + " AND " if where else " WHERE ") + active_clause
    query = "SELECT workflow_name, prompt_json FROM jobs{} ORDER BY id DESC LIMIT ?"
    rows = store.connection.execute(
        query.format(queued_where), (*values, *active, MAX_GRAPHS_CHECKED)
    ).fetchall()
    queued_only = bool(rows)
    if not rows:
        rows = store.connection.execute(
            query.format(where), (*values, MAX_GRAPHS_CHECKED)
        ).fetchall()
    graphs: list[_StoredGraph] = []
    for row in rows:
        try:
            graph = json.loads(row["prompt_json"])
        except ValueError:
            log.warning("Skipping a stored prompt that is not valid JSON in the checklist")
            continue
        if isinstance(graph, dict):
            graphs.append(_StoredGraph(row["workflow_name"], graph))
    return graphs, queued_only


def _check_webhooks(
    store: Store,
    scope: MetricsScope,
    timings: Sequence[JobTiming],
    facts: ConnectionFacts | None,
) -> ChecklistItem:
    code = CheckCode.WEBHOOKS
    if facts is not None and facts.kind == COMFYUI:
        return ChecklistItem(code, CheckState.OK, "websocket")
    finished = {
        t.job_id
        for t in timings
        if t.submitted_at is not None and t.status in FINAL_STATUSES | {JobStatus.DOWNLOADING}
    }
    where, values = _scope_clause(scope)
    rows = store.connection.execute(
        "SELECT DISTINCT webhook_deliveries.job_id FROM webhook_deliveries"
        " JOIN jobs ON jobs.id = webhook_deliveries.job_id" + where,
        values,
    ).fetchall()
    delivered = len(finished & {row[0] for row in rows})

    counts = {"with_webhook": delivered, "finished": len(finished)}
    configured = facts.webhooks_configured if facts is not None else None
    if configured is False:
        return ChecklistItem(
            code, CheckState.AMBER, "polling_chosen", counts, FixAction.CONNECTION_SETTINGS
        )
    if not finished:
        if configured:
            return ChecklistItem(code, CheckState.OK, "configured", counts)
        return ChecklistItem(code, CheckState.UNKNOWN, "no_jobs", counts)
    if delivered == 0:
        return ChecklistItem(
            code, CheckState.AMBER, "no_deliveries", counts, FixAction.CONNECTION_SETTINGS
        )
    return ChecklistItem(code, CheckState.OK, "in_use", counts)


def _check_model_urls(
    graphs: Sequence[_StoredGraph], queued_only: bool, library: Mapping[str, str] | None
) -> ChecklistItem:
    code = CheckCode.CANONICAL_URLS
    urls: set[str] = set()
    for stored in graphs:
        for _node_id, _name, value in model_inputs(stored.graph):
            if parse_model_reference(value).is_url:
                urls.add(value.strip())
    if not urls:
        return ChecklistItem(code, CheckState.UNKNOWN, "no_model_urls", {"queued": queued_only})

    not_canonical = sorted(url for url in urls if canonical_form(url) != url)
    references = [parse_model_reference(url) for url in sorted(urls)]
    conflicting: set[str] = set()
    for index, first in enumerate(references):
        for second in references[index + 1 :]:
            if same_model(first, second):
                conflicting |= {first.url, second.url}
    off_library = sorted(
        reference.url
        for reference in references
        if library
        and reference.file_name in library
        and canonical_form(library[reference.file_name]) != canonical_form(reference.url)
    )

    values: dict[str, Any] = {
        "queued": queued_only,
        "urls": len(urls),
        "not_canonical": len(not_canonical),
        "conflicting": len(conflicting),
        "off_library": len(off_library),
        "examples": list(dict.fromkeys(not_canonical + sorted(conflicting) + off_library))[
            :MAX_EXAMPLES
        ],
    }
    if not_canonical or conflicting or off_library:
        return ChecklistItem(
            code, CheckState.AMBER, "not_canonical", values, FixAction.MODEL_LIBRARY
        )
    return ChecklistItem(code, CheckState.OK, "canonical", values)


def peak_running(timings: Iterable[JobTiming]) -> int:
    """Return the most runs of one connection that overlapped in time; a run that ends when
    another starts does not overlap it."""
    peak = 0
    by_connection: dict[str, list[tuple[float, int]]] = {}
    for timing in timings:
        start, end = timing.run_started_at, timing.run_ended_at
        if start is None or end is None or end < start:
            continue
        edges = by_connection.setdefault(timing.connection, [])
        edges += [(start, 1), (end, -1)]
    for edges in by_connection.values():
        running = 0
        # Ends sort before starts at the same moment.
        for _moment, step in sorted(edges):
            running += step
            peak = max(peak, running)
    return peak


def _check_concurrency(
    timings: Sequence[JobTiming], facts: ConnectionFacts | None, limits: RateLimitFigures
) -> ChecklistItem:
    code = CheckCode.CONCURRENCY
    peak = peak_running(timings)
    bounds = [] if facts is None else [facts.running_limit, facts.max_running]
    known = [bound for bound in bounds if bound]
    limit = min(known) if known else None
    rejected = limits.by_code.get("concurrent_limit_reached", 0)
    queue_full = limits.by_code.get("queue_full", 0)
    values = {"peak": peak, "limit": limit, "rejected": rejected, "queue_full": queue_full}
    if limit is not None and peak > limit:
        return ChecklistItem(code, CheckState.AMBER, "over_limit", values, FixAction.QUEUE_SETTINGS)
    if rejected or queue_full:
        return ChecklistItem(code, CheckState.AMBER, "rejected", values, FixAction.QUEUE_SETTINGS)
    if limit is None:
        return ChecklistItem(code, CheckState.UNKNOWN, "limit_unknown", values)
    return ChecklistItem(code, CheckState.OK, "within_limit", values)


def _check_idempotency(
    store: Store,
    scope: MetricsScope,
    timings: Sequence[JobTiming],
    counters: ConnectionFacts | None,
) -> ChecklistItem:
    code = CheckCode.IDEMPOTENCY
    where, values = _scope_clause(scope)
    missing = store.connection.execute(
        "SELECT COUNT(*) FROM jobs"
        + (where + " AND " if where else " WHERE ")
        + "TRIM(jobs.idempotency_key) = ''",
        values,
    ).fetchone()[0]
    retried = sum(1 for t in timings if t.attempts > 1)
    duplicates = 0
    if counters is not None and counters.sandbox_stats is not None:
        runs = counters.sandbox_stats.get("runs_per_job", {})
        duplicates = sum(1 for count in runs.values() if int(count) > 1)
    counts = {"retried": retried, "missing": int(missing), "duplicates": duplicates}
    if missing:
        return ChecklistItem(code, CheckState.AMBER, "missing_keys", counts)
    if duplicates:
        return ChecklistItem(code, CheckState.AMBER, "duplicate_runs", counts)
    return ChecklistItem(code, CheckState.OK, "keys_stored", counts)


def _check_backoff(limits: RateLimitFigures) -> ChecklistItem:
    code = CheckCode.BACKOFF
    values = {
        "total": limits.total,
        "avoidable": limits.avoidable,
        "without_backoff": limits.without_backoff,
        "source": limits.source,
    }
    if limits.without_backoff:
        return ChecklistItem(code, CheckState.AMBER, "no_backoff", values, FixAction.QUEUE_SETTINGS)
    if limits.total == 0:
        return ChecklistItem(code, CheckState.OK, "no_429", values)
    if limits.avoidable:
        return ChecklistItem(code, CheckState.AMBER, "avoidable", values, FixAction.QUEUE_SETTINGS)
    return ChecklistItem(code, CheckState.OK, "backed_off", values)


def _check_pooling(facts: ConnectionFacts | None) -> ChecklistItem:
    code = CheckCode.POOLING
    if facts is None or facts.pooled_http is None:
        return ChecklistItem(code, CheckState.UNKNOWN, "unknown")
    if facts.pooled_http:
        return ChecklistItem(code, CheckState.OK, "pooled")
    return ChecklistItem(code, CheckState.AMBER, "not_pooled")


def _check_recording(timings: Sequence[JobTiming]) -> ChecklistItem:
    code = CheckCode.RECORDING
    done = [t for t in timings if t.status in _TERMINAL_SUCCESS]
    complete = sum(
        1
        for t in done
        if t.submitted_at is not None
        and t.run_started_at is not None
        and t.finished_at is not None
        and t.execution_seconds is not None
    )
    values = {"complete": complete, "finished": len(done)}
    if not done:
        return ChecklistItem(code, CheckState.UNKNOWN, "no_jobs", values)
    if complete / len(done) >= RECORDED_SHARE_OK:
        return ChecklistItem(code, CheckState.OK, "recorded", values)
    return ChecklistItem(code, CheckState.AMBER, "incomplete", values)


def _check_unused_nodes(
    graphs: Sequence[_StoredGraph], definitions: NodeDefinitions | None
) -> ChecklistItem:
    code = CheckCode.UNUSED_NODES
    if not graphs:
        return ChecklistItem(code, CheckState.UNKNOWN, "no_jobs")
    with_unused = 0
    unused_total = 0
    workflows: list[str] = []
    for stored in graphs:
        unused = len(stored.graph) - len(remove_unused_nodes(stored.graph, definitions))
        if unused:
            with_unused += 1
            unused_total += unused
            if stored.workflow_name not in workflows:
                workflows.append(stored.workflow_name)
    values = {
        "checked": len(graphs),
        "with_unused": with_unused,
        "unused_nodes": unused_total,
        "workflows": workflows[:MAX_EXAMPLES],
    }
    if with_unused:
        return ChecklistItem(code, CheckState.AMBER, "unused_nodes", values)
    return ChecklistItem(code, CheckState.OK, "none_unused", values)


# CSV export ----------------------------------------------------------------------------------

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
