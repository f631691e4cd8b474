"""The words of the metrics window: durations, shares and job counts, failure causes, where a
figure comes from, the rows of the two tables, and the message and fix of each warning and
checklist item.

The strings are translated in the context "MetricsDialog", the class of the window.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QCoreApplication

from cmfy_desk.metrics import (
    MIN_BACKOFF_SECONDS,
    Advice,
    AdviceCode,
    CacheSource,
    CheckCode,
    ChecklistItem,
    Distribution,
    FixAction,
    Metrics,
    RateLimitSource,
)
from cmfy_desk.scheduler.failures import FailureCause
from cmfy_desk.store import JobStatus


def _tr(text: str) -> str:
    # NOTE: pyside6-lupdate extracts only tr() and translate() calls with a literal string, so
    # the strings passed through this function are missing from the translation template.
    return QCoreApplication.translate("MetricsDialog", text)


def format_duration(seconds: float | None) -> str:
    """Return a duration as "4.2 s", "3 min 20 s" or "2 h 5 min", or a dash for None."""
    if seconds is None:
        return "—"
    if seconds < 60:
        return _tr("{seconds} s").format(seconds=f"{seconds:.1f}")
    if seconds < 3600:
        minutes, rest = divmod(round(seconds), 60)
        return _tr("{minutes} min {seconds} s").format(minutes=minutes, seconds=rest)
    hours, rest = divmod(round(seconds), 3600)
    return _tr("{hours} h {minutes} min").format(hours=hours, minutes=rest // 60)


def format_axis_seconds(seconds: float) -> str:
    """Return an axis label: seconds below two minutes, then minutes."""
    if seconds < 120:
        return _tr("{seconds} s").format(seconds=f"{seconds:g}")
    return _tr("{minutes} min").format(minutes=f"{seconds / 60:.3g}")


def format_percent(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.0f} %"


def status_text(counts: Mapping[JobStatus, int]) -> str:
    names = {
        JobStatus.SUCCEEDED: _tr("{count} succeeded"),
        JobStatus.FAILED: _tr("{count} failed"),
        JobStatus.LOST: _tr("{count} lost"),
        JobStatus.PARTIAL: _tr("{count} partial"),
        JobStatus.CANCELLED: _tr("{count} cancelled"),
        JobStatus.QUEUED: _tr("{count} queued"),
        JobStatus.SUBMITTING: _tr("{count} submitting"),
        JobStatus.SUBMITTED: _tr("{count} waiting on the server"),
        JobStatus.RUNNING: _tr("{count} running"),
        JobStatus.DOWNLOADING: _tr("{count} downloading"),
        JobStatus.DRAFT: _tr("{count} drafts"),
    }
    parts = [
        text.format(count=counts[status]) for status, text in names.items() if counts.get(status)
    ]
    return ", ".join(parts)


def cause_name(cause: FailureCause) -> str:
    return {
        FailureCause.VALIDATION: _tr("Workflow rejected"),
        FailureCause.TRANSIENT: _tr("Network or download error"),
        FailureCause.SERVER: _tr("Failed on the GPU node"),
        FailureCause.LOST: _tr("Lost by the service"),
        FailureCause.AUTH: _tr("API key rejected"),
        FailureCause.CANCELLED: _tr("Cancelled"),
    }[cause]


def cache_source_text(metrics: Metrics) -> str:
    cache = metrics.cache
    match cache.source:
        case CacheSource.SANDBOX:
            return _tr(
                "Counted by the sandbox since it started: one lookup per model URL of each "
                "started job."
            )
        case CacheSource.INFERRED:
            return _tr(
                "Inferred from start delays: a job that spent more than {threshold} on the node "
                "beyond its execution time counts as a miss. One lookup per job."
            ).format(threshold=format_duration(cache.threshold_seconds))
        case _:
            return _tr("No job in this view has the times needed to tell.")


def rate_limit_source_text(source: RateLimitSource) -> str:
    match source:
        case RateLimitSource.SCHEDULER:
            return _tr("Counted by the queue since Cmfy Desk started.")
        case RateLimitSource.SANDBOX:
            return _tr("Counted by the sandbox since it started.")
        case _:
            return _tr(
                "Submissions put back in the queue after a 429 (running-job or queue limit). "
                "Waits after a rate_limit_exceeded response are not recorded."
            )


def advice_text(advice: Advice) -> tuple[str, str]:
    """Return the message and the fix of a warning."""
    values = advice.values
    match advice.code:
        case AdviceCode.QUEUE_P95:
            return (
                _tr(
                    "Jobs wait long to start: the 95th percentile of queue time is {p95}, "
                    "above {threshold}."
                ).format(
                    p95=format_duration(values["p95"]),
                    threshold=format_duration(values["threshold"]),
                ),
                _tr("Spread load or lower concurrency (Settings → Queue → most jobs at once)."),
            )
        case AdviceCode.CACHE_HIT_RATE:
            return (
                _tr("Only {rate} of model lookups hit the node cache, below {threshold}.").format(
                    rate=format_percent(values["rate"]),
                    threshold=format_percent(values["threshold"]),
                ),
                _tr(
                    "Use one canonical URL per model: the node cache matches the exact URL, so "
                    "two spellings of one file are two downloads."
                ),
            )
        case AdviceCode.FREQUENT_429:
            if values.get("share") is not None:
                rate = _tr("{share} of requests").format(share=format_percent(values["share"]))
            else:
                rate = _tr("{count} per minute").format(count=f"{values['per_minute']:.1f}")
            return (
                _tr("The service answered {count} requests with 429 ({rate}).").format(
                    count=values["count"], rate=rate
                ),
                _tr(
                    "Lower your request rate: lower the jobs at once, or stop other programs "
                    "that use the same API key."
                ),
            )
    raise ValueError(f"No wording for the warning {advice.code!r}.")


def check_title(code: CheckCode) -> str:
    return {
        CheckCode.WEBHOOKS: _tr("Webhooks in use rather than polling"),
        CheckCode.CANONICAL_URLS: _tr("Model URLs canonical across queued work"),
        CheckCode.CONCURRENCY: _tr("Concurrency limits respected"),
        CheckCode.IDEMPOTENCY: _tr("Retries carry idempotency keys"),
        CheckCode.BACKOFF: _tr("429 responses answered with backoff"),
        CheckCode.POOLING: _tr("Pooled connections"),
        CheckCode.RECORDING: _tr("Metrics being recorded"),
        CheckCode.UNUSED_NODES: _tr("Workflows free of unused nodes"),
    }[code]


def check_text(item: ChecklistItem) -> tuple[str, str]:
    """Return what the evidence shows and, for an amber item, the fix ("" when none)."""
    if item.code is CheckCode.CANONICAL_URLS and item.reason == "not_canonical":
        return _model_url_text(item), _tr(
            "Use one canonical URL per model: pick it in the model library, then queue again."
        )
    lower_rate = _tr(
        "Lower your request rate: lower the jobs at once, or stop other programs that use the "
        "same API key."
    )
    texts: dict[tuple[CheckCode, str], tuple[str, str]] = {
        (CheckCode.WEBHOOKS, "websocket"): (
            _tr("A ComfyUI server reports status over its websocket, without polling."),
            "",
        ),
        (CheckCode.WEBHOOKS, "polling_chosen"): (
            _tr("This connection polls for job status, which adds delay and spends requests."),
            _tr(
                "Run a tunnel (cloudflared, ngrok…) to the webhook receiver and enter its "
                "public address in Settings."
            ),
        ),
        (CheckCode.WEBHOOKS, "configured"): (
            _tr("Webhooks are set up, and no job has finished since."),
            "",
        ),
        (CheckCode.WEBHOOKS, "no_jobs"): (_tr("No finished jobs to judge by yet."), ""),
        (CheckCode.WEBHOOKS, "no_deliveries"): (
            _tr(
                "Webhooks are set up, but none of the {finished} finished jobs received one, so "
                "their status came from polling."
            ),
            _tr("Check in Settings that the tunnel forwards to the webhook receiver."),
        ),
        (CheckCode.WEBHOOKS, "in_use"): (
            _tr(
                "Finished jobs that reported their result by webhook: {with_webhook} of {finished}."
            ),
            "",
        ),
        (CheckCode.CANONICAL_URLS, "no_model_urls"): (_tr("No model URLs in these jobs."), ""),
        (CheckCode.CANONICAL_URLS, "canonical"): (
            _tr("Model URLs checked: {urls}, all canonical, one per model."),
            "",
        ),
        (CheckCode.CONCURRENCY, "over_limit"): (
            _tr("Most jobs running at once: {peak}, above the limit of {limit}."),
            _tr("Lower the jobs at once in Settings → Queue."),
        ),
        (CheckCode.CONCURRENCY, "rejected"): (
            _tr(
                "Submissions the service rejected: {rejected} over its running-job limit and "
                "{queue_full} over its queue limit."
            ),
            _tr("Lower the jobs at once in Settings → Queue."),
        ),
        (CheckCode.CONCURRENCY, "limit_unknown"): (
            _tr("Most jobs running at once: {peak}. The limit of this view is not known."),
            "",
        ),
        (CheckCode.CONCURRENCY, "within_limit"): (
            _tr("Most jobs running at once: {peak}, within the limit of {limit}."),
            "",
        ),
        (CheckCode.IDEMPOTENCY, "missing_keys"): (
            _tr(
                "Jobs without an idempotency key: {missing}. A retry of such a job could "
                "create a second one."
            ),
            _tr("Queue those jobs again: new jobs get a key before their first submission."),
        ),
        (CheckCode.IDEMPOTENCY, "duplicate_runs"): (
            _tr("Jobs the sandbox ran more than once: {duplicates}."),
            _tr("Report this with the log file (Help → Open log folder)."),
        ),
        (CheckCode.IDEMPOTENCY, "keys_stored"): (
            _tr(
                "Every job stores its key before the first submission and reuses it on each "
                "retry. Jobs submitted more than once: {retried}."
            ),
            "",
        ),
        (CheckCode.BACKOFF, "no_backoff"): (
            _tr("Jobs submitted again less than {seconds} s after a 429: {without_backoff}."),
            _tr("Lower the jobs at once in Settings → Queue, and report this with the log file."),
        ),
        (CheckCode.BACKOFF, "no_429"): (_tr("No 429 responses."), ""),
        (CheckCode.BACKOFF, "avoidable"): (
            _tr(
                "429 responses: {total}, each answered by waiting. Avoidable, because earlier "
                "response headers had announced the limit: {avoidable}."
            ),
            lower_rate,
        ),
        (CheckCode.BACKOFF, "backed_off"): (
            _tr("429 responses: {total}, each answered by waiting before the next try."),
            "",
        ),
        (CheckCode.POOLING, "pooled"): (
            _tr("Requests reuse open connections: each connection keeps one pooled HTTP client."),
            "",
        ),
        (CheckCode.POOLING, "not_pooled"): (
            _tr("Requests open a new connection each time."),
            _tr("Report this with the log file (Help → Open log folder)."),
        ),
        (CheckCode.POOLING, "unknown"): (
            _tr("Not known for this view; choose one connection."),
            "",
        ),
        (CheckCode.RECORDING, "recorded"): (
            _tr("Finished jobs with every time the figures need: {complete} of {finished}."),
            "",
        ),
        (CheckCode.RECORDING, "incomplete"): (
            _tr("Finished jobs with every time the figures need: only {complete} of {finished}."),
            _tr(
                "Jobs that finished while Cmfy Desk was closed lack some times; the service's "
                "times fill in where it reports them."
            ),
        ),
        (CheckCode.RECORDING, "no_jobs"): (_tr("No finished jobs yet."), ""),
        (CheckCode.UNUSED_NODES, "unused_nodes"): (
            _tr(
                "Graphs with nodes that lead to no output: {with_unused} of {checked} "
                "({unused_nodes} nodes in all, in {workflows})."
            ),
            _tr("Remove them with “Remove unused nodes” in the batch dialog's pre-flight check."),
        ),
        (CheckCode.UNUSED_NODES, "none_unused"): (
            _tr("Graphs checked: {checked}, none with unused nodes."),
            "",
        ),
        (CheckCode.UNUSED_NODES, "no_jobs"): (_tr("No jobs to check."), ""),
    }
    message, fix = texts.get((item.code, item.reason), (item.reason, ""))
    fields = {key: _field_text(value) for key, value in item.values.items()}
    fields["seconds"] = f"{MIN_BACKOFF_SECONDS:g}"
    return message.format_map(_Defaults(fields)), fix


def _model_url_text(item: ChecklistItem) -> str:
    """Return the problems of the model URLs, one sentence per kind found, then examples."""
    values = item.values
    parts = [_tr("Model URLs checked: {urls}.").format(urls=values.get("urls", 0))]
    if values.get("not_canonical"):
        parts.append(_tr("Not in canonical form: {count}.").format(count=values["not_canonical"]))
    if values.get("conflicting"):
        parts.append(
            _tr("Naming a file that another URL also names: {count}.").format(
                count=values["conflicting"]
            )
        )
    if values.get("off_library"):
        parts.append(
            _tr("Different from the model library: {count}.").format(count=values["off_library"])
        )
    examples = "\n".join(values.get("examples", []))
    return " ".join(parts) + ("\n" + _tr("For example:") + "\n" + examples if examples else "")


class _Defaults(dict[str, str]):
    """Format fields that show a dash for a missing key instead of raising KeyError."""

    def __missing__(self, key: str) -> str:
        return "—"


def _field_text(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value) or "—"
    return str(value)


def fix_button_text(action: FixAction) -> str:
    return {
        FixAction.MODEL_LIBRARY: _tr("Check model URLs…"),
        FixAction.QUEUE_SETTINGS: _tr("Queue settings…"),
        FixAction.CONNECTION_SETTINGS: _tr("Connection settings…"),
    }[action]


def timing_rows(metrics: Metrics) -> tuple[list[list[str]], list[str]]:
    """Return the rows of the timing table (duration, jobs, mean, p50, p95, max) and the
    tooltip of each."""

    def timing_row(name: str, distribution: Distribution) -> list[str]:
        return [
            name,
            str(distribution.count),
            format_duration(distribution.mean),
            format_duration(distribution.p50),
            format_duration(distribution.p95),
            format_duration(distribution.maximum),
        ]

    rows = [
        timing_row(QCoreApplication.translate("MetricsDialog", "Queue time"), metrics.queue),
        timing_row(
            QCoreApplication.translate("MetricsDialog", "Execution time"), metrics.execution
        ),
        timing_row(QCoreApplication.translate("MetricsDialog", "Total time"), metrics.total),
    ]
    tips = [
        QCoreApplication.translate(
            "MetricsDialog",
            "From submission to start, by the service's clock where it reports one",
        ),
        QCoreApplication.translate(
            "MetricsDialog",
            "The service's GPU time where reported, else from start to completion",
        ),
        QCoreApplication.translate("MetricsDialog", "From submission until the outputs are saved"),
    ]
    return rows, tips


def figure_rows(metrics: Metrics) -> tuple[list[list[str]], list[str]]:
    """Return the rows of the figures table (figure, value) and the tooltip of each."""
    rows: list[list[str]] = []
    tips: list[str] = []
    rows.append([QCoreApplication.translate("MetricsDialog", "Jobs"), str(metrics.jobs)])
    tips.append(status_text(metrics.status_counts))

    if metrics.throughput_per_minute is not None:
        throughput = QCoreApplication.translate("MetricsDialog", "{count} jobs/min").format(
            count=f"{metrics.throughput_per_minute:.2f}"
        )
    else:
        throughput = "—"
    rows.append([QCoreApplication.translate("MetricsDialog", "Throughput"), throughput])
    window = format_duration(
        None
        if metrics.window_start is None or metrics.window_end is None
        else metrics.window_end - metrics.window_start
    )
    tips.append(
        QCoreApplication.translate(
            "MetricsDialog", "Succeeded jobs per minute over {window}"
        ).format(window=window)
    )

    cache = metrics.cache
    if cache.lookups:
        cache_value = QCoreApplication.translate(
            "MetricsDialog", "{rate} ({hits} hits, {misses} misses)"
        ).format(rate=format_percent(cache.hit_rate), hits=cache.hits, misses=cache.misses)
    else:
        cache_value = "—"
    rows.append([QCoreApplication.translate("MetricsDialog", "Cache hit rate"), cache_value])
    tips.append(cache_source_text(metrics))

    limits = metrics.rate_limits
    by_code = ", ".join(f"{code} {count}" for code, count in sorted(limits.by_code.items()))
    rows.append(
        [
            QCoreApplication.translate("MetricsDialog", "429 responses"),
            f"{limits.total} ({by_code})" if by_code else str(limits.total),
        ]
    )
    tips.append(rate_limit_source_text(limits.source))
    if limits.requests is not None:
        rows.append([QCoreApplication.translate("MetricsDialog", "Requests"), str(limits.requests)])
        tips.append(
            QCoreApplication.translate(
                "MetricsDialog", "Requests sent to the server since it started"
            )
        )
    for cause, count in sorted(metrics.failures.items()):
        rows.append([cause_name(cause), str(count)])
        tips.append(
            QCoreApplication.translate("MetricsDialog", "Jobs that ended without success, by cause")
        )
    return rows, tips
