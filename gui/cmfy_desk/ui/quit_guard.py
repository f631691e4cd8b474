"""The question asked before the window closes while jobs are running."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from cmfy_desk.store import IN_FLIGHT_STATUSES, Job, JobStatus

# Jobs that quitting interrupts: they hold a slot of the service or are downloading.
RUNNING_STATUSES = frozenset({*IN_FLIGHT_STATUSES, JobStatus.DOWNLOADING})


class QuitGuard:
    """Decides whether the window may close, and requests confirmation while jobs are running.

    ``jobs()`` returns the jobs the window shows, ``on_sandbox()`` whether they run on the
    built-in sandbox, and ``close()`` closes the window again once the person chose Quit.
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
        self._confirmed = False

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
        box = quit_question(self._parent, running, queued, self._on_sandbox())
        box.finished.connect(lambda _result: self._answered(box))
        self.box = box
        box.open()
        return False

    def _answered(self, box: QMessageBox) -> None:
        self.box = None
        button = box.clickedButton()
        if button is not None and box.buttonRole(button) is QMessageBox.ButtonRole.AcceptRole:
            self._confirmed = True
            self._close()


def quit_question(parent: QWidget, running: int, queued: int, sandbox: bool) -> QMessageBox:
    """Build the question asked before quitting while ``running`` jobs are in flight.

    The caller connects ``finished`` and shows the box with ``open()``. The person chose
    Quit when ``box.buttonRole(box.clickedButton())`` is the accept role.
    """

    def tr(text: str) -> str:
        return QCoreApplication.translate("QuitQuestion", text)

    box = QMessageBox(parent)
    box.setWindowTitle(tr("Quit Cmfy Desk"))
    box.setIcon(QMessageBox.Icon.Question)
    box.setTextFormat(Qt.TextFormat.PlainText)
    if running == 1:
        box.setText(tr("1 job is still running. Quit anyway?"))
    else:
        box.setText(tr("{count} jobs are still running. Quit anyway?").format(count=running))

    details: list[str] = []
    if sandbox:
        details.append(
            tr(
                "They run on the built-in sandbox, which stops when Cmfy Desk quits, so they "
                "are lost. Retry runs them again after the next start."
            )
        )
    else:
        details.append(
            tr(
                "Jobs sent to cmfy.cloud keep running there, and their images are downloaded "
                "on the next start."
            )
        )
    if queued == 1:
        details.append(tr("1 queued job stays in the queue and continues on the next start."))
    elif queued > 1:
        details.append(
            tr("{count} queued jobs stay in the queue and continue on the next start.").format(
                count=queued
            )
        )
    box.setInformativeText("\n\n".join(details))

    quit_button = box.addButton(tr("Quit"), QMessageBox.ButtonRole.AcceptRole)
    cancel_button = box.addButton(QMessageBox.StandardButton.Cancel)
    cancel_button.setText(tr("Cancel"))
    box.setDefaultButton(quit_button)
    box.setEscapeButton(cancel_button)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    return box
