"""The service's limits as its response headers report them, and pacing of requests by them."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

log = logging.getLogger(__name__)

# How long a request waiting in line steps aside for an urgent one.
URGENT_YIELD_SECONDS = 0.01


@dataclass(frozen=True)
class PlanLimits:
    requests_per_minute: int
    running_jobs: int
    queued_jobs: int


# The documented plans of cmfy.cloud, used before the first response's headers arrive.
PLANS: dict[str, PlanLimits] = {
    "free": PlanLimits(60, 2, 100),
    "pro": PlanLimits(300, 10, 100),
    "enterprise": PlanLimits(1000, 50, 100),
}


@dataclass(frozen=True)
class Limits:
    """The latest reading of the X-RateLimit-*, X-Concurrent-* and X-Queue-* headers."""

    rate_limit: int
    rate_remaining: int | None = None
    rate_reset_at: float | None = None  # Unix seconds
    concurrent_limit: int = 1
    concurrent_current: int | None = None
    queue_limit: int | None = None
    queue_current: int | None = None
    observed_at: float = 0.0

    @classmethod
    def from_plan(cls, plan: PlanLimits) -> Limits:
        return cls(
            rate_limit=plan.requests_per_minute,
            concurrent_limit=plan.running_jobs,
            queue_limit=plan.queued_jobs,
        )

    def updated_from_headers(self, headers: Mapping[str, str], now: float) -> Limits:
        """Return these limits with every header present in ``headers`` applied."""
        values: dict[str, float | int] = {}
        for header, field, parse in _HEADER_FIELDS:
            raw = headers.get(header)
            if raw is None:
                continue
            try:
                values[field] = parse(raw.strip())
            except ValueError:
                log.warning("Ignoring header %s with a value that is not a number: %r", header, raw)
        if not values:
            return self
        return replace(self, observed_at=now, **values)  # type: ignore[arg-type]


_HEADER_FIELDS: tuple[tuple[str, str, Callable[[str], float | int]], ...] = (
    ("X-RateLimit-Limit", "rate_limit", int),
    ("X-RateLimit-Remaining", "rate_remaining", int),
    ("X-RateLimit-Reset", "rate_reset_at", float),
    ("X-Concurrent-Limit", "concurrent_limit", int),
    ("X-Concurrent-Current", "concurrent_current", int),
    ("X-Queue-Limit", "queue_limit", int),
    ("X-Queue-Current", "queue_current", int),
)


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Return the seconds to wait from a Retry-After header: delay-seconds or an HTTP-date."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - now)


class RequestPacer:
    """Spaces requests so that none gets a 429 rate_limit_exceeded response in steady state.

    It keeps the send times of the last minute and lets a request through only while fewer than
    the limit were sent in the trailing 60 s, and while the server's own ``Remaining`` count,
    when known, is above zero; a 429 blocks every request until its Retry-After has passed.
    """

    WINDOW_SECONDS = 60.0

    def __init__(self, limits: Limits, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._sent: deque[float] = deque()
        self._blocked_until = 0.0
        self._limits = limits
        self._server_remaining: int | None = None
        self._server_reset_in: float | None = None
        self._server_reset_mark = 0.0
        self._lock = asyncio.Lock()
        self._urgent_waiting = 0

    @property
    def limits(self) -> Limits:
        return self._limits

    def requests_in_last_minute(self) -> int:
        self._forget_old(self._clock())
        return len(self._sent)

    def observe(self, limits: Limits) -> None:
        """Take a fresh reading of the headers after a response."""
        self._limits = limits
        self._server_remaining = limits.rate_remaining
        if limits.rate_reset_at is not None:
            self._server_reset_in = max(0.0, limits.rate_reset_at - time.time())
            self._server_reset_mark = self._clock()

    def block_for(self, seconds: float) -> None:
        """Hold every request for ``seconds`` (a 429's Retry-After)."""
        self._blocked_until = max(self._blocked_until, self._clock() + seconds)

    def delay_needed(self) -> float:
        now = self._clock()
        self._forget_old(now)
        delay = max(0.0, self._blocked_until - now)
        limit = max(1, self._limits.rate_limit)
        if len(self._sent) >= limit:
            # The next request may go one window after the limit-th most recent one. Using the
            # oldest kept entry instead let a request through early when rounding kept an
            # entry exactly one window old.
            delay = max(delay, self._sent[-limit] + self.WINDOW_SECONDS - now)
        if self._server_remaining is not None and self._server_remaining <= 0:
            reset_in = self._server_reset_in or 1.0
            elapsed = now - self._server_reset_mark
            delay = max(delay, reset_in - elapsed)
        return delay

    async def acquire(self, *, urgent: bool = False) -> None:
        """Wait until a request may be sent, then count it as sent.

        An ``urgent`` request (a status read, which may confirm a finished job) goes before
        every other waiting request: those step aside while one is pending.
        """
        if urgent:
            self._urgent_waiting += 1
        try:
            while True:
                async with self._lock:
                    while (delay := self.delay_needed()) > 0:
                        await asyncio.sleep(min(delay, 5.0))
                    if urgent or not self._urgent_waiting:
                        self._sent.append(self._clock())
                        if self._server_remaining is not None:
                            self._server_remaining -= 1
                        return
                # An urgent request is waiting for the lock: let it take this slot.
                await asyncio.sleep(URGENT_YIELD_SECONDS)
        finally:
            if urgent:
                self._urgent_waiting -= 1

    def _forget_old(self, now: float) -> None:
        while self._sent and self._sent[0] <= now - self.WINDOW_SECONDS:
            self._sent.popleft()
