"""The job table view: columns, the progress bar delegate, selection, context menu, and rows
dragged to a new place in the queue."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, QRect, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QPainter,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHeaderView,
    QMenu,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from cmfy_desk.store import Job, JobStatus
from cmfy_desk.ui.job_model import PROGRESS_ROLE, Column, JobTableModel

# Preferred widths in pixels at the default font.
COLUMN_WIDTHS = {
    Column.WORKFLOW: 170,
    # Fits a batch name such as "sd15_txt2img 2026-12-04 20-18-06".
    Column.BATCH: 240,
    Column.MODELS: 180,
    # Fits 16 digits, the longest random seed (random seeds stay below 2**53).
    Column.SEED: 135,
    # Fits "Queued (paused)" beside the status icon.
    Column.STATUS: 135,
    Column.PRIORITY: 60,
    Column.QUEUE_POSITION: 105,
    # Fits a live progress text such as "KSampler 12/20".
    Column.PROGRESS: 120,
    Column.SUBMITTED: 80,
    Column.STARTED: 80,
    Column.FINISHED: 80,
}
# While the columns up to LAST_FITTED_COLUMN are wider than the table, the name columns
# narrow, the widest first, down to NAME_MIN_WIDTH pixels each, and their text elides in the
# middle. Later columns (the times) may still need scrolling.
NAME_COLUMNS = (Column.WORKFLOW, Column.BATCH, Column.MODELS)
NAME_MIN_WIDTH = 90
LAST_FITTED_COLUMN = Column.PROGRESS


def fitted_name_widths(width: int) -> dict[Column, int]:
    """Return the widths of the name columns that let the columns up to LAST_FITTED_COLUMN
    fit into ``width`` pixels.

    The name columns keep their preferred widths when they fit. Otherwise the room left by
    the other columns is shared out under a common cap, so that the widest names are cut
    first and a narrow column such as the workflow keeps its name longest. No column gets
    less than NAME_MIN_WIDTH, so at small widths the columns overflow and the table scrolls.
    """
    room = width - sum(
        COLUMN_WIDTHS[column]
        for column in Column
        if column <= LAST_FITTED_COLUMN and column not in NAME_COLUMNS
    )
    widths: dict[Column, int] = {}
    # From the narrowest up: a column below the cap keeps its preferred width and leaves
    # the rest of its share to the wider ones after it.
    remaining = sorted(NAME_COLUMNS, key=COLUMN_WIDTHS.__getitem__)
    while remaining:
        column = remaining.pop(0)
        cap = room // (len(remaining) + 1)
        widths[column] = max(NAME_MIN_WIDTH, min(COLUMN_WIDTHS[column], cap))
        room -= widths[column]
    return widths


class ProgressDelegate(QStyledItemDelegate):
    """Draws the Progress column as a progress bar filled to the job's live progress or its
    stage, and nothing for jobs that failed, were cancelled or were lost."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        value = index.data(PROGRESS_ROLE)
        if not isinstance(value, int):
            super().paint(painter, option, index)
            return
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(option.rect, option.palette.highlight())
        bar = QStyleOptionProgressBar()
        rect: QRect = option.rect.adjusted(3, 3, -3, -3)
        bar.rect = rect
        bar.minimum = 0
        bar.maximum = 100
        bar.progress = value
        bar.text = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        bar.textVisible = True
        bar.state = QStyle.StateFlag.State_Enabled | QStyle.StateFlag.State_Horizontal
        style = option.widget.style() if option.widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter, option.widget)


