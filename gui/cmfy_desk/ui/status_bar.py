"""The window's status bar: the connection and limits on the right, short messages on the left."""

from __future__ import annotations

import time

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from cmfy_desk.bridge.events import BridgeState, BridgeStatus

# QStatusBar (Qt 6) draws its message from 6 px after its left edge to 2 px before the first
# permanent widget, in pixels.
MESSAGE_LEFT = 6
MESSAGE_GAP = 2
# A message is never elided below this width, in pixels, however wide the labels are.
MIN_MESSAGE_WIDTH = 40


class WindowStatusBar(QStatusBar):
    """A status bar whose messages fit beside its permanent labels.

    ``show_message()`` puts a message on one line and elides it to the space left of
    ``batch_label``, ``connection_label`` and ``limits_label``. The tooltip contains the whole
    text while the message is shown. ``batch_label`` is hidden while it has no text.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.batch_label = QLabel()
        # Space between the batch's figures and the connection's.
        self.batch_label.setContentsMargins(0, 0, 16, 0)
        self.batch_label.hide()
        self.connection_label = QLabel()
        self.bridge_label = QLabel()
        self.bridge_label.setContentsMargins(8, 0, 8, 0)
        self.bridge_label.hide()
        self.limits_label = QLabel()
        self.addPermanentWidget(self.batch_label)
        self.addPermanentWidget(self.connection_label)
        self.addPermanentWidget(self.bridge_label)
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

    def set_batch_text(self, text: str, tooltip: str) -> None:
        """Show ``text`` about the selected job's batch, or hide the label when it is empty."""
        if text != self.batch_label.text():
            self.batch_label.setText(text)
        self.batch_label.setToolTip(tooltip)
        self.batch_label.setVisible(bool(text))

    def set_bridges(self, statuses: list[BridgeStatus]) -> None:
        """Show how job status arrives: the default connection's state, with every
        connection's state and last delivery in the tooltip."""
        if not statuses:
            self.bridge_label.hide()
            return
        now = time.time()
        text = bridge_text(statuses[0], now)
        if text != self.bridge_label.text():
            self.bridge_label.setText(text)
        lines = []
        for status in statuses:
            line = f"{status.connection}: {bridge_text(status, now)}"
            if status.message:
                line += f" — {status.message}"
            lines.append(line)
        self.bridge_label.setToolTip("\n".join(lines))
        self.bridge_label.show()

    def message_width(self) -> int:
        """Return the width in pixels that the status bar has for a message."""
        first = self.batch_label if self.batch_label.isVisible() else self.connection_label
        # Before the first layout the labels have no position, so their size hint is used.
        labels = sum(
            label.sizeHint().width()
            for label in (
                self.batch_label,
                self.connection_label,
                self.bridge_label,
                self.limits_label,
            )
            if not label.isHidden()
        )
        right = self.width() - labels
        if first.isVisible() and first.x() > 0:
            right = first.x()
        return max(right - MESSAGE_GAP - MESSAGE_LEFT, MIN_MESSAGE_WIDTH)

    def _clear_tooltip(self, message: str) -> None:
        if not message:
            self.setToolTip("")


def bridge_text(status: BridgeStatus, now: float) -> str:
    """Describe in a few words how job status arrives, with the age of the last delivery."""

    def translate(text: str) -> str:
        return QCoreApplication.translate("WindowStatusBar", text)

    match status.state:
        case BridgeState.WEBHOOKS:
            text = translate("Webhooks active")
        case BridgeState.TUNNEL_DOWN:
            text = translate("Tunnel unreachable · polling")
        case BridgeState.POLLING:
            text = translate("Polling")
        case BridgeState.SOCKET:
            text = translate("Live (websocket)")
        case BridgeState.SOCKET_DOWN:
            text = translate("Reconnecting · reading history")
        case _:
            text = translate("Stopped")
    if status.last_delivery_at is not None and status.state in (
        BridgeState.WEBHOOKS,
        BridgeState.SOCKET,
    ):
        seconds = max(0, int(now - status.last_delivery_at))
        if seconds < 120:
            age = translate("{seconds} s ago").format(seconds=seconds)
        else:
            age = translate("{minutes} min ago").format(minutes=seconds // 60)
        text += " · " + translate("last delivery {age}").format(age=age)
    return text
