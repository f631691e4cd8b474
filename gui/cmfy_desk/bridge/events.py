"""Bridge reports besides job states: progress, previews and the bridge's own health.

Job states go to the scheduler (``StatusSink``), which writes them and publishes JobChanged.
Progress and previews are not stored: they go straight to the window.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from cmfy_desk.backends.base import RemoteJob
from cmfy_desk.store import Job

# Applies what a server reported about a job; None means the server does not know the job.
StatusSink = Callable[[int, RemoteJob | None], None]


class BridgeState(StrEnum):
    WEBHOOKS = "webhooks"  # deliveries arrive through the tunnel; polling is a slow safety net
    TUNNEL_DOWN = (
        "tunnel_down"  # the tunnel failed its check, so jobs are polled until it passes again
    )
    POLLING = "polling"  # no webhooks configured or chosen: status comes from polling
    SOCKET = "socket"  # a ComfyUI server's websocket is connected
    SOCKET_DOWN = "socket_down"  # reconnecting; jobs are read through /history meanwhile
    STOPPED = "stopped"


@dataclass(frozen=True)
class BridgeStatus:
    connection: str
    state: BridgeState
    message: str = ""
    last_delivery_at: float | None = None  # Unix seconds of the last webhook or socket event
    webhooks_received: int = 0
    status_reads: int = 0


@dataclass(frozen=True)
class BridgeChanged:
    status: BridgeStatus


@dataclass(frozen=True)
class JobProgress:
    """Progress of a running job: the current node's steps and the share of nodes done."""

    job_id: int
    node_id: str
    node_class: str
    value: int
    maximum: int
    nodes_done: int
    nodes_total: int

    @property
    def overall(self) -> float:
        """Progress of the whole graph from 0.0 to 1.0, counting the current node's share."""
        if self.nodes_total <= 0:
            return 0.0
        step = self.value / self.maximum if self.maximum > 0 else 0.0
        return min(1.0, (self.nodes_done + step) / self.nodes_total)


@dataclass(frozen=True)
class JobPreview:
    """A preview image of a running job, as the server encoded it."""

    job_id: int
    image: bytes
    mime: str  # image/jpeg or image/png


BridgeEvent = BridgeChanged | JobProgress | JobPreview
EmitBridgeEvent = Callable[[BridgeEvent], None]


class ConnectionBridge(Protocol):
    """Turns one connection's webhooks, status reads or websocket into job states.

    The engine builds one per connection. ``watch`` is called for every job that is
    SUBMITTED or RUNNING with a remote id, ``unwatch`` when it leaves those states.
    """

    async def start(self) -> None:
        """Start listening, then reconcile every job of the connection that is not final."""
        ...

    async def stop(self) -> None: ...

    def webhook_url_for(self, job: Job) -> str | None:
        """Return the webhook URL to submit ``job`` with, or None. Called just before each
        submission; may store a new token on the job first."""
        ...

    def watch(self, job: Job) -> None: ...

    def unwatch(self, job_id: int) -> None: ...

    @property
    def status(self) -> BridgeStatus: ...
