"""The scheduler: the one owner of job state changes after a job is queued.

Each step is written to the store before it is acted on: a job becomes SUBMITTING (with its
idempotency key already stored) before the request leaves, DOWNLOADING before the first byte
is fetched. A retry of a submission reuses the stored key, so the service returns the job it
already has instead of creating a second one.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
import json
import logging
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cmfy_desk.backends.base import Backend, RemoteJob
from cmfy_desk.backends.errors import (
    AuthError,
    BackendError,
    ConcurrencyLimitError,
    NotFoundError,
    PermissionDeniedError,
    QueueFullError,
    RateLimitError,
)
from cmfy_desk.backends.limits import Limits
from cmfy_desk.outputs.download import Downloader, DownloadError, SavedFile
from cmfy_desk.outputs.name_template import (
    DEFAULT_FILE_TEMPLATE,
    DEFAULT_FOLDER_TEMPLATE,
    check_template,
    render_name,
    values_for_job,
)
from cmfy_desk.outputs.naming import UnsafePathError, extension_from_url
from cmfy_desk.scheduler.events import EngineEvent, JobChanged, Notice, NoticeLevel, OutputSaved
from cmfy_desk.scheduler.ordering import CacheAwareOrder
from cmfy_desk.store import FINAL_STATUSES, IN_FLIGHT_STATUSES, Job, JobStatus, Store
from cmfy_desk.store.database import new_idempotency_key

log = logging.getLogger(__name__)

# The submission loop gives the event loop a turn after this long, so that the window
# repaints while many free slots are filled: each submission reads and writes the database.
SUBMIT_SLICE_SECONDS = 0.008


@dataclass(frozen=True)
class SchedulerOptions:
    max_attempts: int = 5  # submissions per job before it fails on network errors and 5xx
    retry_base_delay: float = 1.0  # seconds; doubles per attempt, with jitter
    retry_max_delay: float = 60.0
    download_attempts: int = 3
    # 429 rate_limit_exceeded responses one submission waits out before it goes back to the
    # queue. They are counted apart from max_attempts, because a 429 is not a failure of the job.
    rate_limit_waits: int = 20
    # A user cap on running jobs for this connection ("use at most 1 of my 2 slots"); None
    # uses what the service allows.
    max_running: int | None = None
    start_paused: bool = False
    # A batch is paused after this many of its jobs failed in a row; 0 never pauses.
    failures_before_pause: int = 3
    cache_aware: bool = True
    # Name templates of output files (the scheduler's) and of batch folders (the engine's,
    # kept here so that one options object carries every output setting).
    file_template: str = DEFAULT_FILE_TEMPLATE
    folder_template: str = DEFAULT_FOLDER_TEMPLATE

    def __post_init__(self) -> None:
        """Raise ValueError naming the bad token when a name template has one."""
        for template in (self.file_template, self.folder_template):
            problem = check_template(template)
            if problem is not None:
                raise ValueError(problem)


class Scheduler:
    """Submits queued jobs while the running-job and request limits allow.

    ``emit`` receives every JobChanged, OutputSaved and Notice, on the event loop.
    ``batch_ids``, when given, limits the scheduler to those batches (the command line runs
    only the batches it created). ``webhook_url_for(job)``, when given, is asked for the
    webhook URL of each submission just before it is sent.
    """

    def __init__(
        self,
        store: Store,
        client: Backend,
        downloader: Downloader,
        emit: Callable[[EngineEvent], None],
        *,
        connection: str,
        options: SchedulerOptions | None = None,
        batch_ids: set[int] | None = None,
        webhook_url_for: Callable[[Job], str | None] | None = None,
    ) -> None:
        self._store = store
        self._client = client
        self._downloader = downloader
        self._emit = emit
        self._options = options or SchedulerOptions()
        self._connection = connection
        self._batch_ids = batch_ids
        self._webhook_url_for = webhook_url_for
        # Jobs whose earlier submission may have reached the server (a retry, or a job found
        # mid-submission at start-up): a backend without de-duplication looks them up first.
        self._maybe_sent: set[int] = set()
        self._order = CacheAwareOrder(enabled=self._options.cache_aware)
        self._failures_in_row: dict[int, int] = {}
        self._wakeup = asyncio.Event()
        self._recording = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop_task: asyncio.Task[None] | None = None
        self._in_flight: set[int] = set()
        self._cancel_requested: set[int] = set()
        self._hold_until = 0.0
        self._submit_lock = asyncio.Lock()
        self._paused = self._options.start_paused
        self._service_rejects_extra = False
        self._queue_full_cap: int | None = None
        self._rng = random.Random()
        # 429 responses since start by error code, and those that the latest response headers
        # had announced before the request left (avoidable ones).
        self.rate_limited: Counter[str] = Counter()
        self.avoidable_rate_limits = 0

    # Lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Recover jobs a previous run left unfinished, then start submitting."""
        self._recover()
        self._loop_task = asyncio.create_task(self._run(), name="scheduler")

    async def stop(self) -> None:
        tasks = [*self._tasks, *([self._loop_task] if self._loop_task else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        self._loop_task = None

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    @property
    def target_in_flight(self) -> int:
        """Jobs to keep submitted: the running limit, plus as many again waiting in the
        service's own queue, so a slot that frees starts the next job without waiting for our
        next status read. After a 429 concurrent_limit_reached the target is only the running
        limit, because the service rejects jobs beyond it instead of queueing them. After a 429
        queue_full it is no more than were in flight then, until a job finishes."""
        running = max(1, self._client.limits.concurrent_limit)
        cap = self._options.max_running
        if cap is not None and cap > 0:
            # Jobs waiting in the service's queue would start on the slots above the cap.
            target = min(running, cap)
        elif self._service_rejects_extra:
            target = running
        else:
            queue_room = self._client.limits.queue_limit
            target = running + min(running, queue_room if queue_room is not None else running)
        if self._queue_full_cap is not None:
            target = min(target, self._queue_full_cap)
        return target

    def set_batch_ids(self, batch_ids: set[int] | None) -> None:
        self._batch_ids = batch_ids
        self.wake()

    def wake(self) -> None:
        self._wakeup.set()

    def pause(self) -> None:
        self._paused = True

    def resume(self) -> None:
        self._paused = False
        self.wake()

    # Commands from the user -------------------------------------------------------------

    async def cancel(self, job_id: int) -> None:
        """Remove a queued job, or cancel a submitted or running one on the server."""
        job = self._store.get_job(job_id)
        if job.status is JobStatus.QUEUED:
            self._change(job_id, JobStatus.CANCELLED, finished_at=time.time())
        elif job.status is JobStatus.SUBMITTING:
            # The submission's response decides what to cancel, so _submit handles it.
            self._cancel_requested.add(job_id)
        elif job.status in (JobStatus.SUBMITTED, JobStatus.RUNNING) and job.remote_id:
            await self._cancel_remote(job)

    def retry(self, job_id: int) -> None:
        """Queue a failed, cancelled, lost or partial job again as a new submission."""
        job = self._store.get_job(job_id)
        if job.status not in (
            JobStatus.FAILED,
            JobStatus.CANCELLED,
            JobStatus.LOST,
            JobStatus.PARTIAL,
        ):
            return
        # A new key: the old one would return the old, finished job for 24 hours.
        self._change(
            job_id,
            JobStatus.QUEUED,
            idempotency_key=new_idempotency_key(),
            remote_id=None,
            queue_position=None,
            attempts=0,
            error_code=None,
            error_message=None,
            error_request_id=None,
            submitted_at=None,
            started_at=None,
            finished_at=None,
            remote_created_at=None,
            remote_started_at=None,
            remote_completed_at=None,
            execution_time_ms=None,
            webhook_token=None,
            error_details=None,
        )
        self.wake()

    # Remote status -----------------------------------------------------------------------

    def apply_remote(self, job_id: int, remote: RemoteJob | None) -> None:
        """Apply a status read (or a webhook) of a submitted job; None means the server does
        not know the job. Late and duplicate reports of a final state change nothing."""
        job = self._store.get_job(job_id)
        if job.status not in (JobStatus.SUBMITTED, JobStatus.RUNNING):
            return
        if remote is None:
            self._finish_in_flight(
                job,
                JobStatus.LOST,
                error_message="The service no longer knows this job. Retry it to submit again.",
            )
            return
        times = {
            "remote_created_at": remote.created_at,
            "remote_started_at": remote.started_at,
            "remote_completed_at": remote.completed_at,
        }
        match remote.status:
            case "queued":
                if remote.queue_position != job.queue_position:
                    self._emit(
                        JobChanged(
                            self._store.update_job(job_id, queue_position=remote.queue_position)
                        )
                    )
            case "running":
                if job.status is JobStatus.SUBMITTED:
                    self._change(
                        job_id,
                        JobStatus.RUNNING,
                        started_at=time.time(),
                        queue_position=None,
                        remote_created_at=remote.created_at,
                        remote_started_at=remote.started_at,
                    )
            case "completed":
                self._in_flight.discard(job_id)
                self._queue_full_cap = None
                self._order.remember(job.model_key)
                job = self._change(
                    job_id,
                    JobStatus.DOWNLOADING,
                    queue_position=None,
                    execution_time_ms=remote.execution_time_ms,
                    started_at=job.started_at or time.time(),
                    **times,
                )
                self.wake()
                self._spawn(self._download(job, remote), f"download-{job_id}")
            case "failed":
                self._finish_in_flight(
                    job,
                    JobStatus.FAILED,
                    error_code=remote.error_code or "execution_error",
                    error_message=remote.error_message or "The job failed on the server.",
                    error_details=remote.error_details,
                    execution_time_ms=remote.execution_time_ms,
                    **times,
                )
            case "cancelled":
                self._finish_in_flight(job, JobStatus.CANCELLED, **times)
            case other:
                log.warning("Job %d: ignoring unknown remote status %r", job_id, other)

    # The submission loop ----------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            slice_started = time.monotonic()
            while not self._paused and len(self._in_flight) < self.target_in_flight:
                delay = self._hold_until - time.monotonic()
                if delay > 0:
                    self._call_later(delay, self.wake)
                    break
                job = self._next_queued()
                if job is None:
                    break
                job = self._change(job.id, JobStatus.SUBMITTING, attempts=job.attempts + 1)
                self._in_flight.add(job.id)
                self._spawn(self._submit(job), f"submit-{job.id}")
                if time.monotonic() - slice_started > SUBMIT_SLICE_SECONDS:
                    # Filling many free slots at once would hold up the window's repaints.
                    await asyncio.sleep(0)
                    slice_started = time.monotonic()

    def set_name_templates(self, folder_template: str, file_template: str) -> None:
        """Name the outputs saved from now on with these templates."""
        self._options = dataclasses.replace(
            self._options, folder_template=folder_template, file_template=file_template
        )

    def set_webhook_url_for(self, webhook_url_for: Callable[[Job], str | None] | None) -> None:
        self._webhook_url_for = webhook_url_for

    def _next_queued(self) -> Job | None:
        candidates = self._store.queued_candidates(self._connection, self._batch_ids)
        chosen = self._order.choose(candidates)
        return self._store.get_job(chosen.id) if chosen else None

    async def _submit(self, job: Job) -> None:
        attempts = job.attempts
        rate_limited = 0
        webhook_url = self._webhook_url_for(job) if self._webhook_url_for else None
        prompt: dict[str, Any] | None = None
        limits_before = self._client.limits
        rejects_extra_before = self._service_rejects_extra
        while True:
            try:
                if prompt is None:
                    prompt = await self._with_uploads(job)
                # One submission on the wire at a time, so the service queues jobs in the
                # order chosen here (priority first) rather than in the order they arrive.
                async with self._submit_lock:
                    resubmission = job.id in self._maybe_sent
                    self._maybe_sent.add(job.id)
                    limits_before = self._client.limits
                    rejects_extra_before = self._service_rejects_extra
                    result = await self._client.submit(
                        prompt, job.idempotency_key, webhook_url, resubmission=resubmission
                    )
            except OSError as exc:
                self._finish_in_flight(
                    job,
                    JobStatus.FAILED,
                    error_code="input_unreadable",
                    error_message=f"The input image {job.parameters.get('image')} cannot be "
                    f"read ({exc.strerror or exc}). Put the file back and retry the job.",
                )
                return
            except RateLimitError as exc:
                self._count_rate_limit(exc, limits_before, rejects_extra_before)
                rate_limited += 1
                if rate_limited >= self._options.rate_limit_waits:
                    self._requeue_after_limit(job, exc)
                    return
                # The pacer delays every request until Retry-After has passed, so this is not a
                # failed attempt.
                log.info("Job %d: rate limited, waiting %.1f s", job.id, exc.retry_after or 1.0)
                await asyncio.sleep(exc.retry_after or 1.0)
                continue
            except (ConcurrencyLimitError, QueueFullError) as exc:
                self._count_rate_limit(exc, limits_before, rejects_extra_before)
                if isinstance(exc, ConcurrencyLimitError):
                    self._service_rejects_extra = True
                else:
                    self._queue_full_cap = max(1, len(self._in_flight) - 1)
                self._requeue_after_limit(job, exc)
                return
            except (AuthError, PermissionDeniedError) as exc:
                self._in_flight.discard(job.id)
                self._change(job.id, JobStatus.QUEUED)
                self.pause()
                self._emit(
                    Notice(
                        NoticeLevel.ERROR,
                        f"The service rejected the API key: {exc}. The queue is paused; "
                        "enter a valid key in Settings and resume.",
                        job.id,
                    )
                )
                return
            except BackendError as exc:
                if exc.retryable and attempts < self._options.max_attempts:
                    delay = self._backoff(attempts)
                    log.warning(
                        "Job %d: submission attempt %d failed (%s); retrying in %.1f s with the "
                        "same idempotency key",
                        job.id,
                        attempts,
                        exc,
                        delay,
                    )
                    await asyncio.sleep(delay)
                    attempts += 1
                    job = self._store.update_job(job.id, attempts=attempts)
                    continue
                self._finish_in_flight(
                    job,
                    JobStatus.FAILED,
                    error_code=exc.code or type(exc).__name__,
                    error_message=exc.message,
                    error_request_id=exc.request_id,
                    error_details=_details_text(exc.details),
                )
                return
            break
        self._maybe_sent.discard(job.id)
        for warning in result.warnings:
            self._emit(Notice(NoticeLevel.WARNING, f"Job {job.id}: {warning}", job.id))

        status = JobStatus.RUNNING if result.status == "running" else JobStatus.SUBMITTED
        job = self._change(
            job.id,
            status,
            remote_id=result.job_id,
            queue_position=result.queue_position,
            submitted_at=time.time(),
        )
        if job.id in self._cancel_requested:
            self._cancel_requested.discard(job.id)
            await self._cancel_remote(job)
        elif result.replayed and result.status in ("completed", "failed", "cancelled"):
            self.apply_remote(job.id, await self._client.status(result.job_id))

    async def _with_uploads(self, job: Job) -> dict[str, Any]:
        """Return the job's prompt, with its input image uploaded first when the backend takes
        uploads (a ComfyUI server): the LoadImage input then names the file as stored there."""
        image = job.parameters.get("image")
        upload = getattr(self._client, "upload_image", None)
        if not isinstance(image, str) or upload is None:
            return job.prompt
        path = Path(image)
        stored_name = await upload(path)
        prompt = copy.deepcopy(job.prompt)
        for node in prompt.values():
            inputs = node.get("inputs") if isinstance(node, dict) else None
            if isinstance(inputs, dict) and inputs.get("image") == path.name:
                inputs["image"] = stored_name
        return prompt

    def _count_rate_limit(self, exc: BackendError, before: Limits, rejects_extra: bool) -> None:
        """Count a 429; it was avoidable when the headers read before sending showed the limit
        already reached (for the running-job limit: once the service was known to reject)."""
        code = exc.code or "rate_limit_exceeded"
        self.rate_limited[code] += 1
        if code == "rate_limit_exceeded":
            announced = before.rate_remaining == 0
        elif code == "concurrent_limit_reached":
            announced = (
                rejects_extra
                and before.concurrent_current is not None
                and before.concurrent_current >= before.concurrent_limit
            )
        else:
            announced = (
                before.queue_limit is not None
                and before.queue_current is not None
                and before.queue_current >= before.queue_limit
            )
        if announced:
            self.avoidable_rate_limits += 1

    def _requeue_after_limit(self, job: Job, exc: BackendError) -> None:
        wait = exc.retry_after or 2.0
        log.info("Job %d: %s; submitting again in %.1f s with the same key", job.id, exc.code, wait)
        self._in_flight.discard(job.id)
        self._maybe_sent.discard(job.id)
        self._change(job.id, JobStatus.QUEUED, attempts=max(0, job.attempts - 1))
        self._hold_until = max(self._hold_until, time.monotonic() + wait)
        self.wake()

    async def _cancel_remote(self, job: Job) -> None:
        assert job.remote_id is not None
        try:
            remote = await self._client.cancel(job.remote_id)
        except NotFoundError:
            # No cancel endpoint, or the job is gone: stop waiting for it here.
            self._finish_in_flight(job, JobStatus.CANCELLED)
            return
        except BackendError as exc:
            self._emit(
                Notice(NoticeLevel.WARNING, f"Cancelling job {job.id} failed: {exc}", job.id)
            )
            return
        self.apply_remote(job.id, remote)

    # Downloads ---------------------------------------------------------------------------

    async def _download(self, job: Job, remote: RemoteJob) -> None:
        urls = remote.images
        batch = self._store.get_batch(job.batch_id)
        folder = Path(batch.output_dir)
        errors: list[str] = []
        for index, url in enumerate(urls):
            try:
                name = self._output_file_name(job, batch.name, index, url)
                saved = await self._download_one(url, folder, name)
            except (DownloadError, UnsafePathError) as exc:
                log.warning("Job %d: output %d failed: %s", job.id, index, exc)
                errors.append(str(exc))
                continue
            async with self._turn_of_its_own():
                output = self._store.add_output(
                    job.id,
                    index,
                    remote_url=url,
                    local_path=str(saved.path),
                    size=saved.size,
                    sha256=saved.sha256,
                    width=saved.width,
                    height=saved.height,
                )
                self._emit(OutputSaved(output))
        async with self._turn_of_its_own():
            self._finish_download(job, remote, urls, errors)

    @contextlib.asynccontextmanager
    async def _turn_of_its_own(self) -> AsyncIterator[None]:
        """Run the body alone in a turn of the event loop.

        Recording an output indexes it and shows it in the window, a few milliseconds each.
        When the downloads of many jobs end together, their records take one turn each this
        way, and the window repaints between them instead of after all of them.
        """
        async with self._recording:
            yield
            await asyncio.sleep(0)

    def _finish_download(
        self, job: Job, remote: RemoteJob, urls: Sequence[str], errors: list[str]
    ) -> None:
        now = time.time()
        if not urls:
            self._change(
                job.id,
                JobStatus.PARTIAL,
                finished_at=now,
                error_message="The service reported the job completed but listed no outputs.",
            )
        elif len(errors) == len(urls):
            self._change(
                job.id,
                JobStatus.FAILED,
                finished_at=now,
                error_code="download_failed",
                error_message=errors[0],
            )
        elif errors:
            self._change(
                job.id,
                JobStatus.PARTIAL,
                finished_at=now,
                error_message=f"{len(errors)} of {len(urls)} outputs failed: {errors[0]}",
            )
        elif remote.missing_outputs:
            self._change(
                job.id,
                JobStatus.PARTIAL,
                finished_at=now,
                error_message="Some output nodes produced nothing: "
                + "; ".join(remote.missing_outputs),
            )
        else:
            self._change(job.id, JobStatus.SUCCEEDED, finished_at=now)

    def _output_file_name(self, job: Job, batch_name: str, index: int, url: str) -> str:
        """Return the file name of output ``index`` of ``job`` from the file template; its
        ``{date}`` and ``{time}`` are those of the job's creation."""
        values = values_for_job(
            created_at=job.created_at,
            workflow=job.workflow_name,
            batch=batch_name,
            job=job.id,
            index=index,
            seed=job.seed,
            graph=job.prompt,
            parameters=job.parameters,
        )
        return render_name(self._options.file_template, values) + extension_from_url(url)

    async def _download_one(self, url: str, folder: Path, name: str) -> SavedFile:
        for attempt in range(1, self._options.download_attempts + 1):
            try:
                return await self._downloader.download(
                    url, folder, name, headers=self._client.download_headers(url)
                )
            except DownloadError:
                if attempt == self._options.download_attempts:
                    raise
                await asyncio.sleep(self._backoff(attempt))
        raise AssertionError("unreachable")

    # Recovery ----------------------------------------------------------------------------

    def _recover(self) -> None:
        """Bring jobs that a previous run left mid-way into a state this run continues from."""
        for job in self._store.jobs(
            statuses=[*IN_FLIGHT_STATUSES, JobStatus.DOWNLOADING], batch_ids=self._batch_ids
        ):
            if job.connection != self._connection:
                continue
            if job.status is JobStatus.SUBMITTING:
                # Unknown whether the request arrived: submitting again with the stored key
                # returns the job the service already has, or creates it once.
                self._maybe_sent.add(job.id)
                self._change(job.id, JobStatus.QUEUED, attempts=max(0, job.attempts - 1))
            elif job.status is JobStatus.DOWNLOADING and job.remote_id:
                self._spawn(self._resume_download(job), f"resume-{job.id}")
            elif job.status in (JobStatus.SUBMITTED, JobStatus.RUNNING):
                self._in_flight.add(job.id)
                self._emit(JobChanged(job))
        self.wake()

    async def _resume_download(self, job: Job) -> None:
        assert job.remote_id is not None
        try:
            remote = await self._client.status(job.remote_id)
        except BackendError as exc:
            self._change(
                job.id,
                JobStatus.FAILED,
                finished_at=time.time(),
                error_code=exc.code or "download_failed",
                error_message=str(exc),
            )
            return
        await self._download(job, remote)

    # Helpers -----------------------------------------------------------------------------

    def _change(self, job_id: int, status: JobStatus, **fields: Any) -> Job:
        job = self._store.transition(job_id, status, **fields)
        if status in (JobStatus.FAILED, JobStatus.SUCCEEDED, JobStatus.PARTIAL):
            self._count_failures(job)
        if job.error_message and status in FINAL_STATUSES:
            log.info("Job %d -> %s: %s", job_id, status, job.error_message)
        else:
            log.info("Job %d -> %s", job_id, status)
        self._emit(JobChanged(job))
        return job

    def _count_failures(self, job: Job) -> None:
        limit = self._options.failures_before_pause
        if job.status is not JobStatus.FAILED:
            self._failures_in_row.pop(job.batch_id, None)
            return
        count = self._failures_in_row.get(job.batch_id, 0) + 1
        self._failures_in_row[job.batch_id] = count
        if limit and count == limit:
            self._store.set_batch_paused(job.batch_id, True)
            batch = self._store.get_batch(job.batch_id)
            self._emit(
                Notice(
                    NoticeLevel.WARNING,
                    f"Batch {batch.name} is paused: {count} of its jobs failed in a row, the "
                    f"last with: {(job.error_message or 'no message').rstrip('.')}. Fix the "
                    "cause, then resume the batch.",
                    job.id,
                )
            )

    def resume_batch(self, batch_id: int) -> None:
        self._failures_in_row.pop(batch_id, None)
        self._store.set_batch_paused(batch_id, False)
        self.wake()

    def _finish_in_flight(self, job: Job, status: JobStatus, **fields: Any) -> None:
        self._in_flight.discard(job.id)
        # A job left the service, so its queue has room again.
        self._queue_full_cap = None
        self._change(job.id, status, finished_at=time.time(), queue_position=None, **fields)
        self.wake()

    def _backoff(self, attempt: int) -> float:
        delay = min(
            self._options.retry_max_delay, self._options.retry_base_delay * 2.0 ** (attempt - 1)
        )
        return delay * self._rng.uniform(0.5, 1.0)

    def _spawn(self, coroutine: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.error("Task %s failed", task.get_name(), exc_info=exc)
            self._emit(Notice(NoticeLevel.ERROR, f"Internal error in {task.get_name()}: {exc}"))

    def _call_later(self, delay: float, callback: Callable[[], None]) -> None:
        asyncio.get_running_loop().call_later(delay, callback)


def _details_text(details: object) -> str | None:
    """Return an error's details as text for the job's record, or None when there are none."""
    if details is None or details == {} or details == []:
        return None
    if isinstance(details, str):
        return details
    return json.dumps(details, indent=2, sort_keys=True, default=str)
