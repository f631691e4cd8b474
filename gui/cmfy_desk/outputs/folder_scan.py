"""Scanning folders of images into the index, once or repeatedly on a worker thread.

A scan reads only files whose size or modification time changed since they were indexed,
records truncated, corrupt or unreadable files with that status and a message without stopping,
and marks files that vanished as missing. Scans block, so FolderScanner and FolderWatcher run
them on threads of their own, each with its own database connection. Their progress callbacks
run on those threads.
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import sqlite3
import stat
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from cmfy_desk.outputs.index import ANALYZE_AFTER, IMAGE_SUFFIXES, failed_row, read_image_file
from cmfy_desk.store import FileState, Gallery, ImageData, ImageStatus, Store, StoreError

log = logging.getLogger(__name__)

# Rows written per transaction during a scan. Each transaction holds SQLite's write lock for
# about 30 ms (measured on a 2-core machine), so the app's own writes (job status changes)
# wait at most about that long.
SCAN_BATCH_SIZE = 500
# Progress is reported at most this often, in seconds, and at the end.
PROGRESS_INTERVAL = 0.1
DEFAULT_WATCH_INTERVAL = 60.0


class ScanError(Exception):
    """A folder that cannot be scanned at all (not found, not a folder, not readable)."""


@dataclass(frozen=True)
class ScanProgress:
    """The state of a folder scan.

    ``total`` is the number of image files found in the folder and its subfolders, and ``done``
    how many of them the scan has handled. Of those, ``indexed`` were read and ``unchanged``
    skipped as indexed before. ``failed`` counts the read files recorded as corrupt or
    unreadable. ``missing`` rows were marked missing at the end. ``errors`` has a message for
    each subfolder that could not be listed.
    """

    folder: str
    total: int = 0
    done: int = 0
    indexed: int = 0
    unchanged: int = 0
    failed: int = 0
    missing: int = 0
    finished: bool = False
    cancelled: bool = False
    errors: tuple[str, ...] = ()


ProgressCallback = Callable[[ScanProgress], None]


# Scanning a folder ----------------------------------------------------------------------


def scan_folder(
    gallery: Gallery,
    folder: Path,
    *,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> ScanProgress:
    """Index the images in ``folder`` and its subfolders (hidden ones excepted); return the
    final progress.

    Files whose size and modification time match their row are skipped. When the scan runs to
    the end, rows of files that are gone are marked missing, except under subfolders that
    could not be listed. Raises ScanError when ``folder`` itself cannot be listed, so an
    unplugged drive does not mark its whole library missing.
    """
    root = folder.expanduser().resolve()
    if not root.is_dir():
        raise ScanError(f"{root} is not a folder that can be scanned. Check that it exists.")
    try:
        with os.scandir(root):
            pass
    except OSError as exc:
        raise ScanError(f"The folder {root} cannot be read: {_os_reason(exc)}") from exc

    unlisted: list[str] = []
    files = list(_walk_images(str(root), unlisted))
    errors = tuple(f"{path}: cannot be listed" for path in unlisted)
    known = gallery.file_states(str(root))
    reporter = _Reporter(progress)
    reporter.report(ScanProgress(str(root), total=len(files), errors=errors), force=True)

    pending: list[ImageData] = []
    done = indexed = unchanged = failed = 0
    cancelled = False
    for path, info in files:
        if cancel is not None and cancel.is_set():
            cancelled = True
            break
        if _is_unchanged(known.get(path), info):
            unchanged += 1
        else:
            image = _read_or_record(Path(path), info)
            indexed += 1
            failed += image.status is not ImageStatus.OK
            pending.append(image)
            if len(pending) >= SCAN_BATCH_SIZE:
                gallery.upsert(pending)
                pending = []
        done += 1
        reporter.report(
            ScanProgress(str(root), len(files), done, indexed, unchanged, failed, errors=errors)
        )
    if pending:
        gallery.upsert(pending)
    if indexed >= ANALYZE_AFTER:
        gallery.analyze()

    missing = 0
    if not cancelled:
        seen = {path for path, _info in files}
        skipped_folders = tuple(folder + os.sep for folder in unlisted)
        vanished = [
            path
            for path, file_state in known.items()
            if path not in seen
            and file_state.status is not ImageStatus.MISSING
            and not path.startswith(skipped_folders)
        ]
        missing = gallery.mark_missing(vanished)
    result = ScanProgress(
        str(root),
        len(files),
        done,
        indexed,
        unchanged,
        failed,
        missing,
        finished=True,
        cancelled=cancelled,
        errors=errors,
    )
    reporter.report(result, force=True)
    # A watched folder is rescanned every minute, so a scan that changed nothing logs at DEBUG.
    changed = indexed or missing or cancelled
    log.log(
        logging.INFO if changed else logging.DEBUG,
        "Scanned %s: %d image files, %d read, %d unchanged, %d damaged or unreadable, %d missing%s",
        root,
        len(files),
        indexed,
        unchanged,
        failed,
        missing,
        " (cancelled)" if cancelled else "",
    )
    return result


def _read_or_record(path: Path, info: os.stat_result) -> ImageData:
    """Read one file for a scan. An error that read_image_file() did not expect is logged
    with its traceback and recorded on the file's row, so that one odd file cannot stop a
    scan."""
    try:
        return read_image_file(path, info)
    except Exception as exc:
        log.exception("Indexing %s failed", path)
        return failed_row(
            str(path), info, ImageStatus.UNREADABLE, f"The file could not be indexed: {exc}."
        )


def _walk_images(root: str, unlisted: list[str]) -> Iterator[tuple[str, os.stat_result]]:
    """Yield ``(path, stat)`` of image files under ``root``, sorted by name within each
    folder; append each folder that cannot be listed to ``unlisted``."""
    folders = [root]
    while folders:
        current = folders.pop()
        try:
            with os.scandir(current) as entries:
                listed = sorted(entries, key=lambda entry: entry.name)
        except OSError as exc:
            log.info("Cannot list %s: %s", current, exc)
            unlisted.append(current)
            continue
        subfolders: list[str] = []
        for entry in listed:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    subfolders.append(entry.path)
                    continue
                if not entry.name.lower().endswith(IMAGE_SUFFIXES):
                    continue
                info = entry.stat()
            except OSError as exc:
                log.debug("Cannot stat %s: %s", entry.path, exc)
                continue
            if stat.S_ISREG(info.st_mode):
                yield entry.path, info
        folders.extend(reversed(subfolders))


def _is_unchanged(known: FileState | None, info: os.stat_result) -> bool:
    # Files that could not be read are read again: a changed permission leaves mtime alone.
    return (
        known is not None
        and known.size == info.st_size
        and known.mtime_ns == info.st_mtime_ns
        and known.status not in (ImageStatus.MISSING, ImageStatus.UNREADABLE)
    )


class _Reporter:
    """Calls a progress callback at most every PROGRESS_INTERVAL seconds."""

    def __init__(self, callback: ProgressCallback | None) -> None:
        self._callback = callback
        self._last = 0.0

    def report(self, state: ScanProgress, *, force: bool = False) -> None:
        if self._callback is None:
            return
        now = time.monotonic()
        if force or now - self._last >= PROGRESS_INTERVAL:
            self._last = now
            self._callback(state)


# Worker threads -------------------------------------------------------------------------


class FolderScanner:
    """Runs folder scans one at a time on a worker thread with its own database connection.

    ``progress`` is called on the worker thread; a Qt caller forwards it with a queued signal.
    """

    def __init__(self, database: Path, progress: ProgressCallback | None = None) -> None:
        self._database = database
        self._progress = progress
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="cmfy-desk-scan"
        )
        self._cancels: set[threading.Event] = set()
        self._lock = threading.Lock()

    def scan(self, folder: Path) -> concurrent.futures.Future[ScanProgress]:
        """Queue a scan of ``folder``; the future raises ScanError or StoreError on failure."""
        cancel = threading.Event()
        with self._lock:
            self._cancels.add(cancel)
        return self._executor.submit(self._run, folder, cancel)

    def cancel(self) -> None:
        """Stop the running scan at the next file and drop the queued ones."""
        with self._lock:
            for cancel in self._cancels:
                cancel.set()

    def close(self, wait: bool = True) -> None:
        self.cancel()
        self._executor.shutdown(wait=wait, cancel_futures=True)

    def _run(self, folder: Path, cancel: threading.Event) -> ScanProgress:
        try:
            store = Store.open(self._database)
            try:
                return scan_folder(store.gallery, folder, progress=self._progress, cancel=cancel)
            finally:
                store.close()
        finally:
            with self._lock:
                self._cancels.discard(cancel)


class FolderWatcher:
    """Rescans the folders marked watched every ``interval`` seconds, on a thread of its own.

    A rescan of an unchanged folder only lists it and compares sizes and modification times
    (no file is opened), so a short interval costs little. ``progress`` is called on the
    watcher's thread, and ``on_error`` with a message for a folder that cannot be scanned.
    """

    def __init__(
        self,
        database: Path,
        interval: float = DEFAULT_WATCH_INTERVAL,
        *,
        progress: ProgressCallback | None = None,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        if interval <= 0:
            raise ValueError(f"Invalid watch interval {interval}: expected seconds above 0.")
        self.interval = interval
        self._database = database
        self._progress = progress
        self._on_error = on_error
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="cmfy-desk-watch", daemon=True)
        self._thread.start()

    def scan_now(self) -> None:
        """Start the next round at once instead of after the interval."""
        self._wake.set()

    def stop(self, timeout: float | None = None) -> None:
        """Stop after the current file and wait for the thread to end."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        try:
            store = Store.open(self._database)
        except StoreError as exc:
            log.error("The folder watcher cannot open the database: %s", exc)
            self._report_error(str(exc))
            return
        try:
            while not self._stop.is_set():
                self._scan_round(store.gallery)
                self._wake.wait(self.interval)
                self._wake.clear()
        finally:
            store.close()

    def _scan_round(self, gallery: Gallery) -> None:
        for folder in gallery.watched_folders():
            if self._stop.is_set():
                return
            if not folder.watch:
                continue
            started = time.time()
            try:
                result = scan_folder(
                    gallery, Path(folder.path), progress=self._progress, cancel=self._stop
                )
            except ScanError as exc:
                log.warning("Watched folder not scanned: %s", exc)
                self._report_error(str(exc))
                continue
            except sqlite3.Error as exc:
                # Another connection held the write lock past the busy timeout, and the next
                # round tries again.
                log.warning("Scanning the watched folder %s failed: %s", folder.path, exc)
                self._report_error(f"Scanning {folder.path} failed: {exc}. It is retried.")
                continue
            if not result.cancelled:
                gallery.set_last_scan(folder.path, started)

    def _report_error(self, message: str) -> None:
        if self._on_error is not None:
            self._on_error(message)


def _os_reason(exc: OSError) -> str:
    return f"{exc.strerror or exc}."
