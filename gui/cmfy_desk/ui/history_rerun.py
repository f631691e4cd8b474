"""Running a batch or job of the History tab again, rebuilt from the prompts the store keeps.

The store keeps no batch plan, but every job keeps its resolved prompt (with its seed, prompt
text and model URLs) and the parameters that made it. "Run again" queues those prompts as a
new batch, so the jobs are the same as before. "Edit and run…" opens the batch dialog with the
first job's graph and the seeds, prompt list and XY grid read back from the jobs' parameters.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication

from cmfy_desk.planning import GRID_PARAMETER, EncodedGraph, PlannedBatch, encode_graph
from cmfy_desk.store import Batch, JobStatus, Store, StoreError
from cmfy_desk.store.history import BatchSummary, History, StoredJob
from cmfy_desk.ui.batch_inputs import BatchInputs
from cmfy_desk.workflows.batch import SEED_LIMIT, JobSpec, SeedMode
from cmfy_desk.workflows.formats import LoadedWorkflow
from cmfy_desk.workflows.graph import Graph, GraphError, validate_graph
from cmfy_desk.workflows.preflight import PreflightReport

# Run again from the History tab queues with one click or key, without the batch dialog that
# shows the job count first, so it requests confirmation before queueing more jobs than this.
CONFIRM_JOBS = 100

# Final statuses of jobs that did not succeed: what "Run failed jobs again" queues.
NOT_SUCCEEDED = (JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.PARTIAL, JobStatus.LOST)


class HistoryRerunAction(StrEnum):
    """An action on a batch or job of the History tab."""

    RUN_AGAIN = "run_again"  # every job (or the one job) with the same prompts and seeds
    RUN_FAILED = "run_failed"  # the batch's jobs that ended without succeeding
    EDIT = "edit"  # the batch dialog, filled with the batch's workflow and plan


@dataclass(frozen=True)
class HistoryRerunRequest:
    """A request to run a batch, or one job of it (``job_id``), again. ``job_count`` is the
    number of jobs the action queues, as the History tab counted them."""

    action: HistoryRerunAction
    batch_id: int
    batch_name: str
    job_count: int
    job_id: int | None = None


class RebuildError(ValueError):
    """A batch whose jobs cannot be rebuilt; the message names the batch and what to do."""


@dataclass(frozen=True)
class RebuiltBatch:
    """The stored batch and the jobs to queue again, each with its decoded graph and
    parameters. ``workflow`` is the first job's graph under the batch's workflow name.
    ``encoded`` is each graph in the form the queue stores. It is worked out on the worker
    thread too, because for thousands of jobs it takes long enough to stall the window."""

    batch: Batch
    workflow: LoadedWorkflow
    jobs: tuple[StoredJob, ...]
    graphs: tuple[Graph, ...]
    parameters: tuple[dict[str, Any], ...]
    encoded: tuple[EncodedGraph, ...]

    def planned(self, report: PreflightReport) -> PlannedBatch:
        """Return the jobs as a planned batch for Engine.queue_planned, unchanged."""
        specs = [
            JobSpec(index, job.seed, graph, parameters)
            for index, (job, graph, parameters) in enumerate(
                zip(self.jobs, self.graphs, self.parameters, strict=True)
            )
        ]
        return PlannedBatch(
            specs=specs,
            graphs=list(self.graphs),
            parameters=[dict(values) for values in self.parameters],
            report=report,
            encoded=list(self.encoded),
        )


def request_for(
    action: HistoryRerunAction, batch: BatchSummary, job_id: int | None = None
) -> HistoryRerunRequest:
    """Return the request for ``action`` on ``batch``, or on its job ``job_id``."""
    if job_id is not None:
        count = 1
    elif action is HistoryRerunAction.RUN_FAILED:
        count = failed_count(batch)
    else:
        count = batch.counts.total
    return HistoryRerunRequest(action, batch.id, batch.name, count, job_id)


def failed_count(batch: BatchSummary) -> int:
    """Return how many jobs of ``batch`` ended without succeeding."""
    counts = batch.counts
    return counts.failed + counts.cancelled + counts.other


def rebuild_batch(database: Path, request: HistoryRerunRequest) -> RebuiltBatch:
    """Read the batch of ``request`` and the jobs it runs again from ``database`` through a
    connection of its own, so it can run on a worker thread. Raises RebuildError when the
    batch is gone, has no such jobs, or a job's stored prompt is not a valid graph."""
    try:
        store = Store.open(database)
    except StoreError as exc:
        raise RebuildError(str(exc)) from exc
    try:
        try:
            batch = store.get_batch(request.batch_id)
        except KeyError:
            raise RebuildError(
                QCoreApplication.translate(
                    "HistoryRerun",
                    "Batch '{name}' is no longer in the history, so it cannot be run again.",
                ).format(name=request.batch_name)
            ) from None
        history = History(store.connection)
        if request.job_id is not None:
            jobs = history.stored_jobs(batch.id, job_ids=[request.job_id])
        elif request.action is HistoryRerunAction.RUN_FAILED:
            jobs = history.stored_jobs(batch.id, statuses=NOT_SUCCEEDED)
        else:
            jobs = history.stored_jobs(batch.id)
    finally:
        store.close()

    if not jobs:
        raise RebuildError(_no_jobs_text(batch, request))
    graphs: list[Graph] = []
    parameters: list[dict[str, Any]] = []
    for job in jobs:
        graphs.append(_decode_prompt(batch, job))
        parameters.append(_decode_parameters(job))

    workflow = LoadedWorkflow(
        path=Path(batch.workflow_path),
        name=batch.workflow_name,
        graph=graphs[0],
        source_format="api",
    )
    encoded = tuple(encode_graph(graph) for graph in graphs)
    return RebuiltBatch(batch, workflow, tuple(jobs), tuple(graphs), tuple(parameters), encoded)


