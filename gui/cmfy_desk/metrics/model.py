"""The scope of a measurement, the connection facts it uses, and the figures, warnings and
checklist items it returns, as frozen data classes and enums. Nothing here reads the store."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from cmfy_desk.connections import COMFYUI, SANDBOX, ConnectionConfig
from cmfy_desk.scheduler.failures import FailureCause
from cmfy_desk.store import JobStatus

if TYPE_CHECKING:
    from cmfy_desk.sandbox import SandboxServer

# Time of one model download on cmfy.cloud: its docs give 30-60 s for a 6.5 GB SDXL checkpoint,
# and 1-5 s to start with a cached model. This is the shortest documented download.
# NOTE: smaller files (LoRAs) download faster, so a miss on one of them can pass for a hit.
CLOUD_DOWNLOAD_SECONDS = 30.0

HISTOGRAM_BINS = 12

# Final statuses that count as success (every output, or some) and as failure.
SUCCESS_STATUSES = frozenset({JobStatus.SUCCEEDED, JobStatus.PARTIAL})
FAILED_STATUSES = frozenset({JobStatus.FAILED, JobStatus.LOST})


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
    body of the sandbox's ``GET /sandbox/stats``. ``download_seconds`` is the time one model
    download adds to a job's start on this connection, which decides the inferred cache misses.
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
    download_seconds: float = CLOUD_DOWNLOAD_SECONDS


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
    download = default_download_seconds(config.kind, config.sandbox_speed)
    requests: int | None = None
    if sandbox is not None:
        stats = sandbox.stats
        requests = int(stats.get("requests_total", 0))
        download = sandbox.config.timings.model_download_seconds / sandbox.config.speed
    return ConnectionFacts(
        label=config.label,
        kind=config.kind,
        webhooks_configured=webhooks,
        running_limit=running_limit,
        max_running=max_running or None,
        requests=requests,
        pooled_http=True,
        sandbox_stats=stats,
        download_seconds=download,
    )


def default_download_seconds(kind: str | None, sandbox_speed: float | None = None) -> float:
    """Return the time one model download adds to a job's start on a connection of ``kind``.

    The built-in sandbox sleeps TIMINGS.model_download_seconds divided by its speed for each
    model URL its simulated node does not cache. Other kinds get CLOUD_DOWNLOAD_SECONDS.
    """
    if kind == SANDBOX:
        # Imported here: the sandbox package loads its server, which would add about 150 ms
        # to the start of ``cmfy-desk metrics``.
        from cmfy_desk.sandbox.config import TIMINGS

        # NOTE: without the speed, this assumes the settings' default. A sandbox that ran at
        # another speed (``cmfy-desk run --sandbox --speed``) records its speed nowhere.
        speed = sandbox_speed if sandbox_speed else ConnectionConfig().sandbox_speed
        return TIMINGS.model_download_seconds / speed
    return CLOUD_DOWNLOAD_SECONDS


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
    """Cache hits and misses. For inferred figures, ``margin_seconds`` is how much longer than
    the connection's fastest start a start must take to count as a miss (half a download). It
    is None when the connections of the view have different margins."""

    hits: int
    misses: int
    source: CacheSource
    margin_seconds: float | None = None

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
