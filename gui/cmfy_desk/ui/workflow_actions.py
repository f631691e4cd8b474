"""The main window's workflow commands: loading files, the batch dialog, queueing what it
planned, running an output or a History batch again, and the model library window."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QAbstractButton, QMessageBox, QWidget

from cmfy_desk.app import Engine, EngineError
from cmfy_desk.scheduler.events import NoticeLevel
from cmfy_desk.settings import Settings
from cmfy_desk.store import Output, StoreError
from cmfy_desk.ui.batch_dialog import BatchDialog
from cmfy_desk.ui.batch_inputs import BatchInputs
from cmfy_desk.ui.history_rerun import (
    CONFIRM_JOBS,
    HistoryRerunAction,
    HistoryRerunRequest,
    RebuildError,
    RebuiltBatch,
    edit_inputs,
    rebuild_batch,
)
from cmfy_desk.ui.model_library_dialog import ModelLibraryDialog
from cmfy_desk.ui.rerun import RerunAction, open_variation_count_dialog, workflow_of_output
from cmfy_desk.ui.workflow_files import load_workflows
from cmfy_desk.workflows.batch import SeedMode
from cmfy_desk.workflows.definitions import NodeDefinitions
from cmfy_desk.workflows.expansion import BatchPlan
from cmfy_desk.workflows.formats import LoadedWorkflow
from cmfy_desk.workflows.preflight import PreflightReport

log = logging.getLogger(__name__)

# Seed modes the settings table accepts for "batch.seed_mode"; a seed list is not remembered.
_REMEMBERED_SEED_MODES = (SeedMode.FIXED, SeedMode.INCREMENT, SeedMode.RANDOM)


class WorkflowActions(QObject):
    """Adds workflows and queues their batches for the main window.

    ``engine()`` returns the engine in use or None; ``notify(level, text)`` shows a notice;
    ``spawn(coroutine, name)`` runs window work as a tracked task; ``save_settings()`` writes
    the settings file. ``batch_dialog`` and ``model_library_dialog`` are the open dialogs, and
    ``rerun_confirmation`` the question before a large History batch runs again.
    """

    def __init__(
        self,
        parent: QWidget,
        settings: Settings,
        *,
        engine: Callable[[], Engine | None],
        notify: Callable[[NoticeLevel, str], None],
        spawn: Callable[[Coroutine[Any, Any, None], str], None],
        save_settings: Callable[[], None],
    ) -> None:
        super().__init__(parent)
        self._parent = parent
        self._settings = settings
        self._engine = engine
        self._notify = notify
        self._spawn = spawn
        self._save_settings = save_settings
        self.batch_dialog: BatchDialog | None = None
        self.model_library_dialog: ModelLibraryDialog | None = None
        self.rerun_confirmation: QMessageBox | None = None

    # Adding workflows -------------------------------------------------------------------------

    def add_workflow_files(self, paths: list[Path]) -> None:
        """Load workflow files, pictures and folders off the UI thread, report each failure in
        the notice panel, and open the batch dialog with the ones that loaded."""
        if paths:
            self._spawn(self._load_and_ask(list(paths)), self.tr("Loading workflows"))

    async def _load_and_ask(self, paths: list[Path]) -> None:
        engine = self._engine()
        definitions = engine.definitions if engine else NodeDefinitions.bundled()
        loaded, errors = await asyncio.to_thread(load_workflows, paths, definitions)
        for error in errors:
            self._notify(NoticeLevel.ERROR, error)
        if loaded:
            self.ask_batch(loaded)

    def ask_batch(
        self, workflows: list[LoadedWorkflow], initial_inputs: BatchInputs | None = None
    ) -> None:
        """Open the batch dialog for ``workflows``, or add them to the one already open."""
        if self.batch_dialog is not None:
            self.batch_dialog.add_workflows(workflows)
            self.batch_dialog.raise_()
            return
        dialog = BatchDialog(
            workflows,
            self._settings,
            self._parent,
            engine=self._engine(),
            initial_inputs=initial_inputs,
        )
        dialog.accepted.connect(lambda: self._queue_batches(dialog))
        dialog.finished.connect(lambda _result: self._forget_batch_dialog(dialog))
        dialog.modelLibraryRequested.connect(self.open_model_library)
        self.batch_dialog = dialog
        # show(), not open(): a window-modal dialog would block the Tools menu, where the
        # model library that fixes a missing model URL is.
        dialog.show()

    def _forget_batch_dialog(self, dialog: BatchDialog) -> None:
        if self.batch_dialog is dialog:
            self.batch_dialog = None
        dialog.deleteLater()

    def _queue_batches(self, dialog: BatchDialog) -> None:
        self._remember_batch_settings(dialog)
        engine = self._engine()
        if engine is None:
            self._notify(
                NoticeLevel.ERROR,
                self.tr("Nothing was queued: not connected. Check the connection in Settings."),
            )
            return
        if engine is not dialog.engine:
            # The plans were checked against the old connection's model library.
            self._notify(
                NoticeLevel.ERROR,
                self.tr(
                    "Nothing was queued: the connection changed while the batch dialog was "
                    "open. Add the workflows again."
                ),
            )
            return
        for queued in dialog.planned:
            try:
                engine.queue_planned(
                    queued.workflow, queued.plan, queued.planned, dialog.selected_connection
                )
            except (ValueError, EngineError, StoreError) as exc:
                log.warning("Queueing %s failed: %s", queued.workflow.path, exc)
                self._notify(
                    NoticeLevel.ERROR,
                    self.tr("{name}: queueing failed: {error}").format(
                        name=queued.workflow.path.name, error=exc
                    ),
                )

    def _remember_batch_settings(self, dialog: BatchDialog) -> None:
        mode = dialog.selected_seed_mode()
        try:
            if mode in _REMEMBERED_SEED_MODES:
                self._settings.set("batch.count", dialog.count.value())
                self._settings.set("batch.seed_mode", str(mode))
        except ValueError as exc:
            log.warning("Not remembering the batch settings: %s", exc)
            return
        self._save_settings()

    # Running outputs again --------------------------------------------------------------------

    def rerun(self, output: Output, action: RerunAction) -> None:
        """Queue or edit the job that made ``output`` again, as ``action`` selects."""
        engine = self._engine()
        if engine is None:
            self._notify(
                NoticeLevel.ERROR,
                self.tr("Cannot run it again: not connected. Check the connection in Settings."),
            )
            return
        try:
            workflow = workflow_of_output(engine.store, output)
        except (KeyError, EngineError) as exc:
            self._notify(
                NoticeLevel.ERROR,
                self.tr("{name}: its job is no longer in the database ({error}).").format(
                    name=Path(output.local_path).name, error=exc
                ),
            )
            return
        if action is RerunAction.RUN_AGAIN:
            self._queue_now(workflow, 1, SeedMode.FIXED)
        elif action is RerunAction.VARY_SEED:
            open_variation_count_dialog(
                self._parent, lambda count: self._queue_now(workflow, count, SeedMode.RANDOM)
            )
        else:
            self.ask_batch([workflow], BatchInputs(count=1, seed_mode=SeedMode.FIXED))

    def _queue_now(self, workflow: LoadedWorkflow, count: int, seed_mode: SeedMode) -> None:
        engine = self._engine()
        if engine is None:
            return
        try:
            engine.add_batch(workflow, count, seed_mode)
        except (ValueError, EngineError, StoreError) as exc:
            log.warning("Running %s again failed: %s", workflow.name, exc)
            self._notify(
                NoticeLevel.ERROR,
                self.tr("{name}: running it again failed: {error}").format(
                    name=workflow.name, error=exc
                ),
            )

    # Running History batches again -----------------------------------------------------------

    def rerun_history(self, request: HistoryRerunRequest) -> None:
        """Queue a History batch or job again, or edit it in the batch dialog, as
        ``request.action`` selects. Queueing more than CONFIRM_JOBS jobs requests confirmation
        first."""
        if self._engine() is None:
            self._notify(
                NoticeLevel.ERROR,
                self.tr("Cannot run it again: not connected. Check the connection in Settings."),
            )
            return
        if request.action is not HistoryRerunAction.EDIT and request.job_count > CONFIRM_JOBS:
            self._confirm_rerun(request)
            return
        self._spawn(
            self._rerun_history(request),
            self.tr("Running batch '{name}' again").format(name=request.batch_name),
        )

    def _confirm_rerun(self, request: HistoryRerunRequest) -> None:
        if self.rerun_confirmation is not None:
            self.rerun_confirmation.raise_()
            return
        box = QMessageBox(self._parent)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(self.tr("Queue a large batch?"))
        box.setText(
            self.tr("Queue {count} jobs of batch '{name}' again?").format(
                count=f"{request.job_count:,}", name=request.batch_name
            )
        )
        box.setInformativeText(
            self.tr("This is more than {limit} jobs, and each job costs GPU time.").format(
                limit=CONFIRM_JOBS
            )
        )
        queue = box.addButton(self.tr("Queue"), QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)

        def finished(_result: int) -> None:
            clicked: QAbstractButton | None = box.clickedButton()
            self.rerun_confirmation = None
            box.deleteLater()
            if clicked is queue:
                self._spawn(
                    self._rerun_history(request),
                    self.tr("Running batch '{name}' again").format(name=request.batch_name),
                )

        box.finished.connect(finished)
        self.rerun_confirmation = box
        box.open()

    async def _rerun_history(self, request: HistoryRerunRequest) -> None:
        engine = self._engine()
        if engine is None:
            return
        try:
            # Decoding thousands of stored prompts takes long enough to stall the window.
            rebuilt = await asyncio.to_thread(rebuild_batch, engine.store.path, request)
        except RebuildError as exc:
            log.warning("Running batch %d again failed: %s", request.batch_id, exc)
            self._notify(NoticeLevel.ERROR, str(exc))
            return
        if self._engine() is not engine:
            self._notify(
                NoticeLevel.ERROR,
                self.tr(
                    "Nothing was queued: the connection changed while batch '{name}' was read. "
                    "Run it again."
                ).format(name=request.batch_name),
            )
            return
        if request.action is HistoryRerunAction.EDIT:
            self.ask_batch([rebuilt.workflow], edit_inputs(rebuilt))
        else:
            self._queue_rebuilt(engine, rebuilt)

    def _queue_rebuilt(self, engine: Engine, rebuilt: RebuiltBatch) -> None:
        """Queue the rebuilt jobs as a new batch on the connection the batch ran on."""
        name = rebuilt.batch.name
        connection = rebuilt.batch.connection
        report = self._checked_report(engine, rebuilt)
        if report is None:
            return

        # The jobs keep the seeds they had, so the new batch records them as a seed list.
        seeds = tuple(job.seed for job in rebuilt.jobs if job.seed is not None)
        plan = BatchPlan(count=len(rebuilt.jobs), seed_mode=SeedMode.LIST, seeds=seeds)
        try:
            batch, jobs = engine.queue_planned(
                rebuilt.workflow, plan, rebuilt.planned(report), connection
            )
        except (ValueError, EngineError, StoreError) as exc:
            log.warning("Running batch %d again failed: %s", rebuilt.batch.id, exc)
            self._notify(
                NoticeLevel.ERROR,
                self.tr("Batch '{name}': running it again failed: {error}").format(
                    name=name, error=exc
                ),
            )
            return

        log.info("Ran batch %d again as batch %d: %d jobs", rebuilt.batch.id, batch.id, len(jobs))
        self._notify(
            NoticeLevel.INFO,
            self.tr("Queued {count} jobs of batch '{name}' again as batch '{new}'.").format(
                count=len(jobs), name=name, new=batch.name
            ),
        )

    def _checked_report(self, engine: Engine, rebuilt: RebuiltBatch) -> PreflightReport | None:
        """Return the pre-flight report of the first rebuilt job on the batch's connection.
        Return None after a notice when that connection is gone or the report has errors."""
        name = rebuilt.batch.name
        connection = rebuilt.batch.connection
        if connection not in engine.connection_labels:
            message = self.tr(
                "Batch '{name}' ran on the connection {connection}, which is no longer set up. "
                "Nothing was queued. Use Edit and run… to choose a connection."
            ).format(name=name, connection=connection)
        else:
            report = engine.preflight(rebuilt.workflow, connection)
            if not report.errors:
                return report
            errors = report.errors
            message = self.tr(
                "Batch '{name}' cannot be run again: {details} Nothing was queued. Use "
                "Edit and run… to change the workflow."
            ).format(name=name, details="; ".join(finding.message for finding in errors))
        log.warning("Not running batch %d again: %s", rebuilt.batch.id, message)
        self._notify(NoticeLevel.ERROR, message)
        return None

    # Model library ----------------------------------------------------------------------------

    def open_model_library(self) -> None:
        if self.model_library_dialog is not None:
            self.model_library_dialog.raise_()
            self.model_library_dialog.activateWindow()
            return
        engine = self._engine()
        if engine is None:
            self._notify(
                NoticeLevel.ERROR,
                self.tr(
                    "The model library is in the database, which opens with the connection. "
                    "Check the connection in Settings."
                ),
            )
            return
        dialog = ModelLibraryDialog(engine.model_library, self._parent)
        dialog.finished.connect(lambda _result: self._forget_model_library(dialog))
        dialog.libraryChanged.connect(self._on_library_changed)
        self.model_library_dialog = dialog
        # show(), not open(): the library stays beside the window while workflows are added.
        dialog.show()

    def _on_library_changed(self) -> None:
        if self.batch_dialog is not None:
            self.batch_dialog.reload_library()

    def _forget_model_library(self, dialog: ModelLibraryDialog) -> None:
        if self.model_library_dialog is dialog:
            self.model_library_dialog = None
        dialog.deleteLater()

    def engine_changed(self) -> None:
        """Close the dialogs that read the old engine's database."""
        if self.model_library_dialog is not None:
            self.model_library_dialog.reject()
        if self.rerun_confirmation is not None:
            self.rerun_confirmation.reject()
