"""Builds the engine's parts, wires them, and owns start-up and shutdown.

The window and the command line both drive an ``Engine``: it opens the store, starts the
built-in sandbox when the connection is the sandbox, and connects the poller's status reads
to the scheduler. It imports no widget.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cmfy_desk.backends.cmfy_cloud import DEFAULT_BASE_URL, CmfyCloudClient, RemoteJob
from cmfy_desk.backends.limits import PLANS, Limits
from cmfy_desk.bridge.poller import Poller
from cmfy_desk.outputs.download import Downloader
from cmfy_desk.outputs.naming import batch_folder_name
from cmfy_desk.sandbox import SandboxConfig, SandboxServer
from cmfy_desk.scheduler import EngineEvent, JobChanged, Scheduler, SchedulerOptions
from cmfy_desk.store import FINAL_STATUSES, Batch, Job, JobStatus, Store
from cmfy_desk.workflows.batch import SeedMode, expand_batch
from cmfy_desk.workflows.formats import LoadedWorkflow
from cmfy_desk.workflows.graph import graph_hash

log = logging.getLogger(__name__)

SANDBOX_CONNECTION = "sandbox"


@dataclass(frozen=True)
class ConnectionConfig:
    """Connection settings. The kind "sandbox" starts the built-in sandbox on a loopback port."""

    kind: str = SANDBOX_CONNECTION
    base_url: str = DEFAULT_BASE_URL
    api_key: str | None = None
    plan: str = "free"
    sandbox_speed: float = 5.0

    @property
    def label(self) -> str:
        return SANDBOX_CONNECTION if self.kind == SANDBOX_CONNECTION else self.base_url


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


class EngineError(RuntimeError):
    """The engine cannot start: no API key, or the database cannot be opened."""


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

    # Lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        if self.connection.kind != SANDBOX_CONNECTION and not self.connection.api_key:
            raise EngineError(
                "No API key for cmfy.cloud. Enter it in Settings, or set CMFY_API_KEY."
            )
        self._store = Store.open(self.database)
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
            options=self._options,
            batch_ids=self._batch_ids,
        )
        self._poller.start()
        await self._scheduler.start()

    async def stop(self) -> None:
        """Stop every task, close connections and the database; queued jobs stay queued."""
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
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception:
                log.exception("An event subscriber failed on %s", type(event).__name__)

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

    def add_batch(
        self,
        workflow: LoadedWorkflow,
        count: int,
        seed_mode: SeedMode,
        base_seed: int | None = None,
    ) -> tuple[Batch, list[Job]]:
        """Expand ``workflow`` into ``count`` jobs, store them as one queued batch, and wake
        the scheduler."""
        specs = expand_batch(workflow.graph, count, seed_mode, base_seed)
        # The batch keeps its absolute folder, so a later change of the output folder setting
        # applies to new batches only.
        root = self.output_root
        taken = {Path(folder).name for folder in self.store.batch_folders()}
        if root.is_dir():
            taken |= {entry.name for entry in root.iterdir()}
        folder = batch_folder_name(workflow.name, time.time(), taken)
        batch, jobs = self.store.add_batch(
            name=folder,
            workflow_name=workflow.name,
            workflow_path=str(workflow.path),
            connection=self.connection.label,
            seed_mode=str(seed_mode),
            output_dir=str(root / folder),
            jobs=[(spec.graph, graph_hash(spec.graph), spec.seed) for spec in specs],
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


def _running_jobs(limits: Limits | None, in_flight: int) -> int:
    if limits is None:
        return 0
    if limits.concurrent_current is not None:
        return limits.concurrent_current
    return min(in_flight, limits.concurrent_limit)