def edit_inputs(rebuilt: RebuiltBatch) -> BatchInputs:
    """Return the batch settings that make the rebuilt jobs again from the first job's graph.

    The seeds are the jobs' own where the settings can express them. A random batch with
    several prompts or grid cells drew new seeds for each, so it gets random seeds again.
    """
    # NOTE: CSV rows and input image folders are not read back, because the parameters do
    # not tell a CSV column from a fixed value. Their first job's values stay in the graph.
    x_key, x_values, y_key, y_values = _grid_axes(rebuilt.parameters)
    prompts = _distinct(values.get("prompt") for values in rebuilt.parameters)
    prompt_list = len(prompts) > 1 and "prompt" not in (x_key, y_key)
    return dataclasses.replace(
        _seed_inputs([job.seed for job in rebuilt.jobs], _first_cell_size(rebuilt.parameters)),
        prompts_text="\n".join(str(prompt) for prompt in prompts) if prompt_list else "",
        x_key=x_key,
        x_values=x_values,
        y_key=y_key,
        y_values=y_values,
    )


# Helpers ----------------------------------------------------------------------------------


def _no_jobs_text(batch: Batch, request: HistoryRerunRequest) -> str:
    if request.job_id is not None:
        return QCoreApplication.translate(
            "HistoryRerun",
            "Job {job} of batch '{name}' is no longer in the history, so it cannot be run again.",
        ).format(job=request.job_id, name=batch.name)
    if request.action is HistoryRerunAction.RUN_FAILED:
        return QCoreApplication.translate(
            "HistoryRerun",
            "Batch '{name}' has no failed, cancelled, partial or lost jobs. Nothing was queued.",
        ).format(name=batch.name)
    return QCoreApplication.translate(
        "HistoryRerun", "Batch '{name}' has no jobs. Nothing was queued."
    ).format(name=batch.name)


