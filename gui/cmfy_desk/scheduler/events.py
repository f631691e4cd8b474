"""Events the engine publishes; the window and the command line render them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from cmfy_desk.store import Job, Output


@dataclass(frozen=True)
class JobChanged:
    """A job's row changed (status, queue position, error...); ``job`` is the new row."""

    job: Job


@dataclass(frozen=True)
class JobsQueued:
    """New jobs entered the queue together, such as a batch; ``jobs`` are their rows. One
    event for a whole batch, because a batch may have thousands of jobs."""

    jobs: tuple[Job, ...]


@dataclass(frozen=True)
class OutputSaved:
    """An output file of a job is complete on disk and recorded in the database."""

    output: Output


class NoticeLevel(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class Notice:
    """A message a person must see: what failed, on which job, and what to do."""

    level: NoticeLevel
    message: str
    job_id: int | None = None


EngineEvent = JobChanged | JobsQueued | OutputSaved | Notice
