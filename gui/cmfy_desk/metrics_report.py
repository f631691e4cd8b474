"""The metrics window's figures, warnings and production checklist as text lines and as a JSON
document, for ``cmfy-desk metrics``.

The sentences come from cmfy_desk.metrics.wording, the same as the window's, in English,
because the command line does not load Qt and so has no translations. Fixes that name a menu
name the window's menu, where the setting lives.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from cmfy_desk.metrics import ChecklistItem, CheckState, Distribution, Metrics
from cmfy_desk.metrics.wording import NO_VALUE, Figure, FigureRow, MetricsWording

# Names of the checklist states on the command line. The window shows icons instead.
STATE_NAMES = {CheckState.OK: "green", CheckState.AMBER: "amber", CheckState.UNKNOWN: "unknown"}
# Figures whose note (where the figure comes from) follows their line.
_EXPLAINED = (Figure.THROUGHPUT, Figure.CACHE_HIT_RATE, Figure.RATE_LIMITED)
INDENT = "  "

WORDING = MetricsWording()


def local_time(seconds: float | None) -> str:
    """Return Unix seconds as local ``YYYY-MM-DD HH:MM:SS``, or a dash for None."""
    if seconds is None:
        return NO_VALUE
    return datetime.fromtimestamp(seconds).strftime("%Y-%m-%d %H:%M:%S")


# The report --------------------------------------------------------------------------------


def report_lines(title: str, metrics: Metrics, checklist: Sequence[ChecklistItem]) -> list[str]:
    """Return the figures, the warnings with their fixes and the checklist as text lines."""
    figures = WORDING.figure_rows(metrics)
    jobs = next(row for row in figures if row.figure is Figure.JOBS)
    lines = [title, f"{jobs.name}: {jobs.value}" + _in_brackets(jobs.note)]
    if metrics.window_start is not None:
        span = None if metrics.window_end is None else metrics.window_end - metrics.window_start
        lines.append(
            f"Measured from {local_time(metrics.window_start)} to "
            f"{local_time(metrics.window_end)} ({WORDING.format_duration(span)})"
        )
    lines += ["", *_timing_table(metrics), ""]
    lines += _figure_lines(figures)
    lines += ["", "Warnings:"]
    for advice in metrics.advice:
        message, fix = WORDING.advice_text(advice)
        lines.append(f"  warning: {message}")
        lines.append(f"    fix: {fix}")
    if not metrics.advice:
        lines.append(INDENT + WORDING.no_warnings_text())
    lines += ["", "Production checklist:"]
    width = max(len(name) for name in STATE_NAMES.values())
    for item in checklist:
        message, fix = WORDING.check_text(item)
        state = STATE_NAMES[item.state].ljust(width)
        first, *more = message.split("\n")
        lines.append(f"  {state}  {WORDING.check_title(item.code)}: {first}")
        # Model URL examples, one per line, below the message.
        lines += [f"  {' ' * width}    {line}" for line in more]
        if item.state is CheckState.AMBER and fix:
            lines.append(f"  {' ' * width}  fix: {fix}")
    return lines


def _timing_table(metrics: Metrics) -> list[str]:
    rows = [WORDING.timing_headers(), *WORDING.timing_rows(metrics)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return [
        "  ".join(
            cell.ljust(widths[column]) if column == 0 else cell.rjust(widths[column])
            for column, cell in enumerate(row)
        ).rstrip()
        for row in rows
    ]


def _figure_lines(figures: Sequence[FigureRow]) -> list[str]:
    """Return the figures, some with where they come from on the next line, and the failures
    under a heading of their own. The job count is in the report's second line."""
    lines: list[str] = []
    failures: list[str] = []
    for row in figures:
        if row.figure is Figure.JOBS:
            continue
        if row.figure is Figure.FAILURES:
            failures.append(f"{INDENT}{row.name}: {row.value}")
            continue
        lines.append(f"{row.name}: {row.value}")
        if row.figure in _EXPLAINED:
            lines.append(INDENT + row.note)
    lines.append("Failures by cause:" + ("" if failures else " none"))
    return lines + failures


def _in_brackets(text: str) -> str:
    return f" ({text})" if text else ""


def report_document(metrics: Metrics, checklist: Sequence[ChecklistItem]) -> dict[str, Any]:
    """Return the figures, warnings and checklist as one JSON-ready object. Durations are in
    seconds, times in Unix seconds, and codes are those of cmfy_desk.metrics. The throughput
    is null over a window shorter than MIN_THROUGHPUT_WINDOW_SECONDS."""
    scope = metrics.scope
    cache, limits = metrics.cache, metrics.rate_limits
    warnings = []
    for advice in metrics.advice:
        message, fix = WORDING.advice_text(advice)
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
        message, fix = WORDING.check_text(item)
        items.append(
            {
                "code": item.code.value,
                "title": WORDING.check_title(item.code),
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
            "miss_margin_seconds": cache.margin_seconds,
            "explanation": WORDING.cache_source_text(cache),
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
