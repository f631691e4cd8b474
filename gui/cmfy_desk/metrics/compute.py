"""Figures of the jobs in a scope: queue, run and total time, throughput, cache hits, 429
responses, failures, a time series and a histogram, with the warnings they call for."""

from __future__ import annotations

import dataclasses
import math
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from cmfy_desk.metrics.model import (
    FAILED_STATUSES,
    REQUEUE_CODE,
    SUCCESS_STATUSES,
    Advice,
    AdviceCode,
    CacheFigures,
    CacheSource,
    ConnectionFacts,
    Distribution,
    FixAction,
    Histogram,
    Metrics,
    MetricsScope,
    RateLimitFigures,
    RateLimitSource,
    TimeBucket,
    default_download_seconds,
)
from cmfy_desk.metrics.timings import JobTiming, load_requeues, load_timings
from cmfy_desk.scheduler.failures import FailureCause, failure_cause
from cmfy_desk.store import ACTIVE_STATUSES, FINAL_STATUSES, JobStatus, Store

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

# The scheduler waits Retry-After (whole seconds, at least 1) or 2 s before it submits a job
# again after a 429; a resubmission sooner than this was no backoff.
MIN_BACKOFF_SECONDS = 0.5

# Throughput over a shorter window extrapolates a few jobs to a rate (3 jobs in half a second
# read as 360 jobs/min), so it is shown only over at least one whole minute.
MIN_THROUGHPUT_WINDOW_SECONDS = 60.0

BUCKET_SECONDS = 60.0
# Longer windows get wider buckets, so a chart never has more points than this.
MAX_BUCKETS = 720


def compute_metrics(
    store: Store,
    scope: MetricsScope,
    facts: ConnectionFacts | None = None,
    *,
    now: float | None = None,
    bucket_seconds: float = BUCKET_SECONDS,
    download_seconds: Mapping[str, float] | None = None,
) -> Metrics:
    """Return the figures of the jobs in ``scope``. ``facts`` are those of the scope's
    connection; its counters are used only when the scope is the whole connection.

    ``download_seconds`` maps connection labels to the time one model download takes there
    (ConnectionFacts.download_seconds), for views over several connections. A connection in
    neither gets default_download_seconds for its label.
    """
    now = time.time() if now is None else now
    timings = load_timings(store, scope)
    counters = facts if facts is not None and scope.whole_connection else None

    finished = [t for t in timings if t.finished_at is not None and t.status in FINAL_STATUSES]
    window_start, window_end = _window(timings, scope, now)
    succeeded = sum(1 for t in finished if t.status in SUCCESS_STATUSES)
    throughput = None
    if (
        window_start is not None
        and window_end is not None
        and window_end - window_start >= MIN_THROUGHPUT_WINDOW_SECONDS
    ):
        throughput = succeeded / ((window_end - window_start) / 60)

    downloads = dict(download_seconds or {})
    if facts is not None:
        downloads[facts.label] = facts.download_seconds
    status_counts = Counter(t.status for t in timings)
    cache = _cache_figures(store, scope, timings, downloads, counters)
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
        if t.status in (FAILED_STATUSES | {JobStatus.PARTIAL, JobStatus.CANCELLED})
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
    downloads: Mapping[str, float],
    counters: ConnectionFacts | None,
) -> CacheFigures:
    if counters is not None and counters.sandbox_stats is not None:
        cache = counters.sandbox_stats.get("cache", {})
        return CacheFigures(
            int(cache.get("hits", 0)), int(cache.get("misses", 0)), CacheSource.SANDBOX
        )
    hits, misses = infer_cache_lookups(_connection_timings(store, scope, timings), downloads)
    in_scope = {t.job_id for t in timings}
    hit_count = sum(1 for job_id in hits if job_id in in_scope)
    miss_count = sum(1 for job_id in misses if job_id in in_scope)
    margins = {_download_of(connection, downloads) / 2 for connection in _connections(timings)}
    margin = margins.pop() if len(margins) == 1 else None
    if not hit_count and not miss_count:
        return CacheFigures(0, 0, CacheSource.NONE, margin)
    return CacheFigures(hit_count, miss_count, CacheSource.INFERRED, margin)


def _connections(timings: Iterable[JobTiming]) -> set[str]:
    return {t.connection for t in timings}


def _download_of(connection: str, downloads: Mapping[str, float]) -> float:
    if connection in downloads:
        return downloads[connection]
    # Jobs record the connection's label, and a sandbox connection without a name has the
    # label of its kind.
    return default_download_seconds(connection)


def _connection_timings(
    store: Store, scope: MetricsScope, timings: Sequence[JobTiming]
) -> list[JobTiming]:
    """Return the jobs whose start delays set each connection's fastest start: every job of
    the scope's connections, including jobs of other batches and times."""
    if scope.batch_id is None and scope.since is None and scope.until is None:
        return list(timings)
    everything: list[JobTiming] = []
    for connection in sorted(_connections(timings)):
        everything += load_timings(store, MetricsScope(connection=connection))
    return everything


def infer_cache_lookups(
    timings: Iterable[JobTiming], download_seconds: Mapping[str, float] | None = None
) -> tuple[set[int], set[int]]:
    """Return the ids of jobs judged cache hits and cache misses from their start delays.

    A start delay is a job's time on the node beyond the service's GPU time: model downloads,
    model loading and saving the outputs. A download adds a fixed time per missing model
    (``download_seconds`` by connection label, else default_download_seconds), while the rest
    varies little between jobs of one connection. So on each connection, the fastest start
    that took less than one download is taken as a cache hit, and a job whose start delay
    exceeds it by more than half a download waited for one: a miss. When every start took a
    download or longer, each start is compared with zero instead.

    Jobs without the service's GPU time are not judged, because their queue time mixes
    waiting for a free slot with the download.
    """
    downloads = download_seconds or {}
    delays: dict[str, list[tuple[int, float]]] = {}
    for timing in timings:
        if timing.overhead_seconds is not None:
            delays.setdefault(timing.connection, []).append(
                (timing.job_id, timing.overhead_seconds)
            )
    hits: set[int] = set()
    misses: set[int] = set()
    for connection, jobs in delays.items():
        download = _download_of(connection, downloads)
        fastest = min(delay for _job_id, delay in jobs)
        warm = fastest if fastest < download else 0.0
        for job_id, delay in jobs:
            (misses if delay - warm > download / 2 else hits).add(job_id)
    return hits, misses


def _rate_limit_figures(
    store: Store,
    scope: MetricsScope,
    timings: Sequence[JobTiming],
    counters: ConnectionFacts | None,
    window_start: float | None,
    window_end: float | None,
) -> RateLimitFigures:
    requeues = load_requeues(store, scope, {t.job_id for t in timings})
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
            failed=sum(1 for t in group if t.status in FAILED_STATUSES),
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
