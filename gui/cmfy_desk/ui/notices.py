"""The notice panel: messages a person must read, newest first, each with a Copy button."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from cmfy_desk.scheduler.events import NoticeLevel

# Older notices are dropped beyond this many, so that a long run of failures cannot grow the
# panel without bound. Engine notices and load errors are also in the log file.
MAX_NOTICES = 200

_LEVEL_ICONS = {
    NoticeLevel.INFO: QStyle.StandardPixmap.SP_MessageBoxInformation,
    NoticeLevel.WARNING: QStyle.StandardPixmap.SP_MessageBoxWarning,
    NoticeLevel.ERROR: QStyle.StandardPixmap.SP_MessageBoxCritical,
}


class _NoticeRow(QFrame):
    def __init__(self, level: NoticeLevel, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.level = level
        self.text = text
        self.setFrameShape(QFrame.Shape.StyledPanel)

        icon = QLabel()
        icon.setPixmap(self.style().standardIcon(_LEVEL_ICONS[level]).pixmap(20, 20))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        stamp = QLabel(time.strftime("%H:%M:%S"))
        stamp.setAlignment(Qt.AlignmentFlag.AlignTop)
        stamp.setEnabled(False)

        message = QLabel(text)
        message.setWordWrap(True)
        message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        message.setTextFormat(Qt.TextFormat.PlainText)
        message.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        message.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)

        copy = QToolButton()
        copy.setText(self.tr("Copy"))
        copy.setToolTip(self.tr("Copy this message to the clipboard"))
        copy.clicked.connect(self._copy)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(stamp, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(message, 1)
        layout.addWidget(copy, 0, Qt.AlignmentFlag.AlignTop)

    def _copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text)


class NoticePanel(QWidget):
    """A list of notices, newest on top, with a Clear button.

    ``added(level, text)`` is emitted for each new notice, so the window can flash errors in
    its status bar. ``cleared()`` is emitted when the Clear button empties the list.
    """

    added = Signal(str, str)
    cleared = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[_NoticeRow] = []

        self._count_label = QLabel()
        self.clear_button = QPushButton(self.tr("Clear"))
        self.clear_button.clicked.connect(self._clear_clicked)
        header = QHBoxLayout()
        header.addWidget(self._count_label, 1)
        header.addWidget(self.clear_button)

        self._list = QWidget()
        self._list_layout = QVBoxLayout(self._list)
        self._list_layout.setContentsMargins(0, 0, 0, 0)
        self._list_layout.setSpacing(4)
        self._list_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self._list)
        scroll.setFrameShape(QFrame.Shape.NoFrame)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(header)
        layout.addWidget(scroll, 1)
        self._update_count()

    def add(self, level: NoticeLevel, text: str) -> None:
        """Show a notice on top of the list."""
        row = _NoticeRow(level, text)
        self._list_layout.insertWidget(0, row)
        self._rows.insert(0, row)
        while len(self._rows) > MAX_NOTICES:
            oldest = self._rows.pop()
            self._list_layout.removeWidget(oldest)
            oldest.deleteLater()
        self._update_count()
        self.added.emit(str(level), text)

    def clear(self) -> None:
        for row in self._rows:
            self._list_layout.removeWidget(row)
            row.deleteLater()
        self._rows.clear()
        self._update_count()

    def _clear_clicked(self) -> None:
        self.clear()
        self.cleared.emit()

    def messages(self) -> list[tuple[NoticeLevel, str]]:
        """Return the notices shown, newest first."""
        return [(row.level, row.text) for row in self._rows]

    def _update_count(self) -> None:
        if self._rows:
            self._count_label.setText(self.tr("Notices: {count}").format(count=len(self._rows)))
        else:
            self._count_label.setText(self.tr("No notices"))
