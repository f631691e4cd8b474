"""Counters the sandbox exposes at ``GET /sandbox/stats``."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from cmfy_desk.sandbox.faults import RATE_NAMES

RATE_LIMIT_CODES = ("rate_limit_exceeded", "concurrent_limit_reached", "queue_full")
# Keys of ``faults_injected``: each rate's name counts the faults it injected, counters
# included (``error_5xx`` under "5xx", ``drop_after_accept``, ``fail_jobs`` under "fail").
# "429_storm" counts storms started and "429_storm_requests" the requests they rejected.
# "lost" counts running jobs forgotten one by one, "forget_all_jobs" the simulated restarts,
# and "jobs_forgotten" every job forgotten either way.
FAULT_COUNTER_NAMES = (*RATE_NAMES, "429_storm_requests", "forget_all_jobs", "jobs_forgotten")


@dataclass
class SandboxStats:
    """Counters over the server's lifetime, over all API keys."""

    jobs_created: int = 0
    idempotent_replays: int = 0
    jobs_started: int = 0
    runs_per_job: Counter[str] = field(default_factory=Counter)
    rate_limited: Counter[str] = field(default_factory=Counter)
    cache_hits: int = 0
    cache_misses: int = 0
    # Successful deliveries, each repeat of a duplicate or late webhook included.
    webhooks_sent: int = 0
    webhooks_failed: int = 0
    webhooks_skipped: int = 0
    # Every request to a /v1 path, including the rejected ones.
    requests_total: int = 0
    faults_injected: Counter[str] = field(default_factory=Counter)

    def as_dict(self, jobs_by_status: dict[str, int]) -> dict[str, Any]:
        return {
            "jobs_created": self.jobs_created,
            "idempotent_replays": self.idempotent_replays,
            "jobs_started": self.jobs_started,
            "runs_per_job": dict(self.runs_per_job),
            "jobs_by_status": jobs_by_status,
            "rate_limited": {code: self.rate_limited[code] for code in RATE_LIMIT_CODES},
            "cache": {"hits": self.cache_hits, "misses": self.cache_misses},
            "webhooks_sent": self.webhooks_sent,
            "webhooks_failed": self.webhooks_failed,
            "webhooks_skipped": self.webhooks_skipped,
            "requests_total": self.requests_total,
            "faults_injected": {name: self.faults_injected[name] for name in FAULT_COUNTER_NAMES},
        }
