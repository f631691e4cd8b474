"""Queue control in the window: order, priority, batch pause, cancelling the queue, retrying a
batch's failures, and the batch estimate in the status bar."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Coroutine
from functools import partial
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QMessageBox, QWidget

from cmfy_desk.app import Engine, EngineError
from cmfy_desk.scheduler.events import NoticeLevel
from cmfy_desk.scheduler.failures import FailureCause
from cmfy_desk.store import Job, JobStatus, StoreError
from cmfy_desk.ui.failures_dialog import FailuresDialog, jobs_text
from cmfy_desk.ui.job_model import JobTableModel
from cmfy_desk.ui.job_table import JobTableView

log = logging.getLogger(__name__)

PRIORITY_HIGH = 10
PRIORITY_NORMAL = 0
PRIORITY_LOW = -10

# An estimated finish further away than this shows its day as well as its time.
SAME_DAY_SECONDS = 20 * 3600
# Seconds before the estimated finish time of the same batch is asked for again. The engine
# reads every job of the batch for it, which takes tens of milliseconds for 1,000 jobs.
ESTIMATE_REFRESH_SECONDS = 5.0

# Errors of a failed engine call: engine not started, job or batch not found, database error.
_ENGINE_ERRORS = (EngineError, StoreError, KeyError, ValueError)


class QueueActions(QObject):
    """The actions of the Queue menu and the job table's context menu that change the queue.

    ``engine()`` returns the engine in use, or None; ``notify(level, text)`` shows a message in
    the notice panel; ``spawn(coroutine, name)`` runs a task that the window owns. The dialogs
    and message boxes are non-modal and kept in attributes while open, for the tests.
    """

    def __init__(
        self,
        parent: QWidget,
        *,
        engine: Callable[[], Engine | None],
        table: JobTableView,
        model: JobTableModel,
        notify: Callable[[NoticeLevel, str], None],
        spawn: Callable[[Coroutine[Any, Any, None], str], None],
    ) -> None:
        super().__init__(parent)
        self._parent = parent
        self._engine = engine
        self._table = table
        self._model = model
        self._notify = notify
        self._spawn = spawn
        self.confirm_box: QMessageBox | None = None
        self.failures_dialog: FailuresDialog | None = None
        self._failures_batch: int | None = None
        # The last finish time the engine estimated: batch id, when (monotonic seconds), time.
        self._estimate: tuple[int, float, float | None] | None = None

        self._build_actions()
        table.moveRequested.connect(self.move_dropped)
        table.selectionModel().selectionChanged.connect(self.update_enabled)
        self.update_enabled()

    def _build_actions(self) -> None:
        def action(text: str, slot: Callable[..., object], tip: str = "") -> QAction:
            created = QAction(text, self._parent)
            created.triggered.connect(slot)
            if tip:
                created.setStatusTip(tip)
                created.setToolTip(tip)
            return created

        self.move_top_action = action(
            self.tr("Move to top"),
            lambda: self.move_selected("top"),
            self.tr("Send the selected queued jobs before all others"),
        )
        self.move_top_action.setShortcut(QKeySequence(self.tr("Ctrl+Home")))
        self.move_bottom_action = action(
            self.tr("Move to bottom"),
            lambda: self.move_selected("bottom"),
            self.tr("Send the selected queued jobs after all others"),
        )
        self.move_bottom_action.setShortcut(QKeySequence(self.tr("Ctrl+End")))

        self.priority_menu = QMenu(self.tr("Priority"), self._parent)
        self.batch_priority_menu = QMenu(self.tr("Batch priority"), self._parent)
        for label, priority in (
            (self.tr("High (10)"), PRIORITY_HIGH),
            (self.tr("Normal (0)"), PRIORITY_NORMAL),
            (self.tr("Low (-10)"), PRIORITY_LOW),
        ):
            job_action = self.priority_menu.addAction(label)
            job_action.triggered.connect(
                lambda _checked=False, value=priority: self.set_selected_priority(value)
            )
            batch_action = self.batch_priority_menu.addAction(label)
            batch_action.triggered.connect(
                lambda _checked=False, value=priority: self.set_batch_priority(value)
            )
        self.priority_menu.menuAction().setStatusTip(
            self.tr("Queued jobs of higher priority are sent first")
        )
        self.batch_priority_menu.menuAction().setStatusTip(
            self.tr("Give every job of the selected jobs' batches this priority")
        )

        self.pause_batch_action = action(
            self.tr("Pause batch"),
            self.toggle_batch_pause,
            self.tr("Hold the queued jobs of the selected jobs' batches; running jobs continue"),
        )
        self.pause_batch_action.setCheckable(True)
        self.retry_failed_action = action(
            self.tr("Retry failed jobs of batch…"),
            self.open_failures,
            self.tr("Show the batch's failures by cause and queue them again"),
        )
        self.cancel_batch_action = action(
            self.tr("Cancel queued jobs of batch…"),
            lambda: self.confirm_cancel_queued(whole_queue=False),
            self.tr("Cancel the jobs of the selected jobs' batches that are still queued"),
        )
        self.cancel_all_action = action(
            self.tr("Cancel all queued jobs…"),
            lambda: self.confirm_cancel_queued(whole_queue=True),
            self.tr("Cancel every job that is still queued; running jobs continue"),
        )
        self.batch_menu = QMenu(self.tr("Batch"), self._parent)
        self.batch_menu.addAction(self.pause_batch_action)
        self.batch_menu.addMenu(self.batch_priority_menu)
        self.batch_menu.addSeparator()
        self.batch_menu.addAction(self.retry_failed_action)
        self.batch_menu.addAction(self.cancel_batch_action)

    def menu_entries(self) -> list[QAction | None]:
        """Return the actions for the job table's context menu; None is a separator."""
        return [
            self.move_top_action,
            self.move_bottom_action,
            self.priority_menu.menuAction(),
            None,
            self.batch_menu.menuAction(),
        ]

    # State ------------------------------------------------------------------------------------

    def update_enabled(self) -> None:
        """Enable the actions that apply to the selection, and show whether its batches are
        paused."""
        connected = self._engine() is not None
        jobs = self._table.selected_jobs()
        queued = any(job.status is JobStatus.QUEUED for job in jobs)
        batches = self._selected_batch_ids(jobs)
        for moving in (self.move_top_action, self.move_bottom_action):
            moving.setEnabled(connected and queued)
        self.priority_menu.setEnabled(connected and bool(jobs))
        self.batch_menu.setEnabled(connected and bool(batches))
        for batch_action in (
            self.pause_batch_action,
            self.retry_failed_action,
            self.cancel_batch_action,
        ):
            batch_action.setEnabled(connected and bool(batches))
        self.batch_priority_menu.setEnabled(connected and bool(batches))
        self.cancel_all_action.setEnabled(connected)

        paused = bool(batches) and all(self._model.batch_paused(batch) for batch in batches)
        if self.pause_batch_action.isChecked() != paused:
            self.pause_batch_action.setChecked(paused)

    def _selected_batch_ids(self, jobs: list[Job] | None = None) -> list[int]:
        """Return the batches of the selected jobs, in table order, each once."""
        selected = self._table.selected_jobs() if jobs is None else jobs
        return list(dict.fromkeys(job.batch_id for job in selected))

    def _call(self, what: str, call: Callable[[], object]) -> bool:
        """Run an engine call; report a failure in the notice panel and return False."""
        try:
            call()
        except _ENGINE_ERRORS as exc:
            log.warning("%s failed: %s", what, exc)
            self._notify(
                NoticeLevel.ERROR, self.tr("{what} failed: {error}").format(what=what, error=exc)
            )
            return False
        return True

    # Order and priority -----------------------------------------------------------------------

    def move_selected(self, to: str) -> None:
        """Move the selected queued jobs to the ``"top"`` or ``"bottom"`` of the queue.

        The queue is ordered by priority first, so the jobs take the priority of the jobs
        they move past: the highest queued priority at the top, the lowest at the bottom.
        """
        engine = self._engine()
        jobs = [job for job in self._table.selected_jobs() if job.status is JobStatus.QUEUED]
        if engine is None or not jobs:
            return
        ids = [job.id for job in jobs]
        others = [job for job in self._model.queued_jobs() if job.id not in set(ids)]
        priority: int | None = None
        if others:
            priority = others[0].priority if to == "top" else others[-1].priority
        self._call(
            self.tr("Moving jobs"), lambda: self._move(engine, jobs, priority, to=to, before=None)
        )

    def move_dropped(self, job_ids: list[int], before_job_id: int | None) -> None:
        """Move jobs dragged in the table before the queued job ``before_job_id``, or to the
        end of the queue. They take the priority of the jobs around their new place."""
        engine = self._engine()
        jobs = [
            job
            for job in (self._model.job(job_id) for job_id in job_ids)
            if job is not None and job.status is JobStatus.QUEUED
        ]
        if engine is None or not jobs:
            return
        priority: int | None = None
        target = self._model.job(before_job_id) if before_job_id is not None else None
        if target is not None:
            priority = target.priority
        else:
            moving = {job.id for job in jobs}
            others = [job for job in self._model.queued_jobs() if job.id not in moving]
            priority = others[-1].priority if others else None
        self._call(
            self.tr("Moving jobs"),
            lambda: self._move(engine, jobs, priority, to=None, before=before_job_id),
        )

    def _move(
        self,
        engine: Engine,
        jobs: list[Job],
        priority: int | None,
        *,
        to: str | None,
        before: int | None,
    ) -> None:
        ids = [job.id for job in jobs]
        if priority is not None and any(job.priority != priority for job in jobs):
            engine.set_priority(ids, priority)
        if to is not None:
            engine.move_jobs(ids, to)
        else:
            engine.move_jobs_before(ids, before)

    def set_selected_priority(self, priority: int) -> None:
        engine = self._engine()
        ids = [job.id for job in self._table.selected_jobs()]
        if engine is not None and ids:
            self._call(self.tr("Setting the priority"), lambda: engine.set_priority(ids, priority))

    def set_batch_priority(self, priority: int) -> None:
        engine = self._engine()
        if engine is None:
            return
        for batch_id in self._selected_batch_ids():
            self._call(
                self.tr("Setting the batch priority"),
                partial(engine.set_batch_priority, batch_id, priority),
            )

    # Batch pause ------------------------------------------------------------------------------

    def toggle_batch_pause(self, paused: bool) -> None:
        """Pause the batches of the selected jobs, or resume them when ``paused`` is False."""
        engine = self._engine()
        batches = self._selected_batch_ids()
        if engine is not None:
            for batch_id in batches:
                if paused:
                    self._call(self.tr("Pausing the batch"), partial(engine.pause_batch, batch_id))
                else:
                    self._call(
                        self.tr("Resuming the batch"), partial(engine.resume_batch, batch_id)
                    )
        # The engine announces no job change for a batch pause, so the rows are repainted here.
        self._model.refresh_batches()
        self.update_enabled()

    # Cancelling the queue ---------------------------------------------------------------------

    def confirm_cancel_queued(self, *, whole_queue: bool) -> None:
        """Ask in a non-modal message box whether to cancel the queued jobs of the selected
        jobs' batches, or of the whole queue. The box gives their number, and its accept
        button cancels them."""
        if self._engine() is None or self.confirm_box is not None:
            return
        batches: list[int] | None = None if whole_queue else self._selected_batch_ids()
        if batches == []:
            return
        if batches is None:
            count = len(self._model.queued_jobs())
        else:
            count = sum(len(self._model.queued_jobs(batch_id)) for batch_id in batches)

        box = QMessageBox(self._parent)
        box.setWindowTitle(self.tr("Cancel queued jobs"))
        box.setTextFormat(Qt.TextFormat.PlainText)
        if count == 0:
            box.setIcon(QMessageBox.Icon.Information)
            box.setText(self.tr("No jobs are queued there."))
            box.addButton(QMessageBox.StandardButton.Ok)
        else:
            box.setIcon(QMessageBox.Icon.Question)
            box.setText(self._cancel_question(count, batches))
            box.setInformativeText(
                self.tr(
                    "Running jobs continue. Cancelled jobs stay in the table, and Retry "
                    "selected queues them again, so there is no undo."
                )
            )
            yes = box.addButton(
                self.tr("Cancel {count}").format(count=jobs_text(count)),
                QMessageBox.ButtonRole.AcceptRole,
            )
            keep = box.addButton(self.tr("Keep them"), QMessageBox.ButtonRole.RejectRole)
            box.setDefaultButton(keep)
            box.setEscapeButton(keep)
            yes.clicked.connect(lambda: self._cancel_queued(batches))
        box.finished.connect(lambda _result: self._forget_confirm_box(box))
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.confirm_box = box
        box.open()

    def _cancel_question(self, count: int, batches: list[int] | None) -> str:
        if batches is None:
            if count == 1:
                return self.tr("Cancel the 1 queued job?")
            return self.tr("Cancel all {count} queued jobs?").format(count=count)
        if len(batches) == 1:
            name = self._model.batch_name(batches[0]) or str(batches[0])
            return self.tr("Cancel the queued jobs of batch {name} ({count})?").format(
                name=name, count=jobs_text(count)
            )
        return self.tr("Cancel the queued jobs of {batches} batches ({count})?").format(
            batches=len(batches), count=jobs_text(count)
        )

    def _forget_confirm_box(self, box: QMessageBox) -> None:
        if self.confirm_box is box:
            self.confirm_box = None

    def _cancel_queued(self, batches: list[int] | None) -> None:
        engine = self._engine()
        if engine is not None:
            self._spawn(self._cancel_queued_jobs(engine, batches), self.tr("Cancelling jobs"))

    async def _cancel_queued_jobs(self, engine: Engine, batches: list[int] | None) -> None:
        if batches is None:
            await engine.cancel_queued(None)
            return
        for batch_id in batches:
            await engine.cancel_queued(batch_id)

    # Failures ---------------------------------------------------------------------------------

    def open_failures(self) -> None:
        """Open the failures of the current row's batch by cause, with retry buttons."""
        job = self._table.current_job()
        if job is None or self._engine() is None:
            return
        batch_id = job.batch_id
        if self.failures_dialog is not None:
            if self._failures_batch == batch_id:
                self.failures_dialog.refresh()
                self.failures_dialog.raise_()
                self.failures_dialog.activateWindow()
                return
            self.failures_dialog.close()
        dialog = FailuresDialog(
            self._model.batch_name(batch_id) or str(batch_id),
            lambda: self._failure_groups(batch_id),
            lambda cause: self.retry_failed(batch_id, cause),
            self._parent,
        )
        dialog.finished.connect(lambda _result: self._forget_failures_dialog(dialog))
        self.failures_dialog = dialog
        self._failures_batch = batch_id
        dialog.open()

    def _failure_groups(self, batch_id: int) -> dict[FailureCause, list[Job]]:
        engine = self._engine()
        if engine is None:
            return {}
        try:
            return engine.failure_groups(batch_id)
        except _ENGINE_ERRORS as exc:
            log.warning("Reading the failures of batch %d failed: %s", batch_id, exc)
            return {}

    def retry_failed(self, batch_id: int, cause: FailureCause | None) -> int:
        """Queue again the failed jobs of a batch, of one cause or all, and resume the batch
        when it is paused. Return how many jobs were queued."""
        engine = self._engine()
        if engine is None:
            return 0
        retried: list[int] = []
        if not self._call(
            self.tr("Retrying jobs"),
            lambda: retried.append(engine.retry_failed(batch_id, cause)),
        ):
            return 0
        count = retried[0]
        if count and self._model.batch_paused(batch_id):
            self._call(self.tr("Resuming the batch"), lambda: engine.resume_batch(batch_id))
            self._model.refresh_batches()
            self.update_enabled()
        return count

    def _forget_failures_dialog(self, dialog: FailuresDialog) -> None:
        if self.failures_dialog is dialog:
            self.failures_dialog = None
            self._failures_batch = None
        dialog.deleteLater()

    def job_changed(self, job: Job) -> None:
        """Update the failures dialog when a job of its batch ends or is queued again."""
        if self.failures_dialog is not None and job.batch_id == self._failures_batch:
            self.failures_dialog.schedule_refresh()

    # Estimate ---------------------------------------------------------------------------------

    def batch_estimate(self) -> tuple[str, str]:
        """Return the status bar text about the current row's batch while it has jobs left,
        and its tooltip; empty texts otherwise."""
        engine = self._engine()
        job = self._table.current_job()
        if engine is None or job is None:
            return "", ""
        batch_id = job.batch_id
        left = self._model.unfinished_count(batch_id)
        if left == 0:
            return "", ""
        left_text = (
            self.tr("1 job left") if left == 1 else self.tr("{count} jobs left").format(count=left)
        )
        finish_at = self._finish_time(engine, batch_id)
        if self._model.batch_paused(batch_id):
            detail = self.tr("batch paused")
        elif engine.status().paused:
            detail = self.tr("queue paused")
        elif finish_at is None:
            detail = self.tr("no estimate yet")
        else:
            form = "%a %H:%M" if finish_at - time.time() > SAME_DAY_SECONDS else "%H:%M"
            detail = self.tr("done ≈ {time}").format(
                time=time.strftime(form, time.localtime(finish_at))
            )
        name = self._model.batch_name(batch_id) or str(batch_id)
        tooltip = self.tr(
            "Batch {name}. The estimate assumes that its jobs take as long as the last "
            "finished jobs on this connection, and use every running slot."
        ).format(name=name)
        return f"{left_text} · {detail}", tooltip

    def _finish_time(self, engine: Engine, batch_id: int) -> float | None:
        now = time.monotonic()
        if self._estimate is not None:
            cached_batch, computed_at, finish_at = self._estimate
            if cached_batch == batch_id and now - computed_at < ESTIMATE_REFRESH_SECONDS:
                return finish_at
        try:
            finish_at = engine.batch_estimate(batch_id).finish_at
        except _ENGINE_ERRORS as exc:
            log.debug("No estimate for batch %d: %s", batch_id, exc)
            finish_at = None
        self._estimate = (batch_id, now, finish_at)
        return finish_at
