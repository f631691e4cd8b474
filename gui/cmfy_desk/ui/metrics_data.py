"""The data sources of the metrics window: a connection's facts from the engine, and a worker
thread that reads the figures and writes the CSV exports. Each task opens a store connection of
its own, and its result returns to the UI thread through a signal."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Signal

from cmfy_desk.app import Engine, EngineError
from cmfy_desk.metrics import (
    ChecklistItem,
    ConnectionFacts,
    Metrics,
    MetricsScope,
    compute_metrics,
    export_job_history_csv,
    export_metrics_csv,
    production_checklist,
)
from cmfy_desk.settings import Settings
from cmfy_desk.store import Store, StoreError
from cmfy_desk.store.model_library import ModelLibrary

log = logging.getLogger(__name__)

_T = TypeVar("_T")

FactsProvider = Callable[[str], ConnectionFacts | None]


def engine_facts_provider(
    engine: Callable[[], Engine | None], settings: Settings | None = None
) -> FactsProvider:
    """Return a function that gives the facts of a connection the engine serves, or None."""

    def facts_for(label: str) -> ConnectionFacts | None:
        current = engine()
        if current is None:
            return None
        try:
            return current.metrics_facts(label)
        except EngineError:
            return None

    return facts_for


class StoreWorker(QObject):
    """A worker thread that runs functions one at a time and hands each result to the UI thread.

    ``taskFinished()`` is emitted on the UI thread after a result or an error has been handed
    over; a task cancelled by ``shutdown()`` emits nothing.
    """

    taskFinished = Signal()
    # Carries a finished worker's result to the UI thread: (show function, future).
    _workDone = Signal(object, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._executor: ThreadPoolExecutor | None = None
        # Tasks submitted and not yet handed over.
        self.tasks = 0
        self._workDone.connect(self._work_done)

    def run(
        self,
        work: Callable[[], Any],
        show: Callable[[Any], None],
        fail: Callable[[Exception], None],
    ) -> None:
        """Run ``work`` on the worker thread, then ``show`` its result on the UI thread, or
        ``fail`` with its sqlite3, store or file error."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="metrics")
        self.tasks += 1
        future = self._executor.submit(work)
        future.add_done_callback(lambda finished: self._post((show, fail), finished))

    def _post(
        self,
        handlers: tuple[Callable[[Any], None], Callable[[Exception], None]],
        future: Future[Any],
    ) -> None:
        # Called on the worker thread: the queued signal carries the result to the UI thread.
        try:
            self._workDone.emit(handlers, future)
        except RuntimeError:
            log.debug("The metrics window closed before its worker finished")

    def _work_done(
        self,
        handlers: tuple[Callable[[Any], None], Callable[[Exception], None]],
        future: Future[Any],
    ) -> None:
        self.tasks -= 1
        show, fail = handlers
        if future.cancelled():
            return
        try:
            result = future.result()
        except (sqlite3.Error, StoreError, OSError) as exc:
            fail(exc)
        else:
            show(result)
        self.taskFinished.emit()

    def shutdown(self) -> None:
        """Cancel the tasks not yet started. A task under way finishes on its thread, and its
        result is still handed over unless the worker has been deleted."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None


def read_metrics(
    database: Path,
    scope: MetricsScope,
    facts: ConnectionFacts | None,
    download_seconds: Mapping[str, float] | None = None,
) -> tuple[Metrics, tuple[ChecklistItem, ...]]:
    """Return the figures and the checklist of ``scope``, read through a connection of this
    thread's own to the database at ``database``. ``download_seconds`` is that of
    compute_metrics."""

    def read(store: Store) -> tuple[Metrics, tuple[ChecklistItem, ...]]:
        started = time.perf_counter()
        metrics = compute_metrics(store, scope, facts, download_seconds=download_seconds)
        library = ModelLibrary(store).canonical_urls()
        checklist = production_checklist(store, scope, facts, metrics, library=library)
        log.debug("Metrics of %s read in %.0f ms", scope, (time.perf_counter() - started) * 1000)
        return metrics, checklist

    return with_store(database, read)


def with_store(database: Path, work: Callable[[Store], _T]) -> _T:
    """Run ``work`` on a store opened for this call, then close it. SQLite connections belong to
    one thread, so the worker thread opens its own (WAL mode lets it read while the UI thread
    writes)."""
    store = Store.open(database)
    try:
        return work(store)
    finally:
        store.close()


def export_metrics_file(
    database: Path,
    path: Path,
    facts: Mapping[str, ConnectionFacts | None],
    since: float | None,
) -> int:
    """Write the figures of every connection and batch since ``since`` to ``path``, through a
    store connection of this thread's own; return the rows written."""
    return with_store(
        database, lambda opened: export_metrics_csv(opened, path, facts.get, since=since)
    )


def export_history_file(database: Path, path: Path, scope: MetricsScope) -> int:
    """Write every job of ``scope`` to ``path``, through a store connection of this thread's
    own; return the rows written."""
    return with_store(database, lambda opened: export_job_history_csv(opened, path, scope))
