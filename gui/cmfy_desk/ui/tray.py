"""The system tray icon: queue progress, pause, show and quit, and one notification per batch.

Where the desktop has no system tray (and on the offscreen platform), ``install_tray()``
returns None and the window works as before: closing it while jobs run asks only Quit or Cancel.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QMenu, QSystemTrayIcon, QWidget

from cmfy_desk.store import Job
from cmfy_desk.ui.main_window import MainWindow

log = logging.getLogger(__name__)

# Job events can arrive hundreds of times a second; the tooltip is recomputed at most this often.
TOOLTIP_REFRESH_MS = 500
NOTIFICATION_MS = 10_000


def bring_to_front(window: QWidget) -> None:
    """Show ``window`` (also when hidden in the tray or minimized), raise and activate it."""
    if window.isMinimized():
        window.setWindowState(window.windowState() & ~Qt.WindowState.WindowMinimized)
    window.show()
    window.raise_()
    window.activateWindow()


def queue_progress(jobs: list[Job]) -> tuple[int, int]:
    """Return (jobs done, jobs in total) over the batches that still have a job not final."""
    unfinished_batches = {job.batch_id for job in jobs if not job.is_final}
    in_those = [job for job in jobs if job.batch_id in unfinished_batches]
    done = sum(1 for job in in_those if job.is_final)
    return done, len(in_those)


class Tray(QObject):
    """The tray icon of one main window.

    Its menu has Show window, the window's Pause queue action and Quit. The tooltip shows the
    progress of the unfinished batches. When every job of a batch has ended while the window
    is hidden or in the background, a notification gives the batch's outcome, once per batch;
    clicking it brings the window back. ``install()`` also lets the quit question offer to
    keep running in the tray.
    """

    def __init__(self, window: MainWindow, icon: QSystemTrayIcon) -> None:
        super().__init__(window)
        self.window = window
        self.icon = icon
        self._notified_batches: set[int] = set()

        self.show_action = QAction(self.tr("Show window"), self)
        self.show_action.triggered.connect(lambda: bring_to_front(window))
        self.quit_action = QAction(self.tr("Quit"), self)
        self.quit_action.triggered.connect(self.quit)
        self.menu = QMenu(window)
        self.menu.addAction(self.show_action)
        self.menu.addSeparator()
        self.menu.addAction(window.pause_action)
        self.menu.addSeparator()
        self.menu.addAction(self.quit_action)
        icon.setContextMenu(self.menu)
        icon.activated.connect(self._activated)
        icon.messageClicked.connect(lambda: bring_to_front(window))

        self._tooltip_timer = QTimer(self)
        self._tooltip_timer.setSingleShot(True)
        self._tooltip_timer.setInterval(TOOLTIP_REFRESH_MS)
        self._tooltip_timer.timeout.connect(self.refresh_tooltip)
        # Connected after the window's own slot, so the job model already has the change.
        window.signals.jobChanged.connect(self._job_changed)
        window.signals.jobsQueued.connect(lambda _jobs: self._tooltip_timer.start())
        window.job_model.modelReset.connect(self._tooltip_timer.start)
        window.pause_action.toggled.connect(self._tooltip_timer.start)
        window.closed.connect(icon.hide)
        self.refresh_tooltip()

    def install(self) -> None:
        """Show the icon and offer "Keep running in the tray" in the quit question."""
        self.window.quit_guard.keep_running = self.hide_window
        self.icon.show()

    def tooltip_text(self) -> str:
        lines = [self.tr("Cmfy Desk")]
        done, total = queue_progress(self.window.job_model.jobs())
        if total:
            lines.append(self.tr("{done} of {total} jobs done").format(done=done, total=total))
        else:
            lines.append(self.tr("No jobs waiting"))
        if self.window.pause_action.isChecked():
            lines.append(self.tr("Queue paused"))
        return "\n".join(lines)

    def refresh_tooltip(self) -> None:
        self.icon.setToolTip(self.tooltip_text())

    def hide_window(self) -> None:
        """Hide the window; the queue keeps running and the tray icon brings it back."""
        self.window.hide()
        if self.icon.supportsMessages():
            self.icon.showMessage(
                self.tr("Cmfy Desk is still running"),
                self.tr("The queue continues. Click the tray icon to show the window."),
                QSystemTrayIcon.MessageIcon.Information,
                NOTIFICATION_MS,
            )

    def quit(self) -> None:
        """Quit as the window's Quit does: while jobs run, the window shows the question."""
        bring_to_front(self.window)
        self.window.quit_guard.quit()

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (
            QSystemTrayIcon.ActivationReason.Trigger,
            QSystemTrayIcon.ActivationReason.DoubleClick,
        ):
            bring_to_front(self.window)

    def _job_changed(self, job: Job) -> None:
        self._tooltip_timer.start()


def install_tray(window: MainWindow, icon: QIcon | None = None) -> Tray | None:
    """Add the tray icon of ``window``; returns None where the desktop has no system tray."""
    if not QSystemTrayIcon.isSystemTrayAvailable():
        log.info("No system tray on this desktop; running without a tray icon")
        return None
    tray_icon = QSystemTrayIcon(icon if icon is not None else window.windowIcon(), window)
    tray = Tray(window, tray_icon)
    tray.install()
    # Batch and connection notifications reach the desktop through the tray icon.
    window.notifier.tray = tray
    return tray
