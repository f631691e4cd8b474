"""The parts of the History tab: the tree, which takes Enter, Delete and Ctrl+R before the
window's shortcuts, and the details of the current day, batch or job with a strip of output
thumbnails.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QFont, QIcon, QImage, QKeyEvent, QKeySequence, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QHeaderView,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QStyle,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from cmfy_desk.store import Output
from cmfy_desk.store.history import BatchSummary, DaySummary, JobCounts, JobSummary
from cmfy_desk.store.models import JobStatus
from cmfy_desk.ui.history_model import (
    Column,
    HistoryModel,
    NodeKind,
    counts_text,
    day_text,
    job_title,
)
from cmfy_desk.ui.image_details import duration_text
from cmfy_desk.ui.job_model import status_text
from cmfy_desk.ui.theme import error_style
from cmfy_desk.ui.thumbnail_loader import ThumbnailLoader

STRIP_ICON_SIZE = 96
# Values that set the width of a column when they are wider than its header: a count of up
# to 99,999 jobs, a batch with 3 of 10 jobs unfinished, and a duration of minutes.
COUNT_SAMPLE = 99_999
UNFINISHED_SAMPLE = JobCounts(succeeded=7, unfinished=3)
DURATION_SAMPLE_SECONDS = 12 * 60 + 5
# Characters of an error that the Error column shows. Its tooltip and the details show the
# whole error.
ERROR_COLUMN_CHARACTERS = 8
_COUNT_COLUMNS = frozenset(
    {
        Column.JOBS,
        Column.SUCCEEDED,
        Column.FAILED,
        Column.CANCELLED,
        Column.OTHER,
        Column.OUTPUTS,
    }
)


class HistoryTree(QTreeView):
    """The tree of days, batches and jobs. Enter and Return emit ``openRequested(index)``,
    Delete emits ``removeRequested()`` and Ctrl+R (run_again_key()) ``rerunRequested()``. The
    tree takes these keys before the window's shortcuts while it has focus, because the
    window's Delete cancels and its Ctrl+R retries the jobs selected in the queue."""

    openRequested = Signal(QModelIndex)
    removeRequested = Signal()
    rerunRequested = Signal()

    _KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Delete)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setExpandsOnDoubleClick(False)
        self.doubleClicked.connect(self._double_clicked)

    def size_columns(self) -> None:
        """Size every column but the first to its header or a typical value, whichever is
        wider. The first column, the names, stretches over the rest of the tree's width, so
        the columns fit without a horizontal scroll bar when the tree is columns_width()
        wide. Every other column can still be resized by dragging."""
        header = self.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(Column.NAME, QHeaderView.ResizeMode.Stretch)
        for column in Column:
            if column is not Column.NAME:
                header.resizeSection(column, self._column_width(column))

    def columns_width(self) -> int:
        """Return the width the tree needs to show every column, with the names' header in
        full and room for a vertical scroll bar."""
        header = self.header()
        widths = [self._column_width(column) for column in Column if column is not Column.NAME]
        scroll_bar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, self)
        frame = 2 * self.frameWidth()
        return header.sectionSizeHint(Column.NAME) + sum(widths) + scroll_bar + frame

    def _column_width(self, column: Column) -> int:
        # sectionSizeHint measures the header's text with the style's margins.
        width = self.header().sectionSizeHint(column)
        if column in _COUNT_COLUMNS:
            width = max(width, self._cell_width(str(COUNT_SAMPLE)))
        elif column in (Column.RUN_TIME, Column.TOTAL_TIME):
            width = max(width, self._cell_width(duration_text(DURATION_SAMPLE_SECONDS)))
        elif column is Column.STATUS:
            icon = self.iconSize().width()
            if icon <= 0:
                icon = self.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize, None, self)
            job_status = max(self._cell_width(status_text(status)) for status in JobStatus)
            batch_status = self._cell_width(counts_text(UNFINISHED_SAMPLE))
            width = max(width, job_status + icon, batch_status)
        elif column is Column.ERROR:
            characters = self.fontMetrics().averageCharWidth() * ERROR_COLUMN_CHARACTERS
            width = max(width, self._cell_width("") + characters)
        return width

    def _cell_width(self, text: str) -> int:
        # The style puts a margin of the focus frame's width plus one pixel on either side.
        margin = self.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, self)
        return self.fontMetrics().horizontalAdvance(text) + 2 * (margin + 1)

    def event(self, event: QEvent) -> bool:
        if event.type() is QEvent.Type.ShortcutOverride:
            assert isinstance(event, QKeyEvent)
            if (event.key() in self._KEYS and _unmodified(event)) or _is_run_again(event):
                event.accept()
                return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if _is_run_again(event):
            self.rerunRequested.emit()
            return
        if _unmodified(event) and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.openRequested.emit(self.currentIndex())
            return
        if _unmodified(event) and event.key() == Qt.Key.Key_Delete:
            self.removeRequested.emit()
            return
        super().keyPressEvent(event)

    def _double_clicked(self, index: QModelIndex) -> None:
        model = self.model()
        if isinstance(model, HistoryModel) and model.kind(index) is NodeKind.JOB:
            self.openRequested.emit(index)
        else:
            self.setExpanded(index.siblingAtColumn(0), not self.isExpanded(index))


