"""The words of the metrics window: the sentences that ``cmfy-desk metrics`` prints, in the
user's language, the rows of its two tables with their tooltips, and its fix buttons.

The sentences are those of cmfy_desk.metrics.wording, translated with Qt's translators.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from cmfy_desk.metrics import FixAction, Metrics
from cmfy_desk.metrics.wording import MetricsWording

# QCoreApplication.translate looks up the translators installed when each sentence is worded.
WORDING = MetricsWording(QCoreApplication.translate)


def timing_rows(metrics: Metrics) -> tuple[list[list[str]], list[str]]:
    """Return the rows of the timing table (duration, jobs, mean, p50, p95, max) and the
    tooltip of each."""
    return WORDING.timing_rows(metrics), WORDING.timing_notes()


def figure_rows(metrics: Metrics) -> tuple[list[list[str]], list[str]]:
    """Return the rows of the figures table (figure, value) and the tooltip of each."""
    figures = WORDING.figure_rows(metrics)
    return [[row.name, row.value] for row in figures], [row.note for row in figures]


def fix_button_text(action: FixAction) -> str:
    return {
        FixAction.MODEL_LIBRARY: QCoreApplication.translate("MetricsDialog", "Check model URLs…"),
        FixAction.QUEUE_SETTINGS: QCoreApplication.translate("MetricsDialog", "Queue settings…"),
        FixAction.CONNECTION_SETTINGS: QCoreApplication.translate(
            "MetricsDialog", "Connection settings…"
        ),
    }[action]
