"""Per-API-key state: the request window, the key's jobs, its queue and its GPU nodes."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from cmfy_desk.sandbox.config import PlanLimits, Timings
from cmfy_desk.sandbox.jobs import SandboxJob
from cmfy_desk.sandbox.nodes import NodePool


@dataclass
class RateWindow:
    """A fixed request window per key; a new one starts with the first request after it ends."""

    limit: int
    length_seconds: float
    started_at: float = 0.0
    count: int = 0

    def roll(self, now: float) -> None:
        if now >= self.started_at + self.length_seconds:
            self.started_at = now
            self.count = 0

    def take(self, now: float) -> bool:
        """Count one request and return whether it fits in the window."""
        self.roll(now)
        if self.count >= self.limit:
            return False
        self.count += 1
        return True

    def remaining(self) -> int:
        return max(0, self.limit - self.count)

    def reset_at(self) -> int:
        """Return the Unix time, in whole seconds rounded up, when the window ends."""
        return math.ceil(self.started_at + self.length_seconds)

    def retry_after(self, now: float) -> int:
        return max(1, math.ceil(self.started_at + self.length_seconds - now))


@dataclass
class Account:
    """Everything the sandbox keeps for one API key.

    Each key gets its own pool of simulated GPU nodes, as many as its running-job limit, so a
    job allowed to run always finds an idle node.
    """

    api_key: str
    limits: PlanLimits
    timings: Timings
    window: RateWindow = field(init=False)
    pool: NodePool = field(init=False)
    jobs: dict[str, SandboxJob] = field(default_factory=dict)
    # Job ids, oldest first.
    order: list[str] = field(default_factory=list)
    waiting: deque[SandboxJob] = field(default_factory=deque)
    running: dict[str, SandboxJob] = field(default_factory=dict)
    # idempotency_key -> (job_id, monotonic time of the first submission)
    idempotency: dict[str, tuple[str, float]] = field(default_factory=dict)
    # Monotonic time when this key's injected 429 storm ends (0: no storm yet).
    storm_until: float = 0.0

    def __post_init__(self) -> None:
        self.window = RateWindow(self.limits.requests_per_minute, self.timings.rate_window_seconds)
        self.pool = NodePool(self.limits.running, self.timings.node_cache_size)

    def find_idempotent(self, key: str, now: float) -> SandboxJob | None:
        entry = self.idempotency.get(key)
        if entry is None:
            return None
        job_id, created = entry
        if now - created > self.timings.idempotency_ttl_seconds:
            del self.idempotency[key]
            return None
        return self.jobs.get(job_id)

    def forget(self, job: SandboxJob) -> None:
        """Remove a job and its idempotency key, as a server restart that lost it would.

        The caller frees the job's node and cancels its task.
        """
        self.jobs.pop(job.job_id, None)
        self.running.pop(job.job_id, None)
        if job.job_id in self.order:
            self.order.remove(job.job_id)
        if job in self.waiting:
            self.waiting.remove(job)
        if job.idempotency_key is not None:
            entry = self.idempotency.get(job.idempotency_key)
            if entry is not None and entry[0] == job.job_id:
                del self.idempotency[job.idempotency_key]

    def queue_position(self, job: SandboxJob) -> int:
        """Return the 1-based place of a waiting job in this key's queue, 0 when not waiting."""
        for position, waiting in enumerate(self.waiting, start=1):
            if waiting is job:
                return position
        return 0

    def rate_headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.window.limit),
            "X-RateLimit-Remaining": str(self.window.remaining()),
            "X-RateLimit-Reset": str(self.window.reset_at()),
            "X-Concurrent-Limit": str(self.limits.running),
            "X-Concurrent-Current": str(len(self.running)),
            "X-Queue-Limit": str(self.limits.queued),
            "X-Queue-Current": str(len(self.waiting)),
        }
