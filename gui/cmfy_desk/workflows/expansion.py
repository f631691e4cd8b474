"""Expansion of one workflow into a batch: seeds, prompt lists, CSV rows, XY grids, input images.

A BatchPlan combines its parts as a cartesian product, outermost first:

    input images × prompts × CSV rows × grid rows (y) × grid columns (x) × seeds

Every part that is empty counts once. So a prompt list with a CSV makes one job per prompt and
row, each prompt with every row. The seeds are the innermost loop: ``count`` jobs (or one per
listed seed) for each cell.

Seeds stay the same across the cells of an XY grid, so its pictures differ only by the axis
values. Between prompts, CSV rows and input images, ``random`` draws new seeds and
``increment`` keeps counting; ``fixed`` and ``list`` repeat the same seeds everywhere.

Values apply in this order, later ones winning: fixed values, input image, prompt, CSV row,
y axis, x axis. Two parts other than the fixed values that set the same input are rejected,
because one would silently undo the other. A seed set by any part (the "seed" shortcut or a
reference to a seed input) wins over the seed mode for the inputs it sets. An empty CSV cell
leaves the workflow's value unchanged.
"""

from __future__ import annotations

import copy
import itertools
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cmfy_desk.workflows.batch import (
    MAX_BATCH_COUNT,
    JobSpec,
    SeedMode,
    check_seed,
    make_seeds,
)
from cmfy_desk.workflows.definitions import NodeDefinitions
from cmfy_desk.workflows.graph import (
    Graph,
    first_seed,
    image_size,
    is_link,
    sampling_steps,
    seed_inputs,
)
from cmfy_desk.workflows.parameters import (
    Target,
    assign_value,
    find_parameters,
    resolve_key,
)

# The window requests confirmation before queueing more jobs than this.
LARGE_BATCH = 500

# Class of ComfyUI's node that reads a picture from its input folder, and its file input.
LOAD_IMAGE_CLASS = "LoadImage"
LOAD_IMAGE_INPUT = "image"

UPLOADS_UNSUPPORTED_MESSAGE = (
    "cmfy.cloud does not accept uploads yet, so a folder of input images cannot run there. "
    "Run this batch on a ComfyUI server, or put the images' URLs in the workflow instead."
)

# Relative GPU time of one image by its pixel count, as an estimate: 512×512 is 1; cmfy.cloud's
# performance guide gives about 1.5× for 768², 2–3× for 1024² and 6–10× for 2048². Between the
# points the factor is interpolated linearly in pixels; beyond them it is extrapolated.
_COST_POINTS = (
    (512 * 512, 1.0),
    (768 * 768, 1.5),
    (1024 * 1024, 2.5),
    (2048 * 2048, 8.0),
)
# Below 512×512 the fixed cost of loading and decoding stops the time from shrinking further.
_MIN_RESOLUTION_FACTOR = 0.5
_REFERENCE_STEPS = 20


class UploadsNotSupportedError(ValueError):
    """A batch needs files uploaded to a connection that cannot take uploads."""


@dataclass(frozen=True)
class BatchPlan:
    """What to vary in a batch; plan_jobs() turns it into jobs (see the module docstring).

    ``rows`` are CSV rows keyed by their header (references or shortcuts). An axis is
    ``(key, values)``. ``values`` are fixed values set in every job. ``input_images`` are local
    files that ``image_input`` takes in turn. That is a ``NODE.INPUT`` reference, by default
    the ``image`` input of the workflow's only LoadImage node. The files must be uploaded,
    which cmfy.cloud does not accept yet (see check_uploads()).
    """

    count: int = 1
    seed_mode: SeedMode = SeedMode.RANDOM
    base_seed: int | None = None
    seeds: tuple[int, ...] = ()
    prompts: tuple[str, ...] = ()
    rows: tuple[Mapping[str, str], ...] = ()
    x_axis: tuple[str, tuple[str, ...]] | None = None
    y_axis: tuple[str, tuple[str, ...]] | None = None
    values: Mapping[str, Any] = field(default_factory=dict)
    input_images: tuple[Path, ...] = ()
    image_input: str | None = None

    @property
    def needs_uploads(self) -> bool:
        return bool(self.input_images)

    @property
    def seeds_per_cell(self) -> int:
        if SeedMode(self.seed_mode) is SeedMode.LIST:
            return len(self.seeds)
        return self.count


@dataclass(frozen=True)
class BatchEstimate:
    """The size of a batch: its job count, and its GPU time as an estimate in units of one
    512×512 picture made in 20 steps."""

    job_count: int
    relative_cost: float


@dataclass(frozen=True)
class GridLabels:
    """Titles and labels of an XY grid's axes, for outputs.grid.assemble_grid()."""

    x_title: str
    x_labels: list[str]
    y_title: str
    y_labels: list[str]


def count_jobs(plan: BatchPlan) -> int:
    """Return how many jobs plan_jobs() makes from ``plan``, without making them."""
    total = plan.seeds_per_cell
    for part in (plan.input_images, plan.prompts, plan.rows):
        total *= max(1, len(part))
    for axis in (plan.x_axis, plan.y_axis):
        total *= max(1, len(axis[1])) if axis is not None else 1
    return total


