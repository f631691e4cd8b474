"""The top half of the window: the job table, or a hint while the queue is empty, beside the
job details panel."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

# The width of the details panel beside the job table at first start, in pixels. In a window
# 1200 pixels wide, it leaves the table room for its columns up to Progress, with the name
# columns narrowed (see job_table.fitted_name_widths).
DETAILS_WIDTH = 280


class QueueArea(QStackedWidget):
    """Shows ``table`` once there are jobs, and an empty state before.

    In demo mode the empty state offers to run the sample workflows
    (``runSamplesRequested``). Otherwise it explains how to add workflows.
    ``emptyChanged(bool)`` is emitted when the area switches between the two.
    """

    runSamplesRequested = Signal()
    emptyChanged = Signal(bool)

    def __init__(self, table: QWidget, demo: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.empty_page = QWidget()
        title = QLabel(self.tr("The queue is empty"))
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        title.setFont(font)
        hint = QLabel(
            self.tr(
                "Drop ComfyUI workflows here: .json files in API or editor format, pictures "
                "saved by ComfyUI, or folders of them. Or use File → Add workflows…"
            )
        )
        hint.setWordWrap(True)
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # A word-wrapped label given an alignment in a layout shrinks to its minimum width
        # and clips its lines, so the labels fill a column of fixed maximum width instead.
        column = QWidget()
        column.setMaximumWidth(560)
        layout = QVBoxLayout(column)
        layout.addWidget(title, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(hint)
        self.samples_button = QPushButton(self.tr("Run the sample workflows"))
        self.samples_button.setVisible(demo)
        self.samples_button.clicked.connect(self.runSamplesRequested)
        if demo:
            demo_hint = QLabel(
                self.tr(
                    "Demo mode: jobs run on the built-in sandbox, which renders test images "
                    "on this computer. No account is needed."
                )
            )
            demo_hint.setWordWrap(True)
            demo_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(demo_hint)
            layout.addSpacing(8)
            layout.addWidget(self.samples_button, 0, Qt.AlignmentFlag.AlignHCenter)
        outer = QHBoxLayout()
        outer.addStretch(1)
        outer.addWidget(column, 2)
        outer.addStretch(1)
        page_layout = QVBoxLayout(self.empty_page)
        page_layout.addStretch(1)
        page_layout.addLayout(outer)
        page_layout.addStretch(1)

        self.table = table
        self.addWidget(self.empty_page)
        self.addWidget(table)
        self.setCurrentWidget(self.empty_page)

    def is_empty(self) -> bool:
        return self.currentWidget() is self.empty_page

    def set_empty(self, empty: bool) -> None:
        if empty == self.is_empty():
            return
        self.setCurrentWidget(self.empty_page if empty else self.table)
        self.emptyChanged.emit(empty)


class QueueSplitter(QSplitter):
    """The queue area on the left and ``details`` on the right, in a splitter that can fold
    the details away. The details are hidden while the queue is empty, because no job can be
    selected then."""

    def __init__(self, area: QueueArea, details: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.setObjectName("queue_splitter")
        self.addWidget(area)
        self.addWidget(details)
        self.setStretchFactor(0, 1)
        self.setStretchFactor(1, 0)
        self.setCollapsible(0, False)
        self.setSizes([3 * DETAILS_WIDTH, DETAILS_WIDTH])
        details.setHidden(area.is_empty())
        area.emptyChanged.connect(details.setHidden)
