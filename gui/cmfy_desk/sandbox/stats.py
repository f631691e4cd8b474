"""Counters the sandbox exposes at ``GET /sandbox/stats`` and fault switches tests set."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

RATE_LIMIT_CODES = ("rate_limit_exceeded", "concurrent_limit_reached", "queue_full")


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
    webhooks_sent: int = 0
    webhooks_failed: int = 0
    webhooks_skipped: int = 0
    # Every request to a /v1 path, including the rejected ones.
    requests_total: int = 0

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
        }


@dataclass
class SandboxFaults:
    """Faults to inject; each counter drops by one every time it takes effect.

    ``error_5xx``: the next N authenticated /v1 requests get 503 ``server_error``.
    ``drop_after_accept``: the next N job submissions create the job, then respond 500 as if
    the response had been lost on the way.
    ``fail_jobs``: the next N jobs to finish end ``failed`` with ``execution_error``.
    ``revoked_keys``: API keys rejected with 401 ``revoked_api_key``.
    """

    error_5xx: int = 0
    drop_after_accept: int = 0
    fail_jobs: int = 0
    revoked_keys: set[str] = field(default_factory=set)

    def take_error_5xx(self) -> bool:
        if self.error_5xx <= 0:
            return False
        self.error_5xx -= 1
        return True

    def take_drop_after_accept(self) -> bool:
        if self.drop_after_accept <= 0:
            return False
        self.drop_after_accept -= 1
        return True

    def take_fail_job(self) -> bool:
        if self.fail_jobs <= 0:
            return False
        self.fail_jobs -= 1
        return True
