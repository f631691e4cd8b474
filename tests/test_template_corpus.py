"""Every workflow template ComfyUI ships, converted with the bundled node definitions.

The templates come from the ``comfyui-workflow-templates-json`` package (editor format, many
with subgraphs). Each one must either convert to a graph that passes validate_graph, with every
class in the definitions, or fail with a ConversionError that gives a reason and, unless the
problem is the workflow as a whole, the node at fault. Most failures are node classes newer than
the bundled ComfyUI 0.8.0 definitions.

``tests/data/template_conversions.json`` records the outcome per template. The test fails when
fewer templates convert than recorded, so the number can only go up. To record a new outcome
after an improvement, run the test with CMFY_RECORD_TEMPLATE_CONVERSIONS=1 and commit the file.
"""

from __future__ import annotations

import json
import os
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

from cmfy_desk.workflows.convert import ConversionError, editor_to_api, is_editor_workflow
from cmfy_desk.workflows.definitions import NodeDefinitions
from cmfy_desk.workflows.graph import validate_graph

RECORD = Path(__file__).parent / "data" / "template_conversions.json"
RECORD_ENV = "CMFY_RECORD_TEMPLATE_CONVERSIONS"
NOT_WORKFLOWS = {"index_logo.json", "fuse_options.json"}

# Problems of the whole workflow, which no single node causes.
WORKFLOW_LEVEL_REASONS = ("The workflow has no node that saves", "The workflow has nothing to run")


def template_files() -> list[Path]:
    pytest.importorskip("comfyui_workflow_templates_json")
    folder = Path(str(files("comfyui_workflow_templates_json").joinpath("templates")))
    return [
        path
        for path in sorted(folder.glob("*.json"))
        if not path.name.startswith("index") and path.name not in NOT_WORKFLOWS
    ]


def convert_all(definitions: NodeDefinitions) -> dict[str, Any]:
    outcomes: dict[str, str] = {}
    bad_errors: list[str] = []
    unknown_classes: list[str] = []
    with_subgraphs = 0
    for path in template_files():
        data = json.loads(path.read_text(encoding="utf-8"))
        assert is_editor_workflow(data), path.name
        if data.get("definitions", {}).get("subgraphs"):
            with_subgraphs += 1
        try:
            graph = editor_to_api(data, definitions)
        except ConversionError as error:
            outcomes[path.name] = str(error)
            names_node = error.node_id is not None or error.reason.startswith(
                WORKFLOW_LEVEL_REASONS
            )
            if not error.reason or not names_node:
                bad_errors.append(f"{path.name}: {error}")
            continue
        validate_graph(graph)
        unknown_classes.extend(
            f"{path.name}: {node['class_type']}"
            for node in graph.values()
            if node["class_type"] not in definitions
        )
        outcomes[path.name] = "ok"
    return {
        "templates": len(outcomes),
        "with_subgraphs": with_subgraphs,
        "converted": sum(1 for outcome in outcomes.values() if outcome == "ok"),
        "outcomes": outcomes,
        "bad_errors": bad_errors,
        "unknown_classes": unknown_classes,
    }


@pytest.fixture(scope="module")
def corpus() -> dict[str, Any]:
    return convert_all(NodeDefinitions.bundled())


@pytest.fixture(scope="module")
def recorded(corpus: dict[str, Any]) -> dict[str, Any]:
    if os.environ.get(RECORD_ENV):
        record = {key: corpus[key] for key in ("templates", "with_subgraphs", "converted")}
        record["outcomes"] = corpus["outcomes"]
        RECORD.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", "utf-8")
    result: dict[str, Any] = json.loads(RECORD.read_text(encoding="utf-8"))
    return result


def test_templates_found(corpus: dict[str, Any], recorded: dict[str, Any]) -> None:
    assert corpus["templates"] >= recorded["templates"]


def test_subgraph_templates_included(corpus: dict[str, Any], recorded: dict[str, Any]) -> None:
    assert corpus["with_subgraphs"] >= recorded["with_subgraphs"]


def test_conversions_not_fewer(corpus: dict[str, Any], recorded: dict[str, Any]) -> None:
    converted = corpus["converted"]
    print(f"\n{converted} of {corpus['templates']} templates convert")
    regressed = [
        name
        for name, outcome in recorded["outcomes"].items()
        if outcome == "ok" and corpus["outcomes"].get(name) != "ok"
    ]
    assert converted >= recorded["converted"], (
        f"{converted} of {corpus['templates']} templates convert, "
        f"{recorded['converted']} recorded; no longer converting: {regressed}"
    )


def test_failures_name_node_and_reason(corpus: dict[str, Any]) -> None:
    assert corpus["bad_errors"] == []


def test_converted_classes_defined(corpus: dict[str, Any]) -> None:
    assert corpus["unknown_classes"] == []
