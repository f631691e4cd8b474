"""Conversion of editor-format workflows to the API format ComfyUI runs.

The result matches what ComfyUI's editor sends when it queues a workflow, which is also what
its Export (API) saves (graphToPrompt in its frontend). Widget values are keyed by input name,
muted nodes are left out, bypassed nodes are wired through, reroutes and primitives resolved,
and subgraphs flattened into ids such as ``"58:3"``.

Why not a library: comfyui-autoflow 1.5.0 (MIT, no dependencies, versions 1.2.0 to 1.5.0 built
between February and March 2026) was measured on the 644 workflow templates of
comfyui-workflow-templates-json 0.1.123 with ComfyUI 0.8.0's /object_info. It returned a graph
for 619 (and nothing for all 644 unless called with ``use_api=True``), but only 235 of those
graphs had every link pointing at a node in the graph: it drops bypassed nodes instead of wiring
them through and silently skips unknown node classes. It also set combo values it could not find
in /object_info (every model name in the bundled definitions) to null and wrote no ``_meta``
titles.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from cmfy_desk.workflows.definitions import NodeDefinition, NodeDefinitions
from cmfy_desk.workflows.editor import (
    FRONTEND_ONLY_NODE_TYPES,
    MODE_BYPASS,
    MODE_NEVER,
    ConversionError,
    EditorNode,
    Scope,
    node_id,
    node_inputs,
    node_mode,
    node_type,
    parse_subgraphs,
    root_scope,
)
from cmfy_desk.workflows.graph import OUTPUT_NODE_CLASSES, Graph, GraphError, validate_graph
from cmfy_desk.workflows.resolve import LinkResolver, Source, Unresolved, Value

__all__ = [
    "FRONTEND_ONLY_NODE_TYPES",
    "ConversionError",
    "editor_to_api",
    "is_editor_workflow",
]

logger = logging.getLogger(__name__)

# The editor names the types of group nodes (the grouping feature that subgraphs replaced)
# "workflow>Name"; versions before 1.3 of the frontend used "workflow/Name".
GROUP_NODE_PREFIXES = ("workflow>", "workflow/")

_EDITOR_FILLED_SOURCES = {
    "WEBCAM": "a camera capture",
    "AUDIO_RECORD": "a microphone recording",
    "LOAD_3D": "a render of the 3D viewport",
}


def is_editor_workflow(data: object) -> bool:
    """Return whether ``data`` is an editor-format workflow rather than an API-format graph.

    True for an object whose ``nodes`` and ``links`` are lists, or whose ``nodes`` is a
    non-empty list of editor nodes (objects with ``id`` and ``type``) and that has no ``links``.
    """
    if not isinstance(data, dict):
        return False
    nodes = data.get("nodes")
    if not isinstance(nodes, list):
        return False
    links = data.get("links")
    if isinstance(links, list):
        return True
    if links is not None:
        return False
    return bool(nodes) and all(
        isinstance(node, dict) and "id" in node and isinstance(node.get("type"), str)
        for node in nodes
    )


def editor_to_api(workflow: dict[str, Any], definitions: NodeDefinitions) -> Graph:
    """Convert an editor-format workflow to an API-format graph that passes validate_graph.

    Raises ConversionError, naming the node when one is at fault. The causes are an unknown node
    class, a group node, a widget that the editor fills in at queue time, widget values that do
    not match the definitions, a required input that muting or bypassing leaves without a
    source, links that loop, and a result that validate_graph rejects (no image output node).
    """
    if not is_editor_workflow(workflow):
        raise ConversionError(
            "This is not an editor-format workflow: expected an object with a list of nodes."
        )
    converter = _Converter(workflow, definitions)
    try:
        graph = converter.convert()
    except RecursionError as exc:
        raise ConversionError(
            "The workflow nests subgraphs or chains reroutes too deeply to convert."
        ) from exc
    return _validated(graph, definitions)


@dataclass(frozen=True, slots=True)
class _DroppedInput:
    node_id: str
    class_type: str
    name: str
    reason: str


class _Converter:
    """Builds the API graph of one workflow; keeps what was left out for the final checks."""

    def __init__(self, workflow: dict[str, Any], definitions: NodeDefinitions) -> None:
        self.workflow = workflow
        self.definitions = definitions
        self.subgraphs = parse_subgraphs(workflow)
        self.resolver = LinkResolver(definitions, self.subgraphs)
        self.output: Graph = {}
        self.muted: set[str] = set()
        self.dropped: list[_DroppedInput] = []

    def convert(self) -> Graph:
        self._emit_scope(root_scope(self.workflow))
        self._remove_links_to_missing_nodes()
        self._check_dropped_inputs()
        return self.output

    # Emission: one API node per editor node that the server runs.

    def _emit_scope(self, scope: Scope) -> None:
        for node in scope.nodes:
            kind = node_type(node)
            mode = node_mode(node)
            execution_id = scope.execution_id(node_id(node))
            if mode == MODE_NEVER:
                self.muted.add(execution_id)
                continue
            if mode == MODE_BYPASS:
                continue
            definition = self.subgraphs.get(kind)
            if definition is not None:
                self._emit_scope(self.resolver.child_scope(scope, node, definition))
            elif not self.resolver.is_frontend_only(kind):
                self._emit_node(scope, node, execution_id)

    def _emit_node(self, scope: Scope, node: EditorNode, execution_id: str) -> None:
        kind = node_type(node)
        definition = self.definitions.get(kind)
        if definition is None:
            raise self._unknown_type_error(kind, execution_id)
        self._check_editor_filled(definition, node, execution_id)
        inputs = {
            name: _api_value(value)
            for name, value in self.resolver.widget_values(scope, node, definition).items()
        }
        for slot, entry in enumerate(node_inputs(node)):
            name = entry.get("name")
            if not isinstance(name, str) or not name or entry.get("link") is None:
                continue
            result = self.resolver.resolve_input(scope, node, slot, set())
            if isinstance(result, Source):
                inputs[name] = [result.node_id, result.slot]
            elif isinstance(result, Value):
                inputs[name] = _api_value(result.value)
            elif isinstance(result, Unresolved) and name not in inputs:
                self.dropped.append(_DroppedInput(execution_id, kind, name, result.reason))

        title = node.get("title")
        self.output[execution_id] = {
            "inputs": inputs,
            "class_type": kind,
            "_meta": {
                "title": title if isinstance(title, str) and title else definition.display_name
            },
        }

    def _check_editor_filled(
        self, definition: NodeDefinition, node: EditorNode, execution_id: str
    ) -> None:
        linked = {entry.get("name") for entry in node_inputs(node) if entry.get("link") is not None}
        for spec in definition.widget_inputs():
            if spec.filled_by_editor and spec.name not in linked:
                source = _EDITOR_FILLED_SOURCES.get(str(spec.type), "a value made in the browser")
                raise ConversionError(
                    f"its input '{spec.name}' is filled in by the ComfyUI editor when it queues "
                    f"the workflow ({source}), which a conversion outside the editor cannot do. "
                    "Queue this workflow from ComfyUI, or export it there with Export (API).",
                    node_id=execution_id,
                    class_type=definition.class_type,
                )

    def _unknown_type_error(self, kind: str, execution_id: str) -> ConversionError:
        if kind.startswith(GROUP_NODE_PREFIXES):
            return ConversionError(
                "it is a group node (the grouping feature that subgraphs replaced), which "
                "cannot be converted. In ComfyUI, convert it to nodes or to a subgraph, then "
                "save the workflow again.",
                node_id=execution_id,
                class_type=kind,
            )
        if not kind:
            return ConversionError("the node has no type.", node_id=execution_id)
        return ConversionError(
            f"the node type '{kind}' is not in the node definitions ({self.definitions.source}). "
            "Load the node definitions of the server that will run the workflow, or install "
            f"the custom node that provides '{kind}' on that server.",
            node_id=execution_id,
            class_type=kind,
        )

    # Clean-up, as the editor does it, and the check the server would make.

    def _remove_links_to_missing_nodes(self) -> None:
        for execution_id, api_node in self.output.items():
            inputs = api_node["inputs"]
            for name, value in list(inputs.items()):
                if not isinstance(value, list) or value[0] in self.output:
                    continue
                del inputs[name]
                state = "muted" if value[0] in self.muted else "not in the converted workflow"
                self.dropped.append(
                    _DroppedInput(
                        execution_id,
                        api_node["class_type"],
                        name,
                        f"comes from node {value[0]}, which is {state}",
                    )
                )

    def _check_dropped_inputs(self) -> None:
        """Raise for a required input left without a source on a node that feeds an output.

        The editor drops such inputs silently and the server then rejects the whole prompt, but
        only if the node feeds an output node: the server never looks at other nodes.
        """
        if not self.dropped:
            return
        needed = _upstream_of_outputs(self.output, self.definitions)
        for dropped in self.dropped:
            if dropped.node_id not in needed:
                continue
            definition = self.definitions.get(dropped.class_type)
            spec = definition.input(dropped.name) if definition is not None else None
            if spec is None or not spec.required:
                logger.debug(
                    "Dropped optional input %s of node %s: %s",
                    dropped.name,
                    dropped.node_id,
                    dropped.reason,
                )
                continue
            raise ConversionError(
                f"its required input '{dropped.name}' {dropped.reason}, so the server would "
                "reject the workflow. Connect the input, or unmute or remove the node it comes "
                "from, in ComfyUI and save the workflow again.",
                node_id=dropped.node_id,
                class_type=dropped.class_type,
            )


def _api_value(value: Any) -> Any:
    # A list would read as a link [node_id, slot], so the editor wraps list values and the
    # server unwraps them.
    return {"__value__": value} if isinstance(value, list) else value


def _upstream_of_outputs(graph: Graph, definitions: NodeDefinitions) -> set[str]:
    pending = [
        node_id for node_id, node in graph.items() if definitions.is_output_node(node["class_type"])
    ]
    seen = set(pending)
    while pending:
        current = graph[pending.pop()]
        for value in current["inputs"].values():
            if isinstance(value, list) and value[0] in graph and value[0] not in seen:
                seen.add(value[0])
                pending.append(value[0])
    return seen


def _validated(graph: Graph, definitions: NodeDefinitions) -> Graph:
    if not graph:
        raise ConversionError(
            "The workflow has nothing to run: every node is muted, bypassed or editor-only."
        )
    if not any(node["class_type"] in OUTPUT_NODE_CLASSES for node in graph.values()):
        others = [
            f"{node['class_type']} (node {node_id})"
            for node_id, node in graph.items()
            if definitions.is_output_node(node["class_type"])
        ]
        found = f" Its output nodes are {', '.join(others)}." if others else ""
        raise ConversionError(
            "The workflow has no node that saves or previews images (SaveImage, "
            f"PreviewImage, SaveVideo...), so Cmfy Desk would get nothing back.{found}"
        )
    try:
        return validate_graph(graph)
    except GraphError as exc:
        node = graph.get(exc.node_id) if exc.node_id is not None else None
        raise ConversionError(
            exc.message,
            node_id=exc.node_id,
            class_type=node["class_type"] if node else None,
        ) from exc
