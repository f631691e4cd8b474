"""The metrics window: figures, charts, warnings and the production checklist of one connection,
one batch or everything, with CSV export.

The charts are drawn with QPainter, because QtCharts is in PySide6-Addons rather than
PySide6-Essentials and would add about 160 MB to the installer for two small charts.

The window opens with ``show()``, never ``exec()``, because a nested event loop would stall the
asyncio loop that qasync runs on Qt's. It reads the store on the UI thread. After job changes
it reads it at most once per REFRESH_DELAY_MS.
"""

from __future__ import annotations

import logging
import math
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QDateTime,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPointF,
    QRectF,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPainterPath, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractScrollArea,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStyle,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from cmfy_desk.app import Engine, EngineError
from cmfy_desk.metrics import (
    MIN_BACKOFF_SECONDS,
    Advice,
    AdviceCode,
    CacheSource,
    CheckCode,
    ChecklistItem,
    CheckState,
    ConnectionFacts,
    Distribution,
    FixAction,
    Metrics,
    MetricsScope,
    RateLimitSource,
    compute_metrics,
    export_job_history_csv,
    export_metrics_csv,
    production_checklist,
)
from cmfy_desk.scheduler.failures import FailureCause
from cmfy_desk.settings import Settings
from cmfy_desk.store import Job, JobStatus, Store, StoreError
from cmfy_desk.store.model_library import ModelLibrary

if TYPE_CHECKING:
    from cmfy_desk.ui.main_window import MainWindow

log = logging.getLogger(__name__)

_T = TypeVar("_T")

# Job changes arrive up to hundreds per second; the window reads the store at most this often.
REFRESH_DELAY_MS = 1000
# Choices of the time window, in seconds before now; 0 is all time.
WINDOWS_SECONDS = (0, 3600, 24 * 3600)
QUEUE_COLOR = QColor("#1f77b4")
RUN_COLOR = QColor("#ff7f0e")
BAR_COLOR = QColor("#2ca02c")
AMBER = QColor("#d98c00")

FactsProvider = Callable[[str], ConnectionFacts | None]


def engine_facts_provider(
    engine: Callable[[], Engine | None], settings: Settings | None = None
) -> FactsProvider:
    """Return a function that gives the facts of a connection the engine serves, or None."""

    def facts_for(label: str) -> ConnectionFacts | None:
        current = engine()
        if current is None:
            return None
        try:
            return current.metrics_facts(label)
        except EngineError:
            return None

    return facts_for


# Item model --------------------------------------------------------------------------------------


class TextTableModel(QAbstractTableModel):
    """A read-only table of text cells with optional tooltips, replaced whole by set_rows."""

    def __init__(self, headers: Sequence[str], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._headers = list(headers)
        self._rows: list[list[str]] = []
        self._tooltips: list[str] = []

    def set_rows(self, rows: Sequence[Sequence[str]], tooltips: Sequence[str] = ()) -> None:
        """Show ``rows`` (one string per column) with an optional tooltip per row. Rows of the
        same count are updated in place, so the view keeps its selection and scroll position."""
        new_rows = [list(row) for row in rows]
        for row in new_rows:
            if len(row) != len(self._headers):
                raise ValueError(
                    f"A row has {len(row)} cells for {len(self._headers)} columns: {row!r}"
                )
        new_tips = list(tooltips) + [""] * (len(new_rows) - len(tooltips))
        if len(new_rows) == len(self._rows):
            self._rows, self._tooltips = new_rows, new_tips
            if new_rows:
                last = self.index(len(new_rows) - 1, len(self._headers) - 1)
                self.dataChanged.emit(self.index(0, 0), last)
            return
        self.beginResetModel()
        self._rows, self._tooltips = new_rows, new_tips
        self.endResetModel()

    def rows(self) -> list[list[str]]:
        return [list(row) for row in self._rows]

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._headers)

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(self._headers)
        ):
            return self._headers[section]
        return None

    def data(
        self,
        index: QModelIndex | QPersistentModelIndex,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        if not 0 <= index.column() < len(self._headers):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._rows[index.row()][index.column()]
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltips[index.row()] or None
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() > 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


# Charts ------------------------------------------------------------------------------------------


class _Chart(QWidget):
    """Axes, grid and the empty-state text shared by the two charts."""

    MARGIN_LEFT = 56
    MARGIN_RIGHT = 12
    MARGIN_TOP = 26
    MARGIN_BOTTOM = 30

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.empty_text = ""
        self.setMinimumSize(320, 200)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:
        return QSize(460, 240)

    def plot_area(self) -> QRectF:
        return QRectF(
            self.MARGIN_LEFT,
            self.MARGIN_TOP,
            max(1.0, self.width() - self.MARGIN_LEFT - self.MARGIN_RIGHT),
            max(1.0, self.height() - self.MARGIN_TOP - self.MARGIN_BOTTOM),
        )

    def paint_frame(self, painter: QPainter, y_max: float, y_label: Callable[[float], str]) -> None:
        """Draw the title, the y grid from 0 to ``y_max`` and the axes."""
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.WindowText)
        grid = QColor(text)
        grid.setAlpha(40)
        area = self.plot_area()
        metrics = QFontMetrics(self.font())
        painter.setPen(text)
        painter.drawText(
            QRectF(0, 4, self.width(), self.MARGIN_TOP - 6),
            int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop),
            self.title,
        )
        for step in range(5):
            value = y_max * step / 4
            y = area.bottom() - area.height() * step / 4
            painter.setPen(QPen(grid, 1))
            painter.drawLine(QPointF(area.left(), y), QPointF(area.right(), y))
            painter.setPen(text)
            label = y_label(value)
            painter.drawText(
                QRectF(0, y - metrics.height() / 2, self.MARGIN_LEFT - 6, metrics.height()),
                int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                label,
            )
        painter.setPen(QPen(text, 1))
        painter.drawLine(area.bottomLeft(), area.bottomRight())
        painter.drawLine(area.bottomLeft(), area.topLeft())

    def paint_empty(self, painter: QPainter) -> None:
        painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
        painter.drawText(
            self.plot_area(), int(Qt.AlignmentFlag.AlignCenter), self.empty_text or self.title
        )


