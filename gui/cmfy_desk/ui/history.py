"""The History tab: every batch and job by day, with their timings, errors and outputs.

The panel reads the database through a connection of its own, so the history can be browsed
while no engine runs (no API key yet). It reads nothing until it is first shown. Finished jobs
repaint their day at most every REFRESH_INTERVAL_MS, and only while the panel is visible.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import (
    QModelIndex,
    QPoint,
    Qt,
    QTimer,
    QUrl,
    Signal,
)
from PySide6.QtGui import (
    QDesktopServices,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMenu,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from cmfy_desk.scheduler.events import NoticeLevel
from cmfy_desk.store import Job, Store, StoreError
from cmfy_desk.store.history import (
    BatchSummary,
    DaySummary,
    History,
    JobSummary,
    PruneResult,
    local_day,
    preview_prune,
    prune_history,
    remove_batches,
)
from cmfy_desk.ui.history_actions import HistoryRerunActions
from cmfy_desk.ui.history_details import HistoryDetails, HistoryTree
from cmfy_desk.ui.history_model import HistoryModel
from cmfy_desk.ui.history_rerun import HistoryRerunAction
from cmfy_desk.ui.thumbnail_loader import THUMBNAIL_SIZE, ThumbnailLoader

log = logging.getLogger(__name__)

# Finished jobs repaint their day at most this often, in milliseconds.
REFRESH_INTERVAL_MS = 2000
# Thumbnails shown for a batch; the strip names the total.
STRIP_LIMIT = 24


class HistoryPruning(Protocol):
    """The interface through which the settings dialog prunes the history: a count of the
    batches that would go, and the pruning itself."""

    def preview_prune(self, keep_days: int) -> PruneResult: ...

    async def prune(self, keep_days: int) -> PruneResult: ...


class HistoryPanel(QWidget):
    """The history tree beside the details of its current item, with the actions on it.

    ``openRequested(Output)`` requests the viewer for an output. ``galleryRequested(int)``
    requests the gallery filtered to a batch. ``rerunRequested(HistoryRerunRequest)`` asks
    the window to run a batch or job again (see WorkflowActions.rerun_history).
    ``batchesRemoved(PruneResult)`` follows every removal or pruning that deleted batches,
    and ``noticeRequested(NoticeLevel, str)`` carries a message for the notice panel.
    """

    openRequested = Signal(object)
    galleryRequested = Signal(int)
    rerunRequested = Signal(object)
    batchesRemoved = Signal(object)
    noticeRequested = Signal(object, str)

    def __init__(
        self,
        database: Path,
        thumbnail_dir: Path,
        parent: QWidget | None = None,
        *,
        refresh_interval_ms: int = REFRESH_INTERVAL_MS,
    ) -> None:
        super().__init__(parent)
        self.database = database
        self._store: Store | None = None
        self._loaded = False
        # Batches with a job that reached a final state since the last refresh.
        self._changed_batches: set[int] = set()
        self.remove_box: QMessageBox | None = None

        self.thumbnails = ThumbnailLoader(thumbnail_dir, THUMBNAIL_SIZE, self)
        self.model = HistoryModel(self)
        self.tree = HistoryTree()
        self.tree.setModel(self.model)
        self.tree.size_columns()
        self.details = HistoryDetails(self.thumbnails)
        self.empty_label = QLabel()
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.hide()

        self.open_folder_button = QPushButton(self.tr("Open folder"))
        self.open_folder_button.setToolTip(self.tr("Open the batch's output folder"))
        self.gallery_button = QPushButton(self.tr("Show in gallery"))
        self.gallery_button.setToolTip(self.tr("Show the batch's images in the Gallery tab"))
        self.remove_button = QPushButton(self.tr("Remove from history…"))
        self.remove_button.setToolTip(
            self.tr(
                "Remove the selected batch, or every finished batch of the selected day, with "
                "its jobs (Del). Images stay on disk and in the gallery."
            )
        )
        self.open_folder_button.clicked.connect(self.open_folder)
        self.gallery_button.clicked.connect(self.show_in_gallery)
        self.remove_button.clicked.connect(self.remove_selected)
        self.rerun_actions = HistoryRerunActions(self)
        self.rerun_actions.requested.connect(self.rerunRequested)
        self.run_again_button = self.rerun_actions.button
        # Listed in the keyboard shortcuts dialog as the tree's action.
        self.tree.addAction(self.rerun_actions.run_again)
        self.context_menu = QMenu(self)
        self.context_menu.addAction(self.tr("Open folder"), self.open_folder)
        self.context_menu.addAction(self.tr("Show in gallery"), self.show_in_gallery)
        self.context_menu.addSeparator()
        self.context_menu.addActions(self.rerun_actions.actions())
        self.context_menu.addSeparator()
        self.context_menu.addAction(self.tr("Remove from history…"), self.remove_selected)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._show_context_menu)
        self.tree.openRequested.connect(self.open_index)
        self.tree.removeRequested.connect(self.remove_selected)
        self.tree.rerunRequested.connect(self.run_again)
        self.tree.selectionModel().currentRowChanged.connect(self._current_changed)
        self.model.dataChanged.connect(self._data_changed)
        self.model.modelReset.connect(self._current_changed)
        self.model.rowsRemoved.connect(self._current_changed)
        self.details.outputActivated.connect(self.openRequested)

        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(refresh_interval_ms)
        self._refresh_timer.timeout.connect(self.refresh_changed)

        buttons = QHBoxLayout()
        buttons.addWidget(self.open_folder_button)
        buttons.addWidget(self.gallery_button)
        buttons.addWidget(self.run_again_button)
        buttons.addStretch(1)
        buttons.addWidget(self.remove_button)
        scroll = QScrollArea()
        scroll.setWidget(self.details)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(scroll, 1)
        side_layout.addLayout(buttons)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.tree, 1)
        left_layout.addWidget(self.empty_label)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("history_splitter")
        self.splitter.addWidget(left)
        self.splitter.addWidget(side)
        # The details start at their minimum width, which their buttons set, so that every
        # column of the tree fits at the window's default width of 1200 px. The tree takes
        # every change of width.
        # NOTE: measured with a 9 pt DejaVu Sans. At 10 pt the names' header is cut short,
        # and at 11 pt a horizontal scroll bar shows until the window is wider.
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 0)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([self.tree.columns_width(), side.minimumSizeHint().width()])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.splitter)
        self._update_actions()

    # Loading ----------------------------------------------------------------------------

    @property
    def loaded(self) -> bool:
        """Whether the days have been read (the panel was shown, or reload() was called)."""
        return self._loaded

    def reload(self) -> None:
        """Read the days again, collapsing the tree."""
        history = self._history()
        self._loaded = True
        self._changed_batches.clear()
        if history is None:
            self.model.attach(None)
            return
        try:
            self.model.attach(history)
        except sqlite3.Error as exc:
            log.warning("Reading the history from %s failed: %s", self.database, exc)
            self._show_empty(self.tr("The history cannot be read: {error}").format(error=exc))
            return
        self._show_empty(
            ""
            if self.model.rowCount()
            else self.tr("Batches appear here, by day, once they are queued.")
        )
        self._expand_first_day()

    def job_changed(self, job: Job) -> None:
        """Note a job that reached a final state, or that was queued again in a batch shown
        as finished. Its day is read again within REFRESH_INTERVAL_MS, once for every job
        that changed meanwhile."""
        if not job.is_final:
            shown = self.model.fetched_batch(job.batch_id)
            if shown is None or not shown.counts.finished:
                return
        self._changed_batches.add(job.batch_id)
        if not self._refresh_timer.isActive():
            self._refresh_timer.start()

    def refresh_changed(self) -> None:
        """Read today and the days of the batches whose jobs ended since the last refresh.
        A hidden panel waits until it is shown."""
        if not self._loaded or not self.isVisible():
            return
        history = self.model.history
        if history is None:
            return
        changed = set(self._changed_batches)
        self._changed_batches.clear()
        try:
            days = history.batch_days(changed) | {local_day(time.time())}
            self.model.refresh_days(days)
        except sqlite3.Error as exc:
            log.warning("Refreshing the history failed: %s", exc)
            return
        self._show_empty("" if self.model.rowCount() else self.empty_label.text())

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._loaded:
            self.reload()
        elif self._changed_batches:
            self.refresh_changed()

    def shutdown(self) -> None:
        """Stop the thumbnail threads and close the database connection."""
        self._refresh_timer.stop()
        self.thumbnails.shutdown()
        if self.remove_box is not None:
            self.remove_box.close()
        self.model.attach(None)
        if self._store is not None:
            self._store.close()
            self._store = None

    def _history(self) -> History | None:
        if self._store is None:
            try:
                self._store = Store.open(self.database)
            except StoreError as exc:
                log.warning("Opening the history failed: %s", exc)
                self._show_empty(self.tr("The history cannot be read: {error}").format(error=exc))
                return None
        return History(self._store.connection)

    def _show_empty(self, text: str) -> None:
        self.empty_label.setText(text)
        self.empty_label.setVisible(bool(text))

    def _expand_first_day(self) -> None:
        if self.model.rowCount() == 0:
            return
        first = self.model.index(0, 0)
        self.tree.expand(first)
        self.tree.setCurrentIndex(first)

    # Selection --------------------------------------------------------------------------

    def current_summary(self) -> DaySummary | BatchSummary | JobSummary | None:
        index = self.tree.currentIndex()
        return self.model.summary(index) if index.isValid() else None

    def select_batch(self, batch_id: int) -> bool:
        """Make a fetched batch the current item; return whether it was found."""
        index = self.model.batch_index(batch_id)
        if not index.isValid():
            return False
        self.tree.expand(index.parent())
        self.tree.setCurrentIndex(index)
        return True

    def _current_changed(self, *_args: object) -> None:
        self._show_details()
        self._update_actions()

    def _data_changed(self, top_left: QModelIndex, bottom_right: QModelIndex) -> None:
        current = self.tree.currentIndex()
        if (
            current.isValid()
            and current.parent() == top_left.parent()
            and top_left.row() <= current.row() <= bottom_right.row()
        ):
            self._show_details()
            self._update_actions()

    def _show_details(self) -> None:
        summary = self.current_summary()
        history = self.model.history
        if summary is None or history is None:
            self.details.show_nothing()
            return
        try:
            match summary:
                case DaySummary():
                    self.details.show_day(summary)
                case BatchSummary():
                    outputs = history.batch_outputs(summary.id, STRIP_LIMIT)
                    self.details.show_batch(summary, self._errors_text(history, summary), outputs)
                case JobSummary():
                    outputs = history.outputs(summary.id)
                    self.details.show_job(summary, outputs)
        except sqlite3.Error as exc:
            log.warning("Reading the details from %s failed: %s", self.database, exc)
            self.details.show_nothing(
                self.tr("The details cannot be read: {error}").format(error=exc)
            )

    def _errors_text(self, history: History, batch: BatchSummary) -> str:
        lines = []
        for error in history.errors(batch.id):
            text = ": ".join(part for part in (error.code, " ".join(error.message.split())) if part)
            lines.append(self.tr("{count} × {error}").format(count=error.jobs, error=text))
        return "\n".join(lines)

    def _update_actions(self) -> None:
        summary = self.current_summary()
        batch = summary if isinstance(summary, BatchSummary) else None
        job = summary if isinstance(summary, JobSummary) else None
        self.open_folder_button.setEnabled(batch is not None or job is not None)
        self.gallery_button.setEnabled(batch is not None or job is not None)
        removable = isinstance(summary, DaySummary) or (batch is not None and batch.counts.finished)
        self.remove_button.setEnabled(removable)
        job_batch = self.model.fetched_batch(job.batch_id) if job is not None else None
        self.rerun_actions.set_current(summary, batch or job_batch)

    def _selected_batch_id(self) -> int | None:
        summary = self.current_summary()
        if isinstance(summary, BatchSummary):
            return summary.id
        if isinstance(summary, JobSummary):
            return summary.batch_id
        return None

    # Actions ----------------------------------------------------------------------------

    def open_index(self, index: QModelIndex) -> None:
        """Open an item: a day expands or collapses, a batch opens its folder, and a job its
        first output in the viewer (or its batch's folder when it has none)."""
        if not index.isValid():
            return
        summary = self.model.summary(index)
        if isinstance(summary, DaySummary):
            name_index = index.siblingAtColumn(0)
            self.tree.setExpanded(name_index, not self.tree.isExpanded(name_index))
        elif isinstance(summary, BatchSummary):
            self._open_folder(summary.output_dir)
        elif isinstance(summary, JobSummary):
            history = self.model.history
            outputs = history.outputs(summary.id) if history is not None else []
            if outputs:
                self.openRequested.emit(outputs[0])
            else:
                self.open_folder()

    def open_folder(self) -> None:
        """Open the output folder of the selected batch, or of the selected job's batch."""
        batch_id = self._selected_batch_id()
        history = self.model.history
        if batch_id is None or history is None:
            return
        batch = history.batch(batch_id)
        if batch is not None:
            self._open_folder(batch.output_dir)

    def _open_folder(self, folder: str) -> None:
        if not Path(folder).is_dir():
            self.noticeRequested.emit(
                NoticeLevel.WARNING,
                self.tr("The folder {folder} does not exist (any more).").format(folder=folder),
            )
            return
        QDesktopServices.openUrl(QUrl.fromLocalFile(folder))

    def run_again(self) -> None:
        """Request the selected batch, or job, queued again with the same prompts and seeds."""
        self.rerun_actions.trigger(HistoryRerunAction.RUN_AGAIN)

    def edit_and_run(self) -> None:
        """Request the batch dialog filled with the selected batch's, or job's, workflow."""
        self.rerun_actions.trigger(HistoryRerunAction.EDIT)

    def run_failed_again(self) -> None:
        """Request the jobs of the selected batch that did not succeed queued again."""
        self.rerun_actions.trigger(HistoryRerunAction.RUN_FAILED)

    def _show_context_menu(self, position: QPoint) -> None:
        index = self.tree.indexAt(position)
        if not index.isValid():
            return
        self.tree.setCurrentIndex(index)
        self.context_menu.popup(self.tree.viewport().mapToGlobal(position))

    def show_in_gallery(self) -> None:
        batch_id = self._selected_batch_id()
        if batch_id is not None:
            self.galleryRequested.emit(batch_id)

    def remove_selected(self) -> None:
        """Ask whether to remove the selected batch, or the finished batches of the selected
        day, from the history, and remove them when Remove is clicked. Images stay."""
        summary = self.current_summary()
        history = self.model.history
        if history is None or self.remove_box is not None:
            return
        if isinstance(summary, BatchSummary):
            if not summary.counts.finished:
                self.noticeRequested.emit(
                    NoticeLevel.WARNING,
                    self.tr(
                        "Batch '{name}' still has {count} unfinished jobs. Wait until they end, "
                        "or cancel them, to remove it from the history."
                    ).format(name=summary.name, count=summary.counts.unfinished),
                )
                return
            batch_ids = [summary.id]
            day = local_day(summary.created_at)
            question = self.tr(
                "Remove batch '{name}' and its {jobs} jobs from the history?"
            ).format(name=summary.name, jobs=summary.counts.total)
        elif isinstance(summary, DaySummary):
            batches = [
                batch
                for batch in history.batches(summary.start, summary.end)
                if batch.counts.finished
            ]
            if not batches:
                self.noticeRequested.emit(
                    NoticeLevel.INFO,
                    self.tr("No batch of {day} has finished, so none can be removed.").format(
                        day=summary.day
                    ),
                )
                return
            batch_ids = [batch.id for batch in batches]
            day = summary.day
            question = self.tr(
                "Remove the {batches} finished batches of {day} and their {jobs} jobs from the "
                "history?"
            ).format(
                batches=len(batches),
                day=summary.day,
                jobs=sum(batch.counts.total for batch in batches),
            )
        else:
            return
        self._ask_to_remove(question, batch_ids, day)

    def _ask_to_remove(self, question: str, batch_ids: list[int], day: str) -> None:
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(self.tr("Remove from history"))
        box.setText(question)
        box.setInformativeText(self.tr("Images stay on disk and in the gallery."))
        remove = box.addButton(self.tr("Remove"), QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)

        def answered() -> None:
            self.remove_box = None
            box.deleteLater()
            if box.clickedButton() is remove:
                self._remove(batch_ids, day)

        box.finished.connect(answered)
        self.remove_box = box
        box.open()

    def _remove(self, batch_ids: list[int], day: str) -> None:
        if self._store is None:
            return
        try:
            result = remove_batches(self._store, batch_ids)
        except (sqlite3.Error, RuntimeError) as exc:
            log.warning("Removing batches %s from the history failed: %s", batch_ids, exc)
            self.noticeRequested.emit(
                NoticeLevel.ERROR,
                self.tr("Removing from the history failed: {error}").format(error=exc),
            )
            return
        log.info("Removed %d batches (%d jobs) from the history", result.batches, result.jobs)
        skipped = len(batch_ids) - result.batches
        if skipped:
            self.noticeRequested.emit(
                NoticeLevel.INFO,
                self.tr(
                    "{count} batches were kept because a job of theirs was queued again."
                ).format(count=skipped),
            )
        if result.batches:
            self.model.refresh_days({day})
            self.batchesRemoved.emit(result)

    # Pruning ----------------------------------------------------------------------------

    def preview_prune(self, keep_days: int) -> PruneResult:
        """Return what pruning batches older than ``keep_days`` days would remove now.
        Raises StoreError or sqlite3.Error when the database cannot be read."""
        self._history()
        if self._store is None:
            raise StoreError(f"Cannot open the database {self.database}.")
        return preview_prune(self._store, keep_days)

    async def prune(self, keep_days: int) -> PruneResult:
        """Remove the finished batches older than ``keep_days`` days on a worker thread with
        a connection of its own, then show the history again. Raises StoreError or
        sqlite3.Error."""
        executor = ThreadPoolExecutor(1, thread_name_prefix="history-prune")
        try:
            result = await asyncio.get_running_loop().run_in_executor(
                executor, _prune_database, self.database, keep_days
            )
        finally:
            executor.shutdown(wait=False)
        log.info(
            "Pruned %d batches (%d jobs, %d outputs) older than %d days from the history",
            result.batches,
            result.jobs,
            result.outputs,
            keep_days,
        )
        if result.batches and self._loaded:
            self.reload()
        if result.batches:
            self.batchesRemoved.emit(result)
        return result

    async def prune_at_start(self, keep_days: int) -> None:
        """Prune the batches older than ``history.keep_days`` at start. A failure becomes a
        notice."""
        started = time.perf_counter()
        try:
            result = await self.prune(keep_days)
        except (StoreError, sqlite3.Error) as exc:
            log.warning("Pruning the history failed: %s", exc)
            self.noticeRequested.emit(
                NoticeLevel.WARNING,
                self.tr("Pruning the history failed: {error}").format(error=exc),
            )
            return
        log.info(
            "Pruning %d batches at start took %.2f s", result.batches, time.perf_counter() - started
        )


def _prune_database(database: Path, keep_days: int) -> PruneResult:
    store = Store.open(database)
    try:
        return prune_history(store, keep_days)
    finally:
        store.close()
