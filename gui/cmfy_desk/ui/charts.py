"""Line and histogram charts drawn with QPainter, for the metrics window.

QtCharts is in PySide6-Addons rather than PySide6-Essentials and would add about 160 MB to the
installer for two small charts.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

from PySide6.QtCore import QDateTime, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPainterPath, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

BAR_COLOR = QColor("#2ca02c")


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