class LineChart(_Chart):
    """Lines of durations over time. Each series is (name, colour, values), with one value (or
    None for a gap) per time in ``times`` (Unix seconds)."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.times: list[float] = []
        self.series: list[tuple[str, QColor, list[float | None]]] = []
        self.format_value: Callable[[float], str] = lambda value: f"{value:g}"

    def set_data(
        self, times: Sequence[float], series: Sequence[tuple[str, QColor, Sequence[float | None]]]
    ) -> None:
        for name, _color, values in series:
            if len(values) != len(times):
                raise ValueError(
                    f"The series {name!r} has {len(values)} values for {len(times)} times."
                )
        self.times = list(times)
        self.series = [(name, color, list(values)) for name, color, values in series]
        self.update()

    def has_data(self) -> bool:
        return any(value is not None for _name, _color, values in self.series for value in values)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if not self.has_data():
            self.paint_empty(painter)
            return
        values = [v for _n, _c, series in self.series for v in series if v is not None]
        y_max = nice_ceiling(max(values))
        self.paint_frame(painter, y_max, self.format_value)
        area = self.plot_area()
        first, last = self.times[0], self.times[-1]
        span = last - first

        def point(index: int, value: float) -> QPointF:
            share = (self.times[index] - first) / span if span > 0 else 0.5
            return QPointF(
                area.left() + area.width() * share,
                area.bottom() - area.height() * value / y_max,
            )

        for _name, color, series in self.series:
            painter.setPen(QPen(color, 2))
            path = QPainterPath()
            drawing = False
            for index, value in enumerate(series):
                if value is None:
                    drawing = False
                    continue
                if drawing:
                    path.lineTo(point(index, value))
                else:
                    path.moveTo(point(index, value))
                    drawing = True
            painter.drawPath(path)
            painter.setBrush(color)
            for index, value in enumerate(series):
                if value is not None:
                    painter.drawEllipse(point(index, value), 2.5, 2.5)
            painter.setBrush(Qt.BrushStyle.NoBrush)
        self._paint_time_labels(painter, area, first, last)
        self._paint_legend(painter, area)

    def _paint_time_labels(
        self, painter: QPainter, area: QRectF, first: float, last: float
    ) -> None:
        painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        same_day = time.localtime(first)[:3] == time.localtime(last)[:3]
        pattern = "HH:mm" if same_day else "d MMM HH:mm"
        top = area.bottom() + 4
        labels = [(first, Qt.AlignmentFlag.AlignLeft), (last, Qt.AlignmentFlag.AlignRight)]
        if last == first:
            labels = [(first, Qt.AlignmentFlag.AlignHCenter)]
        for moment, alignment in labels:
            text = QDateTime.fromSecsSinceEpoch(int(moment)).toString(pattern)
            painter.drawText(
                QRectF(area.left(), top, area.width(), self.MARGIN_BOTTOM - 6),
                int(alignment | Qt.AlignmentFlag.AlignTop),
                text,
            )

    def _paint_legend(self, painter: QPainter, area: QRectF) -> None:
        metrics = QFontMetrics(self.font())
        x = area.right()
        for name, color, _values in reversed(self.series):
            width = metrics.horizontalAdvance(name)
            x -= width
            painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
            painter.drawText(QPointF(x, area.top() + metrics.ascent() + 2), name)
            x -= 16
            painter.setPen(QPen(color, 3))
            middle = area.top() + metrics.height() / 2 + 2
            painter.drawLine(QPointF(x, middle), QPointF(x + 12, middle))
            x -= 12


class HistogramChart(_Chart):
    """Bars of counts over value ranges; ``edges`` has one entry more than ``counts``."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.edges: list[float] = []
        self.counts: list[int] = []
        self.format_edge: Callable[[float], str] = lambda value: f"{value:g}"

    def set_data(self, edges: Sequence[float], counts: Sequence[int]) -> None:
        if counts and len(edges) != len(counts) + 1:
            raise ValueError(f"{len(edges)} bin edges for {len(counts)} bins; expected one more.")
        self.edges = list(edges)
        self.counts = list(counts)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        if not any(self.counts):
            self.paint_empty(painter)
            return
        # Four grid steps of whole counts.
        y_max = 4.0 * max(1, math.ceil(max(self.counts) / 4))
        self.paint_frame(painter, y_max, lambda value: f"{value:g}")
        area = self.plot_area()
        width = area.width() / len(self.counts)
        for index, count in enumerate(self.counts):
            height = area.height() * count / y_max
            bar = QRectF(area.left() + index * width + 1, area.bottom() - height, width - 2, height)
            painter.fillRect(bar, BAR_COLOR)
        painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        metrics = QFontMetrics(self.font())
        # Label as many edges as fit without overlapping.
        label_width = max(metrics.horizontalAdvance(self.format_edge(e)) for e in self.edges) + 8
        every = max(1, math.ceil(label_width / max(width, 1.0)))
        for index in range(0, len(self.edges), every):
            # Centred under its edge, moved inside the widget where it would be cut off.
            x = area.left() + index * width - label_width / 2
            x = min(max(0.0, x), self.width() - label_width)
            painter.drawText(
                QRectF(x, area.bottom() + 4, label_width, self.MARGIN_BOTTOM - 6),
                int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop),
                self.format_edge(self.edges[index]),
            )


