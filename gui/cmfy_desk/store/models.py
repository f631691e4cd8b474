"""Jobs, batches and outputs as the store returns them, and the job's life as a state table."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class JobStatus(StrEnum):
    DRAFT = "draft"
    QUEUED = "queued"
    SUBMITTING = "submitting"
    SUBMITTED = "submitted"
    RUNNING = "running"
    DOWNLOADING = "downloading"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"
    FAILED = "failed"
    CANCELLED = "cancelled"
    LOST = "lost"


_S = JobStatus

# Every status change a job may make. A retry of a final job goes back to QUEUED with a new
# idempotency key; SUBMITTING goes back to QUEUED when the server asks us to wait (429).
ALLOWED_TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    _S.DRAFT: frozenset({_S.QUEUED, _S.CANCELLED}),
    _S.QUEUED: frozenset({_S.SUBMITTING, _S.CANCELLED}),
    _S.SUBMITTING: frozenset(
        {_S.QUEUED, _S.SUBMITTED, _S.RUNNING, _S.DOWNLOADING, _S.FAILED, _S.CANCELLED}
    ),
    _S.SUBMITTED: frozenset({_S.RUNNING, _S.DOWNLOADING, _S.FAILED, _S.CANCELLED, _S.LOST}),
    _S.RUNNING: frozenset({_S.DOWNLOADING, _S.FAILED, _S.CANCELLED, _S.LOST}),
    _S.DOWNLOADING: frozenset({_S.SUCCEEDED, _S.PARTIAL, _S.FAILED}),
    _S.SUCCEEDED: frozenset(),
    _S.PARTIAL: frozenset({_S.QUEUED}),
    _S.FAILED: frozenset({_S.QUEUED}),
    _S.CANCELLED: frozenset({_S.QUEUED}),
    _S.LOST: frozenset({_S.QUEUED}),
}

FINAL_STATUSES = frozenset({_S.SUCCEEDED, _S.PARTIAL, _S.FAILED, _S.CANCELLED, _S.LOST})
# Jobs that hold one of the server's slots (or may, while the submission is on the wire).
IN_FLIGHT_STATUSES = frozenset({_S.SUBMITTING, _S.SUBMITTED, _S.RUNNING})
ACTIVE_STATUSES = frozenset({_S.QUEUED, *IN_FLIGHT_STATUSES, _S.DOWNLOADING})


class InvalidTransition(RuntimeError):
    def __init__(self, job_id: int, old: JobStatus, new: JobStatus) -> None:
        super().__init__(f"Job {job_id} cannot go from {old} to {new}.")
        self.job_id = job_id
        self.old = old
        self.new = new


@dataclass(frozen=True)
class Batch:
    id: int
    name: str
    workflow_name: str
    workflow_path: str
    connection: str
    count: int
    seed_mode: str
    output_dir: str
    created_at: float
    priority: int = 0
    paused: bool = False


@dataclass(frozen=True)
class Job:
    id: int
    batch_id: int
    position: int
    connection: str
    workflow_name: str
    prompt: dict[str, Any]
    prompt_hash: str
    seed: int | None
    status: JobStatus
    idempotency_key: str
    remote_id: str | None
    queue_position: int | None
    attempts: int
    error_code: str | None
    error_message: str | None
    error_request_id: str | None
    created_at: float
    submitted_at: float | None
    started_at: float | None
    finished_at: float | None
    remote_created_at: str | None
    remote_started_at: str | None
    remote_completed_at: str | None
    execution_time_ms: int | None
    updated_at: float
    parameters: dict[str, Any]
    priority: int = 0
    queue_order: float = 0.0
    model_key: str = ""
    webhook_token: str | None = None
    error_details: str | None = None

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES


@dataclass(frozen=True)
class QueueEntry:
    """The fields of a queued job that decide its turn, without its prompt."""

    id: int
    batch_id: int
    priority: int
    queue_order: float
    model_key: str


@dataclass(frozen=True)
class WebhookDelivery:
    """A webhook body as received, kept until the status it reports has been applied."""

    id: int
    job_id: int
    received_at: float
    body: str


@dataclass(frozen=True)
class Output:
    id: int
    job_id: int
    index: int
    remote_url: str
    local_path: str
    size: int
    sha256: str
    width: int | None
    height: int | None
    created_at: float
