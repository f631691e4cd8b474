"""Planning a batch: the pre-flight check uses the values the plan sets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cmfy_desk.planning import PlanningError, plan_batch
from cmfy_desk.workflows.definitions import NodeDefinitions
from cmfy_desk.workflows.expansion import BatchPlan
from cmfy_desk.workflows.formats import LoadedWorkflow

URL = (
    "https://huggingface.co/org/repo/resolve/0123456789abcdef0123456789abcdef01234567/m.safetensors"
)


def _workflow(bundled: Path) -> LoadedWorkflow:
    graph = json.loads(bundled.read_text())
    loader = next(n for n in graph.values() if n["class_type"] == "CheckpointLoaderSimple")
    loader["inputs"]["ckpt_name"] = "my-private-model.safetensors"
    return LoadedWorkflow(bundled, "local", graph)


def test_local_model_name_without_url_is_refused(bundled_workflow_paths: list[Path]) -> None:
    workflow = _workflow(next(p for p in bundled_workflow_paths if p.stem == "sd15_txt2img"))
    with pytest.raises(PlanningError, match="my-private-model"):
        plan_batch(workflow, BatchPlan(), NodeDefinitions.bundled(), {})


def test_url_set_by_plan_satisfies_check(bundled_workflow_paths: list[Path]) -> None:
    workflow = _workflow(next(p for p in bundled_workflow_paths if p.stem == "sd15_txt2img"))
    loader_id = next(
        node_id
        for node_id, node in workflow.graph.items()
        if node["class_type"] == "CheckpointLoaderSimple"
    )
    plan = BatchPlan(count=2, values={f"{loader_id}.ckpt_name": URL})
    planned = plan_batch(workflow, plan, NodeDefinitions.bundled(), {})
    assert len(planned.graphs) == 2
    assert {graph[loader_id]["inputs"]["ckpt_name"] for graph in planned.graphs} == {URL}
