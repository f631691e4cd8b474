"""Reads the status of submitted jobs within a share of the requests-per-minute budget."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from cmfy_desk.backends.base import RemoteJob
from cmfy_desk.backends.cmfy_cloud import CmfyCloudClient
from cmfy_desk.backends.errors import AuthError, BackendError, NotFoundError

log = logging.getLogger(__name__)

# Status reads may use this share of the requests-per-minute limit; the rest stays free for
# submissions.
POLL_BUDGET_SHARE = 0.5
MIN_INTERVAL = 0.5  # seconds between two reads of one job
MAX_INTERVAL = 30.0
TICK = 0.1


@dataclass
class _Watch:
    job_id: int
    remote_id: str
    since: float
    next_poll: float
    failures: int = 0


class Poller:
    """Polls each watched job and passes what the service returned to ``on_status``.

    ``on_status(job_id, remote)`` gets a RemoteJob, or None when the service returns 404 for the
    job (it does not know it). The interval of a job starts at MIN_INTERVAL, grows with the
    job's age, and is stretched so that all reads together stay within POLL_BUDGET_SHARE of the
    rate limit.
    """

    def __init__(
        self,
        client: CmfyCloudClient,
        on_status: Callable[[int, RemoteJob | None], None],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._on_status = on_status
        self._clock = clock
        self._watches: dict[int, _Watch] = {}
        self._task: asyncio.Task[None] | None = None
        self._polling: set[int] = set()
        self._reads: set[asyncio.Task[None]] = set()

    def watch(self, job_id: int, remote_id: str, first_poll_in: float = MIN_INTERVAL) -> None:
        if job_id in self._watches:
            return
        now = self._clock()
        self._watches[job_id] = _Watch(job_id, remote_id, now, now + first_poll_in)

    def unwatch(self, job_id: int) -> None:
        self._watches.pop(job_id, None)

    @property
    def watched(self) -> int:
        return len(self._watches)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="poller")

    async def stop(self) -> None:
        tasks = [*self._reads, *([self._task] if self._task else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._task = None

    def interval_for(self, watch: _Watch, now: float) -> float:
        age = now - watch.since
        interval = MIN_INTERVAL + 0.1 * age
        budget_per_second = POLL_BUDGET_SHARE * self._client.limits.rate_limit / 60.0
        if budget_per_second > 0:
            interval = max(interval, len(self._watches) / budget_per_second)
        return min(MAX_INTERVAL, interval * 2.0 ** min(watch.failures, 5))

    async def _run(self) -> None:
        while True:
            now = self._clock()
            for watch in list(self._watches.values()):
                if watch.next_poll <= now and watch.job_id not in self._polling:
                    self._polling.add(watch.job_id)
                    task = asyncio.create_task(self._read(watch), name=f"poll-{watch.job_id}")
                    self._reads.add(task)
                    task.add_done_callback(self._reads.discard)
            await asyncio.sleep(TICK)

    async def _read(self, watch: _Watch) -> None:
        try:
            remote: RemoteJob | None = await self._client.status(watch.remote_id)
            watch.failures = 0
        except NotFoundError:
            remote = None
        except AuthError as exc:
            log.warning("Status of job %d: %s", watch.job_id, exc)
            watch.failures += 1
            return
        except BackendError as exc:
            log.info("Status of job %d failed (%s); reading again later", watch.job_id, exc)
            watch.failures += 1
            return
        finally:
            self._polling.discard(watch.job_id)
            now = self._clock()
            watch.next_poll = now + self.interval_for(watch, now)
        self._on_status(watch.job_id, remote)
