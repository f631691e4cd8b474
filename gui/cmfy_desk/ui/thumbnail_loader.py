"""Thumbnails for views: requests go to the worker processes, images come back on the UI thread.

ThumbnailLoader keeps a few requests in the processes' queue at a time and the rest in its own,
so clear_queue() can drop the ones for items that scrolled out of view before any work is
done on them.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections import deque
from concurrent.futures import CancelledError, Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal
from PySide6.QtGui import QImage

from cmfy_desk.outputs.thumbnail_workers import ThumbnailOutcome, ThumbnailWorkers, shared_workers
from cmfy_desk.outputs.thumbnails import ThumbnailError, ThumbnailPixels

log = logging.getLogger(__name__)

THUMBNAIL_SIZE = 160
# Requests handed to the processes at once: enough that a process rarely waits for its next
# one, few enough that clear_queue() still drops nearly everything.
IN_FLIGHT_PER_PROCESS = 2
# A request whose process stopped is sent once more, to a new process, before it counts as
# failed: the stopped process may have been running another image.
RETRIES_AFTER_STOPPED_PROCESS = 1


class ThumbnailLoader(QObject):
    """Makes thumbnails of size ``size`` in ``cache_dir`` on the shared worker processes.

    ``loaded(path, image, error)`` follows each request() on the UI thread: a decoded image and
    an empty error, or a null image and the reason. clear_queue() drops the requests that have
    not started, for items scrolled out of view.
    """

    loaded = Signal(str, QImage, str)
    # Emitted from the pool's result thread; queued to the loader's thread.
    _finished = Signal(str, object)

    def __init__(
        self,
        cache_dir: Path,
        size: int = THUMBNAIL_SIZE,
        parent: QObject | None = None,
        workers: ThumbnailWorkers | None = None,
    ) -> None:
        super().__init__(parent)
        self.cache_dir = cache_dir
        self.size = size
        self._workers = workers if workers is not None else shared_workers()
        self._waiting: deque[tuple[str, int]] = deque()
        self._in_flight = 0
        self._closed = False
        self._finished.connect(self._on_finished, Qt.ConnectionType.QueuedConnection)

    def request(self, path: str) -> None:
        if not self._closed:
            self._waiting.append((path, 0))
            self._send()

    def clear_queue(self) -> None:
        self._waiting.clear()

    def shutdown(self) -> None:
        """Drop the waiting requests and ignore the results still to come."""
        self._closed = True
        self._waiting.clear()

    @property
    def waiting(self) -> int:
        """Return how many requests wait for a process or run on one."""
        return len(self._waiting) + self._in_flight

    def _send(self) -> None:
        limit = IN_FLIGHT_PER_PROCESS * self._workers.processes
        while self._waiting and self._in_flight < limit:
            path, attempt = self._waiting.popleft()
            future = self._workers.submit(Path(path), self.cache_dir, self.size)
            self._in_flight += 1
            future.add_done_callback(functools.partial(self._deliver, path, attempt))

    def _deliver(self, path: str, attempt: int, future: Future[ThumbnailOutcome]) -> None:
        # Runs on the pool's result thread, or at once when the future had already ended.
        if self._closed:
            return
        # RuntimeError: the loader was deleted together with its view.
        with contextlib.suppress(RuntimeError):
            self._finished.emit(path, (attempt, future))

    def _on_finished(self, path: str, delivered: tuple[int, Future[ThumbnailOutcome]]) -> None:
        self._in_flight -= 1
        attempt, future = delivered
        if self._closed:
            return
        try:
            outcome = future.result()
        except BrokenProcessPool:
            if attempt < RETRIES_AFTER_STOPPED_PROCESS:
                self._waiting.appendleft((path, attempt + 1))
                self._send()
                return
            outcome = ThumbnailError(
                Path(path),
                QCoreApplication.translate(
                    "ThumbnailLoader",
                    "The thumbnail process stopped while reading {name}; the file may be damaged.",
                ).format(name=Path(path).name),
            )
        except CancelledError:
            self._send()
            return
        except Exception as exc:
            log.exception("Making the thumbnail of %s failed", path)
            outcome = ThumbnailError(Path(path), f"No thumbnail: {exc}")
        if isinstance(outcome, ThumbnailPixels):
            self.loaded.emit(path, to_qimage(outcome), "")
        else:
            self.loaded.emit(path, QImage(), outcome.message)
        self._send()


def to_qimage(pixels: ThumbnailPixels) -> QImage:
    """Return a QImage that owns a copy of ``pixels``."""
    image_format = (
        QImage.Format.Format_RGBA8888 if pixels.has_alpha else QImage.Format.Format_RGB888
    )
    bytes_per_line = pixels.width * (4 if pixels.has_alpha else 3)
    view = QImage(pixels.data, pixels.width, pixels.height, bytes_per_line, image_format)
    return view.copy()
