"""What every backend offers the scheduler and the bridge, whichever service it talks to.

A backend submits an API-format graph under the job's idempotency key, reads a job's status,
cancels it, and names the headers its output downloads need. Each client counts the requests
it sends by kind, so a run can report what it spent.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

from cmfy_desk.backends.limits import Limits

# Kinds of request a backend counts: "submit", "status", "cancel", and backend-specific ones
# such as "history" or "upload".
RequestCounts = Counter[str]


@dataclass(frozen=True)
class SubmitResult:
    job_id: str
    status: str
    queue_position: int | None
    estimated_wait_seconds: float | None
    replayed: bool
    # Problems the server reported while still accepting the job (a ComfyUI 200 that lists
    # node_errors: the outputs of those nodes will be missing).
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class RemoteJob:
    """A job as the server reports it (status reads, webhooks and websocket events share it).

    ``images`` contains the download URL of every output, whatever its kind. ``missing_outputs``
    names output nodes that produced nothing, which makes a completed job partial.
    """

    job_id: str
    status: str  # queued | running | completed | failed | cancelled
    queue_position: int | None = None
    created_at: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    execution_time_ms: int | None = None
    images: tuple[str, ...] = ()
    error_code: str | None = None
    error_message: str | None = None
    error_details: str | None = None
    missing_outputs: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RemoteJob:
        """Read the cmfy.cloud shape: the status endpoint's body or a webhook's body."""
        outputs = data.get("outputs") or {}
        images = outputs.get("images") if isinstance(outputs, dict) else None
        error = data.get("error")
        if not isinstance(error, dict):
            error = {}
        details = error.get("details")
        return cls(
            job_id=str(data.get("job_id", "")),
            status=str(data.get("status", "")),
            queue_position=int_or_none(data.get("queue_position")),
            created_at=_str_or_none(data.get("created_at")),
            started_at=_str_or_none(data.get("started_at")),
            completed_at=_str_or_none(data.get("completed_at")),
            execution_time_ms=int_or_none(data.get("execution_time_ms")),
            images=tuple(str(url) for url in images or () if isinstance(url, str)),
            error_code=_str_or_none(error.get("code")),
            error_message=_str_or_none(error.get("message")),
            error_details=details if isinstance(details, str) else None,
            raw=data,
        )


class Backend(Protocol):
    """The calls the scheduler and the bridge make, implemented by each service's client."""

    kind: str  # "cmfy" or "comfyui"
    requests: RequestCounts

    @property
    def limits(self) -> Limits: ...

    async def submit(
        self,
        prompt: dict[str, Any],
        idempotency_key: str,
        webhook_url: str | None = None,
        *,
        resubmission: bool = False,
    ) -> SubmitResult:
        """Submit ``prompt``. ``resubmission`` is true when an earlier attempt with the same
        key may have reached the server, so a backend without server-side de-duplication
        looks the job up before sending it again. Raises BackendError subclasses."""
        ...

    async def status(self, remote_id: str) -> RemoteJob:
        """Read a job's state; raises NotFoundError when the server does not know the job."""
        ...

    async def cancel(self, remote_id: str) -> RemoteJob:
        """Cancel a queued or running job; returns its state afterwards."""
        ...

    def download_headers(self, url: str) -> dict[str, str]:
        """Headers to send with the download of ``url`` (never the key to another host)."""
        ...

    async def aclose(self) -> None: ...


def int_or_none(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None