def plan_jobs(
    graph: Graph,
    plan: BatchPlan,
    definitions: NodeDefinitions | None = None,
    rng: random.Random | None = None,
) -> list[JobSpec]:
    """Expand ``graph`` into the jobs of ``plan``, each with its own copy of the graph.

    ``rng`` draws random seeds (a SystemRandom when None). Raises ValueError naming the part
    and value at fault: an unknown parameter, a value out of range or of the wrong type (with
    the CSV row and column), two parts that set the same input, or more than 10000 jobs.
    """
    total = count_jobs(plan)
    if total > MAX_BATCH_COUNT:
        raise ValueError(
            f"The batch would make {total} jobs, more than the limit of {MAX_BATCH_COUNT}. "
            "Use fewer values, rows or prompts, or split it into several batches."
        )
    mode = SeedMode(plan.seed_mode)
    if plan.base_seed is not None:
        check_seed(plan.base_seed)

    parameters = find_parameters(graph, definitions)

    def resolve(key: str, where: str) -> list[Target]:
        try:
            return resolve_key(graph, key, definitions, parameters)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None

    base_graph: Graph = copy.deepcopy(graph)
    explicit: set[tuple[str, str]] = set()
    fixed_record: dict[str, Any] = {}
    for key, value in plan.values.items():
        targets = resolve(key, f"Fixed value '{key}'")
        fixed_record[key] = assign_value(base_graph, key, targets, value)
        explicit.update(_pairs(targets))

    owners: dict[tuple[str, str], str] = {}

    def claim(targets: list[Target], where: str) -> None:
        for pair in _pairs(targets):
            if pair in owners and owners[pair] != where:
                raise ValueError(
                    f"{where} and {owners[pair]} both set input '{pair[1]}' of node {pair[0]}. "
                    "Remove one of them."
                )
            owners[pair] = where
            explicit.add(pair)

    image_targets: list[Target] = []
    if plan.input_images:
        image_key = plan.image_input or _default_image_input(graph)
        image_targets = resolve(image_key, "The input image folder")
        claim(image_targets, "the input image folder")
    prompt_targets: list[Target] = []
    if plan.prompts:
        prompt_targets = resolve("prompt", "The prompt list")
        claim(prompt_targets, "the prompt list")
    column_targets: dict[str, list[Target]] = {}
    for column in _columns(plan.rows):
        column_targets[column] = resolve(column, f"CSV column '{column}'")
        claim(column_targets[column], f"CSV column '{column}'")
    axes: list[tuple[str, tuple[str, ...], list[Target]] | None] = []
    for name, plan_axis in (("y", plan.y_axis), ("x", plan.x_axis)):
        if plan_axis is None:
            axes.append(None)
            continue
        key, axis_values = plan_axis
        if not axis_values:
            raise ValueError(f"The {name} axis '{key}' has no values.")
        targets = resolve(key, f"The {name} axis '{key}'")
        claim(targets, f"the {name} axis")
        axes.append((key, tuple(axis_values), targets))
    y_axis, x_axis = axes

    free_seeds = [pair for pair in seed_inputs(graph) if pair not in explicit]
    seeds_vary = bool(free_seeds)

    jobs: list[JobSpec] = []
    groups = itertools.product(
        plan.input_images or (None,),
        plan.prompts or (None,),
        enumerate(plan.rows) if plan.rows else [(None, None)],
    )
    for group_index, (image, prompt, (row_index, row)) in enumerate(groups):
        group_graph = copy.deepcopy(base_graph)
        record: dict[str, Any] = dict(fixed_record)
        uploads: dict[str, Path] = {}
        if image is not None:
            # The job names the file as it will be uploaded; the app uploads it first.
            _assign(group_graph, "image", image_targets, image.name, f"Input image '{image}'")
            uploads[image_targets[0].parameter.key] = image
            record["image"] = str(image)
        if prompt is not None:
            record["prompt"] = _assign(
                group_graph, "prompt", prompt_targets, prompt, f"Prompt '{prompt}'"
            )
        if row is not None and row_index is not None:
            for column, value in row.items():
                if value is None or not str(value).strip():
                    continue
                where = f"CSV row {row_index + 1}, column '{column}'"
                record[column] = _assign(group_graph, column, column_targets[column], value, where)

        # Seeds are drawn once per group, so the grid cells below share them.
        seeds = make_seeds(
            graph,
            plan.count,
            mode,
            plan.base_seed,
            rng,
            plan.seeds,
            offset=group_index * plan.seeds_per_cell,
        )

        y_values: Sequence[tuple[int, Any]] = (
            list(enumerate(y_axis[1])) if y_axis is not None else [(0, None)]
        )
        x_values: Sequence[tuple[int, Any]] = (
            list(enumerate(x_axis[1])) if x_axis is not None else [(0, None)]
        )
        for (y_index, y_value), (x_index, x_value) in itertools.product(y_values, x_values):
            cell_graph = group_graph
            cell_record = dict(record)
            for axis_name, axis, value in (("y", y_axis, y_value), ("x", x_axis, x_value)):
                if axis is None:
                    continue
                key, _values, targets = axis
                cell_graph = copy.deepcopy(cell_graph)
                where = f"The {axis_name} axis value '{value}'"
                cell_record[key] = _assign(cell_graph, key, targets, value, where)
            position = (x_index, y_index) if x_axis is not None or y_axis is not None else None
            for seed in seeds:
                job_graph = copy.deepcopy(cell_graph)
                for node_id, name in free_seeds:
                    job_graph[node_id]["inputs"][name] = seed
                job_seed = seed if seeds_vary else first_seed(job_graph)
                parameters_of_job = dict(cell_record)
                if job_seed is not None:
                    parameters_of_job["seed"] = job_seed
                jobs.append(
                    JobSpec(
                        index=len(jobs),
                        seed=job_seed,
                        graph=job_graph,
                        parameters=parameters_of_job,
                        grid_position=position,
                        uploads=dict(uploads),
                    )
                )
    return jobs