def nice_ceiling(value: float) -> float:
    """Return the smallest 1, 2, 2.5 or 5 times a power of ten at or above ``value`` (1 for
    values of 0 or less), so axis labels are round."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if step * power >= value * (1 - 1e-9):
            return step * power
    return 10.0 * power


# Wording -----------------------------------------------------------------------------------------


def _tr(text: str) -> str:
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


# The window --------------------------------------------------------------------------------------


class _MessageRow(QFrame):
    """One warning or checklist item: a state icon, the text, the fix and its button."""

    def __init__(
        self,
        icon: QStyle.StandardPixmap,
        title: str,
        message: str,
        fix: str,
        button: QPushButton | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = title
        self.message = message
        self.fix = fix
        self.button = button

        icon_label = QLabel()
        icon_label.setPixmap(self.style().standardIcon(icon).pixmap(20, 20))
        icon_label.setAlignment(Qt.AlignmentFlag.AlignTop)

        text = QVBoxLayout()
        text.setSpacing(2)
        if title:
            heading = QLabel(title)
            font = heading.font()
            font.setBold(True)
            heading.setFont(font)
            text.addWidget(heading)
        body = QLabel(message)
        body.setWordWrap(True)
        body.setTextFormat(Qt.TextFormat.PlainText)
        body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        text.addWidget(body)
        if fix:
            fix_label = QLabel(fix)
            fix_label.setWordWrap(True)
            fix_label.setTextFormat(Qt.TextFormat.PlainText)
            fix_label.setStyleSheet(f"color: {AMBER.name()};")
            text.addWidget(fix_label)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addWidget(icon_label, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(text, 1)
        if button is not None:
            layout.addWidget(button, 0, Qt.AlignmentFlag.AlignTop)


class MetricsDialog(QDialog):
    """A non-modal window over the engine's store: figures, charts, warnings, the production
    checklist and CSV export for the chosen connection, batch or everything.

    ``engine()`` returns the engine in use (None while there is none). ``facts_for(label)``
    returns what the store does not record about a connection. ``actions`` maps each fix to
    the function that opens it; fixes without one get no button. Connect the window's job
    changes to ``job_changed``.

    The store is read on a worker thread with a connection of its own, so a large database
    does not stall the window. ``refreshed()`` is emitted after each read is shown, and
    ``exported(ok, message)`` after each CSV export.
    """

    refreshed = Signal()
    exported = Signal(bool, str)
    # Carries a finished worker's result to the UI thread: (show function, future).
    _workDone = Signal(object, object)

    def __init__(
        self,
        engine: Callable[[], Engine | None],
        facts_for: FactsProvider | None = None,
        actions: Mapping[FixAction, Callable[[], None]] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Metrics"))
        self.setModal(False)
        self.resize(1100, 820)
        self._engine = engine
        self._facts_for = facts_for or engine_facts_provider(engine)
        self._actions = dict(actions or {})
        self._scopes: list[tuple[str | None, int | None]] = []
        self.file_dialog: QFileDialog | None = None
        self.metrics: Metrics | None = None
        self.checklist: tuple[ChecklistItem, ...] = ()
        self.warning_rows: list[_MessageRow] = []
        self.checklist_rows: list[_MessageRow] = []

        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(REFRESH_DELAY_MS)
        self._refresh_timer.timeout.connect(self.refresh)
        self._stale = False
        self._executor: ThreadPoolExecutor | None = None
        # Tasks submitted to the worker thread and not yet shown; a read is at most one of them.
        self._tasks = 0
        self._reading = False
        self._pending_refresh = False
        self._workDone.connect(self._work_done)

        self._build()
        self.refresh()

    # Building -------------------------------------------------------------------------------

    def _build(self) -> None:
        self.scope_combo = QComboBox()
        self.scope_combo.setMinimumContentsLength(30)
        self.scope_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.scope_combo.currentIndexChanged.connect(lambda _index: self.refresh())
        self.window_combo = QComboBox()
        for seconds, label in zip(
            WINDOWS_SECONDS,
            (self.tr("All time"), self.tr("Last hour"), self.tr("Last 24 hours")),
            strict=True,
        ):
            self.window_combo.addItem(label, seconds)
        self.window_combo.currentIndexChanged.connect(lambda _index: self.refresh())
        self.refresh_button = QPushButton(self.tr("Refresh"))
        self.refresh_button.clicked.connect(self.refresh)
        selector = QHBoxLayout()
        selector.addWidget(QLabel(self.tr("Show:")))
        selector.addWidget(self.scope_combo, 1)
        selector.addWidget(QLabel(self.tr("Time:")))
        selector.addWidget(self.window_combo)
        selector.addWidget(self.refresh_button)

        self.timing_model = TextTableModel(
            [self.tr("Duration"), self.tr("Jobs"), self.tr("Mean"), "p50", "p95", self.tr("Max")],
            self,
        )
        self.figures_model = TextTableModel([self.tr("Figure"), self.tr("Value")], self)
        self.timing_table = self._table(self.timing_model)
        self.figures_table = self._table(self.figures_model)
        tables = QHBoxLayout()
        tables.addWidget(self.timing_table, 1, Qt.AlignmentFlag.AlignTop)
        tables.addWidget(self.figures_table, 1, Qt.AlignmentFlag.AlignTop)

        self.line_chart = LineChart(self.tr("Queue and run time per minute (mean)"))
        self.line_chart.format_value = format_axis_seconds
        self.histogram = HistogramChart(self.tr("Total time of finished jobs"))
        self.histogram.format_edge = format_axis_seconds
        charts = QHBoxLayout()
        charts.addWidget(self.line_chart)
        charts.addWidget(self.histogram)

        self.warnings_box = QGroupBox(self.tr("Warnings"))
        self.warnings_layout = QVBoxLayout(self.warnings_box)
        overview = QWidget()
        overview_layout = QVBoxLayout(overview)
        overview_layout.addLayout(tables)
        overview_layout.addLayout(charts, 1)
        overview_layout.addWidget(self.warnings_box)

        checklist_page = QWidget()
        self.checklist_layout = QVBoxLayout(checklist_page)
        checklist_scroll = QScrollArea()
        checklist_scroll.setWidgetResizable(True)
        checklist_scroll.setWidget(checklist_page)
        checklist_scroll.setFrameShape(QFrame.Shape.NoFrame)

        self.tabs = QTabWidget()
        self.tabs.addTab(overview, self.tr("Overview"))
        self.tabs.addTab(checklist_scroll, self.tr("Production checklist"))

        self.export_metrics_button = QPushButton(self.tr("Export metrics CSV…"))
        self.export_metrics_button.setToolTip(
            self.tr("One row per connection and per batch, over the chosen time")
        )
        self.export_metrics_button.clicked.connect(self.choose_metrics_file)
        self.export_history_button = QPushButton(self.tr("Export job history CSV…"))
        self.export_history_button.setToolTip(
            self.tr("One row per job shown, with every time in ISO 8601 (UTC)")
        )
        self.export_history_button.clicked.connect(self.choose_history_file)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        bottom = QHBoxLayout()
        bottom.addWidget(self.export_metrics_button)
        bottom.addWidget(self.export_history_button)
        bottom.addWidget(self.status_label, 1)
        bottom.addWidget(close)

        layout = QVBoxLayout(self)
        layout.addLayout(selector)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(bottom)

    def _table(self, model: TextTableModel) -> QTableView:
        table = QTableView()
        table.setModel(model)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.verticalHeader().hide()
        table.setWordWrap(False)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        # As tall as its rows, so the charts get the rest of the height.
        table.setSizeAdjustPolicy(QAbstractScrollArea.SizeAdjustPolicy.AdjustToContents)
        table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        table.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Maximum)
        return table

    # Scope ----------------------------------------------------------------------------------

    def current_scope(self) -> MetricsScope:
        index = self.scope_combo.currentIndex()
        connection, batch_id = (
            self._scopes[index] if 0 <= index < len(self._scopes) else (None, None)
        )
        seconds = int(self.window_combo.currentData() or 0)
        since = time.time() - seconds if seconds else None
        return MetricsScope(connection=connection, batch_id=batch_id, since=since)

    def select_scope(self, connection: str | None, batch_id: int | None = None) -> None:
        """Show the figures of one connection, one batch (give its connection too) or, with
        both None, of everything."""
        self._update_scopes()
        try:
            index = self._scopes.index((connection, batch_id))
        except ValueError as exc:
            raise ValueError(
                f"No view for connection {connection!r} and batch {batch_id!r} in the metrics."
            ) from exc
        self.scope_combo.setCurrentIndex(index)

    def _update_scopes(self) -> None:
        """Offer every connection with jobs (the default first), then every batch, newest
        first; keep the current choice."""
        engine = self._engine()
        entries: list[tuple[str, tuple[str | None, int | None]]] = [
            (self.tr("All connections"), (None, None))
        ]
        if engine is not None:
            store = engine.store
            default = engine.connection.label
            connections = {
                str(row[0])
                for row in store.connection.execute("SELECT DISTINCT connection FROM jobs")
            }
            for name in [default, *sorted(connections - {default})]:
                entries.append((self.tr("Connection: {name}").format(name=name), (name, None)))
            for batch in reversed(store.batches()):
                entries.append(
                    (
                        self.tr("Batch: {name} ({connection})").format(
                            name=batch.name, connection=batch.connection
                        ),
                        (batch.connection, batch.id),
                    )
                )
        scopes = [scope for _label, scope in entries]
        if scopes == self._scopes:
            return

        previous = self._scopes[self.scope_combo.currentIndex()] if self._scopes else None
        if previous is None and engine is not None:
            previous = (engine.connection.label, None)

        self.scope_combo.blockSignals(True)
        self.scope_combo.clear()
        for label, _scope in entries:
            self.scope_combo.addItem(label)
        self._scopes = scopes
        self.scope_combo.setCurrentIndex(scopes.index(previous) if previous in scopes else 0)
        self.scope_combo.blockSignals(False)

    # Refreshing -----------------------------------------------------------------------------

    def job_changed(self, job: Job | None = None) -> None:
        """Read the store again within REFRESH_DELAY_MS; more changes meanwhile are read by
        the same refresh."""
        if not self._refresh_timer.isActive():
            self._refresh_timer.start()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self._stale:
            self.refresh()

    @property
    def busy(self) -> bool:
        """Whether a read of the store or an export is under way or waiting."""
        return self._tasks > 0 or self._pending_refresh

    def refresh(self) -> None:
        """Read the figures and the checklist of the chosen view on a worker thread, then show
        them. A refresh requested meanwhile runs when the current one ends."""
        self._refresh_timer.stop()
        if not self.isVisible() and self.metrics is not None:
            # Read when shown again, not for a hidden window.
            self._stale = True
            return
        if self._reading:
            self._pending_refresh = True
            return

        self._stale = False
        self._pending_refresh = False
        engine = self._engine()
        try:
            if engine is None:
                raise EngineError("The engine is not started.")
            store = engine.store
            self._update_scopes()
        except EngineError:
            self._show_nothing(
                self.tr(
                    "Not connected: the figures come from the database, which opens with the "
                    "connection."
                )
            )
            return
        except sqlite3.Error as exc:
            self._read_failed(exc)
            return
        scope = self.current_scope()
        facts = self._facts_for(scope.connection) if scope.connection is not None else None
        self._reading = True
        self._run(
            partial(read_metrics, store.path, scope, facts), self._show_read, self._read_failed
        )

    def _show_read(self, result: tuple[Metrics, tuple[ChecklistItem, ...]]) -> None:
        self._reading = False
        metrics, checklist = result
        self.metrics = metrics
        self.checklist = checklist
        self._show_figures(metrics)
        self._show_charts(metrics)
        self._show_warnings(metrics.advice)
        self._show_checklist(checklist)
        self.refreshed.emit()

    def _read_failed(self, error: Exception) -> None:
        self._reading = False
        log.warning("Reading the metrics failed: %s", error)
        self._show_nothing(
            self.tr("Reading the database failed: {error}. Details are in the log file.").format(
                error=error
            )
        )

    # Worker thread --------------------------------------------------------------------------

    def _run(
        self,
        work: Callable[[], Any],
        show: Callable[[Any], None],
        fail: Callable[[Exception], None],
    ) -> None:
        """Run ``work`` on the worker thread, then ``show`` its result on the UI thread, or
        ``fail`` with its sqlite3, store or file error."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="metrics")
        self._tasks += 1
        future = self._executor.submit(work)
        future.add_done_callback(lambda finished: self._post((show, fail), finished))

    def _post(
        self,
        handlers: tuple[Callable[[Any], None], Callable[[Exception], None]],
        future: Future[Any],
    ) -> None:
        # Called on the worker thread: the queued signal carries the result to the UI thread.
        try:
            self._workDone.emit(handlers, future)
        except RuntimeError:
            log.debug("The metrics window closed before its worker finished")

    def _work_done(
        self,
        handlers: tuple[Callable[[Any], None], Callable[[Exception], None]],
        future: Future[Any],
    ) -> None:
        self._tasks -= 1
        show, fail = handlers
        if future.cancelled():
            return
        try:
            result = future.result()
        except (sqlite3.Error, StoreError, OSError) as exc:
            fail(exc)
        else:
            show(result)
        if self._pending_refresh and not self._reading:
            self.refresh()

    def done(self, result: int) -> None:
        """Close the window; a read under way finishes on its thread and is dropped."""
        self._refresh_timer.stop()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
        self._pending_refresh = False
        super().done(result)

    def _show_nothing(self, message: str) -> None:
        self.metrics = None
        self.checklist = ()
        self.timing_model.set_rows([])
        self.figures_model.set_rows([])
        self.line_chart.set_data([], [])
        self.histogram.set_data([], [])
        self._show_warnings(())
        self._show_checklist(())
        self.status_label.setText(message)
        self.refreshed.emit()

    def _show_figures(self, metrics: Metrics) -> None:
        def timing_row(name: str, distribution: Distribution) -> list[str]:
            return [
                name,
                str(distribution.count),
                format_duration(distribution.mean),
                format_duration(distribution.p50),
                format_duration(distribution.p95),
                format_duration(distribution.maximum),
            ]

        self.timing_model.set_rows(
            [
                timing_row(self.tr("Queue time"), metrics.queue),
                timing_row(self.tr("Execution time"), metrics.execution),
                timing_row(self.tr("Total time"), metrics.total),
            ],
            [
                self.tr("From submission to start, by the service's clock where it reports one"),
                self.tr("The service's GPU time where reported, else from start to completion"),
                self.tr("From submission until the outputs are saved"),
            ],
        )

        rows: list[list[str]] = []
        tips: list[str] = []
        rows.append([self.tr("Jobs"), str(metrics.jobs)])
        tips.append(status_text(metrics.status_counts))
        if metrics.throughput_per_minute is not None:
            throughput = self.tr("{count} jobs/min").format(
                count=f"{metrics.throughput_per_minute:.2f}"
            )
        else:
            throughput = "—"
        rows.append([self.tr("Throughput"), throughput])
        window = format_duration(
            None
            if metrics.window_start is None or metrics.window_end is None
            else metrics.window_end - metrics.window_start
        )
        tips.append(self.tr("Succeeded jobs per minute over {window}").format(window=window))
        cache = metrics.cache
        if cache.lookups:
            cache_value = self.tr("{rate} ({hits} hits, {misses} misses)").format(
                rate=format_percent(cache.hit_rate), hits=cache.hits, misses=cache.misses
            )
        else:
            cache_value = "—"
        rows.append([self.tr("Cache hit rate"), cache_value])
        tips.append(cache_source_text(metrics))
        limits = metrics.rate_limits
        by_code = ", ".join(f"{code} {count}" for code, count in sorted(limits.by_code.items()))
        rows.append(
            [
                self.tr("429 responses"),
                f"{limits.total} ({by_code})" if by_code else str(limits.total),
            ]
        )
        tips.append(rate_limit_source_text(limits.source))
        if limits.requests is not None:
            rows.append([self.tr("Requests"), str(limits.requests)])
            tips.append(self.tr("Requests sent to the server since it started"))
        for cause, count in sorted(metrics.failures.items()):
            rows.append([cause_name(cause), str(count)])
            tips.append(self.tr("Jobs that ended without success, by cause"))
        self.figures_model.set_rows(rows, tips)
        self.status_label.setText(
            status_text(metrics.status_counts) or self.tr("No jobs in this view.")
        )

    def _show_charts(self, metrics: Metrics) -> None:
        times = [bucket.start + metrics.bucket_seconds / 2 for bucket in metrics.series]
        self.line_chart.set_data(
            times,
            [
                (self.tr("queue"), QUEUE_COLOR, [b.queue_mean for b in metrics.series]),
                (self.tr("run"), RUN_COLOR, [b.execution_mean for b in metrics.series]),
            ],
        )
        if metrics.bucket_seconds != 60:
            self.line_chart.title = self.tr("Queue and run time per {width} (mean)").format(
                width=format_duration(metrics.bucket_seconds)
            )
        else:
            self.line_chart.title = self.tr("Queue and run time per minute (mean)")
        self.line_chart.empty_text = self.tr("No finished jobs in this view")
        histogram = metrics.total_histogram
        self.histogram.set_data(histogram.edges, histogram.counts)
        self.histogram.empty_text = self.tr("No finished jobs in this view")

    def _fix_button(self, action: FixAction | None) -> QPushButton | None:
        if action is None or action not in self._actions:
            return None
        button = QPushButton(fix_button_text(action))
        button.setProperty("fixAction", action.value)
        button.clicked.connect(lambda: self.open_fix(action))
        return button

    def open_fix(self, action: FixAction) -> None:
        """Open what fixes a warning or checklist item; raises KeyError for a fix that this
        window was given no function for."""
        self._actions[action]()

    def _show_warnings(self, advice: Sequence[Advice]) -> None:
        self._clear(self.warnings_layout, self.warning_rows)
        for item in advice:
            message, fix = advice_text(item)
            row = _MessageRow(
                QStyle.StandardPixmap.SP_MessageBoxWarning,
                "",
                message,
                fix,
                self._fix_button(item.action),
            )
            self.warning_rows.append(row)
            self.warnings_layout.addWidget(row)
        if not advice:
            row = _MessageRow(
                QStyle.StandardPixmap.SP_DialogApplyButton,
                "",
                self.tr("No warnings: queue time, cache hits and 429 responses are within range."),
                "",
                None,
            )
            self.warning_rows.append(row)
            self.warnings_layout.addWidget(row)

    def _show_checklist(self, items: Sequence[ChecklistItem]) -> None:
        self._clear(self.checklist_layout, self.checklist_rows)
        icons = {
            CheckState.OK: QStyle.StandardPixmap.SP_DialogApplyButton,
            CheckState.AMBER: QStyle.StandardPixmap.SP_MessageBoxWarning,
            CheckState.UNKNOWN: QStyle.StandardPixmap.SP_MessageBoxQuestion,
        }
        for item in items:
            message, fix = check_text(item)
            row = _MessageRow(
                icons[item.state],
                check_title(item.code),
                message,
                fix if item.state is CheckState.AMBER else "",
                self._fix_button(item.action) if item.state is CheckState.AMBER else None,
            )
            row.setProperty("state", item.state.value)
            self.checklist_rows.append(row)
            self.checklist_layout.addWidget(row)
        self.checklist_layout.addStretch(1)

    @staticmethod
    def _clear(layout: QVBoxLayout, rows: list[_MessageRow]) -> None:
        while layout.count():
            taken = layout.takeAt(0)
            widget = taken.widget() if taken is not None else None
            if widget is not None:
                widget.deleteLater()
        rows.clear()

    # Export ---------------------------------------------------------------------------------

    def choose_metrics_file(self) -> None:
        self._choose_file(
            self.tr("Export metrics"),
            f"cmfy-desk-metrics-{time.strftime('%Y%m%d-%H%M')}.csv",
            self.export_metrics_to,
        )

    def choose_history_file(self) -> None:
        self._choose_file(
            self.tr("Export job history"),
            f"cmfy-desk-jobs-{time.strftime('%Y%m%d-%H%M')}.csv",
            self.export_history_to,
        )

    def _choose_file(self, title: str, name: str, export: Callable[[Path], None]) -> None:
        dialog = QFileDialog(self, title, str(Path.home() / name))
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilters([self.tr("CSV files (*.csv)"), self.tr("All files (*)")])
        dialog.setDefaultSuffix("csv")
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
        dialog.fileSelected.connect(lambda path: export(Path(path)))
        self.file_dialog = dialog
        dialog.open()

    def export_metrics_to(self, path: Path) -> None:
        """Write the figures of every connection and batch, over the chosen time, to ``path``
        on the worker thread. ``exported(ok, message)`` and the status line give the outcome."""
        store = self._current_store()
        if store is None:
            self._export_refused()
            return
        labels = [
            str(row[0]) for row in store.connection.execute("SELECT DISTINCT connection FROM jobs")
        ]
        # The facts are read here, because the sandbox's counters live on the UI thread.
        facts = {label: self._facts_for(label) for label in labels}
        since = self.current_scope().since

        def work() -> int:
            return _with_store(
                store.path, lambda opened: export_metrics_csv(opened, path, facts.get, since=since)
            )

        def show(rows: int) -> None:
            log.info("Exported metrics of %d views to %s", rows, path)
            self._export_done(self.tr("Saved {rows} rows to {path}").format(rows=rows, path=path))

        self._run(work, show, partial(self._export_failed, path))

    def export_history_to(self, path: Path) -> None:
        """Write every job of the chosen view and time to ``path`` on the worker thread."""
        store = self._current_store()
        if store is None:
            self._export_refused()
            return
        store_path = store.path
        scope = self.current_scope()

        def work() -> int:
            return _with_store(
                store_path, lambda opened: export_job_history_csv(opened, path, scope)
            )

        def show(rows: int) -> None:
            log.info("Exported %d jobs to %s", rows, path)
            self._export_done(self.tr("Saved {rows} jobs to {path}").format(rows=rows, path=path))

        self._run(work, show, partial(self._export_failed, path))

    def _current_store(self) -> Store | None:
        engine = self._engine()
        try:
            return engine.store if engine is not None else None
        except EngineError:
            return None

    def _export_refused(self) -> None:
        message = self.tr("Not connected: nothing to export.")
        self.status_label.setText(message)
        self.exported.emit(False, message)

    def _export_done(self, message: str) -> None:
        self.status_label.setText(message)
        self.exported.emit(True, message)

    def _export_failed(self, path: Path, error: Exception) -> None:
        log.warning("Exporting to %s failed: %s", path, error)
        reason = error.strerror if isinstance(error, OSError) and error.strerror else error
        message = self.tr("Writing {path} failed: {error}. Choose another folder.").format(
            path=path, error=reason
        )
        self.status_label.setText(message)
        self.exported.emit(False, message)


