"""The sentences of the metrics: durations, shares and job counts, figure names and values, where
a figure comes from, and the message and fix of each warning and checklist item.

The metrics window and ``cmfy-desk metrics`` both word their figures with ``MetricsWording``.
The window passes Qt's ``QCoreApplication.translate``, so the sentences appear in the user's
language. The command line passes nothing and prints them in English, without loading Qt.
Every sentence is a literal in a ``self.tr()`` call, which pyside6-lupdate extracts into the
translation template under the context "MetricsWording".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from cmfy_desk.metrics.compute import MIN_BACKOFF_SECONDS, MIN_THROUGHPUT_WINDOW_SECONDS
from cmfy_desk.metrics.model import (
    Advice,
    AdviceCode,
    CacheFigures,
    CacheSource,
    CheckCode,
    ChecklistItem,
    Distribution,
    Metrics,
    RateLimitSource,
)
from cmfy_desk.scheduler.failures import FailureCause
from cmfy_desk.store import JobStatus

# Shown for a figure that has no value.
NO_VALUE = "—"
# The context of every sentence here, as lupdate names the context of self.tr() calls in a class.
CONTEXT = "MetricsWording"

# A function that returns the translation of a text in a context, as QCoreApplication.translate.
Translate = Callable[[str, str], str]


class Figure(StrEnum):
    """A row of the figures table."""

    JOBS = "jobs"
    THROUGHPUT = "throughput"
    CACHE_HIT_RATE = "cache_hit_rate"
    RATE_LIMITED = "rate_limited"
    REQUESTS = "requests"
    FAILURES = "failures"  # one row per failure cause


@dataclass(frozen=True)
class FigureRow:
    """One figure: its name, its value and a sentence on what it counts or where it comes from."""

    figure: Figure
    name: str
    value: str
    note: str


class MetricsWording:
    """Words the figures, warnings and checklist items of the metrics in one language.

    ``translate(context, text)`` returns the translation of each sentence. Without it, the
    sentences stay in English.
    """

    def __init__(self, translate: Translate | None = None) -> None:
        self._translate = translate

    def tr(self, text: str) -> str:
        """Return the translation of ``text``, a literal that lupdate extracts."""
        return text if self._translate is None else self._translate(CONTEXT, text)

    # Values ---------------------------------------------------------------------------------

    def format_duration(self, seconds: float | None) -> str:
        """Return a duration as "4.2 s", "3 min 20 s" or "2 h 5 min", or a dash for None."""
        if seconds is None:
            return NO_VALUE
        if seconds < 60:
            return self.tr("{seconds} s").format(seconds=f"{seconds:.1f}")
        if seconds < 3600:
            minutes, rest = divmod(round(seconds), 60)
            return self.tr("{minutes} min {seconds} s").format(minutes=minutes, seconds=rest)
        hours, rest = divmod(round(seconds), 3600)
        return self.tr("{hours} h {minutes} min").format(hours=hours, minutes=rest // 60)

    def format_axis_seconds(self, seconds: float) -> str:
        """Return an axis label: seconds below two minutes, then minutes."""
        if seconds < 120:
            return self.tr("{seconds} s").format(seconds=f"{seconds:g}")
        return self.tr("{minutes} min").format(minutes=f"{seconds / 60:.3g}")

    @staticmethod
    def format_percent(share: float | None) -> str:
        return NO_VALUE if share is None else f"{share * 100:.0f} %"

    def status_text(self, counts: Mapping[JobStatus, int]) -> str:
        """Return the job counts by status, for example "8 succeeded, 1 failed"."""
        names = {
            JobStatus.SUCCEEDED: self.tr("{count} succeeded"),
            JobStatus.FAILED: self.tr("{count} failed"),
            JobStatus.LOST: self.tr("{count} lost"),
            JobStatus.PARTIAL: self.tr("{count} partial"),
            JobStatus.CANCELLED: self.tr("{count} cancelled"),
            JobStatus.QUEUED: self.tr("{count} queued"),
            JobStatus.SUBMITTING: self.tr("{count} submitting"),
            JobStatus.SUBMITTED: self.tr("{count} waiting on the server"),
            JobStatus.RUNNING: self.tr("{count} running"),
            JobStatus.DOWNLOADING: self.tr("{count} downloading"),
            JobStatus.DRAFT: self.tr("{count} drafts"),
        }
        parts = [
            text.format(count=counts[status])
            for status, text in names.items()
            if counts.get(status)
        ]
        return ", ".join(parts)

    def cause_name(self, cause: FailureCause) -> str:
        return {
            FailureCause.VALIDATION: self.tr("Workflow rejected"),
            FailureCause.TRANSIENT: self.tr("Network or download error"),
            FailureCause.SERVER: self.tr("Failed on the GPU node"),
            FailureCause.LOST: self.tr("Lost by the service"),
            FailureCause.AUTH: self.tr("API key rejected"),
            FailureCause.CANCELLED: self.tr("Cancelled"),
        }[cause]

    # Tables ---------------------------------------------------------------------------------

    def timing_headers(self) -> list[str]:
        return [self.tr("Duration"), self.tr("Jobs"), self.tr("Mean"), "p50", "p95", self.tr("Max")]

    def timing_rows(self, metrics: Metrics) -> list[list[str]]:
        """Return the rows of the timing table, in the columns of timing_headers()."""
        return [
            self._timing_row(self.tr("Queue time"), metrics.queue),
            self._timing_row(self.tr("Execution time"), metrics.execution),
            self._timing_row(self.tr("Total time"), metrics.total),
        ]

    def timing_notes(self) -> list[str]:
        """Return what each row of the timing table measures."""
        return [
            self.tr("From submission to start, by the service's clock where it reports one"),
            self.tr("The service's GPU time where reported, else from start to completion"),
            self.tr("From submission until the outputs are saved"),
        ]

    def _timing_row(self, name: str, distribution: Distribution) -> list[str]:
        return [
            name,
            str(distribution.count),
            self.format_duration(distribution.mean),
            self.format_duration(distribution.p50),
            self.format_duration(distribution.p95),
            self.format_duration(distribution.maximum),
        ]

    def figure_rows(self, metrics: Metrics) -> list[FigureRow]:
        """Return the figures: jobs, throughput, cache hit rate, 429 responses, requests (when
        known) and one row per failure cause."""
        rows = [
            FigureRow(
                Figure.JOBS,
                self.tr("Jobs"),
                str(metrics.jobs),
                self.status_text(metrics.status_counts),
            ),
            FigureRow(
                Figure.THROUGHPUT,
                self.tr("Throughput"),
                self.throughput_text(metrics),
                self.throughput_note(metrics),
            ),
        ]
        cache = metrics.cache
        rows.append(
            FigureRow(
                Figure.CACHE_HIT_RATE,
                self.tr("Cache hit rate"),
                self.cache_text(cache),
                self.cache_source_text(cache),
            )
        )
        limits = metrics.rate_limits
        by_code = ", ".join(f"{code} {count}" for code, count in sorted(limits.by_code.items()))
        rows.append(
            FigureRow(
                Figure.RATE_LIMITED,
                self.tr("429 responses"),
                f"{limits.total} ({by_code})" if by_code else str(limits.total),
                self.rate_limit_source_text(limits.source),
            )
        )
        if limits.requests is not None:
            rows.append(
                FigureRow(
                    Figure.REQUESTS,
                    self.tr("Requests"),
                    str(limits.requests),
                    self.tr("Requests sent to the server since it started"),
                )
            )
        for cause, count in sorted(metrics.failures.items()):
            rows.append(
                FigureRow(
                    Figure.FAILURES,
                    self.cause_name(cause),
                    str(count),
                    self.tr("Jobs that ended without success, by cause"),
                )
            )
        return rows

    def throughput_text(self, metrics: Metrics) -> str:
        """Return the succeeded jobs per minute, "Not enough data" for a window shorter than
        MIN_THROUGHPUT_WINDOW_SECONDS, or a dash when nothing was submitted."""
        if metrics.throughput_per_minute is not None:
            return self.tr("{count} jobs/min").format(count=f"{metrics.throughput_per_minute:.2f}")
        if metrics.window_start is None or metrics.window_end is None:
            return NO_VALUE
        return self.tr("Not enough data")

    def throughput_note(self, metrics: Metrics) -> str:
        if metrics.window_start is None or metrics.window_end is None:
            return self.tr("No job in this view was submitted.")
        window = self.format_duration(metrics.window_end - metrics.window_start)
        if metrics.throughput_per_minute is not None:
            return self.tr("Succeeded jobs per minute over {window}.").format(window=window)
        return self.tr(
            "The jobs span {window}. Throughput needs at least {minimum} to be a rate."
        ).format(window=window, minimum=self.format_axis_seconds(MIN_THROUGHPUT_WINDOW_SECONDS))

    def cache_text(self, cache: CacheFigures) -> str:
        if not cache.lookups:
            return NO_VALUE
        rate = self.format_percent(cache.hit_rate)
        if cache.source is CacheSource.INFERRED:
            return self.tr("{rate} ({hits} hits, {misses} misses, inferred)").format(
                rate=rate, hits=cache.hits, misses=cache.misses
            )
        if cache.source is CacheSource.SANDBOX:
            # The sandbox counts model URLs, so a job with two models makes two lookups.
            return self.tr(
                "{rate} ({hits} hits, {misses} misses of model URLs, counted by the sandbox)"
            ).format(rate=rate, hits=cache.hits, misses=cache.misses)
        return self.tr("{rate} ({hits} hits, {misses} misses)").format(
            rate=rate, hits=cache.hits, misses=cache.misses
        )

    def cache_source_text(self, cache: CacheFigures) -> str:
        match cache.source:
            case CacheSource.SANDBOX:
                return self.tr(
                    "Counted by the sandbox since it started: one lookup per model URL of each "
                    "started job."
                )
            case CacheSource.INFERRED if cache.margin_seconds is not None:
                return self.tr(
                    "Inferred from start delays, the time a job spent on the node beyond its "
                    "GPU time. A job counts as a miss when its start delay exceeds the "
                    "connection's fastest start by more than {margin}, half a model download. "
                    "One lookup per job."
                ).format(margin=self.format_duration(cache.margin_seconds))
            case CacheSource.INFERRED:
                return self.tr(
                    "Inferred from start delays, the time a job spent on the node beyond its "
                    "GPU time. A job counts as a miss when its start delay exceeds its "
                    "connection's fastest start by more than half a model download there. "
                    "One lookup per job."
                )
            case _:
                return self.tr(
                    "No job in this view has the times needed to tell. Cache hits are inferred "
                    "only from jobs whose service reports their GPU time."
                )

    def rate_limit_source_text(self, source: RateLimitSource) -> str:
        match source:
            case RateLimitSource.SCHEDULER:
                return self.tr("Counted by the queue since Cmfy Desk started.")
            case RateLimitSource.SANDBOX:
                return self.tr("Counted by the sandbox since it started.")
            case _:
                return self.tr(
                    "Submissions put back in the queue after a 429 (running-job or queue "
                    "limit). Waits after a rate_limit_exceeded response are not recorded."
                )

    # Warnings -------------------------------------------------------------------------------

    def no_warnings_text(self) -> str:
        return self.tr("No warnings: queue time, cache hits and 429 responses are within range.")

    def advice_text(self, advice: Advice) -> tuple[str, str]:
        """Return the message and the fix of a warning."""
        values = advice.values
        match advice.code:
            case AdviceCode.QUEUE_P95:
                return (
                    self.tr(
                        "Jobs wait long to start: the 95th percentile of queue time is {p95}, "
                        "above {threshold}."
                    ).format(
                        p95=self.format_duration(values["p95"]),
                        threshold=self.format_duration(values["threshold"]),
                    ),
                    self.tr(
                        "Spread load or lower concurrency (Settings → Queue → most jobs at once)."
                    ),
                )
            case AdviceCode.CACHE_HIT_RATE:
                return self._cache_advice(values)
            case AdviceCode.FREQUENT_429:
                if values.get("share") is not None:
                    share = self.format_percent(values["share"])
                    rate = self.tr("{share} of requests").format(share=share)
                else:
                    per_minute = f"{values['per_minute']:.1f}"
                    rate = self.tr("{count} per minute").format(count=per_minute)
                return (
                    self.tr("The service answered {count} requests with 429 ({rate}).").format(
                        count=values["count"], rate=rate
                    ),
                    self._lower_rate_fix(),
                )
        raise ValueError(f"No wording for the warning {advice.code!r}.")

    def _cache_advice(self, values: Mapping[str, Any]) -> tuple[str, str]:
        rate = self.format_percent(values["rate"])
        threshold = self.format_percent(values["threshold"])
        if values.get("source") == CacheSource.INFERRED:
            message = self.tr(
                "Only {rate} of model lookups hit the node cache (inferred from start delays), "
                "below {threshold}."
            )
        else:
            message = self.tr("Only {rate} of model lookups hit the node cache, below {threshold}.")
        return message.format(rate=rate, threshold=threshold), self.tr(
            "Use one canonical URL per model: the node cache matches the exact URL, so two "
            "spellings of one file are two downloads."
        )

    def _lower_rate_fix(self) -> str:
        return self.tr(
            "Lower your request rate: lower the jobs at once, or stop other programs that use "
            "the same API key."
        )

    # The production checklist ---------------------------------------------------------------

    def check_title(self, code: CheckCode) -> str:
        return {
            CheckCode.WEBHOOKS: self.tr("Webhooks in use rather than polling"),
            CheckCode.CANONICAL_URLS: self.tr("Model URLs canonical across queued work"),
            CheckCode.CONCURRENCY: self.tr("Concurrency limits respected"),
            CheckCode.IDEMPOTENCY: self.tr("Retries carry idempotency keys"),
            CheckCode.BACKOFF: self.tr("429 responses answered with backoff"),
            CheckCode.POOLING: self.tr("Pooled connections"),
            CheckCode.RECORDING: self.tr("Metrics being recorded"),
            CheckCode.UNUSED_NODES: self.tr("Workflows free of unused nodes"),
        }[code]

    def check_text(self, item: ChecklistItem) -> tuple[str, str]:
        """Return what the evidence of a checklist item shows and its fix ("" when none).
        Model URL examples follow the message, one per line."""
        if item.code is CheckCode.CANONICAL_URLS and item.reason == "not_canonical":
            return self._model_url_text(item.values), self.tr(
                "Use one canonical URL per model: pick it in the model library, then queue again."
            )
        message, fix = self._check_texts().get((item.code, item.reason), (item.reason, ""))
        fields = {key: _field_text(value) for key, value in item.values.items()}
        fields["seconds"] = f"{MIN_BACKOFF_SECONDS:g}"
        return message.format_map(_Defaults(fields)), fix

    def _check_texts(self) -> dict[tuple[CheckCode, str], tuple[str, str]]:
        """Return the message and the fix of each checklist item, by its code and the reason
        metrics.checklist gives. Fields in braces come from the item's values."""
        lower_concurrency = self.tr("Lower the jobs at once in Settings → Queue.")
        report_bug = self.tr("Report this with the log file (Help → Open log folder).")
        return {
            (CheckCode.WEBHOOKS, "websocket"): (
                self.tr("A ComfyUI server reports status over its websocket, without polling."),
                "",
            ),
            (CheckCode.WEBHOOKS, "polling_chosen"): (
                self.tr(
                    "This connection polls for job status, which adds delay and spends requests."
                ),
                self.tr(
                    "Run a tunnel (cloudflared, ngrok…) to the webhook receiver and enter its "
                    "public address in Settings."
                ),
            ),
            (CheckCode.WEBHOOKS, "configured"): (
                self.tr("Webhooks are set up, and no job has finished since."),
                "",
            ),
            (CheckCode.WEBHOOKS, "no_jobs"): (self.tr("No finished jobs to judge by yet."), ""),
            (CheckCode.WEBHOOKS, "no_deliveries"): (
                self.tr(
                    "Webhooks are set up, but none of the {finished} finished jobs received "
                    "one, so their status came from polling."
                ),
                self.tr("Check in Settings that the tunnel forwards to the webhook receiver."),
            ),
            (CheckCode.WEBHOOKS, "in_use"): (
                self.tr(
                    "Finished jobs that reported their result by webhook: {with_webhook} of "
                    "{finished}."
                ),
                "",
            ),
            (CheckCode.CANONICAL_URLS, "no_model_urls"): (
                self.tr("No model URLs in these jobs."),
                "",
            ),
            (CheckCode.CANONICAL_URLS, "canonical"): (
                self.tr("Model URLs checked: {urls}, all canonical, one per model."),
                "",
            ),
            (CheckCode.CONCURRENCY, "over_limit"): (
                self.tr("Most jobs running at once: {peak}, above the limit of {limit}."),
                lower_concurrency,
            ),
            (CheckCode.CONCURRENCY, "rejected"): (
                self.tr(
                    "Submissions the service rejected: {rejected} over its running-job limit "
                    "and {queue_full} over its queue limit."
                ),
                lower_concurrency,
            ),
            (CheckCode.CONCURRENCY, "limit_unknown"): (
                self.tr("Most jobs running at once: {peak}. The limit of this view is not known."),
                "",
            ),
            (CheckCode.CONCURRENCY, "within_limit"): (
                self.tr("Most jobs running at once: {peak}, within the limit of {limit}."),
                "",
            ),
            (CheckCode.IDEMPOTENCY, "missing_keys"): (
                self.tr(
                    "Jobs without an idempotency key: {missing}. A retry of such a job could "
                    "create a second one."
                ),
                self.tr(
                    "Queue those jobs again: new jobs get a key before their first submission."
                ),
            ),
            (CheckCode.IDEMPOTENCY, "duplicate_runs"): (
                self.tr("Jobs the sandbox ran more than once: {duplicates}."),
                report_bug,
            ),
            (CheckCode.IDEMPOTENCY, "keys_stored"): (
                self.tr(
                    "Every job stores its key before the first submission and reuses it on "
                    "each retry. Jobs submitted more than once: {retried}."
                ),
                "",
            ),
            (CheckCode.BACKOFF, "no_backoff"): (
                self.tr(
                    "Jobs submitted again less than {seconds} s after a 429: {without_backoff}."
                ),
                self.tr(
                    "Lower the jobs at once in Settings → Queue, and report this with the log file."
                ),
            ),
            (CheckCode.BACKOFF, "no_429"): (self.tr("No 429 responses."), ""),
            (CheckCode.BACKOFF, "avoidable"): (
                self.tr(
                    "429 responses: {total}, each answered by waiting. Avoidable, because "
                    "earlier response headers had announced the limit: {avoidable}."
                ),
                self._lower_rate_fix(),
            ),
            (CheckCode.BACKOFF, "backed_off"): (
                self.tr("429 responses: {total}, each answered by waiting before the next try."),
                "",
            ),
            (CheckCode.POOLING, "pooled"): (
                self.tr(
                    "Requests reuse open connections: each connection keeps one pooled HTTP client."
                ),
                "",
            ),
            (CheckCode.POOLING, "not_pooled"): (
                self.tr("Requests open a new connection each time."),
                report_bug,
            ),
            (CheckCode.POOLING, "unknown"): (
                self.tr("Not known over every connection at once. Choose one connection."),
                "",
            ),
            (CheckCode.RECORDING, "recorded"): (
                self.tr(
                    "Finished jobs with every time the figures need: {complete} of {finished}."
                ),
                "",
            ),
            (CheckCode.RECORDING, "incomplete"): (
                self.tr(
                    "Finished jobs with every time the figures need: only {complete} of {finished}."
                ),
                self.tr(
                    "Jobs that finished while Cmfy Desk was closed lack some times; the "
                    "service's times fill in where it reports them."
                ),
            ),
            (CheckCode.RECORDING, "no_jobs"): (self.tr("No finished jobs yet."), ""),
            (CheckCode.UNUSED_NODES, "unused_nodes"): (
                self.tr(
                    "Graphs with nodes that lead to no output: {with_unused} of {checked} "
                    "({unused_nodes} nodes in all, in {workflows})."
                ),
                self.tr(
                    "Remove them with “Remove unused nodes” in the batch dialog's pre-flight check."
                ),
            ),
            (CheckCode.UNUSED_NODES, "none_unused"): (
                self.tr("Graphs checked: {checked}, none with unused nodes."),
                "",
            ),
            (CheckCode.UNUSED_NODES, "no_jobs"): (self.tr("No jobs to check."), ""),
        }

    def _model_url_text(self, values: Mapping[str, Any]) -> str:
        """Return the problems of the model URLs, one sentence per kind found, then the
        examples on lines of their own."""
        parts = [self.tr("Model URLs checked: {urls}.").format(urls=values.get("urls", 0))]
        if values.get("not_canonical"):
            parts.append(
                self.tr("Not in canonical form: {count}.").format(count=values["not_canonical"])
            )
        if values.get("conflicting"):
            parts.append(
                self.tr("Naming a file that another URL also names: {count}.").format(
                    count=values["conflicting"]
                )
            )
        if values.get("off_library"):
            parts.append(
                self.tr("Different from the model library: {count}.").format(
                    count=values["off_library"]
                )
            )
        text = " ".join(parts)
        examples = [str(example) for example in values.get("examples", [])]
        if examples:
            text += "\n" + self.tr("For example:") + "\n" + "\n".join(examples)
        return text


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
