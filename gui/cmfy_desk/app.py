"""Builds the engine's parts, wires them, and owns start-up and shutdown.

The window and the command line both drive an ``Engine``: it opens the store, starts the
built-in sandbox when the connection is the sandbox, and connects the poller's status reads
to the scheduler. It imports no widget.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cmfy_desk.backends.base import RemoteJob
from cmfy_desk.backends.cmfy_cloud import CmfyCloudClient
from cmfy_desk.backends.limits import PLANS, Limits
from cmfy_desk.bridge.poller import Poller
from cmfy_desk.connections import ConnectionConfig
from cmfy_desk.outputs.download import Downloader
from cmfy_desk.outputs.grid import assemble_grid
from cmfy_desk.outputs.naming import batch_folder_name
from cmfy_desk.planning import GRID_PARAMETER, PlannedBatch, plan_batch, seed_model_library
from cmfy_desk.sandbox import SandboxConfig, SandboxServer
from cmfy_desk.scheduler import EngineEvent, JobChanged, Scheduler, SchedulerOptions
from cmfy_desk.scheduler.events import Notice, NoticeLevel
from cmfy_desk.scheduler.failures import FailureCause, group_failures
from cmfy_desk.scheduler.ordering import model_key
from cmfy_desk.settings import Settings
from cmfy_desk.store import FINAL_STATUSES, Batch, Job, JobStatus, Store
from cmfy_desk.store.model_library import ModelLibrary
from cmfy_desk.workflows.batch import SeedMode
from cmfy_desk.workflows.definitions import NodeDefinitions
from cmfy_desk.workflows.expansion import BatchPlan
from cmfy_desk.workflows.formats import LoadedWorkflow
from cmfy_desk.workflows.graph import graph_hash, model_urls
from cmfy_desk.workflows.preflight import PreflightReport, check_graph

log = logging.getLogger(__name__)

SANDBOX_CONNECTION = "sandbox"

__all__ = ["SANDBOX_CONNECTION", "ConnectionConfig", "Engine", "EngineError"]
GRID_TIMEOUT = 60.0  # seconds a shutdown waits for a grid image being assembled


@dataclass(frozen=True)
class EngineStatus:
    """Figures for the status bar: slots in use and requests sent in the last minute."""

    connection: str
    running: int  # the service's X-Concurrent-Current when it sent one
    running_limit: int
    in_flight: int  # submitted and not finished, including jobs in the service's queue
    requests_last_minute: int
    rate_limit: int
    paused: bool


@dataclass(frozen=True)
class BatchEstimate:
    """Jobs of a batch not yet final, and the expected finish time (Unix seconds) if known."""

    jobs_left: int
    finish_at: float | None


class EngineError(RuntimeError):
    """The engine cannot start: no API key, or the database cannot be opened."""


def scheduler_options(settings: Settings) -> SchedulerOptions:
    """Return the scheduler's options from the queue settings."""
    return SchedulerOptions(
        max_running=settings.get("queue.max_running") or None,
        start_paused=settings.get("queue.start_paused"),
        max_attempts=settings.get("queue.max_attempts"),
        failures_before_pause=settings.get("queue.failures_before_pause"),
        cache_aware=settings.get("queue.cache_aware"),
    )