def _is_run_again(event: QKeyEvent) -> bool:
    return QKeySequence(event.keyCombination()) == run_again_key()


def run_again_key() -> QKeySequence:
    """Return the key that runs the current batch or job of the tree again."""
    return QKeySequence(QCoreApplication.translate("HistoryTree", "Ctrl+R"))


def _unmodified(event: QKeyEvent) -> bool:
    # The keypad's Enter carries KeypadModifier.
    modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
    return modifiers == Qt.KeyboardModifier.NoModifier


class HistoryDetails(QWidget):
    """The selected day, batch or job: its counts, times, errors and outputs.

    ``outputActivated(Output)`` follows a double-click or Enter on an output of the strip.
    """

    outputActivated = Signal(object)

    def __init__(self, thumbnails: ThumbnailLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._thumbnails = thumbnails
        self._outputs: list[Output] = []
        self._items: dict[str, QListWidgetItem] = {}
        self._thumbnails_shown = 0
        thumbnails.loaded.connect(self._on_thumbnail)

        self.title = QLabel()
        font = QFont(self.title.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.title.setFont(font)
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._fields: dict[str, QLabel] = {}
        for key, label in (
            ("status", self.tr("Status:")),
            ("jobs", self.tr("Jobs:")),
            ("created", self.tr("Created:")),
            ("submitted", self.tr("Submitted:")),
            ("started", self.tr("Started:")),
            ("finished", self.tr("Finished:")),
            ("run", self.tr("Run time:")),
            ("total", self.tr("Total time:")),
            ("attempts", self.tr("Attempts:")),
            ("workflow", self.tr("Workflow:")),
            ("connection", self.tr("Connection:")),
            ("folder", self.tr("Folder:")),
        ):
            field = QLabel()
            field.setWordWrap(True)
            field.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self._fields[key] = field
            self.form.addRow(label, field)

        self.error_label = QLabel(self.tr("Error"))
        self.error_label.setStyleSheet(error_style())
        self.error = QPlainTextEdit()
        self.error.setReadOnly(True)
        self.error.setMaximumHeight(self.fontMetrics().lineSpacing() * 6 + 12)

        self.outputs_label = QLabel()
        self.strip = QListWidget()
        self.strip.setViewMode(QListView.ViewMode.IconMode)
        self.strip.setFlow(QListView.Flow.LeftToRight)
        self.strip.setWrapping(False)
        self.strip.setMovement(QListView.Movement.Static)
        self.strip.setIconSize(QSize(STRIP_ICON_SIZE, STRIP_ICON_SIZE))
        self.strip.setFixedHeight(STRIP_ICON_SIZE + self.fontMetrics().lineSpacing() + 24)
        self.strip.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.strip.itemActivated.connect(self._activated)
        self._placeholder = _placeholder_icon()

        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(self.form)
        layout.addWidget(self.error_label)
        layout.addWidget(self.error)
        layout.addWidget(self.outputs_label)
        layout.addWidget(self.strip)
        layout.addStretch(1)
        self.show_nothing()

    def show_nothing(self, text: str = "") -> None:
        self.title.setText(text or self.tr("Select a day, batch or job to see its details."))
        for key in self._fields:
            self._set(key, "")
        self._set_error("")
        self.set_outputs([], 0)

    def show_day(self, day: DaySummary) -> None:
        self.title.setText(day_text(day.day))
        values = {
            "status": counts_text(day.counts),
            "jobs": self._counts_line(day.counts.total, day.counts),
        }
        for key in self._fields:
            self._set(key, values.get(key, ""))
        self._set_error("")
        # A day's images are those of its batches, which show them when selected.
        self.set_outputs([], 0)
        self.outputs_label.setText(self.tr("Select a batch or a job to see its outputs."))

    def show_batch(self, batch: BatchSummary, errors: str, outputs: list[Output]) -> None:
        self.title.setText(batch.name)
        values = {
            "status": counts_text(batch.counts),
            "jobs": self._counts_line(batch.counts.total, batch.counts),
            "created": _date_time(batch.created_at),
            "finished": _date_time(batch.finished_at),
            "run": _mean_text(batch.mean_run_seconds),
            "total": duration_text(batch.total_seconds),
            "workflow": batch.workflow_name,
            "connection": batch.connection,
            "folder": batch.output_dir,
        }
        for key in self._fields:
            self._set(key, values.get(key, ""))
        self._set_error(errors)
        self.set_outputs(outputs, batch.output_count)

    def show_job(self, job: JobSummary, outputs: list[Output]) -> None:
        self.title.setText(job_title(job))
        values = {
            "status": status_text(job.status),
            "created": _date_time(job.created_at),
            "submitted": _date_time(job.submitted_at),
            "started": _date_time(job.started_at),
            "finished": _date_time(job.finished_at),
            "run": duration_text(job.run_seconds),
            "total": duration_text(job.total_seconds),
            "attempts": str(job.attempts) if job.attempts else "",
        }
        for key in self._fields:
            self._set(key, values.get(key, ""))
        error = ""
        if job.error_code or job.error_message:
            error = "\n".join(part for part in (job.error_code, job.error_message) if part)
        self._set_error(error)
        self.set_outputs(outputs, len(outputs))

    def set_outputs(self, outputs: list[Output], total: int) -> None:
        """Show ``outputs`` as thumbnails, made on the loader's threads. ``total`` counts the
        outputs not shown too. The same outputs again keep their thumbnails."""
        if total == 0:
            self.outputs_label.setText(self.tr("No outputs"))
        elif len(outputs) < total:
            self.outputs_label.setText(
                self.tr("Outputs: the first {shown} of {total}").format(
                    shown=len(outputs), total=total
                )
            )
        else:
            self.outputs_label.setText(self.tr("Outputs: {total}").format(total=total))
        self.strip.setVisible(bool(outputs))
        if outputs == self._outputs:
            return
        self._thumbnails.clear_queue()
        self.strip.clear()
        self._items = {}
        self._thumbnails_shown = 0
        self._outputs = outputs
        for output in outputs:
            item = QListWidgetItem(self._placeholder, Path(output.local_path).name)
            item.setToolTip(output.local_path)
            item.setData(Qt.ItemDataRole.UserRole, output)
            self.strip.addItem(item)
            self._items[output.local_path] = item
            self._thumbnails.request(output.local_path)

    def outputs(self) -> list[Output]:
        return list(self._outputs)

    @property
    def thumbnails_shown(self) -> int:
        """How many outputs of the strip show their thumbnail (the others wait or failed)."""
        return self._thumbnails_shown

    def field_text(self, key: str) -> str:
        return self._fields[key].text()

    def _counts_line(self, total: int, counts: JobCounts) -> str:
        return self.tr(
            "{total}: {succeeded} succeeded, {failed} failed, {cancelled} cancelled, "
            "{other} partial or lost"
        ).format(
            total=total,
            succeeded=counts.succeeded,
            failed=counts.failed,
            cancelled=counts.cancelled,
            other=counts.other,
        )

    def _set(self, key: str, text: str) -> None:
        field = self._fields[key]
        field.setText(text)
        self.form.setRowVisible(field, bool(text))

    def _set_error(self, text: str) -> None:
        self.error.setPlainText(text)
        self.error_label.setVisible(bool(text))
        self.error.setVisible(bool(text))

    def _on_thumbnail(self, path: str, image: QImage, error: str) -> None:
        item = self._items.get(path)
        if item is None:
            return
        if error:
            item.setToolTip(f"{path}\n{error}")
            return
        item.setIcon(QIcon(QPixmap.fromImage(image)))
        self._thumbnails_shown += 1

    def _activated(self, item: QListWidgetItem) -> None:
        output = item.data(Qt.ItemDataRole.UserRole)
        if isinstance(output, Output):
            self.outputActivated.emit(output)


def _date_time(timestamp: float | None) -> str:
    if timestamp is None:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp))


def _mean_text(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return QCoreApplication.translate("HistoryPanel", "{duration} per job on average").format(
        duration=duration_text(seconds)
    )


def _placeholder_icon() -> QIcon:
    pixmap = QPixmap(STRIP_ICON_SIZE, STRIP_ICON_SIZE)
    pixmap.fill(Qt.GlobalColor.lightGray)
    return QIcon(pixmap)
