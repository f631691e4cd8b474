"""The window's status bar: the connection and limits on the right, short messages on the left."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

# QStatusBar (Qt 6) draws its message from 6 px after its left edge to 2 px before the first
# permanent widget, in pixels.
MESSAGE_LEFT = 6
MESSAGE_GAP = 2
# A message is never elided below this width, in pixels, however wide the labels are.
MIN_MESSAGE_WIDTH = 40


class WindowStatusBar(QStatusBar):
    """A status bar whose messages fit beside its permanent labels.

    ``show_message()`` puts a message on one line and elides it to the space left of
    ``connection_label`` and ``limits_label``. The tooltip contains the whole text while the
    message is shown.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.connection_label = QLabel()
        self.limits_label = QLabel()
        self.addPermanentWidget(self.connection_label)
        self.addPermanentWidget(self.limits_label)
        self.messageChanged.connect(self._clear_tooltip)

    def show_message(self, text: str, timeout_ms: int) -> None:
        """Show ``text`` for ``timeout_ms`` milliseconds, elided, with the whole text as the
        tooltip."""
        width = self.message_width()
        line = " ".join(text.split())
        elided = self.fontMetrics().elidedText(line, Qt.TextElideMode.ElideRight, width)
        self.showMessage(elided, timeout_ms)
        # After showMessage(), whose messageChanged clears the tooltip of the previous message.
        self.setToolTip(text)

    def message_width(self) -> int:
        """Return the width in pixels that the status bar has for a message."""
        # Before the first layout the labels have no position, so their size hint is used.
        labels = self.connection_label.sizeHint().width() + self.limits_label.sizeHint().width()
        right = self.width() - labels
        if self.connection_label.isVisible() and self.connection_label.x() > 0:
            right = self.connection_label.x()
        return max(right - MESSAGE_GAP - MESSAGE_LEFT, MIN_MESSAGE_WIDTH)

    def _clear_tooltip(self, message: str) -> None:
        if not message:
            self.setToolTip("")