class Engine:
    def __init__(
        self,
        database: Path,
        output_root: Path,
        connection: ConnectionConfig,
        *,
        batch_ids: set[int] | None = None,
        options: SchedulerOptions | None = None,
    ) -> None:
        self.database = database
        self.output_root = output_root
        self.connection = connection
        self._batch_ids = batch_ids
        self._options = options
        self._subscribers: list[Callable[[EngineEvent], None]] = []
        self.sandbox: SandboxServer | None = None
        self._store: Store | None = None
        self._client: CmfyCloudClient | None = None
        self._downloader: Downloader | None = None
        self._scheduler: Scheduler | None = None
        self._poller: Poller | None = None
        self._definitions: NodeDefinitions | None = None
        self._grids_started: set[int] = set()
        self._grid_tasks: set[asyncio.Task[None]] = set()

    # Lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the store, start the sandbox if the connection is the sandbox, and start
        submitting. Raises EngineError (no API key, bad definitions file) or StoreError."""
        if self.connection.kind != SANDBOX_CONNECTION and not self.connection.api_key:
            raise EngineError(
                "No API key for cmfy.cloud. Enter it in Settings, or set CMFY_API_KEY."
            )
        if self.connection.definitions_file and self._definitions is None:
            self._definitions = _load_definitions_file(Path(self.connection.definitions_file))

        self._store = Store.open(self.database)
        self.model_library = ModelLibrary(self._store)
        seed_model_library(self.model_library)

        plan = PLANS.get(self.connection.plan, PLANS["free"])
        if self.connection.kind == SANDBOX_CONNECTION:
            self.sandbox = SandboxServer(
                SandboxConfig(plan=self.connection.plan, speed=self.connection.sandbox_speed)
            )
            await self.sandbox.start()
            base_url, api_key = self.sandbox.base_url, self.sandbox.api_key
            log.info("Built-in sandbox listening at %s", base_url)
        else:
            assert self.connection.api_key is not None
            base_url, api_key = self.connection.base_url, self.connection.api_key

        self._client = CmfyCloudClient(base_url, api_key, plan)
        self._downloader = Downloader()
        self._poller = Poller(self._client, self._on_remote_status)
        self._scheduler = Scheduler(
            self._store,
            self._client,
            self._downloader,
            self._dispatch,
            connection=self.connection.label,
            options=self._options,
            batch_ids=self._batch_ids,
        )
        self._poller.start()
        await self._scheduler.start()

    async def stop(self) -> None:
        """Stop every task, close connections and the database; queued jobs stay queued."""
        if self._grid_tasks:
            # A grid image being assembled is finished first: its jobs are all done.
            await asyncio.wait(list(self._grid_tasks), timeout=GRID_TIMEOUT)
        for task in list(self._grid_tasks):
            task.cancel()
        await asyncio.gather(*self._grid_tasks, return_exceptions=True)
        if self._poller:
            await self._poller.stop()
        if self._scheduler:
            await self._scheduler.stop()
        if self._client:
            await self._client.aclose()
        if self._downloader:
            await self._downloader.aclose()
        if self.sandbox:
            await self.sandbox.stop()
        if self._store:
            self._store.close()
        self._poller = self._scheduler = self._client = self._downloader = None
        self.sandbox = None
        self._store = None

    # Events ------------------------------------------------------------------------------

    def subscribe(self, callback: Callable[[EngineEvent], None]) -> None:
        self._subscribers.append(callback)

    def unsubscribe(self, callback: Callable[[EngineEvent], None]) -> None:
        if callback in self._subscribers:
            self._subscribers.remove(callback)

    def _dispatch(self, event: EngineEvent) -> None:
        if isinstance(event, JobChanged) and self._poller is not None:
            job = event.job
            if job.status in (JobStatus.SUBMITTED, JobStatus.RUNNING) and job.remote_id:
                self._poller.watch(job.id, job.remote_id)
            else:
                self._poller.unwatch(job.id)
            if job.is_final and GRID_PARAMETER in job.parameters:
                self._assemble_grid_when_done(job.batch_id)
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception:
                log.exception("An event subscriber failed on %s", type(event).__name__)

    def _assemble_grid_when_done(self, batch_id: int) -> None:
        if batch_id in self._grids_started or self.unfinished_jobs({batch_id}):
            return
        self._grids_started.add(batch_id)
        task = asyncio.create_task(self._assemble_grid(batch_id), name=f"grid-{batch_id}")
        self._grid_tasks.add(task)
        task.add_done_callback(self._grid_tasks.discard)

    async def _assemble_grid(self, batch_id: int) -> None:
        """Write ``grid.png`` of an XY batch from the first output of each cell's job."""
        batch = self.store.get_batch(batch_id)
        cells: dict[tuple[int, int], Path] = {}
        x_labels: dict[int, str] = {}
        y_labels: dict[int, str] = {}
        titles = ("", "")
        for job in self.store.jobs_of_batch(batch_id):
            cell = job.parameters.get(GRID_PARAMETER)
            if not isinstance(cell, dict):
                continue
            x, y = int(cell["x"]), int(cell["y"])
            x_labels[x], y_labels[y] = str(cell["x_label"]), str(cell["y_label"])
            titles = (str(cell["x_title"]), str(cell["y_title"]))
            outputs = self.store.outputs(job.id)
            if outputs and (x, y) not in cells:
                cells[(x, y)] = Path(outputs[0].local_path)
        target = Path(batch.output_dir) / "grid.png"
        try:
            await asyncio.to_thread(
                assemble_grid,
                cells,
                [x_labels[i] for i in sorted(x_labels)],
                [y_labels[i] for i in sorted(y_labels)],
                titles[0],
                titles[1],
                target,
            )
        except OSError as exc:
            log.warning("Assembling the grid of batch %d failed: %s", batch_id, exc)
            self._dispatch(
                Notice(NoticeLevel.ERROR, f"The grid image of batch {batch.name} failed: {exc}")
            )
            return
        log.info("Saved the grid image of batch %d to %s", batch_id, target)
        self._dispatch(
            Notice(NoticeLevel.INFO, f"The grid image of batch {batch.name} is saved: {target}")
        )

    def _on_remote_status(self, job_id: int, remote: RemoteJob | None) -> None:
        assert self._scheduler is not None
        self._scheduler.apply_remote(job_id, remote)

    # Commands ----------------------------------------------------------------------------

    @property
    def store(self) -> Store:
        if self._store is None:
            raise EngineError("The engine is not started.")
        return self._store

    @property
    def scheduler(self) -> Scheduler:
        if self._scheduler is None:
            raise EngineError("The engine is not started.")
        return self._scheduler

    @property
    def definitions(self) -> NodeDefinitions:
        """The node definitions used to convert, check and type workflows."""
        return self._definitions or NodeDefinitions.bundled()

    @definitions.setter
    def definitions(self, definitions: NodeDefinitions) -> None:
        self._definitions = definitions

    def preflight(self, workflow: LoadedWorkflow) -> PreflightReport:
        return check_graph(
            workflow.graph, self.definitions, self.model_library.canonical_urls(), for_cloud=True
        )

    def add_batch(
        self,
        workflow: LoadedWorkflow,
        count: int,
        seed_mode: SeedMode,
        base_seed: int | None = None,
    ) -> tuple[Batch, list[Job]]:
        """Expand ``workflow`` into ``count`` jobs with seeds, store them as one queued batch,
        and wake the scheduler. Raises PlanningError before queueing anything."""
        plan = BatchPlan(count=count, seed_mode=seed_mode, base_seed=base_seed)
        return self.add_planned_batch(workflow, plan)

    def add_planned_batch(
        self, workflow: LoadedWorkflow, plan: BatchPlan
    ) -> tuple[Batch, list[Job]]:
        """Check ``workflow``, expand ``plan`` and store the jobs as one queued batch.

        Raises PlanningError (pre-flight errors, bad plan values, model files without a URL)
        before anything is stored.
        """
        return self.queue_planned(workflow, plan, self.plan_batch(workflow, plan))

    def plan_batch(self, workflow: LoadedWorkflow, plan: BatchPlan) -> PlannedBatch:
        """Check and expand a batch without storing it; raises PlanningError."""
        return plan_batch(workflow, plan, self.definitions, self.model_library.canonical_urls())

    def queue_planned(
        self, workflow: LoadedWorkflow, plan: BatchPlan, planned: PlannedBatch
    ) -> tuple[Batch, list[Job]]:
        """Store a planned batch as queued jobs and wake the scheduler."""
        # The batch keeps its absolute folder, so a later change of the output folder setting
        # applies to new batches only.
        root = self.output_root.absolute()
        taken = {Path(folder).name for folder in self.store.batch_folders()}
        if root.is_dir():
            taken |= {entry.name for entry in root.iterdir()}
        folder = batch_folder_name(workflow.name, time.time(), taken)
        keys = [model_key(model_urls(graph)) for graph in planned.graphs]
        batch, jobs = self.store.add_batch(
            name=folder,
            workflow_name=workflow.name,
            workflow_path=str(workflow.path),
            connection=self.connection.label,
            seed_mode=str(plan.seed_mode),
            output_dir=str(root / folder),
            jobs=[
                (graph, graph_hash(graph), spec.seed)
                for graph, spec in zip(planned.graphs, planned.specs, strict=True)
            ],
            parameters=planned.parameters,
            model_keys=keys,
        )
        if self._batch_ids is not None:
            self._batch_ids.add(batch.id)
            self.scheduler.set_batch_ids(self._batch_ids)
        for job in jobs:
            self._dispatch(JobChanged(job))
        self.scheduler.wake()
        log.info("Queued batch %d: %d jobs of %s", batch.id, len(jobs), workflow.name)
        return batch, jobs

    async def cancel(self, job_id: int) -> None:
        await self.scheduler.cancel(job_id)

    def retry(self, job_id: int) -> None:
        self.scheduler.retry(job_id)

    async def cancel_queued(self, batch_id: int | None = None) -> int:
        """Cancel every queued job (of one batch, or all), leaving submitted ones running."""
        jobs = self.store.jobs(
            statuses=[JobStatus.QUEUED], batch_ids=None if batch_id is None else [batch_id]
        )
        for job in jobs:
            await self.scheduler.cancel(job.id)
        return len(jobs)

    def retry_failed(self, batch_id: int, cause: FailureCause | None = None) -> int:
        """Queue again the failed, lost and partial jobs of a batch (of one cause, or all)."""
        groups = self.failure_groups(batch_id)
        retried = 0
        for group_cause, jobs in groups.items():
            if group_cause is FailureCause.CANCELLED or (cause and group_cause is not cause):
                continue
            for job in jobs:
                self.scheduler.retry(job.id)
                retried += 1
        return retried

    def failure_groups(self, batch_id: int) -> dict[FailureCause, list[Job]]:
        return group_failures(self.store.jobs_of_batch(batch_id))

    def set_priority(self, job_ids: list[int], priority: int) -> None:
        self.store.set_job_priority(job_ids, priority)
        self._announce(job_ids)

    def set_batch_priority(self, batch_id: int, priority: int) -> None:
        self.store.set_batch_priority(batch_id, priority)
        self._announce([job.id for job in self.store.jobs_of_batch(batch_id)])

    def move_jobs(self, job_ids: list[int], to: str) -> None:
        """Move jobs to the ``"top"`` or ``"bottom"`` of the queue."""
        self.store.move_jobs(job_ids, to=to)
        self._announce(job_ids)

    def move_jobs_before(self, job_ids: list[int], before_job_id: int | None) -> None:
        self.store.move_jobs_before(job_ids, before_job_id)
        self._announce(job_ids)

    def pause_batch(self, batch_id: int) -> None:
        self.store.set_batch_paused(batch_id, True)

    def resume_batch(self, batch_id: int) -> None:
        self.scheduler.resume_batch(batch_id)

    def batch_estimate(self, batch_id: int) -> BatchEstimate:
        """Return the jobs left in a batch and when they should be done, from how long the
        last finished jobs on this connection took."""
        left = self.store.count_unfinished(batch_id)
        recent = self.store.recent_durations(self.connection.label, limit=20)
        if not left or not recent:
            return BatchEstimate(left, None)
        slots = max(1, self._client.limits.concurrent_limit if self._client else 1)
        seconds = sum(recent) / len(recent) * left / slots
        return BatchEstimate(left, time.time() + seconds)

    def _announce(self, job_ids: list[int]) -> None:
        for job_id in job_ids:
            self._dispatch(JobChanged(self.store.get_job(job_id)))
        self.scheduler.wake()

    def status(self) -> EngineStatus:
        client = self._client
        limits = client.limits if client else None
        in_flight = self._scheduler.in_flight if self._scheduler else 0
        return EngineStatus(
            connection=self.connection.label,
            running=_running_jobs(limits, in_flight),
            running_limit=limits.concurrent_limit if limits else 0,
            in_flight=in_flight,
            requests_last_minute=client.pacer.requests_in_last_minute() if client else 0,
            rate_limit=limits.rate_limit if limits else 0,
            paused=self._scheduler.paused if self._scheduler else False,
        )

    def unfinished_jobs(self, batch_ids: set[int]) -> list[Job]:
        return [
            job for job in self.store.jobs(batch_ids=batch_ids) if job.status not in FINAL_STATUSES
        ]


def _load_definitions_file(path: Path) -> NodeDefinitions:
    try:
        definitions = NodeDefinitions.from_file(path)
    except ValueError as exc:
        raise EngineError(
            f"{exc} Or clear the node definitions file in Settings to use the bundled ones."
        ) from exc
    log.info("Node definitions from %s (%d classes)", path, len(definitions))
    return definitions


def _running_jobs(limits: Limits | None, in_flight: int) -> int:
    if limits is None:
        return 0
    if limits.concurrent_current is not None:
        return limits.concurrent_current
    return min(in_flight, limits.concurrent_limit)