class MiddleElideDelegate(QStyledItemDelegate):
    """Elides text in the middle, so that a cut name keeps its end: the "#3" of a job, the
    creation time of a batch, the "+2" of a set of models."""

    def initStyleOption(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        super().initStyleOption(option, index)
        option.textElideMode = Qt.TextElideMode.ElideMiddle


class JobTableView(QTableView):
    """The job table. ``menu_actions`` fill its context menu; None entries are separators.

    Queued rows can be dragged to another place in the queue. ``moveRequested(job_ids,
    before_job_id)`` requests a move of the jobs, in table order, just before the queued job
    ``before_job_id``, or to the end of the queue when it is None. The table itself does not
    change; it follows the job changes that the move causes. Files dropped from outside are
    passed on with ``filesDropped(paths)``.
    """

    moveRequested = Signal(list, object)
    filesDropped = Signal(list)

    def __init__(
        self,
        model: JobTableModel,
        menu_actions: list[QAction | None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._model = model
        self._menu_actions = menu_actions
        self.setModel(model)
        self.setItemDelegateForColumn(Column.PROGRESS, ProgressDelegate(self))
        names = MiddleElideDelegate(self)
        self.setItemDelegateForColumn(Column.WORKFLOW, names)
        self.setItemDelegateForColumn(Column.BATCH, names)
        # Keeps the "+N" of a set of several models.
        self.setItemDelegateForColumn(Column.MODELS, names)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setAlternatingRowColors(True)
        # Rows are one line high. With wrapping on, Qt would wrap a long name at a space and
        # cut the second line off.
        self.setWordWrap(False)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(26)
        header = self.horizontalHeader()
        header.setStretchLastSection(True)
        header.setHighlightSections(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in COLUMN_WIDTHS.items():
            header.resizeSection(column, width)
        # The name columns follow the table's width until the person resizes a column.
        self._fit_columns = True
        self._fitting = False
        header.sectionResized.connect(self._on_section_resized)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._show_menu)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        # Rows go between rows, never onto one.
        self.setDragDropOverwriteMode(False)
        self.setDropIndicatorShown(True)

    # Column widths ----------------------------------------------------------------------------

    @property
    def fits_columns(self) -> bool:
        """Whether the name columns still narrow and widen with the table, which stops once
        the person resizes a column."""
        return self._fit_columns

    def fit_columns(self) -> None:
        """Size the name columns so that the columns up to LAST_FITTED_COLUMN fit the
        viewport's width (see fitted_name_widths)."""
        header = self.horizontalHeader()
        self._fitting = True
        try:
            for column, width in fitted_name_widths(self.viewport().width()).items():
                if header.sectionSize(column) != width:
                    header.resizeSection(column, width)
        finally:
            self._fitting = False

    def _on_section_resized(self, column: int, _old_size: int, _new_size: int) -> None:
        header = self.horizontalHeader()
        # The last section stretches with the viewport on its own.
        if self._fitting or column == header.logicalIndex(header.count() - 1):
            return
        self._fit_columns = False

    def resizeEvent(self, event: QResizeEvent) -> None:
        # The viewport's resizes arrive here too, among them the vertical scroll bar's
        # appearing and disappearing.
        super().resizeEvent(event)
        if self._fit_columns:
            self.fit_columns()

    def set_menu_actions(self, menu_actions: list[QAction | None]) -> None:
        self._menu_actions = list(menu_actions)

    def selected_jobs(self) -> list[Job]:
        """Return the jobs of the selected rows, in table order."""
        rows = sorted(index.row() for index in self.selectionModel().selectedRows())
        return [self._model.job_at(row) for row in rows]

    def current_job(self) -> Job | None:
        """Return the job of the current row when it is selected, else the first selected."""
        current = self.currentIndex()
        if current.isValid() and self.selectionModel().isRowSelected(current.row()):
            return self._model.job_at(current.row())
        jobs = self.selected_jobs()
        return jobs[0] if jobs else None

    # Drag and drop ----------------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._model.dragged_job_ids(event.mimeData()):
            super().dragEnterEvent(event)
        elif _local_files(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if self._model.dragged_job_ids(event.mimeData()):
            # Draws the line where the rows would go.
            super().dragMoveEvent(event)
        elif _local_files(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        job_ids = self._model.dragged_job_ids(event.mimeData())
        if job_ids:
            before = self.queued_job_below(event.position().toPoint(), set(job_ids))
            # The view's own clean-up after a drop: no more drop indicator or auto-scroll.
            self.stopAutoScroll()
            self.setState(QAbstractItemView.State.NoState)
            self.viewport().update()
            # After a move, the view calls the model's removeRows for the dragged rows. The
            # model keeps them, because it does not override removeRows, which returns False.
            event.setDropAction(Qt.DropAction.MoveAction)
            event.accept()
            self.moveRequested.emit(job_ids, before)
            return
        paths = _local_files(event)
        if paths:
            event.acceptProposedAction()
            self.filesDropped.emit(paths)
            return
        event.ignore()

    def queued_job_below(self, position: QPoint, moving: set[int]) -> int | None:
        """Return the id of the queued job that rows dropped at ``position`` would go before,
        or None for the end of the queue.

        A drop on the upper half of a row goes before it, on the lower half after it. Rows
        being moved are skipped, and so are running and finished rows: a drop among running
        rows goes before the first queued job, a drop among finished rows to the end.
        """
        index = self.indexAt(position)
        if not index.isValid():
            return None
        row = index.row()
        if position.y() >= self.visualRect(index).center().y():
            row += 1
        for candidate in range(row, self._model.rowCount()):
            job = self._model.job_at(candidate)
            if job.status is JobStatus.QUEUED and job.id not in moving:
                return job.id
        return None

    def _show_menu(self, position: QPoint) -> None:
        if not self.indexAt(position).isValid():
            return
        menu = QMenu(self)
        for action in self._menu_actions:
            if action is None:
                menu.addSeparator()
            else:
                menu.addAction(action)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(self.viewport().mapToGlobal(position))


def _local_files(event: QDropEvent | QDragMoveEvent) -> list[Path]:
    return [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
