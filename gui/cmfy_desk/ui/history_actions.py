"""The History tab's actions that run the current batch or job again, and their button."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QToolButton, QWidget

from cmfy_desk.store.history import BatchSummary, DaySummary, JobSummary
from cmfy_desk.ui.history_details import run_again_key
from cmfy_desk.ui.history_rerun import (
    HistoryRerunAction,
    HistoryRerunRequest,
    failed_count,
    request_for,
)


class HistoryRerunActions(QObject):
    """Run again, Edit and run… and Run failed jobs again, for the current batch or job.

    ``set_current()`` names the item they apply to and enables the actions that fit it.
    ``requested(HistoryRerunRequest)`` follows a triggered action. ``button`` is a tool button
    that runs again on a click and offers the other two in its menu.
    """

    requested = Signal(object)

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self._batch: BatchSummary | None = None
        self._job_id: int | None = None

        self.run_again = QAction(self.tr("Run again"), parent)
        self.run_again.setShortcut(run_again_key())
        # The History tree takes the key itself (see HistoryTree), so the action only shows it.
        self.run_again.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.run_again.setToolTip(
            self.tr(
                "Queue the selected batch, or job, again as a new batch with the same prompts "
                "and seeds ({key})"
            ).format(key=run_again_key().toString())
        )
        self.edit = QAction(self.tr("Edit and run…"), parent)
        self.edit.setToolTip(
            self.tr("Open the batch dialog with the workflow, seeds and prompts of the selection")
        )
        self.run_failed = QAction(self.tr("Run failed jobs again"), parent)
        self.run_failed.setToolTip(
            self.tr(
                "Queue the failed, cancelled, partial and lost jobs of the selected batch again "
                "as a new batch"
            )
        )
        self.run_again.triggered.connect(lambda: self.trigger(HistoryRerunAction.RUN_AGAIN))
        self.edit.triggered.connect(lambda: self.trigger(HistoryRerunAction.EDIT))
        self.run_failed.triggered.connect(lambda: self.trigger(HistoryRerunAction.RUN_FAILED))

        self.menu = QMenu(parent)
        self.menu.addAction(self.edit)
        self.menu.addAction(self.run_failed)
        self.button = QToolButton(parent)
        self.button.setDefaultAction(self.run_again)
        self.button.setMenu(self.menu)
        self.button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        self.button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.set_current(None, None)

    def actions(self) -> list[QAction]:
        """Return the actions in menu order."""
        return [self.run_again, self.edit, self.run_failed]

    def set_current(
        self,
        summary: DaySummary | BatchSummary | JobSummary | None,
        batch: BatchSummary | None,
    ) -> None:
        """Apply the actions to ``summary``: a batch, or a job of ``batch``. Days and None
        disable them."""
        self._batch = batch if isinstance(summary, BatchSummary | JobSummary) else None
        self._job_id = summary.id if isinstance(summary, JobSummary) else None
        has_jobs = self._batch is not None and self._batch.counts.total > 0
        self.run_again.setEnabled(has_jobs)
        self.edit.setEnabled(has_jobs)
        self.run_failed.setEnabled(
            self._batch is not None and self._job_id is None and failed_count(self._batch) > 0
        )
        # A tool button keeps its menu reachable only while the button is enabled.
        self.button.setEnabled(has_jobs)

    def request(self, action: HistoryRerunAction) -> HistoryRerunRequest | None:
        """Return the request ``action`` makes for the current item, or None when it does
        not apply."""
        enabled = {
            HistoryRerunAction.RUN_AGAIN: self.run_again,
            HistoryRerunAction.EDIT: self.edit,
            HistoryRerunAction.RUN_FAILED: self.run_failed,
        }[action].isEnabled()
        if self._batch is None or not enabled:
            return None
        return request_for(action, self._batch, self._job_id)

    def trigger(self, action: HistoryRerunAction) -> None:
        request = self.request(action)
        if request is not None:
            self.requested.emit(request)