def _decode_prompt(batch: Batch, job: StoredJob) -> Graph:
    try:
        return validate_graph(json.loads(job.prompt_json))
    except GraphError as exc:
        reason = exc.message
    except ValueError as exc:
        reason = str(exc)
    raise RebuildError(
        QCoreApplication.translate(
            "HistoryRerun",
            "Batch '{name}' cannot be run again: job {job} has no valid stored workflow "
            "({reason}). Records from older versions of Cmfy Desk may lack it. Nothing was "
            "queued. Load the workflow file {path} and queue it from the batch dialog instead.",
        ).format(name=batch.name, job=job.id, reason=reason, path=batch.workflow_path)
    )


def _decode_parameters(job: StoredJob) -> dict[str, Any]:
    # Parameters only label the outputs and name the input image to upload, so a job
    # recorded without them still runs again.
    try:
        values = json.loads(job.parameters_json) if job.parameters_json else {}
    except ValueError:
        return {}
    return values if isinstance(values, dict) else {}


def _first_cell_size(parameters: Sequence[dict[str, Any]]) -> int:
    """Return how many leading jobs share every parameter but the seed. plan_jobs() makes
    the seeds innermost, so that is the number of seeds per prompt, CSV row and grid cell."""

    def without_seed(values: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in values.items() if key != "seed"}

    first = without_seed(parameters[0])
    size = 1
    while size < len(parameters) and without_seed(parameters[size]) == first:
        size += 1
    return size


def _seed_inputs(seeds: Sequence[int | None], cell: int) -> BatchInputs:
    """Return the count and seed settings that give each cell the seeds of ``seeds``."""
    first_cell = seeds[:cell]
    if any(seed is None for seed in first_cell):
        # The graph has no seed input, so the jobs are copies.
        return BatchInputs(count=cell, seed_mode=SeedMode.FIXED)
    if all(seed == seeds[0] for seed in seeds):
        return BatchInputs(count=cell, seed_mode=SeedMode.FIXED, first_seed=str(seeds[0]))
    if _increments(seeds):
        return BatchInputs(count=cell, seed_mode=SeedMode.INCREMENT, first_seed=str(seeds[0]))
    if all(seeds[start : start + cell] == first_cell for start in range(0, len(seeds), cell)):
        listed = ", ".join(str(seed) for seed in first_cell)
        return BatchInputs(count=cell, seed_mode=SeedMode.LIST, seed_list=listed)
    return BatchInputs(count=cell, seed_mode=SeedMode.RANDOM)


def _increments(seeds: Sequence[int | None]) -> bool:
    return all(
        isinstance(seed, int) and isinstance(previous, int) and seed == (previous + 1) % SEED_LIMIT
        for previous, seed in itertools.pairwise(seeds)
    )


def _distinct(values: Any) -> list[Any]:
    found: list[Any] = []
    for value in values:
        if value is not None and value not in found:
            found.append(value)
    return found


def _grid_axes(parameters: Sequence[dict[str, Any]]) -> tuple[str, str, str, str]:
    """Return the x key, x values, y key and y values of an XY grid recorded in the jobs'
    GRID_PARAMETER. The values of an axis form one CSV line. Without a grid, all four are
    empty strings."""
    cells: list[dict[str, Any]] = []
    for job_values in parameters:
        cell = job_values.get(GRID_PARAMETER)
        if not isinstance(cell, dict):
            return "", "", "", ""
        cells.append(cell)
    axes: list[str] = []
    for axis in ("x", "y"):
        title = str(cells[0].get(f"{axis}_title") or "")
        labels: dict[int, str] = {}
        for cell in cells:
            position = cell.get(axis)
            if isinstance(position, int):
                labels.setdefault(position, str(cell.get(f"{axis}_label", "")))
        labels_in_order = [labels[position] for position in sorted(labels)]
        axes += [title, _csv_line(labels_in_order) if title else ""]
    return axes[0], axes[1], axes[2], axes[3]


def _csv_line(values: Sequence[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(values)
    return buffer.getvalue()
