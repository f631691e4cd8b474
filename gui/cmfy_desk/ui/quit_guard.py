"""The question asked before the window closes while jobs are running."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from cmfy_desk.store import IN_FLIGHT_STATUSES, Job, JobStatus

# Jobs that quitting interrupts: they hold a slot of the service or are downloading.
RUNNING_STATUSES = frozenset({*IN_FLIGHT_STATUSES, JobStatus.DOWNLOADING})

# The button that hides the window to the tray has this role; Quit has AcceptRole.
KEEP_RUNNING_ROLE = QMessageBox.ButtonRole.ActionRole


class QuitGuard:
    """Decides whether the window may close, and requests confirmation while jobs are running.

    ``jobs()`` returns the jobs the window shows, ``on_sandbox()`` whether they run on the
    built-in sandbox, and ``close()`` closes the window again once the person chose Quit.
    When ``keep_running`` is set (by the tray icon), the question also offers to keep running
    in the tray, which calls it instead of closing.
    The question is a non-modal message box opened with ``open()``, because ``exec()`` would
    start a nested event loop that stalls the asyncio loop.
    """

    def __init__(
        self,
        parent: QWidget,
        jobs: Callable[[], list[Job]],
        on_sandbox: Callable[[], bool],
        close: Callable[[], object],
    ) -> None:
        self._parent = parent
        self._jobs = jobs
        self._on_sandbox = on_sandbox
        self._close = close
        self.box: QMessageBox | None = None
        self.keep_running: Callable[[], object] | None = None
        self._confirmed = False
        self._quitting = False

    def allows_close(self) -> bool:
        """Return whether the window may close now. Otherwise the question is open, and the
        window closes again when the person answers Quit."""
        if self._confirmed:
            return True
        if self.box is not None:
            self.box.raise_()
            self.box.activateWindow()
            return False
        jobs = self._jobs()
        running = sum(1 for job in jobs if job.status in RUNNING_STATUSES)
        if running == 0:
            return True
        queued = sum(1 for job in jobs if job.status is JobStatus.QUEUED)
        offer_tray = self.keep_running is not None and not self._quitting
        box = quit_question(
            self._parent, running, queued, self._on_sandbox(), offer_keep_running=offer_tray
        )
        box.finished.connect(lambda _result: self._answered(box))
        self.box = box
        box.open()
        return False

    def quit(self) -> None:
        """Close the window for a Quit command given outside it (the tray menu). While jobs
        run, the question offers Quit and Cancel only, since the window is already in the tray."""
        self._quitting = True
        try:
            self._close()
        finally:
            self._quitting = False

    def _answered(self, box: QMessageBox) -> None:
        self.box = None
        button = box.clickedButton()
        # Closing the box by the window manager clicks no button.
        role = box.buttonRole(button) if button is not None else None
        if role is QMessageBox.ButtonRole.AcceptRole:
            self._confirmed = True
            self._close()
        elif role is KEEP_RUNNING_ROLE and self.keep_running is not None:
            self.keep_running()


def quit_question(
    parent: QWidget,
    running: int,
    queued: int,
    sandbox: bool,
    *,
    offer_keep_running: bool = False,
) -> QMessageBox:
    """Build the question asked before quitting while ``running`` jobs are in flight.

    The caller connects ``finished`` and shows the box with ``open()``. The person chose
    Quit when ``box.buttonRole(box.clickedButton())`` is the accept role, and, with
    ``offer_keep_running``, to keep running in the tray when it is ``KEEP_RUNNING_ROLE``.
    """
    box = QMessageBox(parent)
    box.setWindowTitle(QCoreApplication.translate("QuitQuestion", "Quit Cmfy Desk"))
    box.setIcon(QMessageBox.Icon.Question)
    box.setTextFormat(Qt.TextFormat.PlainText)
    if running == 1:
        box.setText(
            QCoreApplication.translate("QuitQuestion", "1 job is still running. Quit anyway?")
        )
    else:
        box.setText(
            QCoreApplication.translate(
                "QuitQuestion", "{count} jobs are still running. Quit anyway?"
            ).format(count=running)
        )

    details: list[str] = []
    if sandbox:
        details.append(
            QCoreApplication.translate(
                "QuitQuestion",
                "They run on the built-in sandbox, which stops when Cmfy Desk quits, so they "
                "are lost. Retry runs them again after the next start.",
            )
        )
    else:
        details.append(
            QCoreApplication.translate(
                "QuitQuestion",
                "Jobs sent to cmfy.cloud keep running there, and their images are downloaded "
                "on the next start.",
            )
        )
    if queued == 1:
        details.append(
            QCoreApplication.translate(
                "QuitQuestion", "1 queued job stays in the queue and continues on the next start."
            )
        )
    elif queued > 1:
        details.append(
            QCoreApplication.translate(
                "QuitQuestion",
                "{count} queued jobs stay in the queue and continue on the next start.",
            ).format(count=queued)
        )
    if offer_keep_running:
        details.append(
            QCoreApplication.translate(
                "QuitQuestion",
                "Keep running in the tray to let the queue finish with the window hidden. The "
                "tray icon shows the window again.",
            )
        )
    box.setInformativeText("\n\n".join(details))

    quit_button = box.addButton(
        QCoreApplication.translate("QuitQuestion", "Quit"), QMessageBox.ButtonRole.AcceptRole
    )
    if offer_keep_running:
        keep_button = box.addButton(
            QCoreApplication.translate("QuitQuestion", "Keep running in the tray"),
            KEEP_RUNNING_ROLE,
        )
        # Hiding loses nothing, so Enter picks it.
        box.setDefaultButton(keep_button)
    else:
        box.setDefaultButton(quit_button)
    cancel_button = box.addButton(QMessageBox.StandardButton.Cancel)
    cancel_button.setText(QCoreApplication.translate("QuitQuestion", "Cancel"))
    box.setEscapeButton(cancel_button)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    return box
