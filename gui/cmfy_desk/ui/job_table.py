"""The job table view: columns, the progress bar delegate, selection and context menu."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, QRect, Qt
from PySide6.QtGui import QAction, QPainter
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

from cmfy_desk.store import Job
from cmfy_desk.ui.job_model import PROGRESS_ROLE, Column, JobTableModel

COLUMN_WIDTHS = {
    Column.WORKFLOW: 180,
    # Fits a batch name such as "sd15_txt2img 2026-12-04 20-18-06".
    Column.BATCH: 240,
    Column.SEED: 150,
    Column.STATUS: 110,
    Column.QUEUE_POSITION: 110,
    Column.PROGRESS: 130,
    Column.SUBMITTED: 80,
    Column.STARTED: 80,
    Column.FINISHED: 80,
}


class ProgressDelegate(QStyledItemDelegate):
    """Draws the Progress column as a progress bar filled to the job's stage, and nothing for
    jobs that failed, were cancelled or were lost."""

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
    creation time of a batch."""

    def initStyleOption(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        super().initStyleOption(option, index)
        option.textElideMode = Qt.TextElideMode.ElideMiddle


class JobTableView(QTableView):
    """The job table. ``menu_actions`` fill its context menu; None entries are separators."""

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
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._show_menu)

    def selected_jobs(self) -> list[Job]:
        """Return the jobs of the selected rows, in table order."""
        rows = sorted(index.row() for index in self.selectionModel().selectedRows())
        return [self._model.job_at(row) for row in rows]

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
