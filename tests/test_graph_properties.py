"""Property tests: the format detectors never agree, and link walking ends at real nodes.

The random editor workflows use three node classes defined here: Source (one output), Op (two
optional inputs, one output) and SaveImage. Between any two nodes a link may pass through a
chain of reroutes, and an Op may be muted or bypassed. The expected source of every input is
computed from the model the strategy builds, independently of the converter.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cmfy_desk.workflows.convert import editor_to_api, is_editor_workflow
from cmfy_desk.workflows.definitions import NodeDefinitions
from cmfy_desk.workflows.graph import looks_like_api_graph, validate_graph

# Hypothesis keeps caches in ./.hypothesis unless told otherwise, and pytest, with this
# project's norecursedirs, warns about that folder, which the warning filter makes an error.
os.environ.setdefault(
    "HYPOTHESIS_STORAGE_DIRECTORY", str(Path(tempfile.gettempdir()) / "cmfy-desk-hypothesis")
)

DEFINITIONS = NodeDefinitions.from_object_info(
    {
        "Source": {"input": {"required": {}}, "output": ["X"]},
        "Op": {
            "input": {"required": {}, "optional": {"a": ["X"], "b": ["X"]}},
            "output": ["X"],
        },
        "SaveImage": {"input": {"optional": {"images": ["X"]}}, "output": [], "output_node": True},
    },
    "property test",
)

MUTED, BYPASSED = 2, 4
SAVE_ID = 999
JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


def api_graphs() -> st.SearchStrategy[dict[str, Any]]:
    node = st.fixed_dictionaries(
        {
            "class_type": st.text(min_size=1, max_size=12),
            "inputs": st.dictionaries(st.text(max_size=8), JSON_SCALARS, max_size=4),
        },
        optional={"_meta": st.fixed_dictionaries({"title": st.text(max_size=10)})},
    )
    return st.dictionaries(st.text(min_size=1, max_size=6), node, min_size=1, max_size=6)


@dataclass
class EditorModel:
    """An editor workflow under construction, and where each real input truly comes from."""

    nodes: list[dict[str, Any]] = field(default_factory=list)
    links: list[list[Any]] = field(default_factory=list)
    modes: dict[int, int] = field(default_factory=dict)
    direct: dict[tuple[int, str], int] = field(default_factory=dict)
    next_link: int = 1
    next_reroute: int = 100

    def connect(self, origin: int, target: int, name: str, slot: int, reroutes: int) -> int:
        """Link ``origin`` to input ``slot`` of ``target`` through ``reroutes`` reroutes."""
        self.direct[(target, name)] = origin
        current = origin
        for _ in range(reroutes):
            reroute = self.next_reroute
            self.next_reroute += 1
            link = self._link(current, reroute, 0)
            self.nodes.append(
                {
                    "id": reroute,
                    "type": "Reroute",
                    "mode": 0,
                    "inputs": [{"name": "", "type": "*", "link": link}],
                    "outputs": [{"name": "", "type": "X", "links": []}],
                }
            )
            current = reroute
        return self._link(current, target, slot)

    def _link(self, origin: int, target: int, slot: int) -> int:
        link = self.next_link
        self.next_link += 1
        self.links.append([link, origin, 0, target, slot, "X"])
        return link

    def expected_source(self, origin: int) -> int | None:
        """Return the node the server reads for a link from ``origin``, None if it is dropped."""
        mode = self.modes.get(origin, 0)
        if mode == MUTED:
            return None
        if mode == BYPASSED:
            # A bypassed Op passes its first input of the same type, 'a', on.
            upstream = self.direct.get((origin, "a"))
            return None if upstream is None else self.expected_source(upstream)
        return origin


@st.composite
def editor_dags(draw: st.DrawFn) -> EditorModel:
    model = EditorModel()
    count = draw(st.integers(min_value=1, max_value=8))
    model.nodes.append(
        {"id": 1, "type": "Source", "mode": 0, "outputs": [{"name": "X", "type": "X"}]}
    )
    chains = st.integers(min_value=0, max_value=3)
    for node_id in range(2, count + 1):
        mode = draw(st.sampled_from([0, 0, 0, MUTED, BYPASSED]))
        model.modes[node_id] = mode
        inputs = []
        for slot, name in enumerate(("a", "b")):
            link = None
            if draw(st.booleans()):
                origin = draw(st.integers(min_value=1, max_value=node_id - 1))
                link = model.connect(origin, node_id, name, slot, draw(chains))
            inputs.append({"name": name, "type": "X", "link": link})
        model.nodes.append(
            {
                "id": node_id,
                "type": "Op",
                "mode": mode,
                "inputs": inputs,
                "outputs": [{"name": "X", "type": "X"}],
            }
        )
    save_link = model.connect(count, SAVE_ID, "images", 0, draw(chains))
    model.nodes.append(
        {
            "id": SAVE_ID,
            "type": "SaveImage",
            "mode": 0,
            "inputs": [{"name": "images", "type": "X", "link": save_link}],
        }
    )
    order = draw(st.permutations(model.nodes))
    model.nodes = list(order)
    return model


def workflow_of(model: EditorModel) -> dict[str, Any]:
    return {"nodes": model.nodes, "links": model.links, "version": 0.4}


@settings(max_examples=150, deadline=None, database=None, derandomize=True)
@given(api_graphs())
def test_api_graph_not_editor(graph: dict[str, Any]) -> None:
    assert looks_like_api_graph(graph)
    assert not is_editor_workflow(graph)


@settings(max_examples=60, deadline=None, database=None, derandomize=True)
@given(editor_dags())
def test_editor_workflow_not_api(model: EditorModel) -> None:
    data = workflow_of(model)
    assert is_editor_workflow(data)
    assert not looks_like_api_graph(data)


@settings(max_examples=150, deadline=None, database=None, derandomize=True)
@given(JSON_VALUES)
def test_detectors_never_both(data: object) -> None:
    if is_editor_workflow(data):
        assert not looks_like_api_graph(data)


@settings(max_examples=120, deadline=None, database=None, derandomize=True)
@given(editor_dags())
def test_links_point_at_existing_nodes(model: EditorModel) -> None:
    graph = editor_to_api(workflow_of(model), DEFINITIONS)
    targets = [
        value[0]
        for node in graph.values()
        for value in node["inputs"].values()
        if isinstance(value, list)
    ]
    assert all(target in graph for target in targets)
    assert validate_graph(graph) is graph


@settings(max_examples=120, deadline=None, database=None, derandomize=True)
@given(editor_dags())
def test_no_reroute_survives(model: EditorModel) -> None:
    graph = editor_to_api(workflow_of(model), DEFINITIONS)
    assert all(node["class_type"] != "Reroute" for node in graph.values())
    assert all(int(node_id) < 100 or int(node_id) == SAVE_ID for node_id in graph)


@settings(max_examples=120, deadline=None, database=None, derandomize=True)
@given(editor_dags())
def test_links_reach_expected_sources(model: EditorModel) -> None:
    graph = editor_to_api(workflow_of(model), DEFINITIONS)
    for (target, name), origin in model.direct.items():
        if str(target) not in graph:
            continue
        source = model.expected_source(origin)
        expected = None if source is None else [str(source), 0]
        assert graph[str(target)]["inputs"].get(name) == expected, (target, name)
