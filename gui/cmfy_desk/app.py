"""Builds the engine's parts, wires them, and owns start-up and shutdown.

The window and the command line both drive an ``Engine``: it opens the store, starts the
webhook receiver and, per connection, the client, the scheduler and the bridge that feeds the
scheduler job states (webhooks and polling for cmfy.cloud and the sandbox, a websocket for a
ComfyUI server). It imports no widget.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import sqlite3
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from cmfy_desk.backends.base import Backend, RemoteJob
from cmfy_desk.backends.cmfy_cloud import CmfyCloudClient
from cmfy_desk.backends.comfyui import ComfyUIClient
from cmfy_desk.backends.errors import BackendError
from cmfy_desk.backends.limits import PLANS, Limits
from cmfy_desk.bridge.cloud_bridge import CloudBridge
from cmfy_desk.bridge.comfyui_bridge import ComfyUIBridge
from cmfy_desk.bridge.events import BridgeEvent, BridgeStatus, ConnectionBridge
from cmfy_desk.bridge.receiver import ReceiverError, WebhookReceiver
from cmfy_desk.connections import COMFYUI, SANDBOX, ConnectionConfig
from cmfy_desk.metrics import ConnectionFacts, connection_facts
from cmfy_desk.outputs.download import Downloader
from cmfy_desk.outputs.grid import assemble_grid
from cmfy_desk.outputs.index import index_output, index_unindexed_outputs
from cmfy_desk.outputs.name_template import (
    DEFAULT_FOLDER_TEMPLATE,
    NameValues,
    render_folder,
    render_name,
    unique_folder,
    values_for_job,
)
from cmfy_desk.planning import (
    GRID_PARAMETER,
    PlannedBatch,
    encode_graph,
    plan_batch,
    seed_model_library,
)
from cmfy_desk.sandbox import SandboxConfig, SandboxServer
from cmfy_desk.scheduler import (
    EngineEvent,
    JobChanged,
    JobsQueued,
    OutputSaved,
    Scheduler,
    SchedulerOptions,
)
from cmfy_desk.scheduler.events import Notice, NoticeLevel
from cmfy_desk.scheduler.failures import FailureCause, group_failures
from cmfy_desk.settings import Settings
from cmfy_desk.store import (
    FINAL_STATUSES,
    Batch,
    Job,
    JobStatus,
    Store,
    StoreError,
    WebhookDelivery,
)
from cmfy_desk.store.checkpoints import BackgroundCheckpoints
from cmfy_desk.store.model_library import ModelLibrary
from cmfy_desk.workflows.batch import SeedMode
from cmfy_desk.workflows.definitions import NodeDefinitions
from cmfy_desk.workflows.expansion import BatchPlan
from cmfy_desk.workflows.formats import LoadedWorkflow
from cmfy_desk.workflows.preflight import PreflightReport, check_graph

log = logging.getLogger(__name__)

SANDBOX_CONNECTION = SANDBOX
GRID_TIMEOUT = 60.0  # seconds a shutdown waits for a grid image being assembled
# Stable per database and connection, so a ComfyUI server keeps sending this app the events of
# the prompts it submitted before a restart.
_CLIENT_ID_NAMESPACE = uuid.UUID("0f6c2b1e-5d4a-4f0e-9a57-3c1d2e8b7a90")

__all__ = ["SANDBOX_CONNECTION", "ConnectionConfig", "Engine", "EngineError"]


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


EngineListener = Callable[[EngineEvent | BridgeEvent], None]


@dataclass
class _Runtime:
    """The parts that serve one connection."""

    config: ConnectionConfig
    client: Backend
    bridge: ConnectionBridge
    scheduler: Scheduler
    sandbox: SandboxServer | None = None


def scheduler_options(settings: Settings) -> SchedulerOptions:
    """Return the scheduler's options from the queue settings."""
    return SchedulerOptions(
        max_running=settings.get("queue.max_running") or None,
        start_paused=settings.get("queue.start_paused"),
        max_attempts=settings.get("queue.max_attempts"),
        failures_before_pause=settings.get("queue.failures_before_pause"),
        cache_aware=settings.get("queue.cache_aware"),
        file_template=settings.get("output.file_template"),
        folder_template=settings.get("output.folder_template"),
    )


