"""``cmfy-desk run``: the engine without a window, printing one line (or JSON object) per event."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from cmfy_desk.app import (
    SANDBOX_CONNECTION,
    ConnectionConfig,
    Engine,
    EngineError,
    scheduler_options,
)
from cmfy_desk.backends.cmfy_cloud import check_base_url
from cmfy_desk.backends.comfyui import ComfyUIClient
from cmfy_desk.backends.errors import BackendError
from cmfy_desk.bridge.events import BridgeEvent
from cmfy_desk.connections import (
    CMFY,
    COMFYUI,
    ConnectionList,
    check_connection,
    with_secret,
)
from cmfy_desk.keystore import ApiKeyStore, validate_api_key
from cmfy_desk.logs import setup_logging
from cmfy_desk.paths import AppPaths, NoDatabaseError, existing_paths, resolve_paths
from cmfy_desk.planning import PlannedBatch, PlanningError
from cmfy_desk.scheduler import (
    EngineEvent,
    JobChanged,
    JobsQueued,
    Notice,
    OutputSaved,
    SchedulerOptions,
)
from cmfy_desk.scheduler.queue_file import QueueFileError, read_queue_file, write_queue_file
from cmfy_desk.settings import Settings
from cmfy_desk.store import FINAL_STATUSES, Job, JobStatus, Store, StoreError
from cmfy_desk.workflow_commands import build_plan, load_definitions
from cmfy_desk.workflows.definitions import NodeDefinitions
from cmfy_desk.workflows.expansion import LARGE_BATCH, BatchPlan, estimate
from cmfy_desk.workflows.formats import (
    LoadedWorkflow,
    WorkflowLoadError,
    load_workflow_file,
    scan_workflow_paths,
)

log = logging.getLogger(__name__)

API_KEY_ENV = "CMFY_API_KEY"
COMFYUI_AUTH_ENV = "CMFY_COMFYUI_AUTH"
_MAIN_KINDS = ("submit", "status", "cancel")
SERVER_CHECK_SECONDS = 10.0
EXIT_OK, EXIT_JOBS_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class _Reporter:
    """Prints engine events for the jobs of this run, as text lines or JSON objects."""

    def __init__(self, stream: TextIO, as_json: bool) -> None:
        self._stream = stream
        self._json = as_json
        self._last_status: dict[int, JobStatus] = {}
        self.outputs = 0
        self.changed = asyncio.Event()

    def __call__(self, event: EngineEvent | BridgeEvent) -> None:
        match event:
            case JobChanged(job=job):
                self._job_changed(job)
                self.changed.set()
            case JobsQueued(jobs=jobs):
                for job in jobs:
                    self._job_changed(job)
                self.changed.set()
            case OutputSaved(output=output):
                self.outputs += 1
                if self._json:
                    self._write(
                        {
                            "event": "output",
                            "job_id": output.job_id,
                            "index": output.index,
                            "path": output.local_path,
                            "width": output.width,
                            "height": output.height,
                            "bytes": output.size,
                        }
                    )
                else:
                    self._text(f"  job {output.job_id}: saved {output.local_path}")
            case Notice(level=level, message=message, job_id=job_id):
                if self._json:
                    self._write(
                        {
                            "event": "notice",
                            "level": str(level),
                            "message": message,
                            "job_id": job_id,
                        }
                    )
                else:
                    print(f"{level}: {message}", file=sys.stderr)
                self.changed.set()

    def _job_changed(self, job: Job) -> None:
        if self._last_status.get(job.id) is not job.status:
            self._last_status[job.id] = job.status
            self._job_line(
                job.id,
                job.workflow_name,
                job.position,
                job.seed,
                job.status,
                job.error_message,
                job.remote_id,
            )

    def _job_line(
        self,
        job_id: int,
        workflow: str,
        position: int,
        seed: int | None,
        status: JobStatus,
        error: str | None,
        remote_id: str | None,
    ) -> None:
        if self._json:
            self._write(
                {
                    "event": "job",
                    "job_id": job_id,
                    "workflow": workflow,
                    "index": position,
                    "seed": seed,
                    "status": str(status),
                    "remote_id": remote_id,
                    "error": error,
                }
            )
            return
        seed_text = "no seed" if seed is None else f"seed {seed}"
        line = f"job {job_id} ({workflow} #{position + 1}, {seed_text}): {status}"
        if error and status in FINAL_STATUSES:
            line += f" - {error}"
        self._text(line)

    def _text(self, line: str) -> None:
        print(line, file=self._stream, flush=True)

    def _write(self, obj: dict[str, object]) -> None:
        print(json.dumps(obj), file=self._stream, flush=True)


def _load_all(
    paths: list[Path], definitions: NodeDefinitions
) -> tuple[list[LoadedWorkflow], list[str]]:
    loaded: list[LoadedWorkflow] = []
    errors: list[str] = []
    for path in paths:
        try:
            loaded.append(load_workflow_file(path, definitions))
        except WorkflowLoadError as exc:
            errors.append(str(exc))
    return loaded, errors


def _connection(
    options: argparse.Namespace, settings: Settings, paths: AppPaths
) -> ConnectionConfig | str:
    """Return the connection the options choose, or a message saying what is wrong."""
    status = getattr(options, "status", None)
    public_url = getattr(options, "public_url", None)
    if options.sandbox:
        config = ConnectionConfig(
            kind=SANDBOX_CONNECTION,
            plan=options.plan or settings.get("sandbox.plan"),
            sandbox_speed=options.speed or settings.get("sandbox.speed"),
        )
    elif getattr(options, "comfyui", None):
        auth_value = os.environ.get(COMFYUI_AUTH_ENV) or None
        if options.auth_header and not auth_value:
            return (
                f"--auth-header {options.auth_header} needs the header's value in "
                f"${COMFYUI_AUTH_ENV}."
            )
        config = ConnectionConfig(
            kind=COMFYUI,
            base_url=options.comfyui.strip().rstrip("/"),
            auth_header_name=options.auth_header,
            api_key=auth_value if options.auth_header else None,
        )
    elif getattr(options, "connection", None):
        saved = ConnectionList.load(paths.connections_file)
        found = saved.get(options.connection)
        if found is None:
            if not saved.connections:
                return (
                    f"no saved connection named {options.connection!r}: none are saved in "
                    f"{paths.connections_file}. Add one in the window with File → "
                    "Connections…, or use --comfyui URL."
                )
            names = ", ".join(config.name for config in saved.connections)
            return f"no saved connection named {options.connection!r}; saved: {names}."
        config = with_secret(found, ApiKeyStore())
        if config.kind == CMFY and os.environ.get(API_KEY_ENV):
            config = replace(config, api_key=os.environ[API_KEY_ENV])
    else:
        api_key = os.environ.get(API_KEY_ENV) or ApiKeyStore().get("cmfy")
        config = ConnectionConfig(
            kind="cmfy",
            base_url=options.base_url or settings.get("connection.base_url"),
            api_key=api_key,
        )
    if config.kind == COMFYUI and (status not in (None, "auto") or public_url):
        return (
            f"{config.label} is a ComfyUI server, which reports status over its websocket; "
            "--status and --public-url apply to cmfy.cloud and the sandbox."
        )
    if status is not None:
        config = replace(config, status_mode=status)
    if public_url:
        config = replace(config, public_base_url=public_url)
    return config


def _plan_all(
    engine: Engine,
    workflows: list[LoadedWorkflow],
    plan: BatchPlan,
    options: argparse.Namespace,
) -> list[tuple[LoadedWorkflow, PlannedBatch]] | None:
    """Check and expand every workflow before queueing any; None after printing an error."""
    planned: list[tuple[LoadedWorkflow, PlannedBatch]] = []
    for workflow in workflows:
        try:
            batch = engine.plan_batch(workflow, plan)
        except PlanningError as exc:
            print(f"error: {exc}", file=sys.stderr)
            print("No job was submitted.", file=sys.stderr)
            return None
        for finding in batch.report.warnings:
            print(f"warning: {workflow.path.name}: {finding.message}", file=sys.stderr)
        count = _plural(len(batch.graphs), "job")
        if engine.for_cloud():
            cost = estimate(batch.graphs).relative_cost
            print(
                f"{workflow.path.name}: {count}, estimated cost {cost:.1f}x one 512x512 image "
                "at 20 steps",
                file=sys.stderr,
            )
        else:
            print(f"{workflow.path.name}: {count}", file=sys.stderr)
        planned.append((workflow, batch))
    total = sum(len(batch.graphs) for _workflow, batch in planned)
    if total > LARGE_BATCH and not getattr(options, "yes", False):
        print(
            f"error: this run makes {total} jobs, more than {LARGE_BATCH}. Add --yes to queue "
            "them anyway.",
            file=sys.stderr,
        )
        return None
    return planned


async def _server_problem(engine: Engine) -> str | None:
    """Return why the run's ComfyUI server cannot take jobs, or None. Other kinds are
    checked by their first request."""
    client = engine.client()
    if not isinstance(client, ComfyUIClient):
        return None
    try:
        await asyncio.wait_for(client.system_stats(), SERVER_CHECK_SECONDS)
    except (BackendError, TimeoutError) as exc:
        return (
            f"cannot reach the ComfyUI server at {client.base_url}: {exc}. Check that it runs "
            "and listens on that address."
        )
    return None


def _plural(count: int, noun: str) -> str:
    if count == 1:
        return f"1 {noun}"
    return f"{count} {noun}es" if noun.endswith("ch") else f"{count} {noun}s"


def _jobs_can_progress(engine: Engine, batch_ids: set[int]) -> bool:
    """Return whether some job of ``batch_ids`` is unfinished and not held by a pause."""
    if engine.scheduler.paused:
        return False
    paused = {batch.id for batch in engine.store.batches() if batch.paused}
    return any(
        not (job.status is JobStatus.QUEUED and job.batch_id in paused)
        for job in engine.unfinished_jobs(batch_ids)
    )


def _connection_problem(connection: ConnectionConfig) -> str | None:
    if connection.kind == SANDBOX_CONNECTION:
        return check_connection(connection)
    if connection.kind == COMFYUI:
        return check_connection(connection)
    if not connection.api_key:
        return f"no API key. Set {API_KEY_ENV}, store one in the app's Settings, or use --sandbox."
    key_problem = validate_api_key(connection.api_key)
    if key_problem:
        return f"invalid API key: {key_problem}"
    return check_base_url(connection.base_url) or check_connection(connection)


def run_command(options: argparse.Namespace) -> int:
    """Run ``cmfy-desk run``; returns the exit status."""
    try:
        definitions = load_definitions(options.definitions)
        plan = build_plan(options)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    files, scan_errors = scan_workflow_paths(options.workflows)
    workflows, errors = _load_all(files, definitions)
    errors = [str(error) for error in scan_errors] + errors
    if errors:
        for message in errors:
            print(f"error: {message}", file=sys.stderr)
        print("No job was submitted.", file=sys.stderr)
        return EXIT_USAGE
    if not options.sandbox and (options.speed is not None or options.plan is not None):
        print("error: --speed and --plan apply only to --sandbox.", file=sys.stderr)
        return EXIT_USAGE
    setup = _set_up(options)
    if setup is None:
        return EXIT_USAGE
    paths, settings, connection = setup
    output_root = options.out or Path(settings.get("output.folder") or paths.default_output_dir)
    try:
        output_root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"error: cannot create the output folder {output_root}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return _drive(options, workflows, connection, paths, output_root, settings, plan, definitions)


def _set_up(options: argparse.Namespace) -> tuple[AppPaths, Settings, ConnectionConfig] | None:
    """Resolve the folders, start logging, read the settings and check the connection; None
    after printing what is wrong with the connection.

    Each invalid value in the settings file, such as a name template with an unknown token,
    is printed as a warning because the run uses that setting's default instead.
    """
    paths = resolve_paths(options.data_dir)
    setup_logging(paths.log_dir, console_level=logging.ERROR)
    settings = Settings(paths.settings_file)
    for invalid in settings.invalid:
        print(f"warning: {settings.path}: {invalid.message()}", file=sys.stderr)
    connection = _connection(options, settings, paths)
    problem = connection if isinstance(connection, str) else _connection_problem(connection)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return None
    assert not isinstance(connection, str)
    return paths, settings, connection


def _drive(
    options: argparse.Namespace,
    workflows: list[LoadedWorkflow],
    connection: ConnectionConfig,
    paths: AppPaths,
    output_root: Path,
    settings: Settings,
    plan: BatchPlan | None = None,
    definitions: NodeDefinitions | None = None,
) -> int:
    """Run the engine until the jobs are done; a headless run never starts paused."""
    run_options = replace(scheduler_options(settings), start_paused=False)
    port = getattr(options, "webhook_port", None)
    if port is None:
        # A tunnel forwards to the configured port; without one any free port serves.
        port = int(settings.get("webhooks.port")) if connection.public_base_url else 0
    try:
        return asyncio.run(
            _run(
                options,
                workflows,
                connection,
                paths.database,
                output_root,
                run_options,
                plan,
                definitions,
                port,
            )
        )
    except KeyboardInterrupt:
        print("Interrupted; unfinished jobs stay in the database.", file=sys.stderr)
        return EXIT_INTERRUPTED


def queue_command(options: argparse.Namespace) -> int:
    """Run ``cmfy-desk queue export|import FILE``; returns the exit status.

    Export reads a database that exists. Pointed at a data folder without one, it prints an
    error, creates nothing and returns 2. Import creates the database when needed."""
    if options.action == "export":
        try:
            paths = existing_paths(options.data_dir)
        except NoDatabaseError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_USAGE
    else:
        paths = resolve_paths(options.data_dir)
    setup_logging(paths.log_dir, console_level=logging.ERROR)
    try:
        store = Store.open(paths.database)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        if options.action == "export":
            count = write_queue_file(store, options.file, options.connection)
            print(
                f"Exported {_plural(count, 'queued job')} to {options.file}; they stay queued here."
            )
        else:
            batches = read_queue_file(store, options.file, options.connection)
            jobs = sum(batch.count for batch in batches)
            print(
                f"Imported {_plural(len(batches), 'batch')} ({_plural(jobs, 'job')}) from "
                f"{options.file}"
            )
    except (QueueFileError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        store.close()
    return EXIT_OK


def resume_command(options: argparse.Namespace) -> int:
    """Run ``cmfy-desk resume``: finish the unfinished jobs in the database; returns the exit
    status (0 when all of them succeeded)."""
    options.plan = options.speed = None
    setup = _set_up(options)
    if setup is None:
        return EXIT_USAGE
    paths, settings, connection = setup
    output_root = Path(settings.get("output.folder") or paths.default_output_dir)
    return _drive(options, [], connection, paths, output_root, settings)


async def _run(
    options: argparse.Namespace,
    workflows: list[LoadedWorkflow],
    connection: ConnectionConfig,
    database: Path,
    output_root: Path,
    options_for_run: SchedulerOptions,
    plan: BatchPlan | None = None,
    definitions: NodeDefinitions | None = None,
    webhook_port: int = 0,
) -> int:
    started = time.monotonic()
    reporter = _Reporter(sys.stdout, options.json)
    # A run takes only the batches it creates; a resume (no workflows) takes every
    # unfinished batch of the connection.
    resuming = not workflows
    batch_ids: set[int] = set()
    engine = Engine(
        database,
        output_root,
        connection,
        batch_ids=None if resuming else batch_ids,
        options=options_for_run,
        webhook_port=webhook_port,
    )
    engine.subscribe(reporter)
    if definitions is not None:
        engine.definitions = definitions
    try:
        await engine.start()
    except EngineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        problem = await _server_problem(engine)
        if problem:
            print(f"error: {problem}", file=sys.stderr)
            print("No job was submitted.", file=sys.stderr)
            return EXIT_USAGE
        planned = _plan_all(engine, workflows, plan or BatchPlan(), options)
        if planned is None:
            return EXIT_USAGE
        if resuming:
            batch_ids.update(
                job.batch_id
                for job in engine.store.jobs()
                if job.connection == connection.label and not job.is_final
            )
        for workflow, batch_plan in planned:
            engine.queue_planned(workflow, plan or BatchPlan(), batch_plan)
        while _jobs_can_progress(engine, batch_ids):
            reporter.changed.clear()
            await reporter.changed.wait()
        jobs = engine.store.jobs(batch_ids=batch_ids)
        folders = sorted({engine.store.get_batch(batch_id).output_dir for batch_id in batch_ids})
        requests = engine.request_counts()
        bridge = engine.bridge_status()
    finally:
        await engine.stop()
    shown_folder = folders[0] if len(folders) == 1 else str(output_root)
    if resuming and len(folders) > 1:
        shown_folder = f"{len(folders)} batch folders"
    counts = {status: sum(1 for job in jobs if job.status is status) for status in JobStatus}
    succeeded = counts[JobStatus.SUCCEEDED]
    summary = {
        "event": "summary",
        "succeeded": succeeded,
        "failed": len(jobs) - succeeded,
        "jobs": len(jobs),
        "outputs": reporter.outputs,
        "out": str(output_root),
        "folders": folders,
        "seconds": round(time.monotonic() - started, 2),
        "by_status": {str(status): n for status, n in counts.items() if n},
        "requests": {
            "submit": requests["submit"],
            "status": requests["status"],
            "cancel": requests["cancel"],
            **{kind: n for kind, n in sorted(requests.items()) if kind not in _MAIN_KINDS},
        },
        "webhooks_received": bridge.webhooks_received,
        "status_source": str(bridge.state),
    }
    if options.json:
        print(json.dumps(summary), flush=True)
    else:
        jobs_word = "job" if len(jobs) == 1 else "jobs"
        images_word = "image" if reporter.outputs == 1 else "images"
        place = output_root if not resuming else shown_folder
        print(
            f"{succeeded} of {len(jobs)} {jobs_word} succeeded, {reporter.outputs} "
            f"{images_word} in {place} ({summary['seconds']} s)",
            flush=True,
        )
    return EXIT_OK if succeeded == len(jobs) else EXIT_JOBS_FAILED
