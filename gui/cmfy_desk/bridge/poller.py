"""Reads the status of submitted jobs within a share of the requests-per-minute budget.

Each watched job has its own interval. It is 0.5 s at first and grows with the job's age and
with the wait the service estimated. After the first read it is stretched so that all reads
together fit the budget, and each failed read doubles it. A trailing 60 s window caps every
read, first reads and read_now included. While webhooks work, the safety net reads each job
only every SAFETY_NET_INTERVAL seconds, to catch a delivery that never came.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from cmfy_desk.backends.base import Backend, RemoteJob
from cmfy_desk.backends.errors import AuthError, BackendError, NotFoundError, RateLimitError
from cmfy_desk.bridge.events import StatusSink

log = logging.getLogger(__name__)

# Status reads may use this share of the requests-per-minute limit; the rest stays free for
# submissions and cancels.
DEFAULT_BUDGET_SHARE = 0.5
MIN_INTERVAL = 0.5  # seconds between two reads of a new job
MAX_INTERVAL = 30.0  # the age-based interval stops growing here
AGE_GROWTH = 0.1  # seconds added to the interval per second of the job's age
WAIT_SHARE = 0.25  # share of the remaining estimated wait added to the interval
SAFETY_NET_INTERVAL = 60.0  # seconds between reads of one job while webhooks work
MAX_BACKOFF_INTERVAL = 120.0  # failed reads double the interval up to this many seconds
MAX_CONCURRENT_READS = 4
# The loop looks at its watches at least this often, because the limits may change.
IDLE_CHECK_SECONDS = 1.0
FINAL_REMOTE_STATUSES = frozenset({"completed", "failed", "cancelled"})

ErrorSink = Callable[[int, BackendError], None]


class ReadBudget:
    """Counts status reads in a trailing 60 s window, capped at a share of the rate limit.

    ``rate_limit()`` returns the current requests-per-minute limit; 0 or less means the
    server sets none, and then reads are not capped.
    """

    WINDOW_SECONDS = 60.0

    def __init__(
        self,
        share: float,
        rate_limit: Callable[[], int],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0.0 < share <= 1.0:
            raise ValueError(f"Invalid budget share {share!r}: expected more than 0, at most 1.")
        self._share = share
        self._rate_limit = rate_limit
        self._clock = clock
        self._reads: deque[float] = deque()

    @property
    def capacity(self) -> int | None:
        """Reads allowed per window, or None when the server sets no rate limit."""
        limit = self._rate_limit()
        if limit <= 0:
            return None
        return max(1, int(self._share * limit))

    @property
    def per_second(self) -> float | None:
        capacity = self.capacity
        return None if capacity is None else capacity / self.WINDOW_SECONDS

    def delay_needed(self) -> float:
        """Return seconds until one more read fits the window (0.0 when it fits now)."""
        capacity = self.capacity
        now = self._clock()
        self._forget_old(now)
        if capacity is None or len(self._reads) < capacity:
            return 0.0
        return max(0.0, self._reads[-capacity] + self.WINDOW_SECONDS - now)

    def record(self) -> None:
        self._reads.append(self._clock())

    def _forget_old(self, now: float) -> None:
        while self._reads and self._reads[0] <= now - self.WINDOW_SECONDS:
            self._reads.popleft()


@dataclass(eq=False)
class _Watch:
    job_id: int
    remote_id: str
    since: float  # when the job was watched or last changed status
    next_poll: float
    estimated_wait: float | None = None
    failures: int = 0
    urgent: bool = False  # read at the normal pace even while the safety net is on
    last_read: float | None = None
    last_status: str | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class Poller:
    """Polls each watched job and passes what the service returned to ``on_status``.

    ``on_status(job_id, remote)`` gets a RemoteJob, or None when the service returns 404 for the
    job (it does not know it). After a final status or None the job is no longer watched.
    ``on_error(job_id, error)`` gets every other failed read. At most one read of a job runs at
    a time, and ``on_status`` is called before the next read of that job starts.
    """

    def __init__(
        self,
        client: Backend,
        on_status: StatusSink,
        *,
        on_error: ErrorSink | None = None,
        budget_share: float = DEFAULT_BUDGET_SHARE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._on_status = on_status
        self._on_error = on_error
        self._clock = clock
        self._budget = ReadBudget(budget_share, lambda: client.limits.rate_limit, clock)
        self._watches: dict[int, _Watch] = {}
        self._safety_net = False
        self._hold_until = 0.0  # after a 429, no read starts before this clock time
        self._reads = 0
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._reading: set[int] = set()
        self._read_tasks: set[asyncio.Task[None]] = set()

    # Watches -----------------------------------------------------------------------------

    def watch(self, job_id: int, remote_id: str, *, estimated_wait: float | None = None) -> None:
        """Start reading a job, or update the estimated wait of a watched one.

        ``estimated_wait`` is the service's estimate in seconds until the job starts.
        """
        existing = self._watches.get(job_id)
        if existing is not None and existing.remote_id == remote_id:
            if estimated_wait is not None:
                existing.estimated_wait = estimated_wait
            return
        now = self._clock()
        watch = _Watch(job_id, remote_id, now, now, estimated_wait)
        self._watches[job_id] = watch
        # The first read is not spread over the budget: a short job is often done by then.
        # The budget's window still caps it.
        watch.next_poll = now + self.interval_for(watch, now, spread=False)
        self._wakeup.set()

    def unwatch(self, job_id: int) -> None:
        self._watches.pop(job_id, None)

    def set_urgent(self, job_id: int) -> None:
        """Read a job at the normal pace even while the safety net is on, until unwatched."""
        watch = self._watches.get(job_id)
        if watch is None or watch.urgent:
            return
        watch.urgent = True
        self._reschedule(watch, self._clock())
        self._wakeup.set()

    def set_safety_net(self, on: bool) -> None:
        """Read every job only every SAFETY_NET_INTERVAL seconds (on), or at the normal pace."""
        if on == self._safety_net:
            return
        self._safety_net = on
        now = self._clock()
        for watch in self._watches.values():
            self._reschedule(watch, now)
        self._wakeup.set()

    @property
    def safety_net(self) -> bool:
        return self._safety_net

    @property
    def watched(self) -> int:
        return len(self._watches)

    def is_watched(self, job_id: int) -> bool:
        return job_id in self._watches

    @property
    def reads(self) -> int:
        """Status requests sent since the poller was made, failed ones included."""
        return self._reads

    # Lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="poller")

    async def stop(self) -> None:
        tasks = [*self._read_tasks, *([self._task] if self._task else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._task = None
        self._read_tasks.clear()
        self._reading.clear()

    # Reading -----------------------------------------------------------------------------

    async def read_now(self, job_id: int, *, confirming: bool = False) -> None:
        """Read one watched job at once (within the budget) and report it; no-op if unwatched.

        A read of the same job already running finishes first, so this read starts after
        the call. A ``confirming`` read (of a job a webhook reported) waits only for a 429's
        hold, not for the polling share: there is one per finished job, and the client's
        pacer keeps all requests within the rate limit.
        """
        watch = self._watches.get(job_id)
        if watch is None:
            log.debug("Job %d: not watched, so not read", job_id)
            return
        async with watch.lock:
            if self._watches.get(job_id) is not watch:
                return
            await self._wait_for_budget(share=not confirming)
            if self._watches.get(job_id) is not watch:
                return
            self._budget.record()
            await self._read(watch)

    def interval_for(self, watch: _Watch, now: float, *, spread: bool = True) -> float:
        """Return the seconds from one read of ``watch`` to its next.

        ``spread`` stretches the interval so that every watched job read this often fits
        the budget.
        """
        if self._safety_net and not watch.urgent:
            interval = SAFETY_NET_INTERVAL
        else:
            age = now - watch.since
            interval = MIN_INTERVAL + AGE_GROWTH * age
            if watch.estimated_wait is not None:
                interval += WAIT_SHARE * max(0.0, watch.estimated_wait - age)
            interval = min(MAX_INTERVAL, interval)
        per_second = self._budget.per_second
        if spread and per_second:
            interval = max(interval, len(self._watches) / per_second)
        if watch.failures:
            backoff = interval * 2.0 ** min(watch.failures, 8)
            interval = max(interval, min(MAX_BACKOFF_INTERVAL, backoff))
        return interval

    async def _run(self) -> None:
        while True:
            delay = self._start_due_reads()
            self._wakeup.clear()
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
            # that arrives as the event is set, and stop() would then wait forever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._wakeup.wait()

    def _start_due_reads(self) -> float:
        """Start the reads that are due and allowed; return seconds until the next check."""
        now = self._clock()
        blocked = max(self._hold_until - now, self._budget.delay_needed())
        if blocked > 0:
            return min(blocked, IDLE_CHECK_SECONDS)
        waiting = [
            watch
            for watch in self._watches.values()
            if watch.job_id not in self._reading and not watch.lock.locked()
        ]
        waiting.sort(key=lambda watch: watch.next_poll)
        for watch in waiting:
            if watch.next_poll > now:
                return min(watch.next_poll - now, IDLE_CHECK_SECONDS)
            if len(self._reading) >= MAX_CONCURRENT_READS:
                break
            delay = self._budget.delay_needed()
            if delay > 0:
                return min(delay, IDLE_CHECK_SECONDS)
            self._budget.record()
            self._reading.add(watch.job_id)
            task = asyncio.create_task(self._scheduled_read(watch), name=f"poll-{watch.job_id}")
            self._read_tasks.add(task)
            task.add_done_callback(self._read_tasks.discard)
        return IDLE_CHECK_SECONDS

    async def _scheduled_read(self, watch: _Watch) -> None:
        try:
            async with watch.lock:
                if self._watches.get(watch.job_id) is watch:
                    await self._read(watch)
        finally:
            self._reading.discard(watch.job_id)
            self._wakeup.set()

    async def _wait_for_budget(self, *, share: bool = True) -> None:
        while True:
            now = self._clock()
            delay = self._hold_until - now
            if share:
                delay = max(delay, self._budget.delay_needed())
            if delay <= 0:
                return
            await asyncio.sleep(min(delay, IDLE_CHECK_SECONDS))

    async def _read(self, watch: _Watch) -> None:
        """Send one status request for ``watch`` (budget already taken) and report it."""
        self._reads += 1
        try:
            remote: RemoteJob | None = await self._client.status(watch.remote_id)
        except NotFoundError:
            remote = None
        except BackendError as exc:
            self._read_failed(watch, exc)
            return
        now = self._clock()
        watch.failures = 0
        watch.last_read = now
        status = remote.status if remote is not None else None
        if status != watch.last_status:
            if watch.last_status is not None:
                # A job that starts running gets short intervals again; its wait is over.
                watch.since = now
                watch.estimated_wait = None
            watch.last_status = status
        self._reschedule(watch, now)
        if remote is None or remote.status in FINAL_REMOTE_STATUSES:
            self.unwatch(watch.job_id)
        try:
            self._on_status(watch.job_id, remote)
        except Exception:
            # The status handler's failure must not stop the poller; the job stays as it was.
            log.exception("Applying the status of job %d failed", watch.job_id)

    def _read_failed(self, watch: _Watch, exc: BackendError) -> None:
        now = self._clock()
        watch.failures += 1
        watch.last_read = now
        if isinstance(exc, RateLimitError):
            # The client's pacer delays every request until Retry-After has passed. Reads wait
            # here as well, so they do not queue up at the pacer in front of submissions.
            self._hold_until = max(self._hold_until, now + (exc.retry_after or 1.0))
        self._reschedule(watch, now)
        if isinstance(exc, AuthError):
            log.warning("Status of job %d: %s", watch.job_id, exc)
        else:
            log.info(
                "Status of job %d failed (%s); reading again in %.1f s",
                watch.job_id,
                exc,
                watch.next_poll - now,
            )
        if self._on_error is not None:
            try:
                self._on_error(watch.job_id, exc)
            except Exception:
                log.exception("Handling a failed status read of job %d failed", watch.job_id)

    def _reschedule(self, watch: _Watch, now: float) -> None:
        watch.next_poll = (watch.last_read or watch.since) + self.interval_for(watch, now)