def grid_labels(plan: BatchPlan) -> GridLabels | None:
    """Return the axis titles and labels of the plan's XY grid, or None without one."""
    if plan.x_axis is None and plan.y_axis is None:
        return None
    x_title, x_labels = plan.x_axis if plan.x_axis is not None else ("", ("",))
    y_title, y_labels = plan.y_axis if plan.y_axis is not None else ("", ("",))
    return GridLabels(x_title, list(x_labels), y_title, list(y_labels))


def check_uploads(plan: BatchPlan, accepts_uploads: bool) -> None:
    """Raise UploadsNotSupportedError when ``plan`` needs uploads that the connection cannot
    take; the app calls it with ``accepts_uploads=False`` for cmfy.cloud."""
    if plan.needs_uploads and not accepts_uploads:
        raise UploadsNotSupportedError(UPLOADS_UNSUPPORTED_MESSAGE)


def job_cost(graph: Graph) -> float:
    """Return the estimated GPU time of one job in units of one 512×512 picture in 20 steps.

    The estimate scales with the resolution (see _COST_POINTS), the total sampling steps over
    all samplers (20 when there is no sampler) and the batch size of the empty latent image.
    """
    size = image_size(graph)
    steps = sampling_steps(graph) or _REFERENCE_STEPS
    return resolution_factor(size.width * size.height) * steps / _REFERENCE_STEPS * size.batch_size


def resolution_factor(pixels: int) -> float:
    """Return the estimated time of one picture of ``pixels`` relative to 512×512."""
    points = _COST_POINTS
    if pixels <= points[0][0]:
        return max(_MIN_RESOLUTION_FACTOR, pixels / points[0][0])
    for (low_pixels, low_factor), (high_pixels, high_factor) in itertools.pairwise(points):
        if pixels <= high_pixels:
            fraction = (pixels - low_pixels) / (high_pixels - low_pixels)
            return low_factor + fraction * (high_factor - low_factor)
    (low_pixels, low_factor), (high_pixels, high_factor) = points[-2], points[-1]
    slope = (high_factor - low_factor) / (high_pixels - low_pixels)
    return high_factor + (pixels - high_pixels) * slope


def estimate(jobs: Iterable[JobSpec | Graph]) -> BatchEstimate:
    """Return the job count and estimated relative GPU time of a batch (see job_cost())."""
    count = 0
    cost = 0.0
    for job in jobs:
        graph = job.graph if isinstance(job, JobSpec) else job
        count += 1
        cost += job_cost(graph)
    return BatchEstimate(job_count=count, relative_cost=cost)


def _assign(graph: Graph, key: str, targets: list[Target], value: Any, where: str) -> Any:
    try:
        return assign_value(graph, key, targets, value)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def _pairs(targets: list[Target]) -> set[tuple[str, str]]:
    return {(target.parameter.node_id, target.parameter.input_name) for target in targets}


def _columns(rows: Sequence[Mapping[str, str]]) -> list[str]:
    columns: list[str] = []
    for row in rows:
        for column in row:
            if column not in columns:
                columns.append(column)
    return columns


def _default_image_input(graph: Graph) -> str:
    loaders = [
        node_id
        for node_id, node in graph.items()
        if node.get("class_type") == LOAD_IMAGE_CLASS
        and not is_link(node.get("inputs", {}).get(LOAD_IMAGE_INPUT))
    ]
    if len(loaders) == 1:
        return f"{loaders[0]}.{LOAD_IMAGE_INPUT}"
    if not loaders:
        raise ValueError(
            "The workflow has no LoadImage node to take the input images. Add one, or name "
            "the input to fill as NODE.INPUT."
        )
    raise ValueError(
        f"The workflow has several LoadImage nodes ({', '.join(loaders)}). Name the one that "
        f"takes the input images, for example '{loaders[0]}.{LOAD_IMAGE_INPUT}'."
    )
