"""The failed jobs of a batch grouped by cause, each group with a button that retries it."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, Qt, QTimer
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from cmfy_desk.scheduler.failures import FailureCause
from cmfy_desk.store import Job

# Job changes that arrive within this many milliseconds update the dialog once.
REFRESH_DELAY_MS = 300

# Width in pixels at which the first error message of a group is cut; the tooltip has it all.
MESSAGE_WIDTH = 480

# Causes in the order the dialog lists them: those worth retrying as they are come first.
CAUSE_ORDER = (
    FailureCause.TRANSIENT,
    FailureCause.SERVER,
    FailureCause.LOST,
    FailureCause.AUTH,
    FailureCause.VALIDATION,
)


def cause_text(cause: FailureCause) -> str:
    """Return the translated name of a failure cause."""
    texts = {
        FailureCause.TRANSIENT: QCoreApplication.translate("FailuresDialog", "Transient"),
        FailureCause.SERVER: QCoreApplication.translate("FailuresDialog", "Failed on the server"),
        FailureCause.LOST: QCoreApplication.translate("FailuresDialog", "Lost"),
        FailureCause.AUTH: QCoreApplication.translate("FailuresDialog", "Rejected key"),
        FailureCause.VALIDATION: QCoreApplication.translate("FailuresDialog", "Invalid workflow"),
        FailureCause.CANCELLED: QCoreApplication.translate("FailuresDialog", "Cancelled"),
    }
    return texts[cause]


def cause_advice(cause: FailureCause) -> str:
    """Return what a failure cause means for a retry."""
    texts = {
        FailureCause.TRANSIENT: QCoreApplication.translate(
            "FailuresDialog",
            "Network errors, timeouts, server errors and failed downloads. A retry usually works.",
        ),
        FailureCause.SERVER: QCoreApplication.translate(
            "FailuresDialog",
            "The workflow ran and failed on the GPU node. Check the error before retrying.",
        ),
        FailureCause.LOST: QCoreApplication.translate(
            "FailuresDialog", "The service no longer knows these jobs. A retry sends them again."
        ),
        FailureCause.AUTH: QCoreApplication.translate(
            "FailuresDialog",
            "The service rejected the API key or the account. Fix it in Settings first.",
        ),
        FailureCause.VALIDATION: QCoreApplication.translate(
            "FailuresDialog",
            "The service rejected the workflow. A retry fails again unless the workflow is fixed.",
        ),
        FailureCause.CANCELLED: "",
    }
    return texts[cause]


def jobs_text(count: int) -> str:
    if count == 1:
        return QCoreApplication.translate("FailuresDialog", "1 job")
    return QCoreApplication.translate("FailuresDialog", "{count} jobs").format(count=count)


class FailuresDialog(QDialog):
    """Lists the failed, lost and partial jobs of one batch by cause, with "Retry these" per
    cause and "Retry all". Cancelled jobs are left out: Retry selected queues them again.

    ``groups()`` returns the batch's failures by cause (as ``Engine.failure_groups``), and
    ``retry(cause)`` queues the jobs of one cause, or of every cause for None, and returns how
    many it queued. The dialog is non-modal; open it with ``open()`` or ``show()``, and call
    ``schedule_refresh()`` when a job of the batch changes.
    """

    def __init__(
        self,
        batch_name: str,
        groups: Callable[[], dict[FailureCause, list[Job]]],
        retry: Callable[[FailureCause | None], int],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Failed jobs of {name}").format(name=batch_name))
        self.setMinimumWidth(640)
        self._groups = groups
        self._retry = retry
        self.retry_buttons: dict[FailureCause, QPushButton] = {}

        heading = QLabel(self.tr("Failed jobs of batch {name}, by cause:").format(name=batch_name))
        heading.setWordWrap(True)
        self._grid_holder = QWidget()
        self._grid = QGridLayout(self._grid_holder)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setColumnStretch(0, 1)
        self._grid.setVerticalSpacing(10)
        self.empty_label = QLabel(self.tr("No failed jobs left in this batch."))
        self.empty_label.setEnabled(False)

        self.note = QLabel(
            self.tr(
                "Retried jobs go back to the queue with a new submission. Retrying also "
                "resumes the batch when it is paused."
            )
        )
        self.note.setWordWrap(True)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        self.retry_all_button = buttons.addButton(
            self.tr("Retry all"), QDialogButtonBox.ButtonRole.ActionRole
        )
        self.retry_all_button.clicked.connect(lambda: self._retry_clicked(None))

        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self._grid_holder)
        layout.addWidget(self.empty_label)
        layout.addStretch(1)
        layout.addWidget(self.note)
        layout.addWidget(buttons)

        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(REFRESH_DELAY_MS)
        self._refresh_timer.timeout.connect(self.refresh)
        self.refresh()

    def schedule_refresh(self) -> None:
        """Rebuild the list shortly, once for a burst of job changes."""
        self._refresh_timer.start()

    def refresh(self) -> None:
        """Rebuild the list from ``groups()``."""
        while self._grid.count():
            item = self._grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.retry_buttons.clear()

        groups = self._groups()
        row = 0
        for cause in CAUSE_ORDER:
            jobs = groups.get(cause)
            if not jobs:
                continue
            self._add_group(row, cause, jobs)
            row += 1
        self.empty_label.setVisible(row == 0)
        self.retry_all_button.setEnabled(row > 0)

    def _add_group(self, row: int, cause: FailureCause, jobs: list[Job]) -> None:
        group = QWidget()
        lines = QVBoxLayout(group)
        lines.setContentsMargins(0, 0, 0, 0)
        lines.setSpacing(2)
        title = QLabel(f"<b>{cause_text(cause)}</b> — {jobs_text(len(jobs))}")
        title.setTextFormat(Qt.TextFormat.RichText)
        lines.addWidget(title)

        first_error = next((job.error_message for job in jobs if job.error_message), "")
        line = first_error.split("\n", 1)[0] if first_error else self.tr("(no error message)")
        message = QLabel()
        message.setTextFormat(Qt.TextFormat.PlainText)
        message.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        message.setText(
            message.fontMetrics().elidedText(line, Qt.TextElideMode.ElideRight, MESSAGE_WIDTH)
        )
        message.setToolTip(first_error)
        lines.addWidget(message)

        advice = QLabel(cause_advice(cause))
        advice.setTextFormat(Qt.TextFormat.PlainText)
        advice.setWordWrap(True)
        advice.setEnabled(False)
        lines.addWidget(advice)

        button = QPushButton(self.tr("Retry these"))
        button.setToolTip(self.tr("Queue the {count} again").format(count=jobs_text(len(jobs))))
        button.clicked.connect(lambda: self._retry_clicked(cause))
        self.retry_buttons[cause] = button

        self._grid.addWidget(group, row, 0)
        self._grid.addWidget(button, row, 1, Qt.AlignmentFlag.AlignTop)

    def _retry_clicked(self, cause: FailureCause | None) -> None:
        self._retry(cause)
        self.refresh()
