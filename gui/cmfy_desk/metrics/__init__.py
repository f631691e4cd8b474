"""Queue and run times, throughput, cache hits, 429 responses and failures, read from the store.

Figures cover one connection, one batch or everything, optionally within a time window. Every
figure that could come from more than one place names its source (``CacheSource``,
``RateLimitSource``), because a server's counters cover the whole connection since the server
started, while figures inferred from the store cover exactly the jobs in scope.

``compute_metrics`` returns the figures with warnings and ``production_checklist`` the state of
each practice cmfy.cloud advises. Both return codes and values rather than sentences.
``wording.MetricsWording`` words them, in the user's language in the window and in English on
the command line. ``export_metrics_csv`` and ``export_job_history_csv`` export them. Nothing
here imports Qt.

The modules: ``model`` (scope, facts and result types), ``timings`` (job times read from the
store), ``compute`` (figures and warnings), ``checklist``, ``export`` (CSV) and ``wording``
(sentences). This package re-exports the public names of all but ``wording``.
"""

from cmfy_desk.metrics.checklist import (
    MAX_EXAMPLES,
    MAX_GRAPHS_CHECKED,
    RECORDED_SHARE_OK,
    peak_running,
    production_checklist,
)
from cmfy_desk.metrics.compute import (
    BUCKET_SECONDS,
    CACHE_HIT_RATE_WARNING,
    FREQUENT_RATE_LIMIT_SHARE,
    FREQUENT_RATE_LIMITS_PER_MINUTE,
    MAX_BUCKETS,
    MIN_BACKOFF_SECONDS,
    MIN_CACHE_LOOKUPS,
    MIN_RATE_LIMITS_FOR_WARNING,
    MIN_THROUGHPUT_WINDOW_SECONDS,
    QUEUE_P95_WARNING_SECONDS,
    compute_metrics,
    infer_cache_lookups,
)
from cmfy_desk.metrics.export import (
    JOB_HISTORY_COLUMNS,
    METRICS_CSV_COLUMNS,
    every_scope,
    export_job_history_csv,
    export_metrics_csv,
    metrics_csv_row,
)
from cmfy_desk.metrics.model import (
    CLOUD_DOWNLOAD_SECONDS,
    HISTOGRAM_BINS,
    REQUEUE_CODE,
    Advice,
    AdviceCode,
    CacheFigures,
    CacheSource,
    CheckCode,
    ChecklistItem,
    CheckState,
    ConnectionFacts,
    Distribution,
    FixAction,
    Histogram,
    Metrics,
    MetricsScope,
    RateLimitFigures,
    RateLimitSource,
    TimeBucket,
    connection_facts,
    default_download_seconds,
    percentile,
)
from cmfy_desk.metrics.timings import JobTiming, iso_time, load_timings, parse_iso

__all__ = [
    "BUCKET_SECONDS",
    "CACHE_HIT_RATE_WARNING",
    "CLOUD_DOWNLOAD_SECONDS",
    "FREQUENT_RATE_LIMITS_PER_MINUTE",
    "FREQUENT_RATE_LIMIT_SHARE",
    "HISTOGRAM_BINS",
    "JOB_HISTORY_COLUMNS",
    "MAX_BUCKETS",
    "MAX_EXAMPLES",
    "MAX_GRAPHS_CHECKED",
    "METRICS_CSV_COLUMNS",
    "MIN_BACKOFF_SECONDS",
    "MIN_CACHE_LOOKUPS",
    "MIN_RATE_LIMITS_FOR_WARNING",
    "MIN_THROUGHPUT_WINDOW_SECONDS",
    "QUEUE_P95_WARNING_SECONDS",
    "RECORDED_SHARE_OK",
    "REQUEUE_CODE",
    "Advice",
    "AdviceCode",
    "CacheFigures",
    "CacheSource",
    "CheckCode",
    "CheckState",
    "ChecklistItem",
    "ConnectionFacts",
    "Distribution",
    "FixAction",
    "Histogram",
    "JobTiming",
    "Metrics",
    "MetricsScope",
    "RateLimitFigures",
    "RateLimitSource",
    "TimeBucket",
    "compute_metrics",
    "connection_facts",
    "default_download_seconds",
    "every_scope",
    "export_job_history_csv",
    "export_metrics_csv",
    "infer_cache_lookups",
    "iso_time",
    "load_timings",
    "metrics_csv_row",
    "parse_iso",
    "peak_running",
    "percentile",
    "production_checklist",
]
