"""The one seam between the engine's event stream and Qt: engine events re-emitted as signals."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from cmfy_desk.app import Engine
from cmfy_desk.scheduler import EngineEvent, JobChanged, Notice, OutputSaved


class EngineSignals(QObject):
    """Subscribes to an engine and re-emits its events as Qt signals.

    ``jobChanged(Job)`` carries a job's new row, ``outputSaved(Output)`` an output file that is
    complete on disk, and ``notice(Notice)`` a message a person must read. The engine calls the
    subscriber on the asyncio loop, which under qasync is the Qt main thread, so the signals
    reach widgets directly. After ``attach()`` to a new engine, events of the old one are
    dropped, because an engine offers no way to unsubscribe.
    """

    jobChanged = Signal(object)
    outputSaved = Signal(object)
    notice = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._engine: Engine | None = None

    def attach(self, engine: Engine | None) -> None:
        """Forward the events of ``engine`` from now on; None forwards nothing."""
        self._engine = engine
        if engine is not None:
            engine.subscribe(lambda event: self._forward(engine, event))

    def _forward(self, engine: Engine, event: EngineEvent) -> None:
        if engine is not self._engine:
            return
        match event:
            case JobChanged(job=job):
                self.jobChanged.emit(job)
            case OutputSaved(output=output):
                self.outputSaved.emit(output)
            case Notice():
                self.notice.emit(event)