class Engine:
    """The engine of the window and the command line: one store, one scheduler and one
    bridge per connection, and the webhook receiver they share.

    ``connection`` is the default connection of new batches; ``extra_connections`` are
    served at the same time, so a batch can go to any of them.
    """

    def __init__(
        self,
        database: Path,
        output_root: Path,
        connection: ConnectionConfig,
        *,
        extra_connections: Sequence[ConnectionConfig] = (),
        batch_ids: set[int] | None = None,
        options: SchedulerOptions | None = None,
        webhook_port: int = 0,
    ) -> None:
        self.database = database
        self.output_root = output_root
        self.connection = connection
        self.extra_connections = [
            extra for extra in extra_connections if extra.label != connection.label
        ]
        self.webhook_port = webhook_port
        self._batch_ids = batch_ids
        self._options = options
        self._subscribers: list[EngineListener] = []
        self._store: Store | None = None
        self._downloader: Downloader | None = None
        self._receiver: WebhookReceiver | None = None
        self._runtimes: dict[str, _Runtime] = {}
        self._definitions: NodeDefinitions | None = None
        self._grids_started: set[int] = set()
        self._grid_tasks: set[asyncio.Task[None]] = set()
        self._index_task: asyncio.Future[int] | None = None
        self._index_executor: ThreadPoolExecutor | None = None
        self._checkpoints: BackgroundCheckpoints | None = None
        self._stop_indexing = threading.Event()

    # Lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the store, start the webhook receiver, the sandbox and each connection, and
        start submitting. Raises EngineError (no API key, bad definitions file, webhook port
        taken) or StoreError. A failing extra connection is reported and skipped."""
        problem = _missing_secret(self.connection)
        if problem:
            raise EngineError(problem)
        if self.connection.definitions_file and self._definitions is None:
            self._definitions = _load_definitions_file(Path(self.connection.definitions_file))

        self._store = Store.open(self.database)
        self._checkpoints = BackgroundCheckpoints(self.database, self._store.connection)
        self._checkpoints.start()
        self.model_library = ModelLibrary(self._store)
        seed_model_library(self.model_library)
        # A thread of the engine's own: under qasync the loop's default executor runs QThreads,
        # which must not outlive the loop.
        self._index_executor = ThreadPoolExecutor(1, thread_name_prefix="index")
        self._index_task = asyncio.get_running_loop().run_in_executor(
            self._index_executor, _index_missing_outputs, self.database, self._stop_indexing
        )
        self._downloader = Downloader()
        if any(_uses_webhooks(config) for config in self.all_connections):
            receiver = WebhookReceiver(self._store, self._on_delivery, port=self.webhook_port)
            try:
                await receiver.start()
            except ReceiverError as exc:
                if _uses_webhooks(self.connection) and self.connection.status_mode == "webhook":
                    raise EngineError(str(exc)) from exc
                log.warning("Webhook receiver not started: %s", exc)
                self._dispatch(Notice(NoticeLevel.WARNING, f"{exc} Status comes by polling."))
            else:
                self._receiver = receiver
                log.info("Webhook receiver listening at %s", receiver.local_url)

        await self._start_connection(self.connection)
        for extra in self.extra_connections:
            problem = _missing_secret(extra)
            if problem:
                self._dispatch(Notice(NoticeLevel.WARNING, problem))
                continue
            try:
                await self._start_connection(extra)
            except (BackendError, OSError) as exc:
                self._dispatch(
                    Notice(NoticeLevel.WARNING, f"Connection {extra.label} did not start: {exc}")
                )
        await self._load_server_definitions()

    async def _start_connection(self, config: ConnectionConfig) -> None:
        assert self._store is not None and self._downloader is not None
        label = config.label
        sandbox: SandboxServer | None = None
        client: Backend
        plan = PLANS.get(config.plan, PLANS["free"])
        if config.kind == SANDBOX:
            sandbox = SandboxServer(SandboxConfig(plan=config.plan, speed=config.sandbox_speed))
            await sandbox.start()
            log.info("Built-in sandbox listening at %s", sandbox.base_url)
            client = CmfyCloudClient(sandbox.base_url, sandbox.api_key, plan)
        elif config.kind == COMFYUI:
            auth = (
                (config.auth_header_name, config.api_key)
                if config.auth_header_name and config.api_key
                else None
            )
            client_id = uuid.uuid5(_CLIENT_ID_NAMESPACE, f"{self.database.absolute()}|{label}")
            client = ComfyUIClient(
                config.base_url,
                client_id=str(client_id),
                auth_header=auth,
                queue_depth=config.queue_depth,
            )
        else:
            assert config.api_key is not None
            client = CmfyCloudClient(config.base_url, config.api_key, plan)

        def apply(job_id: int, remote: RemoteJob | None) -> None:
            runtime.scheduler.apply_remote(job_id, remote)

        bridge: ConnectionBridge
        if isinstance(client, ComfyUIClient):
            bridge = ComfyUIBridge(client, self._store, apply, self._dispatch, connection=label)
        else:
            public_url = config.public_base_url
            mode = config.status_mode
            if self._receiver is None or not _uses_webhooks(config):
                mode = "poll"
            elif config.kind == SANDBOX and not public_url:
                # The sandbox delivers to loopback, so it needs no tunnel.
                public_url = self._receiver.local_url
            bridge = CloudBridge(
                self._store,
                client,
                apply,
                self._dispatch,
                connection=label,
                mode=mode,
                public_base_url=public_url if mode != "poll" else "",
                receiver=self._receiver if mode != "poll" else None,
            )
        scheduler = Scheduler(
            self._store,
            client,
            self._downloader,
            self._dispatch,
            connection=label,
            options=self._options,
            batch_ids=self._batch_ids,
            webhook_url_for=bridge.webhook_url_for,
        )
        runtime = _Runtime(config, client, bridge, scheduler, sandbox)
        self._runtimes[label] = runtime
        # The scheduler first takes back the jobs a previous run left mid-way; the bridge then
        # reads the state of every submitted one.
        await scheduler.start()
        await bridge.start()

    async def _load_server_definitions(self) -> None:
        """Convert editor-format workflows with the node classes of the default ComfyUI
        server, unless a definitions file is set."""
        runtime = self._runtimes.get(self.connection.label)
        if self._definitions is not None or runtime is None:
            return
        if not isinstance(runtime.client, ComfyUIClient):
            return
        try:
            info = await runtime.client.object_info()
            self._definitions = NodeDefinitions.from_object_info(
                info, f"{self.connection.label} /object_info"
            )
        except (BackendError, ValueError) as exc:
            log.warning("Node definitions of %s not read: %s", self.connection.label, exc)

    async def stop(self) -> None:
        """Stop every task, close connections and the database; queued jobs stay queued."""
        if self._grid_tasks:
            # A grid image being assembled is finished first: its jobs are all done.
            await asyncio.wait(list(self._grid_tasks), timeout=GRID_TIMEOUT)
        for task in list(self._grid_tasks):
            task.cancel()
        await asyncio.gather(*self._grid_tasks, return_exceptions=True)
        if self._index_task is not None:
            self._stop_indexing.set()
            await asyncio.gather(self._index_task, return_exceptions=True)
            self._index_task = None
        if self._index_executor is not None:
            self._index_executor.shutdown(wait=True)
            self._index_executor = None
        for runtime in self._runtimes.values():
            await runtime.bridge.stop()
            await runtime.scheduler.stop()
            await runtime.client.aclose()
            if runtime.sandbox:
                await runtime.sandbox.stop()
        self._runtimes.clear()
        if self._receiver:
            await self._receiver.stop()
        if self._downloader:
            await self._downloader.aclose()
        if self._checkpoints is not None:
            # One last checkpoint on its thread, so the window's close waits for no disk.
            await asyncio.to_thread(self._checkpoints.stop)
            self._checkpoints = None
        if self._store:
            self._store.close()
        self._receiver = None
        self._downloader = None
        self._store = None

    # Connections -------------------------------------------------------------------------

    @property
    def all_connections(self) -> list[ConnectionConfig]:
        return [self.connection, *self.extra_connections]

    @property
    def connection_labels(self) -> list[str]:
        """The connections being served, the default first."""
        return list(self._runtimes)

    @property
    def sandbox(self) -> SandboxServer | None:
        runtime = self._runtimes.get(self.connection.label)
        return runtime.sandbox if runtime else None

    @property
    def receiver(self) -> WebhookReceiver | None:
        return self._receiver

    def client(self, connection: str | None = None) -> Backend:
        return self._runtime(connection).client

    def bridge_status(self, connection: str | None = None) -> BridgeStatus:
        return self._runtime(connection).bridge.status

    def metrics_facts(self, connection: str | None = None) -> ConnectionFacts:
        """Return what the metrics need about a connection beyond the store: its settings, its
        sandbox's counters, the requests and 429 responses since start, and its limits."""
        runtime = self._runtime(connection)
        scheduler = runtime.scheduler
        limits = runtime.client.limits
        facts = connection_facts(
            runtime.config,
            sandbox=runtime.sandbox,
            max_running=self._options.max_running if self._options else None,
            running_limit=limits.concurrent_limit,
        )
        return dataclasses.replace(
            facts,
            requests=sum(runtime.client.requests.values()),
            rate_limited=dict(scheduler.rate_limited),
            avoidable_rate_limits=scheduler.avoidable_rate_limits,
        )

    def request_counts(self) -> Counter[str]:
        """Requests sent to every connection's server since start, by kind."""
        total: Counter[str] = Counter()
        for runtime in self._runtimes.values():
            total.update(runtime.client.requests)
        return total

    def _runtime(self, connection: str | None = None) -> _Runtime:
        label = connection or self.connection.label
        runtime = self._runtimes.get(label)
        if runtime is None:
            if self._store is None:
                raise EngineError("The engine is not started.")
            raise EngineError(f"The connection {label} is not available.")
        return runtime

    def _scheduler_of_job(self, job_id: int) -> Scheduler:
        return self._runtime(self.store.get_job(job_id).connection).scheduler

    # Events ------------------------------------------------------------------------------

    def subscribe(self, callback: EngineListener) -> None:
        self._subscribers.append(callback)

    def unsubscribe(self, callback: EngineListener) -> None:
        if callback in self._subscribers:
            self._subscribers.remove(callback)

    def _dispatch(self, event: EngineEvent | BridgeEvent) -> None:
        if isinstance(event, OutputSaved) and self._store is not None:
            try:
                index_output(self._store, event.output)
            except (sqlite3.Error, OSError) as exc:
                # The file is saved and recorded; the index catches up at the next start.
                log.warning("Indexing %s failed: %s", event.output.local_path, exc)
        if isinstance(event, JobChanged):
            job = event.job
            runtime = self._runtimes.get(job.connection)
            if runtime is not None:
                if job.status in (JobStatus.SUBMITTED, JobStatus.RUNNING) and job.remote_id:
                    runtime.bridge.watch(job)
                else:
                    runtime.bridge.unwatch(job.id)
            if job.is_final and GRID_PARAMETER in job.parameters:
                self._assemble_grid_when_done(job.batch_id)
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception:
                log.exception("An event subscriber failed on %s", type(event).__name__)

    def _on_delivery(self, delivery: WebhookDelivery) -> None:
        """Hand a webhook to the bridge of its job's connection."""
        try:
            job = self.store.get_job(delivery.job_id)
        except KeyError:
            self.store.mark_webhook_handled(delivery.id)
            return
        runtime = self._runtimes.get(job.connection)
        if runtime is None or not isinstance(runtime.bridge, CloudBridge):
            log.warning("Webhook for job %d of %s, which is not served", job.id, job.connection)
            return
        runtime.bridge.on_delivery(delivery)

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

    # Commands ----------------------------------------------------------------------------

    @property
    def store(self) -> Store:
        if self._store is None:
            raise EngineError("The engine is not started.")
        return self._store

    @property
    def scheduler(self) -> Scheduler:
        """The default connection's scheduler."""
        return self._runtime().scheduler

    def set_name_templates(self, folder_template: str, file_template: str) -> None:
        """Name new batch folders and the outputs saved from now on with these templates."""
        options = self._options or SchedulerOptions()
        self._options = dataclasses.replace(
            options, folder_template=folder_template, file_template=file_template
        )
        for scheduler in self.schedulers():
            scheduler.set_name_templates(folder_template, file_template)

    def schedulers(self) -> list[Scheduler]:
        return [runtime.scheduler for runtime in self._runtimes.values()]

    def pause_all(self) -> None:
        for scheduler in self.schedulers():
            scheduler.pause()

    def resume_all(self) -> None:
        for scheduler in self.schedulers():
            scheduler.resume()

    @property
    def paused(self) -> bool:
        schedulers = self.schedulers()
        return bool(schedulers) and all(scheduler.paused for scheduler in schedulers)

    @property
    def definitions(self) -> NodeDefinitions:
        """The node definitions used to convert, check and type workflows."""
        return self._definitions or NodeDefinitions.bundled()

    @definitions.setter
    def definitions(self, definitions: NodeDefinitions) -> None:
        self._definitions = definitions

    def for_cloud(self, connection: str | None = None) -> bool:
        """Return whether jobs of ``connection`` name models by URL and cannot take uploads
        (every kind but a ComfyUI server)."""
        runtime = self._runtimes.get(connection or self.connection.label)
        config = runtime.config if runtime else self.connection
        return config.kind != COMFYUI

    def preflight(self, workflow: LoadedWorkflow, connection: str | None = None) -> PreflightReport:
        return check_graph(
            workflow.graph,
            self.definitions,
            self.model_library.canonical_urls(),
            for_cloud=self.for_cloud(connection),
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
        self, workflow: LoadedWorkflow, plan: BatchPlan, connection: str | None = None
    ) -> tuple[Batch, list[Job]]:
        """Check ``workflow``, expand ``plan`` and store the jobs as one queued batch.

        Raises PlanningError (pre-flight errors, bad plan values, model files without a URL)
        before anything is stored.
        """
        planned = self.plan_batch(workflow, plan, connection)
        return self.queue_planned(workflow, plan, planned, connection)

    def plan_batch(
        self, workflow: LoadedWorkflow, plan: BatchPlan, connection: str | None = None
    ) -> PlannedBatch:
        """Check and expand a batch for ``connection`` without storing it; raises
        PlanningError."""
        return plan_batch(
            workflow,
            plan,
            self.definitions,
            self.model_library.canonical_urls(),
            for_cloud=self.for_cloud(connection),
        )

    def queue_planned(
        self,
        workflow: LoadedWorkflow,
        plan: BatchPlan,
        planned: PlannedBatch,
        connection: str | None = None,
    ) -> tuple[Batch, list[Job]]:
        """Store a planned batch as queued jobs of ``connection`` (default: the default
        connection) and wake its scheduler."""
        scheduler = self._runtime(connection).scheduler
        # The batch keeps its absolute folder, so a later change of the output folder setting
        # applies to new batches only.
        root = self.output_root.absolute()
        folder = self._batch_folder(root, workflow.name, planned)
        encoded = planned.encoded or [encode_graph(graph) for graph in planned.graphs]
        batch, jobs = self.store.add_batch(
            name=folder.relative_to(root).as_posix(),
            workflow_name=workflow.name,
            workflow_path=str(workflow.path),
            connection=connection or self.connection.label,
            seed_mode=str(plan.seed_mode),
            output_dir=str(folder),
            jobs=[
                (graph, each.prompt_hash, spec.seed)
                for graph, each, spec in zip(planned.graphs, encoded, planned.specs, strict=True)
            ],
            parameters=planned.parameters,
            model_keys=[each.model_key for each in encoded],
            prompt_texts=[each.prompt_json for each in encoded],
        )
        if self._batch_ids is not None:
            self._batch_ids.add(batch.id)
            for each in self.schedulers():
                each.set_batch_ids(self._batch_ids)
        self._dispatch(JobsQueued(tuple(jobs)))
        scheduler.wake()
        log.info("Queued batch %d: %d jobs of %s", batch.id, len(jobs), workflow.name)
        return batch, jobs

    def _batch_folder(self, root: Path, workflow_name: str, planned: PlannedBatch) -> Path:
        """Return a new batch's folder from the folder template, with `` (2)``, `` (3)``...
        when a folder of that name exists or belongs to an earlier batch.

        The template's ``{batch}`` is ``<workflow> <date> <time>``, and its job tokens take
        the values of the batch's first job.
        """
        created_at = time.time()
        template = self._options.folder_template if self._options else DEFAULT_FOLDER_TEMPLATE
        batch_name = render_name(
            DEFAULT_FOLDER_TEMPLATE,
            NameValues(created_at, workflow=workflow_name),
            default_template=DEFAULT_FOLDER_TEMPLATE,
        )
        if planned.graphs:
            values = values_for_job(
                created_at=created_at,
                workflow=workflow_name,
                batch=batch_name,
                job=None,
                index=None,
                seed=planned.specs[0].seed,
                graph=planned.graphs[0],
                parameters=planned.parameters[0],
            )
        else:
            values = NameValues(created_at, workflow=workflow_name, batch=batch_name)
        return unique_folder(root, render_folder(template, values), self.store.batch_folders())

    async def cancel(self, job_id: int) -> None:
        await self._scheduler_of_job(job_id).cancel(job_id)

    def retry(self, job_id: int) -> None:
        self._scheduler_of_job(job_id).retry(job_id)

    async def cancel_queued(self, batch_id: int | None = None) -> int:
        """Cancel every queued job (of one batch, or all), leaving submitted ones running."""
        jobs = self.store.jobs(
            statuses=[JobStatus.QUEUED], batch_ids=None if batch_id is None else [batch_id]
        )
        for job in jobs:
            await self.cancel(job.id)
        return len(jobs)

    def retry_failed(self, batch_id: int, cause: FailureCause | None = None) -> int:
        """Queue again the failed, lost and partial jobs of a batch (of one cause, or all)."""
        groups = self.failure_groups(batch_id)
        retried = 0
        for group_cause, jobs in groups.items():
            if group_cause is FailureCause.CANCELLED or (cause and group_cause is not cause):
                continue
            for job in jobs:
                self.retry(job.id)
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
        batch = self.store.get_batch(batch_id)
        runtime = self._runtimes.get(batch.connection)
        if runtime is None:
            self.store.set_batch_paused(batch_id, False)
            return
        runtime.scheduler.resume_batch(batch_id)

    def batch_estimate(self, batch_id: int) -> BatchEstimate:
        """Return the jobs left in a batch and when they should be done, from how long the
        last finished jobs on this connection took."""
        left = self.store.count_unfinished(batch_id)
        connection = self.store.get_batch(batch_id).connection
        recent = self.store.recent_durations(connection, limit=20)
        if not left or not recent:
            return BatchEstimate(left, None)
        runtime = self._runtimes.get(connection)
        slots = max(1, runtime.client.limits.concurrent_limit if runtime else 1)
        seconds = sum(recent) / len(recent) * left / slots
        return BatchEstimate(left, time.time() + seconds)

    def _announce(self, job_ids: list[int]) -> None:
        for job_id in job_ids:
            self._dispatch(JobChanged(self.store.get_job(job_id)))
        for scheduler in self.schedulers():
            scheduler.wake()

    def status(self, connection: str | None = None) -> EngineStatus:
        """Figures of one connection (default: the default connection) for the status bar."""
        runtime = self._runtimes.get(connection or self.connection.label)
        client = runtime.client if runtime else None
        limits = client.limits if client else None
        in_flight = runtime.scheduler.in_flight if runtime else 0
        pacer = getattr(client, "pacer", None)
        return EngineStatus(
            connection=connection or self.connection.label,
            running=_running_jobs(limits, in_flight),
            running_limit=limits.concurrent_limit if limits else 0,
            in_flight=in_flight,
            requests_last_minute=pacer.requests_in_last_minute() if pacer else 0,
            rate_limit=limits.rate_limit if limits else 0,
            paused=runtime.scheduler.paused if runtime else False,
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


def _missing_secret(config: ConnectionConfig) -> str | None:
    if config.kind == "cmfy" and not config.api_key:
        return (
            f"No API key for {config.label}. Enter it in Settings or File → Connections…, or set "
            "CMFY_API_KEY."
        )
    return None


def _uses_webhooks(config: ConnectionConfig) -> bool:
    """Return whether status of ``config`` may come by webhook: chosen, or automatic with a
    tunnel address (or the sandbox, which reaches the receiver on loopback)."""
    if config.kind == COMFYUI or config.status_mode == "poll":
        return False
    if config.status_mode == "webhook":
        return True
    return bool(config.public_base_url) or config.kind == SANDBOX


def _index_missing_outputs(database: Path, cancel: threading.Event) -> int:
    """Index outputs saved before the index existed or before a crash; runs on a worker
    thread with a connection of its own."""
    try:
        store = Store.open(database)
    except StoreError as exc:
        log.warning("Indexing earlier outputs skipped: %s", exc)
        return 0
    try:
        count = index_unindexed_outputs(store, cancel)
    except (sqlite3.Error, OSError) as exc:
        log.warning("Indexing earlier outputs stopped: %s", exc)
        return 0
    finally:
        store.close()
    if count:
        log.info("Indexed %d earlier outputs", count)
    return count
