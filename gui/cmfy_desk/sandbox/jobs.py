"""A sandbox job, its states and its JSON representations (status response and webhook body)."""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cmfy_desk.sandbox.faults import JobFaultPlan
from cmfy_desk.sandbox.nodes import GpuNode
from cmfy_desk.sandbox.render import image_file_name
from cmfy_desk.workflows.graph import Graph


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso_utc(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class SandboxJob:
    job_id: str
    graph: Graph
    webhook_url: str | None
    idempotency_key: str | None
    status: JobStatus = JobStatus.QUEUED
    created_at: datetime = field(default_factory=utc_now)
    started_at: datetime | None = None
    completed_at: datetime | None = None
    # Simulated GPU time: the sampling part of the run, without model downloads.
    execution_time_ms: int | None = None
    image_count: int = 0
    error: dict[str, Any] | None = None
    task: asyncio.Task[None] | None = field(default=None, repr=False)
    # The GPU node running the job, and when (time.monotonic) the run should end.
    node: GpuNode | None = field(default=None, repr=False)
    expected_end: float | None = None
    faults: JobFaultPlan = field(default_factory=JobFaultPlan, repr=False)

    def image_urls(self, base_url: str) -> list[str]:
        return [
            f"{base_url}/outputs/{self.job_id}/{image_file_name(index)}"
            for index in range(self.image_count)
        ]

    def resource(self, base_url: str, queue_position: int) -> dict[str, Any]:
        """Return the body of ``GET /v1/jobs/{id}``, with ``queue_position`` only while queued."""
        body: dict[str, Any] = {"job_id": self.job_id, "status": str(self.status)}
        if self.status is JobStatus.QUEUED:
            body["queue_position"] = queue_position
        body.update(
            {
                "created_at": iso_utc(self.created_at),
                "started_at": iso_utc(self.started_at),
                "completed_at": iso_utc(self.completed_at),
                "execution_time_ms": self.execution_time_ms,
                "outputs": {"images": self.image_urls(base_url)},
            }
        )
        if self.error is not None:
            body["error"] = self.error
        return body

    def webhook_payload(self, base_url: str) -> dict[str, Any]:
        """Return the body POSTed to the webhook URL when the job completes or fails."""
        body: dict[str, Any] = {
            "job_id": self.job_id,
            "status": str(self.status),
            "created_at": iso_utc(self.created_at),
            "started_at": iso_utc(self.started_at),
            "completed_at": iso_utc(self.completed_at),
            "execution_time_ms": self.execution_time_ms,
        }
        if self.status is JobStatus.COMPLETED:
            body["outputs"] = {"images": self.image_urls(base_url)}
        elif self.error is not None:
            body["error"] = self.error
        return body
