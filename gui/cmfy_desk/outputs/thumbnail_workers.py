"""Processes that make thumbnails beside the app, so that decoding never holds up its window.

Pillow's Python code (its file plugins, EXIF handling and saving) runs while holding the
interpreter lock. On threads of the app's process it made the UI thread wait for the lock
each time Qt called back into Python during a repaint, for tens of milliseconds while a batch
downloaded. In processes of their own, at a lower priority, that work shares only the CPU.

The processes are started with "spawn", never "fork": a forked copy of a process that runs Qt
and other threads may hang. Frozen builds call multiprocessing.freeze_support() at start for
this (packaging/launcher.py). One pool serves every loader of thumbnails in the process. It
starts at the first request, and a pool whose process died is replaced at the next one.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from PIL import Image

from cmfy_desk.outputs.thumbnails import ThumbnailError, ThumbnailPixels, thumbnail_pixels

log = logging.getLogger(__name__)

# One core is left to the window's thread: one process on a 2-core machine, two from 3 cores.
WORKER_PROCESSES = max(1, min(2, (os.cpu_count() or 2) - 1))
# The niceness of the worker processes on POSIX: the window's thread wins a core over them.
WORKER_NICENESS = 10

ThumbnailOutcome = ThumbnailPixels | ThumbnailError


class ThumbnailWorkers:
    """A pool of worker processes that run thumbnail_pixels(); safe to use from any thread."""

    def __init__(self, processes: int = WORKER_PROCESSES) -> None:
        self.processes = processes
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def submit(self, source: Path, cache_dir: Path, max_side: int) -> Future[ThumbnailOutcome]:
        """Queue one thumbnail. The future fails with BrokenProcessPool when a worker process
        stopped while it ran; submitting again then starts a new pool."""
        with self._lock:
            executor = self._executor
            if executor is None:
                executor = self._executor = self._start()
            try:
                return executor.submit(thumbnail_pixels, source, cache_dir, max_side)
            except BrokenProcessPool:
                log.warning("A thumbnail process stopped; starting new ones")
                executor.shutdown(wait=False, cancel_futures=True)
                executor = self._executor = self._start()
                return executor.submit(thumbnail_pixels, source, cache_dir, max_side)

    def start(self) -> None:
        """Start the worker processes now rather than at the first request."""
        with self._lock:
            if self._executor is None:
                self._executor = self._start()
            # Each call finds no idle process and starts one, up to the pool's size.
            for _ in range(self.processes):
                self._executor.submit(_load_image_plugins)

    def shutdown(self) -> None:
        """Drop the queued thumbnails and end the processes once their current ones are done."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    @property
    def started(self) -> bool:
        return self._executor is not None

    def process_ids(self) -> list[int]:
        """Return the ids of the worker processes running now."""
        executor = self._executor
        # The executor keeps no public list of its processes.
        processes = getattr(executor, "_processes", None) or {}
        return [pid for pid in processes if pid is not None]

    def _start(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            self.processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_prepare_worker,
        )


_shared: ThumbnailWorkers | None = None
_shared_lock = threading.Lock()


def shared_workers() -> ThumbnailWorkers:
    """Return the process's one pool of thumbnail workers, created on first use."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = ThumbnailWorkers()
        return _shared


def shutdown_shared_workers() -> None:
    """End the shared pool's processes, if it was started."""
    with _shared_lock:
        workers = _shared
    if workers is not None:
        workers.shutdown()


def _load_image_plugins() -> None:
    # Pillow imports its file format plugins on first use.
    Image.init()


def _prepare_worker() -> None:
    # Ctrl+C in a terminal reaches the whole process group; the app decides when workers end.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(os, "nice"):
        try:
            os.nice(WORKER_NICENESS)
        except OSError as exc:
            log.debug("Cannot lower the priority of a thumbnail process: %s", exc)
