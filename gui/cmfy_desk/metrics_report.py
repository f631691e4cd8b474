"""The metrics window's figures, warnings and production checklist as text lines and as a JSON
document, for ``cmfy-desk metrics``.

The sentences are those of the metrics window (ui/metrics_dialog.py), in English, because the
command line does not load Qt and so has no translations. Fixes that name a menu name the
window's menu, where the setting lives.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from cmfy_desk.metrics import (
    MIN_BACKOFF_SECONDS,
    Advice,
    AdviceCode,
    CacheFigures,
    CacheSource,
    CheckCode,
    ChecklistItem,
    CheckState,
    Distribution,
    Metrics,
    RateLimitSource,
)
from cmfy_desk.scheduler.failures import FailureCause
from cmfy_desk.store import JobStatus

# Names of the checklist states on the command line. The window shows icons instead.
STATE_NAMES = {CheckState.OK: "green", CheckState.AMBER: "amber", CheckState.UNKNOWN: "unknown"}
NO_VALUE = "-"

_LOWER_RATE = (
    "Lower your request rate: lower the jobs at once, or stop other programs that use the "
    "same API key."
)
_LOWER_CONCURRENCY = "Lower the jobs at once in Settings → Queue."
_REPORT_BUG = "Report this with the log file (Help → Open log folder)."

# The message and the fix of each checklist item, by code and the reason metrics.checklist
# gives. Fields in braces come from the item's values.
_CHECK_TEXTS: dict[tuple[CheckCode, str], tuple[str, str]] = {
    (CheckCode.WEBHOOKS, "websocket"): (
        "A ComfyUI server reports status over its websocket, without polling.",
        "",
    ),
    (CheckCode.WEBHOOKS, "polling_chosen"): (
        "This connection polls for job status, which adds delay and spends requests.",
        "Run a tunnel (cloudflared, ngrok…) to the webhook receiver and enter its public "
        "address in Settings.",
    ),
    (CheckCode.WEBHOOKS, "configured"): (
        "Webhooks are set up, and no job has finished since.",
        "",
    ),
    (CheckCode.WEBHOOKS, "no_jobs"): ("No finished jobs to judge by yet.", ""),
    (CheckCode.WEBHOOKS, "no_deliveries"): (
        "Webhooks are set up, but none of the {finished} finished jobs received one, so their "
        "status came from polling.",
        "Check in Settings that the tunnel forwards to the webhook receiver.",
    ),
    (CheckCode.WEBHOOKS, "in_use"): (
        "Finished jobs that reported their result by webhook: {with_webhook} of {finished}.",
        "",
    ),
    (CheckCode.CANONICAL_URLS, "no_model_urls"): ("No model URLs in these jobs.", ""),
    (CheckCode.CANONICAL_URLS, "canonical"): (
        "Model URLs checked: {urls}, all canonical, one per model.",
        "",
    ),
    (CheckCode.CONCURRENCY, "over_limit"): (
        "Most jobs running at once: {peak}, above the limit of {limit}.",
        _LOWER_CONCURRENCY,
    ),
    (CheckCode.CONCURRENCY, "rejected"): (
        "Submissions the service rejected: {rejected} over its running-job limit and "
        "{queue_full} over its queue limit.",
        _LOWER_CONCURRENCY,
    ),
    (CheckCode.CONCURRENCY, "limit_unknown"): (
        "Most jobs running at once: {peak}. The limit of this view is not known.",
        "",
    ),
    (CheckCode.CONCURRENCY, "within_limit"): (
        "Most jobs running at once: {peak}, within the limit of {limit}.",
        "",
    ),
    (CheckCode.IDEMPOTENCY, "missing_keys"): (
        "Jobs without an idempotency key: {missing}. A retry of such a job could create a "
        "second one.",
        "Queue those jobs again: new jobs get a key before their first submission.",
    ),
    (CheckCode.IDEMPOTENCY, "duplicate_runs"): (
        "Jobs the sandbox ran more than once: {duplicates}.",
        _REPORT_BUG,
    ),
    (CheckCode.IDEMPOTENCY, "keys_stored"): (
        "Every job stores its key before the first submission and reuses it on each retry. "
        "Jobs submitted more than once: {retried}.",
        "",
    ),
    (CheckCode.BACKOFF, "no_backoff"): (
        "Jobs submitted again less than {seconds} s after a 429: {without_backoff}.",
        "Lower the jobs at once in Settings → Queue, and report this with the log file.",
    ),
    (CheckCode.BACKOFF, "no_429"): ("No 429 responses.", ""),
    (CheckCode.BACKOFF, "avoidable"): (
        "429 responses: {total}, each answered by waiting. Avoidable, because earlier response "
        "headers had announced the limit: {avoidable}.",
        _LOWER_RATE,
    ),
    (CheckCode.BACKOFF, "backed_off"): (
        "429 responses: {total}, each answered by waiting before the next try.",
        "",
    ),
    (CheckCode.POOLING, "pooled"): (
        "Requests reuse open connections: each connection keeps one pooled HTTP client.",
        "",
    ),
    (CheckCode.POOLING, "not_pooled"): ("Requests open a new connection each time.", _REPORT_BUG),
    (CheckCode.POOLING, "unknown"): (
        "Not known for this view; choose one connection with --connection.",
        "",
    ),
    (CheckCode.RECORDING, "recorded"): (
        "Finished jobs with every time the figures need: {complete} of {finished}.",
        "",
    ),
    (CheckCode.RECORDING, "incomplete"): (
        "Finished jobs with every time the figures need: only {complete} of {finished}.",
        "Jobs that finished while Cmfy Desk was closed lack some times; the service's times "
        "fill in where it reports them.",
    ),
    (CheckCode.RECORDING, "no_jobs"): ("No finished jobs yet.", ""),
    (CheckCode.UNUSED_NODES, "unused_nodes"): (
        "Graphs with nodes that lead to no output: {with_unused} of {checked} ({unused_nodes} "
        "nodes in all, in {workflows}).",
        "Remove them with “Remove unused nodes” in the batch dialog's pre-flight check.",
    ),
    (CheckCode.UNUSED_NODES, "none_unused"): (
        "Graphs checked: {checked}, none with unused nodes.",
        "",
    ),
    (CheckCode.UNUSED_NODES, "no_jobs"): ("No jobs to check.", ""),
}

_CHECK_TITLES = {
    CheckCode.WEBHOOKS: "Webhooks in use rather than polling",
    CheckCode.CANONICAL_URLS: "Model URLs canonical across queued work",
    CheckCode.CONCURRENCY: "Concurrency limits respected",
    CheckCode.IDEMPOTENCY: "Retries carry idempotency keys",
    CheckCode.BACKOFF: "429 responses answered with backoff",
    CheckCode.POOLING: "Pooled connections",
    CheckCode.RECORDING: "Metrics being recorded",
    CheckCode.UNUSED_NODES: "Workflows free of unused nodes",
}

_CAUSE_NAMES = {
    FailureCause.VALIDATION: "Workflow rejected",
    FailureCause.TRANSIENT: "Network or download error",
    FailureCause.SERVER: "Failed on the GPU node",
    FailureCause.LOST: "Lost by the service",
    FailureCause.AUTH: "API key rejected",
    FailureCause.CANCELLED: "Cancelled",
}

_STATUS_NAMES = {
    JobStatus.SUCCEEDED: "succeeded",
    JobStatus.FAILED: "failed",
    JobStatus.LOST: "lost",
    JobStatus.PARTIAL: "partial",
    JobStatus.CANCELLED: "cancelled",
    JobStatus.QUEUED: "queued",
    JobStatus.SUBMITTING: "submitting",
    JobStatus.SUBMITTED: "waiting on the server",
    JobStatus.RUNNING: "running",
    JobStatus.DOWNLOADING: "downloading",
    JobStatus.DRAFT: "drafts",
}


# Values ------------------------------------------------------------------------------------


def format_duration(seconds: float | None) -> str:
    """Return a duration as "4.2 s", "3 min 20 s" or "2 h 5 min", or a dash for None."""
    if seconds is None:
        return NO_VALUE
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        minutes, rest = divmod(round(seconds), 60)
        return f"{minutes} min {rest} s"
    hours, rest = divmod(round(seconds), 3600)
    return f"{hours} h {rest // 60} min"


def format_percent(share: float | None) -> str:
    return NO_VALUE if share is None else f"{share * 100:.0f} %"


def local_time(seconds: float | None) -> str:
    """Return Unix seconds as local ``YYYY-MM-DD HH:MM:SS``, or a dash for None."""
    if seconds is None:
        return NO_VALUE
    return datetime.fromtimestamp(seconds).strftime("%Y-%m-%d %H:%M:%S")


def status_text(counts: Mapping[JobStatus, int]) -> str:
    """Return the job counts by status, for example "8 succeeded, 1 failed"."""
    parts = [
        f"{counts[status]} {name}" for status, name in _STATUS_NAMES.items() if counts.get(status)
    ]
    return ", ".join(parts)


def cache_source_text(cache: CacheFigures) -> str:
    match cache.source:
        case CacheSource.SANDBOX:
            return (
                "counted by the sandbox since it started: one lookup per model URL of each "
                "started job"
            )
        case CacheSource.INFERRED:
            return (
                "inferred from start delays: a job that spent more than "
                f"{format_duration(cache.threshold_seconds)} on the node beyond its execution "
                "time counts as a miss; one lookup per job"
            )
        case _:
            return "no job in this view has the times needed to tell"


def rate_limit_source_text(source: RateLimitSource) -> str:
    match source:
        case RateLimitSource.SCHEDULER:
            return "counted by the queue since Cmfy Desk started"
        case RateLimitSource.SANDBOX:
            return "counted by the sandbox since it started"
        case _:
            return (
                "submissions put back in the queue after a 429 (running-job or queue limit); "
                "waits after a rate_limit_exceeded response are not recorded"
            )


# Warnings and the checklist ----------------------------------------------------------------


def advice_text(advice: Advice) -> tuple[str, str]:
    """Return the message and the fix of a warning."""
    values = advice.values
    match advice.code:
        case AdviceCode.QUEUE_P95:
            return (
                "Jobs wait long to start: the 95th percentile of queue time is "
                f"{format_duration(values['p95'])}, above "
                f"{format_duration(values['threshold'])}.",
                "Spread load or lower concurrency (Settings → Queue → most jobs at once).",
            )
        case AdviceCode.CACHE_HIT_RATE:
            return (
                f"Only {format_percent(values['rate'])} of model lookups hit the node cache, "
                f"below {format_percent(values['threshold'])}.",
                "Use one canonical URL per model: the node cache matches the exact URL, so two "
                "spellings of one file are two downloads.",
            )
        case AdviceCode.FREQUENT_429:
            if values.get("share") is not None:
                rate = f"{format_percent(values['share'])} of requests"
            else:
                rate = f"{values['per_minute']:.1f} per minute"
            return (
                f"The service answered {values['count']} requests with 429 ({rate}).",
                _LOWER_RATE,
            )
    raise ValueError(f"No wording for the warning {advice.code!r}.")


def check_title(code: CheckCode) -> str:
    return _CHECK_TITLES[code]


def check_text(item: ChecklistItem) -> tuple[str, str]:
    """Return what the evidence of a checklist item shows and its fix ("" when none)."""
    if item.code is CheckCode.CANONICAL_URLS and item.reason == "not_canonical":
        return _model_url_text(item.values), (
            "Use one canonical URL per model: pick it in the model library, then queue again."
        )
    message, fix = _CHECK_TEXTS.get((item.code, item.reason), (item.reason, ""))
    fields = {key: _field_text(value) for key, value in item.values.items()}
    fields["seconds"] = f"{MIN_BACKOFF_SECONDS:g}"
    return message.format_map(_Defaults(fields)), fix


def _model_url_text(values: Mapping[str, Any]) -> str:
    parts = [f"Model URLs checked: {values.get('urls', 0)}."]
    if values.get("not_canonical"):
        parts.append(f"Not in canonical form: {values['not_canonical']}.")
    if values.get("conflicting"):
        parts.append(f"Naming a file that another URL also names: {values['conflicting']}.")
    if values.get("off_library"):
        parts.append(f"Different from the model library: {values['off_library']}.")
    examples = list(values.get("examples", []))
    if examples:
        parts.append("For example: " + ", ".join(examples) + ".")
    return " ".join(parts)


class _Defaults(dict[str, str]):
    """Format fields that show a dash for a missing key instead of raising KeyError."""

    def __missing__(self, key: str) -> str:
        return NO_VALUE


def _field_text(value: object) -> str:
    if value is None:
        return NO_VALUE
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value) or NO_VALUE
    return str(value)


# The report --------------------------------------------------------------------------------


def report_lines(title: str, metrics: Metrics, checklist: Sequence[ChecklistItem]) -> list[str]:
    """Return the figures, the warnings with their fixes and the checklist as text lines."""
    lines = [title, f"Jobs: {metrics.jobs}" + _in_brackets(status_text(metrics.status_counts))]
    if metrics.window_start is not None:
        span = None if metrics.window_end is None else metrics.window_end - metrics.window_start
        lines.append(
            f"Measured from {local_time(metrics.window_start)} to "
            f"{local_time(metrics.window_end)} ({format_duration(span)})"
        )
    lines += ["", *_timing_table(metrics), ""]
    lines += _figure_lines(metrics)
    lines += ["", "Warnings:"]
    for advice in metrics.advice:
        message, fix = advice_text(advice)
        lines.append(f"  warning: {message}")
        lines.append(f"    fix: {fix}")
    if not metrics.advice:
        lines.append("  No warnings: queue time, cache hits and 429 responses are within range.")
    lines += ["", "Production checklist:"]
    width = max(len(name) for name in STATE_NAMES.values())
    for item in checklist:
        message, fix = check_text(item)
        state = STATE_NAMES[item.state].ljust(width)
        lines.append(f"  {state}  {check_title(item.code)}: {message}")
        if item.state is CheckState.AMBER and fix:
            lines.append(f"  {' ' * width}  fix: {fix}")
    return lines


def _timing_table(metrics: Metrics) -> list[str]:
    rows = [
        ("Duration", "jobs", "mean", "p50", "p95", "max"),
        _timing_row("Queue time", metrics.queue),
        _timing_row("Execution time", metrics.execution),
        _timing_row("Total time", metrics.total),
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return [
        "  ".join(
            cell.ljust(widths[column]) if column == 0 else cell.rjust(widths[column])
            for column, cell in enumerate(row)
        ).rstrip()
        for row in rows
    ]


def _timing_row(name: str, distribution: Distribution) -> tuple[str, ...]:
    return (
        name,
        str(distribution.count),
        format_duration(distribution.mean),
        format_duration(distribution.p50),
        format_duration(distribution.p95),
        format_duration(distribution.maximum),
    )


def _figure_lines(metrics: Metrics) -> list[str]:
    lines: list[str] = []
    if metrics.throughput_per_minute is not None:
        lines.append(f"Throughput: {metrics.throughput_per_minute:.2f} succeeded jobs/min")
    else:
        lines.append(f"Throughput: {NO_VALUE}")
    cache = metrics.cache
    if cache.lookups:
        hits = f"{format_percent(cache.hit_rate)} ({cache.hits} hits, {cache.misses} misses)"
    else:
        hits = NO_VALUE
    lines.append(f"Cache hit rate: {hits}; source: {cache_source_text(cache)}")
    limits = metrics.rate_limits
    by_code = ", ".join(f"{code} {count}" for code, count in sorted(limits.by_code.items()))
    lines.append(
        f"429 responses: {limits.total}{_in_brackets(by_code)}; source: "
        f"{rate_limit_source_text(limits.source)}"
    )
    if limits.requests is not None:
        lines.append(f"Requests: {limits.requests}")
    lines.append("Failures by cause:" + ("" if metrics.failures else " none"))
    for cause, count in sorted(metrics.failures.items()):
        lines.append(f"  {_CAUSE_NAMES[cause]}: {count}")
    return lines


def _in_brackets(text: str) -> str:
    return f" ({text})" if text else ""


def report_document(metrics: Metrics, checklist: Sequence[ChecklistItem]) -> dict[str, Any]:
    """Return the figures, warnings and checklist as one JSON-ready object. Durations are in
    seconds, times in Unix seconds, and codes are those of cmfy_desk.metrics."""
    scope = metrics.scope
    cache, limits = metrics.cache, metrics.rate_limits
    warnings = []
    for advice in metrics.advice:
        message, fix = advice_text(advice)
        warnings.append(
            {
                "code": advice.code.value,
                "message": message,
                "fix": fix,
                "action": advice.action.value if advice.action else None,
                "values": advice.values,
            }
        )
    items = []
    for item in checklist:
        message, fix = check_text(item)
        items.append(
            {
                "code": item.code.value,
                "title": check_title(item.code),
                "state": STATE_NAMES[item.state],
                "reason": item.reason,
                "message": message,
                "fix": fix if item.state is CheckState.AMBER else "",
                "action": item.action.value if item.action else None,
                "values": item.values,
            }
        )
    return {
        "scope": {
            "connection": scope.connection,
            "batch_id": scope.batch_id,
            "since": scope.since,
        },
        "jobs": metrics.jobs,
        "by_status": {status.value: count for status, count in metrics.status_counts.items()},
        "window_start": metrics.window_start,
        "window_end": metrics.window_end,
        "queue_seconds": _distribution(metrics.queue),
        "execution_seconds": _distribution(metrics.execution),
        "total_seconds": _distribution(metrics.total),
        "throughput_per_minute": metrics.throughput_per_minute,
        "cache": {
            "hits": cache.hits,
            "misses": cache.misses,
            "hit_rate": cache.hit_rate,
            "source": cache.source.value,
            "threshold_seconds": cache.threshold_seconds,
        },
        "rate_limits": {
            "total": limits.total,
            "by_code": limits.by_code,
            "source": limits.source.value,
            "requests": limits.requests,
            "per_minute": limits.per_minute,
        },
        "failures": {cause.value: count for cause, count in sorted(metrics.failures.items())},
        "warnings": warnings,
        "checklist": items,
    }


def _distribution(distribution: Distribution) -> dict[str, float | int | None]:
    return {
        "count": distribution.count,
        "mean": distribution.mean,
        "p50": distribution.p50,
        "p95": distribution.p95,
        "max": distribution.maximum,
    }
