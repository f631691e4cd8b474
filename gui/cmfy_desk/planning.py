"""Turning a loaded workflow and a batch plan into the graphs the queue stores.

Every check here runs before anything reaches the queue or the network: the pre-flight check
of the workflow, the expansion of the plan, and the replacement of local model file names by
the model library's URLs (cmfy.cloud names models by URL, and its node cache matches URLs
exactly).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from cmfy_desk.paths import resource_path
from cmfy_desk.scheduler.ordering import model_key
from cmfy_desk.store.model_library import ModelLibrary, TemplateModel
from cmfy_desk.workflows.batch import JobSpec
from cmfy_desk.workflows.definitions import NodeDefinitions
from cmfy_desk.workflows.expansion import BatchPlan, check_uploads, grid_labels, plan_jobs
from cmfy_desk.workflows.formats import LoadedWorkflow
from cmfy_desk.workflows.graph import Graph, graph_hash, model_urls
from cmfy_desk.workflows.model_urls import canonical_form, model_inputs, parse_model_reference
from cmfy_desk.workflows.parameters import apply_values
from cmfy_desk.workflows.preflight import PreflightReport, check_graph, localize_for_cloud

log = logging.getLogger(__name__)

TEMPLATE_MODELS_FILE = "template-models.json"
# The key under which a job of an XY grid records its cell and the axes' labels.
GRID_PARAMETER = "_grid"


class PlanningError(ValueError):
    """A batch that cannot be queued; the message names the workflow and what to change."""

    def __init__(self, message: str, report: PreflightReport | None = None) -> None:
        super().__init__(message)
        self.report = report


@dataclass(frozen=True)
class PlannedBatch:
    specs: list[JobSpec]
    graphs: list[Graph]
    parameters: list[dict[str, Any]]
    report: PreflightReport
    replaced_models: dict[str, str] = field(default_factory=dict)
    # What the queue stores for each graph, worked out here because planning runs off the UI
    # thread and storing a batch does not: the prompt's JSON text, its hash and its model key.
    # Empty when the batch was planned elsewhere; the queue then works them out itself.
    encoded: list[EncodedGraph] = field(default_factory=list)


@dataclass(frozen=True)
class EncodedGraph:
    prompt_json: str
    prompt_hash: str
    model_key: str


def encode_graph(graph: Graph) -> EncodedGraph:
    """Return the stored form of one job's graph."""
    return EncodedGraph(json.dumps(graph), graph_hash(graph), model_key(model_urls(graph)))


@cache
def bundled_template_models() -> tuple[TemplateModel, ...]:
    """Return the model downloads listed by ComfyUI's workflow templates, shipped with the app."""
    try:
        document = json.loads(resource_path(TEMPLATE_MODELS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("Cannot read the bundled template models: %s", exc)
        return ()
    return tuple(
        TemplateModel(str(entry["name"]), str(entry["url"]), str(entry.get("folder", "")))
        for entry in document.get("models", [])
        if isinstance(entry, dict) and entry.get("name") and entry.get("url")
    )


def seed_model_library(library: ModelLibrary) -> int:
    """Fill an empty model library from the bundled template list; return entries added.

    For a file name listed under several URLs, the library takes the first one added, so the
    URL most templates use for that file goes in first. URLs are stored in their canonical
    form (no download=true and similar extras), the form the pre-flight check recommends.
    """
    if library.is_seeded():
        return 0
    models = [
        TemplateModel(model.name, canonical_form(model.url), model.folder)
        for model in bundled_template_models()
    ]
    uses = Counter((model.name, model.url) for model in models)
    models.sort(key=lambda model: -uses[(model.name, model.url)])
    return library.seed(models)


def plan_batch(
    workflow: LoadedWorkflow,
    plan: BatchPlan,
    definitions: NodeDefinitions,
    library: Mapping[str, str],
    *,
    for_cloud: bool = True,
) -> PlannedBatch:
    """Check ``workflow``, expand ``plan`` and localize model names; raise PlanningError.

    The check runs on the graph with the plan's fixed values applied, so a model URL typed in
    for a local file name counts.
    """
    try:
        checked = apply_values(workflow.graph, dict(plan.values), definitions)
    except ValueError as exc:
        raise PlanningError(f"{workflow.path.name}: {exc}") from exc
    report = check_graph(checked, definitions, library, for_cloud=for_cloud)
    if report.errors:
        details = "; ".join(finding.message for finding in report.errors)
        raise PlanningError(f"{workflow.path.name}: {details}", report)
    try:
        check_uploads(plan, accepts_uploads=not for_cloud)
        specs = plan_jobs(workflow.graph, plan, definitions)
    except ValueError as exc:
        raise PlanningError(f"{workflow.path.name}: {exc}", report) from exc

    labels = grid_labels(plan)
    graphs: list[Graph] = []
    parameters: list[dict[str, Any]] = []
    replaced: dict[str, str] = {}
    for spec in specs:
        graph = spec.graph
        if for_cloud:
            graph, missing = localize_for_cloud(graph, library)
            if missing:
                raise PlanningError(
                    f"{workflow.path.name}: the model files {', '.join(missing)} have no URL in "
                    "the model library, and cmfy.cloud names models by URL. Add their download "
                    "URLs to the model library, or write the URLs into the workflow.",
                    report,
                )
            for name in _model_names(spec.graph):
                if name in library:
                    replaced[name] = library[name]
        values = dict(spec.parameters)
        if labels is not None and spec.grid_position is not None:
            x, y = spec.grid_position
            values[GRID_PARAMETER] = {
                "x": x,
                "y": y,
                "x_title": labels.x_title,
                "x_label": labels.x_labels[x],
                "y_title": labels.y_title,
                "y_label": labels.y_labels[y],
            }
        graphs.append(graph)
        parameters.append(values)
    encoded = [encode_graph(graph) for graph in graphs]
    return PlannedBatch(specs, graphs, parameters, report, replaced, encoded)


def _model_names(graph: Graph) -> list[str]:
    return [
        str(value)
        for _node_id, _name, value in model_inputs(graph)
        if isinstance(value, str) and not parse_model_reference(value).is_url
    ]