def read_metrics(
    database: Path, scope: MetricsScope, facts: ConnectionFacts | None
) -> tuple[Metrics, tuple[ChecklistItem, ...]]:
    """Return the figures and the checklist of ``scope``, read through a connection of this
    thread's own to the database at ``database``."""

    def read(store: Store) -> tuple[Metrics, tuple[ChecklistItem, ...]]:
        started = time.perf_counter()
        metrics = compute_metrics(store, scope, facts)
        library = ModelLibrary(store).canonical_urls()
        checklist = production_checklist(store, scope, facts, metrics, library=library)
        log.debug("Metrics of %s read in %.0f ms", scope, (time.perf_counter() - started) * 1000)
        return metrics, checklist

    return _with_store(database, read)


def _with_store(database: Path, work: Callable[[Store], _T]) -> _T:
    """Run ``work`` on a store opened for this call, then close it. SQLite connections belong to
    one thread, so the worker thread opens its own (WAL mode lets it read while the UI thread
    writes)."""
    store = Store.open(database)
    try:
        return work(store)
    finally:
        store.close()


def open_metrics_dialog(window: MainWindow) -> MetricsDialog:
    """Show the metrics window of ``window``, raising the one already open.

    Its fixes open the model library with only the conflicting URLs shown, or the Settings
    window. It reads the store again after job changes and when the window attaches an engine.
    """
    for dialog in window.findChildren(MetricsDialog):
        if dialog.isVisible():
            dialog.raise_()
            dialog.activateWindow()
            return dialog

    def check_model_urls() -> None:
        window.workflow_actions.open_model_library()
        library = window.workflow_actions.model_library_dialog
        if library is not None:
            library.conflicts_only.setChecked(True)

    dialog = MetricsDialog(
        lambda: window.engine,
        engine_facts_provider(lambda: window.engine, window.settings),
        {
            FixAction.MODEL_LIBRARY: check_model_urls,
            FixAction.QUEUE_SETTINGS: window.open_settings,
            FixAction.CONNECTION_SETTINGS: window.open_settings,
        },
        window,
    )
    window.signals.jobChanged.connect(dialog.job_changed)
    # The job model reloads when the window attaches another engine.
    window.job_model.modelReset.connect(dialog.job_changed)

    def forget(_result: int) -> None:
        window.signals.jobChanged.disconnect(dialog.job_changed)
        window.job_model.modelReset.disconnect(dialog.job_changed)
        dialog.deleteLater()

    dialog.finished.connect(forget)
    dialog.show()
    return dialog
