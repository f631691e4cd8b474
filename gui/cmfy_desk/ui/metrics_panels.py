"""Parts of the metrics window: a read-only text table model and its view, and the row that
shows one warning or checklist item with its fix."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractScrollArea,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStyle,
    QTableView,
    QVBoxLayout,
    QWidget,
)

AMBER = QColor("#d98c00")


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


def read_only_table(model: TextTableModel) -> QTableView:
    """Return a view of ``model`` that selects rows and is as tall as its rows."""
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


class MessageRow(QFrame):
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


def remove_rows(layout: QVBoxLayout, rows: list[MessageRow]) -> None:
    """Delete every widget of ``layout`` and empty ``rows``."""
    while layout.count():
        taken = layout.takeAt(0)
        widget = taken.widget() if taken is not None else None
        if widget is not None:
            widget.deleteLater()
    rows.clear()
