"""The local queue: submits jobs under the service's limits, applies their remote status,
downloads their outputs, and retries without creating duplicates."""

from cmfy_desk.scheduler.events import EngineEvent, JobChanged, JobsQueued, Notice, OutputSaved
from cmfy_desk.scheduler.queue import Scheduler, SchedulerOptions

__all__ = [
    "EngineEvent",
    "JobChanged",
    "JobsQueued",
    "Notice",
    "OutputSaved",
    "Scheduler",
    "SchedulerOptions",
]
