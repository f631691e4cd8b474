"""The job engine: admission under the plan's limits, the per-key queue, simulated runs."""

from __future__ import annotations

import asyncio
import logging
import math
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from cmfy_desk.sandbox.accounts import Account
from cmfy_desk.sandbox.config import SandboxConfig
from cmfy_desk.sandbox.errors import ApiError
from cmfy_desk.sandbox.faults import SandboxFaults
from cmfy_desk.sandbox.jobs import JobStatus, SandboxJob, utc_now
from cmfy_desk.sandbox.nodes import Placement
from cmfy_desk.sandbox.render import render_job_images
from cmfy_desk.sandbox.stats import SandboxStats
from cmfy_desk.sandbox.webhooks import WebhookSender
from cmfy_desk.workflows.graph import Graph, image_size, model_urls, prompt_texts, sampling_steps

logger = logging.getLogger(__name__)

# A prompt text containing this marker makes the job fail, so demos can show a failure.
FAIL_MARKER = "SANDBOX_FAIL"
REFERENCE_PIXELS = 512 * 512


class JobEngine:
    """Owns every key's jobs and the tasks that simulate them; ``close`` cancels and awaits all."""

    def __init__(
        self,
        config: SandboxConfig,
        output_dir: Path,
        stats: SandboxStats,
        faults: SandboxFaults,
        webhooks: WebhookSender,
        base_url: Callable[[], str],
    ) -> None:
        self._config = config
        self._limits = config.plan_limits
        self._timings = config.timings
        self._output_dir = output_dir
        self._stats = stats
        self._faults = faults
        self._webhooks = webhooks
        self._base_url = base_url
        self._accounts: dict[str, Account] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._renders: set[asyncio.Future[list[Path]]] = set()
        self._closing = False

    def account(self, api_key: str) -> Account:
        account = self._accounts.get(api_key)
        if account is None:
            account = Account(api_key, self._limits, self._timings)
            self._accounts[api_key] = account
        return account

    def find_job(self, job_id: str) -> SandboxJob | None:
        """Return a job of any key; only the outputs route, which needs no key, uses this."""
        for account in self._accounts.values():
            job = account.jobs.get(job_id)
            if job is not None:
                return job
        return None

    def jobs_by_status(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for account in self._accounts.values():
            counts.update(str(job.status) for job in account.jobs.values())
        return {str(status): counts[str(status)] for status in JobStatus}

    # -- submission ---------------------------------------------------------------------------

    def replay(self, account: Account, idempotency_key: str | None) -> SandboxJob | None:
        """Return the job an earlier submission with this idempotency key created, if any."""
        if idempotency_key is None:
            return None
        job = account.find_idempotent(idempotency_key, time.monotonic())
        if job is not None:
            self._stats.idempotent_replays += 1
            logger.info("Job %s: idempotent replay of key %s", job.job_id, idempotency_key)
        return job

    def check_capacity(self, account: Account) -> None:
        """Raise ApiError 429 when the key may not submit another job now."""
        limits = self._limits
        if self._config.limit_mode == "reject":
            if len(account.running) >= limits.running:
                self._stats.rate_limited["concurrent_limit_reached"] += 1
                raise ApiError(
                    429,
                    "concurrent_limit_reached",
                    f"{limits.running} jobs are already running for this API key; "
                    "submit again when one finishes.",
                    {
                        "concurrent_limit": limits.running,
                        "concurrent_current": len(account.running),
                    },
                    retry_after=self.retry_after(account),
                )
        elif len(account.waiting) >= limits.queued:
            self._stats.rate_limited["queue_full"] += 1
            raise ApiError(
                429,
                "queue_full",
                f"The queue for this API key already holds {limits.queued} jobs; "
                "submit again when it shrinks.",
                {"queue_limit": limits.queued, "queue_current": len(account.waiting)},
                retry_after=self.retry_after(account),
            )

    def retry_after(self, account: Account) -> int:
        """Return whole seconds until the earliest running job should end, at least 1."""
        now = time.monotonic()
        ends = [job.expected_end for job in account.running.values() if job.expected_end]
        remaining = min((end - now for end in ends), default=1.0)
        return max(1, math.ceil(remaining))

    def submit(
        self, account: Account, graph: Graph, webhook_url: str | None, idempotency_key: str | None
    ) -> SandboxJob:
        """Create a job, queue it and start what the running limit allows."""
        job = SandboxJob(
            job_id=str(uuid.uuid4()),
            graph=graph,
            webhook_url=webhook_url,
            idempotency_key=idempotency_key,
            faults=self._faults.plan_job(),
        )
        account.jobs[job.job_id] = job
        account.order.append(job.job_id)
        if idempotency_key is not None:
            account.idempotency[idempotency_key] = (job.job_id, time.monotonic())
        account.waiting.append(job)
        self._stats.jobs_created += 1
        logger.info("Job %s queued", job.job_id)
        self._dispatch(account)
        return job

    def estimated_wait_seconds(self, account: Account, job: SandboxJob) -> int:
        """Estimate the wait of a queued job: rounds of the running slots times its own length."""
        position = account.queue_position(job)
        if position == 0:
            return 0
        rounds = math.ceil(position / self._limits.running)
        return math.ceil(rounds * self.run_seconds(job.graph) / self._config.speed)

    def run_seconds(self, graph: Graph) -> float:
        """Return the simulated sampling time of a graph in seconds, before speed and downloads."""
        size = image_size(graph)
        pixels = max(1, size.width * size.height) / REFERENCE_PIXELS
        sampling = self._timings.seconds_per_step * sampling_steps(graph) * pixels * size.batch_size
        return self._timings.base_seconds + sampling

    # -- cancellation -------------------------------------------------------------------------

    def cancel(self, account: Account, job: SandboxJob) -> None:
        """Cancel a queued or running job; a finished job stays as it is."""
        if job.status.is_final:
            return
        if job.status is JobStatus.QUEUED:
            account.waiting.remove(job)
        elif job.task is not None:
            job.task.cancel()
            # Free the node now, not when the task wakes up, so the next job can take it.
            self._release_node(account, job)
        self._finish(account, job, JobStatus.CANCELLED)
        self._dispatch(account)

    # -- running ------------------------------------------------------------------------------

    def _dispatch(self, account: Account) -> None:
        while account.waiting and len(account.running) < self._limits.running and not self._closing:
            job = account.waiting.popleft()
            placement = account.pool.acquire(model_urls(job.graph))
            job.node = placement.node
            self._stats.cache_hits += placement.hits
            self._stats.cache_misses += placement.misses
            self._stats.jobs_started += 1
            self._stats.runs_per_job[job.job_id] += 1
            account.running[job.job_id] = job
            job.status = JobStatus.RUNNING
            job.started_at = utc_now()
            logger.info(
                "Job %s running on node %s (%s model cache hits, %s misses)",
                job.job_id,
                placement.node.index,
                placement.hits,
                placement.misses,
            )
            task = asyncio.create_task(self._run(account, job, placement))
            job.task = task
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run(self, account: Account, job: SandboxJob, placement: Placement) -> None:
        speed = self._config.speed
        download_seconds = placement.misses * self._timings.model_download_seconds / speed
        sampling_seconds = self.run_seconds(job.graph) / speed
        job.expected_end = time.monotonic() + download_seconds + sampling_seconds
        try:
            await asyncio.sleep(download_seconds + sampling_seconds)
            if job.faults.lost:
                self._forget_lost(account, job)
                return
            job.execution_time_ms = round(sampling_seconds * 1000)
            failure = self._failure_message(job)
            if failure is None:
                await self._render(job)
        except asyncio.CancelledError:
            # A cancel request (already recorded) or the server's shutdown.
            self._release_node(account, job)
            raise
        except OSError as exc:
            failure = f"Writing the output images failed: {exc}"
            logger.exception("Job %s: rendering failed", job.job_id)
        self._release_node(account, job)
        if failure is None:
            self._finish(account, job, JobStatus.COMPLETED)
        else:
            job.error = {"code": "execution_error", "message": failure}
            self._finish(account, job, JobStatus.FAILED)
        self._dispatch(account)

    def _failure_message(self, job: SandboxJob) -> str | None:
        if any(FAIL_MARKER in text for text in prompt_texts(job.graph)):
            return f"The prompt contains {FAIL_MARKER}, so the sandbox failed this job."
        if self._faults.take_fail_job():
            self._stats.faults_injected["fail"] += 1
            return "The sandbox failed this job on purpose (fail_jobs fault)."
        if job.faults.fail:
            self._stats.faults_injected["fail"] += 1
            return "The sandbox failed this job on purpose (fail fault)."
        return None

    async def _render(self, job: SandboxJob) -> None:
        # The thread keeps running if the job is cancelled meanwhile; close() awaits it before
        # the output folder may be removed.
        render = asyncio.ensure_future(
            asyncio.to_thread(render_job_images, job.graph, self._output_dir / job.job_id)
        )
        self._renders.add(render)
        render.add_done_callback(self._renders.discard)
        paths = await asyncio.shield(render)
        job.image_count = len(paths)

    def _release_node(self, account: Account, job: SandboxJob) -> None:
        if job.node is not None:
            account.pool.release(job.node)
            job.node = None

    def _finish(self, account: Account, job: SandboxJob, status: JobStatus) -> None:
        account.running.pop(job.job_id, None)
        job.status = status
        job.completed_at = utc_now()
        job.task = None
        if status is JobStatus.FAILED and job.error is not None:
            logger.info("Job %s failed: %s", job.job_id, job.error["message"])
        else:
            logger.info("Job %s %s", job.job_id, status)
        if status is not JobStatus.CANCELLED and job.webhook_url is not None:
            self._webhooks.send(
                job.job_id, job.webhook_url, job.webhook_payload(self._base_url()), job.faults
            )

    # -- forgetting jobs, as a server restart would -------------------------------------------

    def _forget_lost(self, account: Account, job: SandboxJob) -> None:
        """Forget a running job at the moment it would end (the ``lost`` fault)."""
        self._release_node(account, job)
        job.task = None
        account.forget(job)
        self._stats.faults_injected["lost"] += 1
        self._stats.faults_injected["jobs_forgotten"] += 1
        logger.info("Job %s forgotten while running (lost fault)", job.job_id)
        self._dispatch(account)

    def forget_all_jobs(self) -> int:
        """Forget every job of every key and every idempotency key, as after a restart.

        Running simulations stop without a webhook. Request windows and the nodes' model
        caches stay, because they live outside the restarted API server. Returns the number
        of jobs forgotten.
        """
        forgotten = 0
        for account in self._accounts.values():
            for job in list(account.running.values()):
                if job.task is not None:
                    job.task.cancel()
                    job.task = None
                self._release_node(account, job)
            forgotten += len(account.jobs)
            account.jobs.clear()
            account.order.clear()
            account.waiting.clear()
            account.running.clear()
            account.idempotency.clear()
        self._stats.faults_injected["forget_all_jobs"] += 1
        self._stats.faults_injected["jobs_forgotten"] += forgotten
        logger.info("All jobs forgotten (%s), as after a server restart", forgotten)
        return forgotten

    async def close(self) -> None:
        self._closing = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(*list(self._renders), return_exceptions=True)
