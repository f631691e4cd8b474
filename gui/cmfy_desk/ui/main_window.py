"""The main window: the job table over the gallery, menus, drops, and the status bar."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDesktopServices,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QMainWindow,
    QSplitter,
    QTabWidget,
)

from cmfy_desk.app import SANDBOX_CONNECTION, Engine, EngineError, scheduler_options
from cmfy_desk.bridge.tunnel import check_tunnel, validate_public_base_url
from cmfy_desk.connections import ConnectionList
from cmfy_desk.keystore import ApiKeyStore
from cmfy_desk.paths import bundled_workflows
from cmfy_desk.scheduler import Notice, SchedulerOptions
from cmfy_desk.scheduler.events import NoticeLevel
from cmfy_desk.settings import Settings
from cmfy_desk.store import FINAL_STATUSES, Batch, Job, Output, StoreError
from cmfy_desk.ui import compare
from cmfy_desk.ui.about_dialog import (
    add_missing_shortcuts,
    open_about_dialog,
    open_log_folder,
    open_shortcuts_dialog,
)
from cmfy_desk.ui.batch_dialog import BatchDialog
from cmfy_desk.ui.connection import (
    connection_from_settings,
    connections_file,
    engine_from_settings,
    output_root_from_settings,
    webhook_port,
)
from cmfy_desk.ui.connections_dialog import ConnectionsDialog
from cmfy_desk.ui.dialogs import SettingsDialog
from cmfy_desk.ui.engine_signals import EngineSignals
from cmfy_desk.ui.gallery import GalleryPanel
from cmfy_desk.ui.history import HistoryPanel
from cmfy_desk.ui.image_canvas import ImageDecoder
from cmfy_desk.ui.image_details import OutputDetails, load_output_details
from cmfy_desk.ui.job_details import JobDetailsPanel
from cmfy_desk.ui.job_model import JobTableModel
from cmfy_desk.ui.job_table import JobTableView
from cmfy_desk.ui.metrics_dialog import open_metrics_dialog
from cmfy_desk.ui.notices import NoticePanel
from cmfy_desk.ui.notifications import (
    NotificationPreferences,
    Notifier,
    batch_outcome_from_counts,
)
from cmfy_desk.ui.queue_actions import QueueActions
from cmfy_desk.ui.queue_area import QueueArea, QueueSplitter
from cmfy_desk.ui.queue_transfer import QueueTransfer
from cmfy_desk.ui.quit_guard import RUNNING_STATUSES, QuitGuard
from cmfy_desk.ui.status_bar import WindowStatusBar
from cmfy_desk.ui.tasks import WindowTasks
from cmfy_desk.ui.viewer import ImageViewer
from cmfy_desk.ui.warm_up import warm_up_later
from cmfy_desk.ui.workflow_actions import WorkflowActions

log = logging.getLogger(__name__)

STATUS_REFRESH_MS = 500
# A job's change refreshes the status bar after this delay, in milliseconds, so that the
# figures follow the end of the last job at once and a burst of changes costs one refresh.
STATUS_AFTER_CHANGE_MS = 50
ERROR_FLASH_MS = 10_000
INFO_FLASH_MS = 5_000


class MainWindow(QMainWindow):
    """The window over one engine. ``engine`` is None when none could start (no API key yet,
    or ``start_error``). The window then shows a notice and starts one when Settings change.

    ``closed`` is emitted from the close event; the caller then awaits ``shutdown()``. While
    jobs are running, ``quit_guard`` requests confirmation, and the window closes only on Quit.
    """

    closed = Signal()

    def __init__(
        self,
        engine: Engine | None,
        settings: Settings,
        keystore: ApiKeyStore,
        demo: bool,
        *,
        database: Path | None = None,
        default_output_dir: Path | None = None,
        start_error: str | None = None,
        thumbnail_dir: Path | None = None,
    ) -> None:
        super().__init__()
        if engine is None and (database is None or default_output_dir is None):
            raise ValueError("Without an engine, pass the database and default output folder.")
        self.engine: Engine | None = None
        self.settings = settings
        self.keystore = keystore
        self.demo = demo
        self._database = database or (engine.database if engine else Path())
        self._default_output_dir = default_output_dir or (engine.output_root if engine else Path())
        self.settings_dialog: SettingsDialog | None = None
        self.connections_dialog: ConnectionsDialog | None = None
        self._file_dialog: QFileDialog | None = None
        self._tasks = WindowTasks(self._report_task_error)
        self.workflow_actions = WorkflowActions(
            self,
            settings,
            engine=lambda: self.engine,
            notify=self.notify,
            spawn=self._tasks.spawn,
            save_settings=self._save_settings,
        )
        # Settings accepted twice in a row must not start two engines at once.
        self._restart_lock = asyncio.Lock()
        self._connecting = False
        self._viewers: list[ImageViewer] = []
        self.quit_guard = QuitGuard(
            self,
            lambda: self.job_model.jobs(),
            lambda: self.engine is not None and self.engine.connection.kind == SANDBOX_CONNECTION,
            self.close,
        )
        # Batches whose end was announced in this session, so that a retried job that ends
        # again does not announce its batch twice.
        self._announced_batches: set[int] = set()
        # The queue settings the engine in use was started with. The caller starts the first
        # engine from the same settings.
        self._queue_options = scheduler_options(settings)

        # X11 appends " — <application display name>" to a title that does not end with it.
        self.setWindowTitle(self.tr("Demo — Cmfy Desk") if demo else self.tr("Cmfy Desk"))
        self.setAcceptDrops(True)
        self.resize(1200, 800)

        self.signals = EngineSignals(self)
        # Decodes full images for viewers and compare windows, apart from the thumbnails.
        self.image_decoder = ImageDecoder(self)
        self.job_model = JobTableModel(parent=self, find_batch=self._find_batch)
        # The thumbnail cache sits beside the database unless the caller names a folder.
        self.gallery_panel = GalleryPanel(thumbnail_dir or self._database.parent / "thumbnails")
        self.gallery_model = self.gallery_panel.model
        self.history_panel = HistoryPanel(
            self._database, thumbnail_dir or self._database.parent / "thumbnails"
        )
        self.signals.jobChanged.connect(self.history_panel.job_changed)
        self.signals.jobChanged.connect(self._on_job_changed)
        self.signals.jobsQueued.connect(self.job_model.add_jobs)
        self.signals.outputSaved.connect(self.gallery_model.add_output)
        self.signals.notice.connect(self._on_engine_notice)
        self.notifier = Notifier(
            lambda: self.engine.store if self.engine else None,
            self.notify,
            NotificationPreferences.from_settings(settings),
            parent=self,
        )
        self.notifier.attach(self.signals)

        self._build_actions()
        self._build_central()
        self._build_notices()
        self._build_menus()
        add_missing_shortcuts(self)
        self._build_status_bar()
        self._restore_geometry()
        # The saved state may show the notice dock. Empty, it is only space taken from the
        # queue, so it stays hidden until the first notice.
        self.notice_dock.hide()

        self._status_timer = QTimer(self)
        self._status_timer.setInterval(STATUS_REFRESH_MS)
        self._status_timer.timeout.connect(self.refresh_status)
        self._status_timer.start()
        self._status_after_change = QTimer(self)
        self._status_after_change.setSingleShot(True)
        self._status_after_change.setInterval(STATUS_AFTER_CHANGE_MS)
        self._status_after_change.timeout.connect(self.refresh_status)

        self._attach(engine)
        warm_up_later(self)
        keep_days = int(settings.get("history.keep_days"))
        if keep_days > 0:
            self._tasks.spawn(
                self.history_panel.prune_at_start(keep_days), self.tr("Pruning the history")
            )
        if start_error is not None:
            self.notify(
                NoticeLevel.ERROR,
                self.tr("Cannot connect: {error}").format(error=start_error),
            )
        elif engine is None:
            self.notify(
                NoticeLevel.WARNING,
                self.tr(
                    "No API key for cmfy.cloud is set, so no jobs can run. Open File → "
                    "Settings… and enter the key, or choose the built-in sandbox there."
                ),
            )

    # Building ---------------------------------------------------------------------------------

    def _build_central(self) -> None:
        self.job_table = JobTableView(self.job_model, [])
        self.queue_actions = QueueActions(
            self,
            engine=lambda: self.engine,
            table=self.job_table,
            model=self.job_model,
            notify=self.notify,
            spawn=self._tasks.spawn,
        )
        self.queue_transfer = QueueTransfer(
            self, engine=lambda: self.engine, model=self.job_model, notify=self.notify
        )
        self.job_table.set_menu_actions(
            [
                self.cancel_action,
                self.retry_action,
                None,
                *self.queue_actions.menu_entries(),
                None,
                self.open_folder_action,
            ]
        )
        self.job_table.filesDropped.connect(self.add_workflow_files)

        self.queue_area = QueueArea(self.job_table, self.demo)
        self.queue_area.runSamplesRequested.connect(self.add_sample_workflows)
        self.job_details = JobDetailsPanel(
            self.job_table, self.job_model, engine=lambda: self.engine, notify=self.notify
        )
        # Connected after _on_job_changed, so the panel reads rows the model has applied.
        self.signals.jobChanged.connect(self.job_details.job_changed)
        self.signals.jobProgress.connect(self.job_model.update_progress)
        self.signals.jobProgress.connect(self.job_details.progress_changed)
        self.signals.jobPreview.connect(self.job_details.preview_arrived)
        self.queue_splitter = QueueSplitter(self.queue_area, self.job_details)
        self.job_model.rowsInserted.connect(self._update_empty_state)
        self.job_model.modelReset.connect(self._update_empty_state)

        self.gallery = self.gallery_panel.view
        self.gallery_panel.openRequested.connect(self.open_viewer)
        self.gallery_panel.rerunRequested.connect(self.workflow_actions.rerun)
        self.gallery_panel.compareRequested.connect(self.open_compare)
        self.gallery_panel.noticeRequested.connect(self.notify)

        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.queue_splitter)
        self.history_panel.openRequested.connect(self.open_viewer)
        self.history_panel.galleryRequested.connect(self.show_batch_in_gallery)
        self.history_panel.rerunRequested.connect(self.workflow_actions.rerun_history)
        self.history_panel.batchesRemoved.connect(self._history_removed)
        self.history_panel.noticeRequested.connect(self.notify)
        self.lower_tabs = QTabWidget()
        self.lower_tabs.setDocumentMode(True)
        self.lower_tabs.addTab(self.gallery_panel, self.tr("Gallery"))
        self.lower_tabs.addTab(self.history_panel, self.tr("History"))
        self.splitter.addWidget(self.lower_tabs)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)
        self.setCentralWidget(self.splitter)

    def _build_notices(self) -> None:
        self.notices = NoticePanel()
        self.notices.added.connect(self._flash_error)
        self.notices.cleared.connect(self._hide_empty_notices)
        self.notice_dock = QDockWidget(self.tr("Notices"), self)
        self.notice_dock.setObjectName("notices")
        self.notice_dock.setWidget(self.notices)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.notice_dock)

    def _build_actions(self) -> None:
        def action(text: str, shortcut: QKeySequence | None, slot: Any) -> QAction:
            created = QAction(text, self)
            if shortcut is not None:
                created.setShortcut(shortcut)
            created.triggered.connect(slot)
            return created

        keys = QKeySequence.StandardKey
        self.add_action = action(
            self.tr("Add workflows…"), QKeySequence(keys.Open), self.choose_files
        )
        self.add_folder_action = action(self.tr("Add folder…"), None, self.choose_folder)
        self.model_library_action = action(
            self.tr("Model library…"), None, self.workflow_actions.open_model_library
        )
        self.samples_action = action(
            self.tr("Add sample workflows"), None, self.add_sample_workflows
        )
        self.settings_action = action(
            self.tr("Settings…"), QKeySequence(self.tr("Ctrl+,")), self.open_settings
        )
        self.connections_action = action(
            self.tr("Connections…"), QKeySequence(self.tr("Ctrl+Shift+K")), self.open_connections
        )
        self.quit_action = action(self.tr("Quit"), QKeySequence(self.tr("Ctrl+Q")), self.close)
        self.cancel_action = action(
            self.tr("Cancel selected"), QKeySequence(keys.Delete), self.cancel_selected
        )
        self.retry_action = action(
            self.tr("Retry selected"), QKeySequence(self.tr("Ctrl+R")), self.retry_selected
        )
        self.pause_action = action(self.tr("Pause queue"), None, self.toggle_pause)
        self.pause_action.setCheckable(True)
        self.open_folder_action = action(
            self.tr("Open output folder"), None, self.open_selected_folder
        )
        self.about_action = action(self.tr("About Cmfy Desk"), None, self.show_about)
        self.shortcuts_action = action(
            self.tr("Keyboard shortcuts"),
            QKeySequence(self.tr("Ctrl+/")),
            lambda: open_shortcuts_dialog(self),
        )
        self.log_folder_action = action(self.tr("Open log folder"), None, lambda: open_log_folder())
        self.history_action = action(
            self.tr("History"), QKeySequence(self.tr("Ctrl+H")), self.show_history
        )
        self.metrics_action = action(
            self.tr("Metrics…"), QKeySequence(self.tr("Ctrl+M")), self.open_metrics
        )

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu(self.tr("&File"))
        file_menu.addAction(self.add_action)
        file_menu.addAction(self.add_folder_action)
        file_menu.addAction(self.samples_action)
        file_menu.addSeparator()
        file_menu.addAction(self.queue_transfer.import_action)
        file_menu.addAction(self.queue_transfer.export_action)
        file_menu.addSeparator()
        file_menu.addAction(self.settings_action)
        file_menu.addAction(self.connections_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        queue_menu = bar.addMenu(self.tr("&Queue"))
        queue = self.queue_actions
        queue_menu.addAction(self.cancel_action)
        queue_menu.addAction(self.retry_action)
        queue_menu.addSeparator()
        queue_menu.addAction(queue.move_top_action)
        queue_menu.addAction(queue.move_bottom_action)
        queue_menu.addMenu(queue.priority_menu)
        queue_menu.addSeparator()
        queue_menu.addMenu(queue.batch_menu)
        queue_menu.addSeparator()
        queue_menu.addAction(self.pause_action)
        queue_menu.addAction(queue.cancel_all_action)
        view_menu = bar.addMenu(self.tr("&View"))
        view_menu.addAction(self.notice_dock.toggleViewAction())
        view_menu.addAction(self.history_action)
        view_menu.addSeparator()
        view_menu.addAction(self.metrics_action)
        tools_menu = bar.addMenu(self.tr("&Tools"))
        tools_menu.addAction(self.model_library_action)
        help_menu = bar.addMenu(self.tr("&Help"))
        help_menu.addAction(self.shortcuts_action)
        help_menu.addAction(self.log_folder_action)
        help_menu.addSeparator()
        help_menu.addAction(self.about_action)

    def _build_status_bar(self) -> None:
        self.status_bar = WindowStatusBar()
        self.setStatusBar(self.status_bar)
        self.connection_label = self.status_bar.connection_label
        self.limits_label = self.status_bar.limits_label

    # Engine -----------------------------------------------------------------------------------

    def _attach(self, engine: Engine | None) -> None:
        """Show ``engine``'s jobs and outputs and follow its events from now on."""
        if engine is not self.engine:
            self.workflow_actions.engine_changed()
        self.engine = engine
        self.signals.attach(engine)
        self.job_model.load(engine.store if engine else None)
        self.gallery_panel.attach(engine.store if engine else None)
        self.refresh_status()

    def _find_job(self, job_id: int) -> Job | None:
        job = self.job_model.job(job_id)
        if job is not None or self.engine is None:
            return job
        try:
            return self.engine.store.get_job(job_id)
        except (KeyError, EngineError):
            return None

    def _find_batch(self, batch_id: int) -> Batch | None:
        if self.engine is None:
            return None
        try:
            return self.engine.store.get_batch(batch_id)
        except (KeyError, EngineError):
            return None

    def _on_job_changed(self, job: Job) -> None:
        self.job_model.update_job(job)
        self.queue_actions.job_changed(job)
        if not self._status_after_change.isActive():
            self._status_after_change.start()
        if job.is_final and self.job_model.batch_finished(job.batch_id):
            self._announce_batch(job.batch_id)

    def _announce_batch(self, batch_id: int) -> None:
        """Add a notice with the outcome of a batch whose jobs have all ended."""
        if batch_id in self._announced_batches or self.engine is None:
            return
        try:
            counts = self.engine.store.status_counts(batch_id)
        except EngineError:
            return
        # The table may lag the store by an event, so the store has the last word.
        name = self.job_model.batch_name(batch_id) or str(batch_id)
        outcome = batch_outcome_from_counts(name, counts)
        if outcome is None:
            return
        text = outcome[1]
        self._announced_batches.add(batch_id)
        # The notifier adds the notice or the desktop notification the settings choose.
        self.status_bar.show_message(text, INFO_FLASH_MS)

    async def _restart_engine(self, *, paused: bool | None = None) -> None:
        """Stop the engine and start one with the connection, folder and queue settings from
        the settings. ``paused``, when given, overrides the queue.start_paused setting."""
        async with self._restart_lock:
            config = connection_from_settings(self.settings, self.keystore)
            options = scheduler_options(self.settings)
            if paused is not None:
                options = dataclasses.replace(options, start_paused=paused)
            old = self.engine
            self._connecting = True
            self._attach(None)
            if old is not None:
                await old.stop()
            engine = engine_from_settings(
                self._database,
                self.settings,
                self.keystore,
                self._default_output_dir,
                options,
                demo=self.demo,
            )
            try:
                await engine.start()
            except (EngineError, StoreError, OSError) as exc:
                log.warning("Starting the engine failed: %s", exc)
                await engine.stop()
                self.notify(NoticeLevel.ERROR, self.tr("Cannot connect: {error}").format(error=exc))
                return
            except asyncio.CancelledError:
                # The window is closing: stop what the half-started engine opened.
                await engine.stop()
                raise
            finally:
                self._connecting = False
                self.refresh_status()
            self._queue_options = options
            self._attach(engine)
            log.info("Connected to %s", config.label)

    async def shutdown(self) -> None:
        """Cancel the window's tasks, stop the engine and the image threads."""
        self._status_timer.stop()
        await self._tasks.cancel_all()
        engine = self.engine
        self._attach(None)
        if engine is not None:
            await engine.stop()
        self.image_decoder.shutdown()
        self.gallery_panel.shutdown()
        self.history_panel.shutdown()

    def _report_task_error(self, name: str, error: BaseException) -> None:
        self.notify(
            NoticeLevel.ERROR,
            self.tr("{what} failed: {error}. Details are in the log file.").format(
                what=name, error=error
            ),
        )

    # Status -----------------------------------------------------------------------------------

    def refresh_status(self) -> None:
        self.queue_actions.update_enabled()
        self.queue_transfer.update_enabled()
        self.status_bar.set_batch_text(*self.queue_actions.batch_estimate())
        if self.engine is None:
            self.connection_label.setText(
                self.tr("Connecting…") if self._connecting else self.tr("Not connected")
            )
            self.limits_label.setText("")
            return
        status = self.engine.status()
        if self.engine.connection.kind == "sandbox":
            self.connection_label.setText(self.tr("Sandbox (built-in)"))
        else:
            self.connection_label.setText(status.connection)
        self.status_bar.set_bridges(
            [self.engine.bridge_status(label) for label in self.engine.connection_labels]
        )
        text = self.tr("{running}/{limit} running · {requests}/{rate} req/min").format(
            running=status.running,
            limit=status.running_limit,
            requests=status.requests_last_minute,
            rate=status.rate_limit,
        )
        paused = self.engine.paused
        if paused:
            text = self.tr("Paused") + " · " + text
        self.limits_label.setText(text)
        if self.pause_action.isChecked() != paused:
            # The scheduler pauses itself when the service rejects the key.
            self.pause_action.setChecked(paused)

    def notify(self, level: NoticeLevel, text: str) -> None:
        """Show a message in the notice panel. Errors also flash in the status bar.

        The first notice shows the hidden panel, and so does every warning and error. Info
        notices after the first leave it hidden when the person has closed it.
        """
        first = not self.notices.messages()
        if self.notice_dock.isHidden() and (first or level is not NoticeLevel.INFO):
            self.notice_dock.show()
        self.notices.add(level, text)

    def _on_engine_notice(self, notice: Notice) -> None:
        # A batch paused after failures in a row comes with a notice and no job change, so
        # the rows show the batch's state again.
        self.job_model.refresh_batches()
        self.queue_actions.update_enabled()
        self.notify(notice.level, notice.message)

    def _flash_error(self, level: str, text: str) -> None:
        if level == NoticeLevel.ERROR:
            self.status_bar.show_message(text, ERROR_FLASH_MS)

    def _hide_empty_notices(self) -> None:
        self.notice_dock.hide()

    def _update_empty_state(self) -> None:
        self.queue_area.set_empty(self.job_model.rowCount() == 0)

    # Adding workflows -------------------------------------------------------------------------

    @property
    def batch_dialog(self) -> BatchDialog | None:
        """The open batch dialog, if any."""
        return self.workflow_actions.batch_dialog

    def add_workflow_files(self, paths: list[Path]) -> None:
        """Load workflow files (JSON in API or editor format, pictures that carry a workflow)
        and folders of them off the UI thread. Each failure goes to the notice panel, and the
        batch dialog opens once with the workflows that loaded."""
        self.workflow_actions.add_workflow_files(paths)

    def add_sample_workflows(self) -> None:
        self.add_workflow_files(bundled_workflows())

    def choose_files(self) -> None:
        dialog = QFileDialog(self, self.tr("Add workflows"))
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.setNameFilters(
            [
                self.tr("Workflows and pictures (*.json *.png *.webp *.jpg *.jpeg)"),
                self.tr("All files (*)"),
            ]
        )
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
        dialog.filesSelected.connect(
            lambda files: self.add_workflow_files([Path(f) for f in files])
        )
        self._file_dialog = dialog
        dialog.open()

    def choose_folder(self) -> None:
        dialog = QFileDialog(self, self.tr("Add a folder of workflows"))
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
        dialog.fileSelected.connect(lambda folder: self.add_workflow_files([Path(folder)]))
        self._file_dialog = dialog
        dialog.open()

    # Drag and drop ----------------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        if not paths:
            return
        event.acceptProposedAction()
        self.add_workflow_files(paths)

    # Queue actions ----------------------------------------------------------------------------

    def selected_jobs(self) -> list[Job]:
        return self.job_table.selected_jobs()

    def cancel_selected(self) -> None:
        if self.engine is None:
            return
        jobs = [job for job in self.selected_jobs() if job.status not in FINAL_STATUSES]
        if jobs:
            self._tasks.spawn(self._cancel(self.engine, jobs), self.tr("Cancelling jobs"))

    async def _cancel(self, engine: Engine, jobs: list[Job]) -> None:
        for job in jobs:
            await engine.cancel(job.id)

    def retry_selected(self) -> None:
        if self.engine is None:
            return
        for job in self.selected_jobs():
            if job.status in FINAL_STATUSES:
                self.engine.retry(job.id)

    def toggle_pause(self, paused: bool) -> None:
        if self.engine is None:
            self.pause_action.setChecked(False)
            return
        if paused:
            self.engine.pause_all()
        else:
            self.engine.resume_all()
        self.refresh_status()

    def open_selected_folder(self) -> None:
        jobs = self.selected_jobs()
        if self.engine is None or not jobs:
            return
        batch = self.engine.store.get_batch(jobs[0].batch_id)
        folder = Path(batch.output_dir)
        if not folder.is_dir():
            folder = self.engine.output_root
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    # Other windows ----------------------------------------------------------------------------

    def show_history(self) -> None:
        """Switch the lower pane to the History tab and focus its tree."""
        self.lower_tabs.setCurrentWidget(self.history_panel)
        self.history_panel.tree.setFocus()

    def show_batch_in_gallery(self, batch_id: int) -> None:
        """Switch to the Gallery tab, clear its filters and search for the batch's images."""
        self.lower_tabs.setCurrentWidget(self.gallery_panel)
        self.gallery_panel.filters.clear()
        self.gallery_panel.search.set_text(f"batch:{batch_id}")

    def _history_removed(self, _result: object) -> None:
        # The removed jobs leave the queue's table too. Their images stay in the gallery,
        # whose batch counts change.
        self.job_model.load(self.engine.store if self.engine else None)
        self.gallery_model.refresh_soon()

    def open_viewer(self, output: Output) -> None:
        """Show ``output`` in a viewer window, raising the one that shows it already. The
        viewer steps through the gallery's order with Left, Right, PageUp and PageDown."""
        # A closed viewer is only waiting for its deferred deletion.
        open_viewers = [
            viewer
            for viewer in self._viewers
            if viewer.isVisible() and viewer.output.id == output.id
        ]
        viewer = open_viewers[0] if open_viewers else self._new_viewer(output)
        viewer.show()
        viewer.raise_()
        viewer.activateWindow()

    def _new_viewer(self, output: Output) -> ImageViewer:
        details = self._output_details(output.id) or OutputDetails(output)
        viewer = ImageViewer(
            details,
            self.image_decoder,
            neighbour=self._gallery_neighbour,
            lookup=self._output_details,
            parent=self,
        )
        viewer.rerunRequested.connect(self.workflow_actions.rerun)
        viewer.destroyed.connect(lambda: self._forget_viewer(viewer))
        self._viewers.append(viewer)
        return viewer

    def viewers(self) -> list[ImageViewer]:
        return list(self._viewers)

    def _forget_viewer(self, viewer: ImageViewer) -> None:
        self._viewers = [kept for kept in self._viewers if kept is not viewer]

    def open_compare(self, outputs: Sequence[Output]) -> compare.CompareWindow | None:
        """Open a compare window for 2 or 4 outputs, in the order given, and return it. For
        any other number a notice names what to select, and None is returned."""
        if len(outputs) not in compare.PANE_COUNTS:
            self.notify(
                NoticeLevel.WARNING,
                self.tr("Select 2 or 4 images to compare, not {count}.").format(count=len(outputs)),
            )
            return None
        details = [self._output_details(output.id) or OutputDetails(output) for output in outputs]
        return compare.open_compare(self, details, self.image_decoder)

    def _output_details(self, output_id: int) -> OutputDetails | None:
        if self.engine is None:
            return None
        try:
            return load_output_details(self.engine.store, output_id)
        except (KeyError, EngineError):
            return None

    def _gallery_neighbour(self, output_id: int, step: int) -> int | None:
        """Return the id of the job output ``step`` places from ``output_id`` in the gallery's
        order, passing over images from other folders, which have no output."""
        details = self._output_details(output_id)
        image = details.image if details is not None else None
        model = self.gallery_model
        row = model.row_of(image.id) if image is not None else None
        if row is None:
            return None
        row += step
        while 0 <= row < model.rowCount():
            record = model.record_at(row)
            if record is not None and record.output_id is not None:
                return record.output_id
            row += step
        return None

    def open_settings(self) -> None:
        if self.settings_dialog is not None:
            self.settings_dialog.raise_()
            return
        dialog = SettingsDialog(
            self.settings,
            self.keystore,
            self._default_output_dir,
            self,
            test_tunnel=self._test_tunnel,
            spawn=self._tasks.spawn,
            history=self.history_panel,
        )
        dialog.accepted.connect(lambda: self._apply_settings(dialog))
        dialog.finished.connect(lambda _result: self._forget_settings_dialog(dialog))
        self.settings_dialog = dialog
        dialog.open()

    async def _test_tunnel(self, public_url: str) -> str:
        """Send a request through ``public_url`` to the running receiver and describe the result."""
        receiver = self.engine.receiver if self.engine else None
        problem = validate_public_base_url(public_url)
        if problem:
            return problem
        if receiver is None:
            return self.tr(
                "The webhook receiver is not running. Choose webhooks, save the settings, "
                "and test again once connected."
            )
        result = await check_tunnel(public_url, receiver)
        return result.message

    def open_connections(self) -> None:
        if self.connections_dialog is not None:
            self.connections_dialog.raise_()
            return
        saved = ConnectionList.load(connections_file(self.settings))
        dialog = ConnectionsDialog(saved, self.keystore, self._tasks.spawn, self)
        dialog.accepted.connect(lambda: self._apply_connections(dialog))
        dialog.finished.connect(lambda _result: self._forget_connections_dialog(dialog))
        self.connections_dialog = dialog
        dialog.open()

    def _forget_connections_dialog(self, dialog: ConnectionsDialog) -> None:
        if self.connections_dialog is dialog:
            self.connections_dialog = None
        dialog.deleteLater()

    def _apply_connections(self, dialog: ConnectionsDialog) -> None:
        if dialog.key_notice:
            self.notify(NoticeLevel.WARNING, dialog.key_notice)
        if self.demo:
            self.notify(
                NoticeLevel.INFO,
                self.tr("The connections are saved; demo mode uses the built-in sandbox only."),
            )
            return
        engine = self.engine
        paused = engine.paused if engine else None
        # Queued and running jobs carry over to the new engine through its recovery.
        self._tasks.spawn(self._restart_engine(paused=paused), self.tr("Connecting"))

    def _forget_settings_dialog(self, dialog: SettingsDialog) -> None:
        if self.settings_dialog is dialog:
            self.settings_dialog = None
        dialog.deleteLater()

    def _apply_settings(self, dialog: SettingsDialog) -> None:
        self.notifier.preferences = NotificationPreferences.from_settings(self.settings)
        if dialog.key_notice:
            self.notify(NoticeLevel.WARNING, dialog.key_notice)
        config = connection_from_settings(self.settings, self.keystore)
        output_root = output_root_from_settings(self.settings, self._default_output_dir)
        engine = self.engine
        port = webhook_port(self.settings, [config, *engine.extra_connections]) if engine else 0
        if engine is None or engine.connection != config or engine.webhook_port != port:
            # Queued and running jobs carry over to the new engine through its recovery.
            self._tasks.spawn(self._restart_engine(), self.tr("Connecting"))
            return
        # Batches keep the folder they were created with; new batches use this one.
        engine.output_root = output_root
        new_options = scheduler_options(self.settings)
        engine.set_name_templates(new_options.folder_template, new_options.file_template)
        self._queue_options = dataclasses.replace(
            self._queue_options,
            folder_template=new_options.folder_template,
            file_template=new_options.file_template,
        )
        if not _queue_options_differ(self._queue_options, scheduler_options(self.settings)):
            return
        if engine.connection.kind == SANDBOX_CONNECTION and any(
            job.status in RUNNING_STATUSES for job in self.job_model.jobs()
        ):
            # The built-in sandbox stops with the engine, and the jobs running on it are lost.
            self.notify(
                NoticeLevel.INFO,
                self.tr(
                    "The queue settings are saved. They apply at the next start of Cmfy Desk, "
                    "because restarting the queue now would lose the jobs running on the "
                    "built-in sandbox."
                ),
            )
            return
        self._tasks.spawn(
            self._restart_engine(paused=engine.paused), self.tr("Applying queue settings")
        )

    def open_metrics(self) -> None:
        """Show the metrics window (figures, charts, checklist), raising the open one."""
        open_metrics_dialog(self)

    def show_about(self) -> None:
        open_about_dialog(self)

    # Window state -----------------------------------------------------------------------------

    def _restore_geometry(self) -> None:
        geometry = str(self.settings.get("window.geometry"))
        state = str(self.settings.get("window.state"))
        try:
            if geometry:
                self.restoreGeometry(QByteArray(base64.b64decode(geometry)))
            if state:
                self.restoreState(QByteArray(base64.b64decode(state)))
        except ValueError:
            log.warning("Ignoring a saved window geometry that is not valid base64")

    def _save_settings(self) -> None:
        try:
            self.settings.save()
        except OSError as exc:
            log.warning("Saving settings to %s failed: %s", self.settings.path, exc)

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.quit_guard.allows_close():
            event.ignore()
            return
        self.settings.set(
            "window.geometry", base64.b64encode(bytes(self.saveGeometry().data())).decode("ascii")
        )
        self.settings.set(
            "window.state", base64.b64encode(bytes(self.saveState().data())).decode("ascii")
        )
        for viewer in self.viewers():
            viewer.close()
        for window in self.findChildren(compare.CompareWindow):
            window.close()
        event.accept()
        self.closed.emit()


def _queue_options_differ(old: SchedulerOptions, new: SchedulerOptions) -> bool:
    """Return whether the queue settings changed in a way that needs a restart of the engine.
    Starting paused matters only at start-up, so a change of it alone needs none."""
    return dataclasses.replace(old, start_paused=False) != dataclasses.replace(
        new, start_paused=False
    )
