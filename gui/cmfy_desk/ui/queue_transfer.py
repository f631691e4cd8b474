"""File → Export queue… and Import queue…: the queued jobs as a file, through non-modal
file dialogs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from cmfy_desk.app import Engine, EngineError
from cmfy_desk.scheduler.events import NoticeLevel
from cmfy_desk.scheduler.queue_file import QueueFileError, read_queue_file, write_queue_file
from cmfy_desk.store import StoreError
from cmfy_desk.ui.failures_dialog import jobs_text
from cmfy_desk.ui.job_model import JobTableModel

log = logging.getLogger(__name__)

# Errors of a failed engine call: engine not started, batch not found, database error.
_ENGINE_ERRORS = (EngineError, StoreError, KeyError, ValueError)


class QueueTransfer(QObject):
    """Export and import of the queue. ``export_action`` writes the queued jobs to a file
    chosen in a file dialog. ``import_action`` queues the jobs of such a file on the connection
    in use and adds them to ``model``.

    ``engine()`` returns the engine in use, or None; ``notify(level, text)`` shows a message in
    the notice panel. The open file dialog and question are kept in ``file_dialog`` and
    ``confirm_box``, for the tests.
    """

    def __init__(
        self,
        parent: QWidget,
        *,
        engine: Callable[[], Engine | None],
        model: JobTableModel,
        notify: Callable[[NoticeLevel, str], None],
    ) -> None:
        super().__init__(parent)
        self._parent = parent
        self._engine = engine
        self._model = model
        self._notify = notify
        self.file_dialog: QFileDialog | None = None
        self.confirm_box: QMessageBox | None = None

        self.export_action = QAction(self.tr("Export queue…"), parent)
        self.export_action.setStatusTip(
            self.tr("Save the queued jobs to a file, to import them here or elsewhere")
        )
        self.export_action.triggered.connect(self.choose_export_file)
        self.import_action = QAction(self.tr("Import queue…"), parent)
        self.import_action.setStatusTip(
            self.tr("Queue the jobs of an exported queue file as new batches")
        )
        self.import_action.triggered.connect(self.choose_import_file)

    def update_enabled(self) -> None:
        connected = self._engine() is not None
        self.export_action.setEnabled(connected)
        self.import_action.setEnabled(connected)

    def choose_export_file(self) -> None:
        if self._engine() is None:
            return
        dialog = QFileDialog(self._parent, self.tr("Export queue"))
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("json")
        dialog.setNameFilters([self.tr("Queue files (*.json)"), self.tr("All files (*)")])
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
        # The question whether to replace a file is asked here, with a non-modal box: the
        # file dialog's own question runs a nested event loop.
        dialog.setOption(QFileDialog.Option.DontConfirmOverwrite, True)
        dialog.selectFile("cmfy-desk-queue.json")
        dialog.fileSelected.connect(lambda name: self._confirm_export(Path(name)))
        self.file_dialog = dialog
        dialog.open()

    def _confirm_export(self, path: Path) -> None:
        if not path.exists():
            self.export_queue(path)
            return
        box = QMessageBox(self._parent)
        box.setWindowTitle(self.tr("Export queue"))
        box.setIcon(QMessageBox.Icon.Question)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setText(self.tr("{name} already exists. Replace it?").format(name=path.name))
        replace = box.addButton(self.tr("Replace"), QMessageBox.ButtonRole.AcceptRole)
        keep = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(keep)
        replace.clicked.connect(lambda: self.export_queue(path))
        box.finished.connect(lambda _result: self._forget_confirm_box(box))
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.confirm_box = box
        box.open()

    def _forget_confirm_box(self, box: QMessageBox) -> None:
        if self.confirm_box is box:
            self.confirm_box = None

    def export_queue(self, path: Path) -> int | None:
        """Write the queued jobs to ``path``; return how many, or None when it failed."""
        engine = self._engine()
        if engine is None:
            return None
        try:
            count = write_queue_file(engine.store, path)
        except (OSError, *_ENGINE_ERRORS) as exc:
            log.warning("Exporting the queue to %s failed: %s", path, exc)
            self._notify(
                NoticeLevel.ERROR,
                self.tr("Exporting the queue to {name} failed: {error}").format(
                    name=path.name, error=exc
                ),
            )
            return None
        log.info("Exported %d queued jobs to %s", count, path)
        if count == 1:
            text = self.tr("Exported 1 queued job to {name}.").format(name=path.name)
        else:
            text = self.tr("Exported {count} queued jobs to {name}.").format(
                count=count, name=path.name
            )
        self._notify(NoticeLevel.INFO, text)
        return count

    def choose_import_file(self) -> None:
        if self._engine() is None:
            return
        dialog = QFileDialog(self._parent, self.tr("Import queue"))
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setNameFilters([self.tr("Queue files (*.json)"), self.tr("All files (*)")])
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
        dialog.fileSelected.connect(lambda name: self.import_queue(Path(name)))
        self.file_dialog = dialog
        dialog.open()

    def import_queue(self, path: Path) -> int | None:
        """Queue the jobs of a queue file on the current connection and show them. Return how
        many were added, or None when the file was rejected."""
        engine = self._engine()
        if engine is None:
            return None
        try:
            # The jobs run on the connection in use, whichever one they were exported from.
            batches = read_queue_file(engine.store, path, engine.connection.label)
            jobs = engine.store.jobs(batch_ids=[batch.id for batch in batches]) if batches else []
        except QueueFileError as exc:
            log.warning("Importing %s failed: %s", path, exc)
            self._notify(NoticeLevel.ERROR, str(exc))
            return None
        except _ENGINE_ERRORS as exc:
            log.warning("Importing %s failed: %s", path, exc)
            self._notify(
                NoticeLevel.ERROR,
                self.tr("{name}: importing failed: {error}").format(name=path.name, error=exc),
            )
            return None
        for job in jobs:
            self._model.update_job(job)
        engine.scheduler.wake()
        log.info("Imported %d jobs in %d batches from %s", len(jobs), len(batches), path)
        self._notify(
            NoticeLevel.INFO,
            self.tr("Imported {jobs} in {batches} from {name}.").format(
                jobs=jobs_text(len(jobs)),
                batches=(
                    self.tr("1 batch")
                    if len(batches) == 1
                    else self.tr("{count} batches").format(count=len(batches))
                ),
                name=path.name,
            ),
        )
        return len(jobs)
