"""The indexing of folders of images from elsewhere: FolderIndexing scans them into the gallery's
index on a worker thread, rescans the watched ones, and reports progress and errors."""

from __future__ import annotations

import concurrent.futures
import logging
import sqlite3
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal
from PySide6.QtWidgets import QMessageBox

from cmfy_desk.outputs.folder_scan import FolderScanner, FolderWatcher, ScanError, ScanProgress
from cmfy_desk.scheduler.events import NoticeLevel
from cmfy_desk.store import Store, StoreError

log = logging.getLogger(__name__)


class FolderIndexing(QObject):
    """Scans folders of images into the index and rescans the watched ones.

    ``foldersChanged(list[WatchedFolder])`` carries the folders after each change,
    ``progressed(ScanProgress)`` a running scan's state, ``finished(str)`` a summary when a
    scan ends, ``libraryChanged()`` follows every scan that changed the index, and
    ``noticeRequested(NoticeLevel, str)`` carries errors.
    """

    foldersChanged = Signal(object)
    progressed = Signal(object)
    finished = Signal(str)
    libraryChanged = Signal()
    noticeRequested = Signal(object, str)
    # Emitted on worker threads; Qt delivers them on the UI thread.
    _scanEnded = Signal(object, object)
    _watchScanned = Signal(object)
    _watchFailed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store: Store | None = None
        self._scanner: FolderScanner | None = None
        self._watcher: FolderWatcher | None = None
        self.remove_box: QMessageBox | None = None
        # Queued even when emitted on this thread, as happens for a scan that ended before
        # add_folder() added its callback. The scan's queued progress signals must arrive
        # first, because the last of them would otherwise hide the summary of the end.
        self._scanEnded.connect(self._on_scan_ended, Qt.ConnectionType.QueuedConnection)
        self._watchScanned.connect(self._on_watch_scanned)
        self._watchFailed.connect(lambda text: self.noticeRequested.emit(NoticeLevel.WARNING, text))

    def attach(self, store: Store | None) -> None:
        self.shutdown()
        self._store = store
        if store is None:
            self.foldersChanged.emit([])
            return
        self._scanner = FolderScanner(store.path, progress=self.progressed.emit)
        self._publish()
        self._update_watcher()

    def scanner(self) -> FolderScanner | None:
        return self._scanner

    def add_folder(
        self, folder: Path, watch: bool = False
    ) -> concurrent.futures.Future[ScanProgress] | None:
        """Add ``folder`` to the indexed folders and scan it; return the scan's future."""
        if self._store is None or self._scanner is None:
            return None
        path = folder.expanduser().resolve()
        if not path.is_dir():
            self.noticeRequested.emit(
                NoticeLevel.ERROR,
                self.tr("{path} is not a folder. Choose an existing folder.").format(path=path),
            )
            return None
        try:
            self._store.gallery.add_watched_folder(str(path), watch)
        except (StoreError, sqlite3.Error) as exc:
            self._fail(self.tr("Adding the folder {path} failed: {error}"), path, exc)
            return None
        self._publish()
        self._update_watcher()
        self.progressed.emit(ScanProgress(str(path)))
        future = self._scanner.scan(path)
        future.add_done_callback(lambda done: self._scanEnded.emit(path, done))
        return future

    def remove_folder(self, path: str) -> None:
        """Ask, then stop indexing ``path`` and remove its images' records (never files)."""
        box = QMessageBox(QMessageBox.Icon.Question, self.tr("Remove folder"), "")
        box.setText(self.tr("Remove {path} from the gallery?").format(path=path))
        box.setInformativeText(
            self.tr(
                "The records of its images, with their ratings and tags, are removed. The "
                "files stay on disk."
            )
        )
        remove = box.addButton(self.tr("Remove"), QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.buttonClicked.connect(
            lambda button: self.forget_folder(path) if button is remove else None
        )
        box.finished.connect(box.deleteLater)
        self.remove_box = box
        box.open()

    def forget_folder(self, path: str) -> None:
        if self._store is None:
            return
        try:
            self._store.gallery.remove_watched_folder(path, remove_images=True)
        except (StoreError, sqlite3.Error) as exc:
            self._fail(self.tr("Removing the folder {path} failed: {error}"), Path(path), exc)
            return
        self._publish()
        self._update_watcher()
        self.libraryChanged.emit()

    def set_watch(self, path: str, watch: bool) -> None:
        if self._store is None:
            return
        try:
            self._store.gallery.set_watch(path, watch)
        except (StoreError, sqlite3.Error) as exc:
            self._fail(self.tr("Changing the folder {path} failed: {error}"), Path(path), exc)
            return
        self._update_watcher()

    def cancel(self) -> None:
        if self._scanner is not None:
            self._scanner.cancel()

    def shutdown(self) -> None:
        """Stop the running scan at its next file and the watcher, and wait for both."""
        if self._scanner is not None:
            self._scanner.close(wait=True)
            self._scanner = None
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None

    def _publish(self) -> None:
        if self._store is not None:
            self.foldersChanged.emit(self._store.gallery.watched_folders())

    def _update_watcher(self) -> None:
        store = self._store
        watched = store is not None and any(f.watch for f in store.gallery.watched_folders())
        if watched and self._watcher is None and store is not None:
            self._watcher = FolderWatcher(
                store.path, progress=self._watch_progress, on_error=self._watchFailed.emit
            )
            self._watcher.start()
        elif not watched and self._watcher is not None:
            self._watcher.stop()
            self._watcher = None

    def _watch_progress(self, progress: ScanProgress) -> None:
        if progress.finished and (progress.indexed or progress.missing):
            self._watchScanned.emit(progress)

    def _on_watch_scanned(self, progress: ScanProgress) -> None:
        log.info("Watched folder %s changed", progress.folder)
        self.libraryChanged.emit()

    def _on_scan_ended(self, path: Path, future: concurrent.futures.Future[ScanProgress]) -> None:
        if future.cancelled():
            self.finished.emit(self.tr("The scan of {path} was cancelled.").format(path=path))
            return
        try:
            result = future.result()
        except (ScanError, StoreError, sqlite3.Error) as exc:
            self.finished.emit(str(exc))
            self._fail(self.tr("Scanning {path} failed: {error}"), path, exc)
            return
        self._publish()
        self.finished.emit(scan_summary(result))
        if result.indexed or result.missing:
            self.libraryChanged.emit()
        for error in result.errors:
            self.noticeRequested.emit(NoticeLevel.WARNING, error)

    def _fail(self, template: str, path: Path, exc: Exception) -> None:
        log.warning("%s: %s", path, exc)
        self.noticeRequested.emit(NoticeLevel.ERROR, template.format(path=path, error=exc))


def scan_summary(result: ScanProgress) -> str:
    """Return one sentence on what a finished scan did."""
    text = QCoreApplication.translate(
        "FolderIndexing",
        "{folder}: {indexed} images indexed, {unchanged} unchanged, {failed} damaged or "
        "unreadable, {missing} missing.",
    ).format(
        folder=Path(result.folder).name or result.folder,
        indexed=result.indexed,
        unchanged=result.unchanged,
        failed=result.failed,
        missing=result.missing,
    )
    if result.cancelled:
        text += " " + QCoreApplication.translate(
            "FolderIndexing", "The scan was cancelled before the end."
        )
    return text
