"""The one seam between the engine's event stream and Qt: engine events re-emitted as signals."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from cmfy_desk.app import Engine
from cmfy_desk.bridge.events import BridgeChanged, BridgeEvent, JobPreview, JobProgress
from cmfy_desk.scheduler import EngineEvent, JobChanged, JobsQueued, Notice, OutputSaved


class EngineSignals(QObject):
    """Subscribes to an engine and re-emits its events as Qt signals.

    ``jobChanged(Job)`` carries a job's new row, ``jobsQueued(list[Job])`` the rows of jobs
    that entered the queue together (a batch), ``outputSaved(Output)`` an output file that is
    complete on disk, and ``notice(Notice)`` a message a person must read. From the bridge,
    ``jobProgress(JobProgress)`` carries the current node and step of a running job,
    ``jobPreview(JobPreview)`` a preview image of a running job, and
    ``bridgeChanged(BridgeStatus)`` the new state of a connection's status channel (webhooks,
    polling or websocket). The engine calls the subscriber on the asyncio loop, which under
    qasync is the Qt main thread, so the signals reach widgets directly. ``attach()`` to a new
    engine detaches from the previous one.
    """

    jobChanged = Signal(object)
    jobsQueued = Signal(object)
    outputSaved = Signal(object)
    notice = Signal(object)
    jobProgress = Signal(object)
    jobPreview = Signal(object)
    bridgeChanged = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._engine: Engine | None = None

    def attach(self, engine: Engine | None) -> None:
        """Forward the events of ``engine`` from now on; None forwards nothing."""
        if self._engine is not None:
            self._engine.unsubscribe(self._forward)
        self._engine = engine
        if engine is not None:
            engine.subscribe(self._forward)

    def _forward(self, event: EngineEvent | BridgeEvent) -> None:
        match event:
            case JobChanged(job=job):
                self.jobChanged.emit(job)
            case JobsQueued(jobs=jobs):
                self.jobsQueued.emit(list(jobs))
            case OutputSaved(output=output):
                self.outputSaved.emit(output)
            case Notice():
                self.notice.emit(event)
            case JobProgress():
                self.jobProgress.emit(event)
            case JobPreview():
                self.jobPreview.emit(event)
            case BridgeChanged(status=status):
                self.bridgeChanged.emit(status)
