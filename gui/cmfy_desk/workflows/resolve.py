"""Link resolution in editor-format workflows: from a node's input to the output it reads.

The rules follow what ComfyUI's editor does when it queues a workflow (ExecutableNodeDTO in its
frontend). A link through a bypassed node continues at that node's input of the same type. A
link through a reroute continues at the reroute's input. A link from a subgraph node's output
continues at the inner node that feeds that output, and a link from a subgraph's input
continues outside, at whatever feeds the subgraph node.
"""

from __future__ import annotations

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
    SubgraphDefinition,
    node_id,
    node_inputs,
    node_mode,
    node_outputs,
    node_type,
    slot_type,
    subgraph_scope,
    types_compatible,
)
from cmfy_desk.workflows.widget_values import widget_values_by_name

_Visited = set[tuple[tuple[str, ...], str, int]]


@dataclass(frozen=True, slots=True)
class Source:
    """An output of a node that is sent to the server (or was left out because it is muted)."""

    node_id: str
    slot: int


@dataclass(frozen=True, slots=True)
class Value:
    """A literal value that replaces a link, such as a PrimitiveNode's value."""

    value: Any


@dataclass(frozen=True, slots=True)
class Unresolved:
    """A link that leads to nothing the server can run; ``reason`` completes "input 'x' ..."."""

    reason: str


Resolved = Source | Value | Unresolved | None


class LinkResolver:
    """Resolves links across one workflow; it caches subgraph instances and widget values."""

    def __init__(
        self, definitions: NodeDefinitions, subgraphs: dict[str, SubgraphDefinition]
    ) -> None:
        self.definitions = definitions
        self.subgraphs = subgraphs
        self._scopes: dict[tuple[str, ...], Scope] = {}
        self._widget_cache: dict[str, dict[str, Any]] = {}

    def widget_values(
        self, scope: Scope, node: EditorNode, definition: NodeDefinition
    ) -> dict[str, Any]:
        """Return the node's widget values by name, cached: promoted widgets read them too."""
        execution_id = scope.execution_id(node_id(node))
        values = self._widget_cache.get(execution_id)
        if values is None:
            values = widget_values_by_name(
                definition, node.get("widgets_values"), execution_id, self.definitions.source
            )
            self._widget_cache[execution_id] = values
        return values

    def is_frontend_only(self, kind: str) -> bool:
        return kind in FRONTEND_ONLY_NODE_TYPES and kind not in self.definitions

    def child_scope(
        self, parent: Scope, instance: EditorNode, definition: SubgraphDefinition
    ) -> Scope:
        path = (*parent.path, node_id(instance))
        scope = self._scopes.get(path)
        if scope is None:
            ancestor: Scope | None = parent
            while ancestor is not None:
                if ancestor.subgraph is definition:
                    raise ConversionError(
                        f"subgraph '{definition.name}' contains itself.",
                        node_id=":".join(path),
                        class_type=definition.id,
                    )
                ancestor = ancestor.parent
            scope = subgraph_scope(parent, instance, definition)
            self._scopes[path] = scope
        return scope

    # Link resolution: from an input, upstream to the output of a node the server runs.

    def resolve_input(
        self,
        scope: Scope,
        node: EditorNode,
        slot: int,
        visited: _Visited,
        target_type: str | None = None,
    ) -> Resolved:
        """Resolve the link into input ``slot`` of ``node``; None when nothing is connected.

        ``target_type`` is the type of the input where the walk started, because it decides
        which input a bypassed node passes on. ``visited`` collects the outputs passed so that
        a loop is detected.
        """
        inputs = node_inputs(node)
        if slot >= len(inputs):
            return Unresolved(
                f"comes from node {scope.execution_id(node_id(node))}, which has no input {slot}"
            )
        entry = inputs[slot]
        link_id = entry.get("link")
        if link_id is None:
            return None
        link = scope.links.get(str(link_id))
        if link is None:
            # The editor drops a link that its links table lacks, so the input is unconnected.
            return None
        if target_type is None:
            target_type = slot_type(entry.get("type"))

        if scope.subgraph is not None and link.origin_id == scope.subgraph.input_node_id:
            return self._resolve_subgraph_input(scope, link.origin_slot, visited)
        origin = scope.nodes_by_id.get(link.origin_id)
        if origin is None:
            missing = scope.execution_id(link.origin_id)
            return Unresolved(f"is linked to node {missing}, which is not in the workflow")
        return self._resolve_output(scope, origin, link.origin_slot, target_type, visited)

    def _resolve_output(
        self,
        scope: Scope,
        node: EditorNode,
        slot: int,
        target_type: str,
        visited: _Visited,
    ) -> Resolved:
        local_id = node_id(node)
        execution_id = scope.execution_id(local_id)
        key = (scope.path, local_id, slot)
        if key in visited:
            raise ConversionError(
                "its links form a loop through bypassed or editor-only nodes.",
                node_id=execution_id,
                class_type=node_type(node),
            )
        visited.add(key)

        kind = node_type(node)
        frontend_only = self.is_frontend_only(kind)
        if frontend_only and kind == "PrimitiveNode":
            return _primitive_value(node, execution_id)
        if node_mode(node) == MODE_BYPASS:
            return self._resolve_bypassed(scope, node, slot, target_type, visited)
        definition = self.subgraphs.get(kind)
        if definition is not None and node_mode(node) != MODE_NEVER:
            return self._resolve_subgraph_output(
                scope, node, definition, slot, target_type, visited
            )
        if frontend_only:
            return self._resolve_passthrough(scope, node, slot, target_type, visited)
        return Source(execution_id, slot)

    def _resolve_bypassed(
        self,
        scope: Scope,
        node: EditorNode,
        slot: int,
        target_type: str,
        visited: _Visited,
    ) -> Resolved:
        execution_id = scope.execution_id(node_id(node))
        index = bypass_input_index(node, slot, target_type)
        if index is None:
            return Unresolved(
                f"comes from node {execution_id}, which is bypassed and has no {target_type} input "
                "to pass on"
            )
        result = self.resolve_input(scope, node, index, visited)
        if result is None:
            name = node_inputs(node)[index].get("name")
            return Unresolved(
                f"comes from node {execution_id}, which is bypassed and whose input '{name}' "
                "is not connected"
            )
        return result

    def _resolve_passthrough(
        self,
        scope: Scope,
        node: EditorNode,
        slot: int,
        target_type: str,
        visited: _Visited,
    ) -> Resolved:
        kind = node_type(node)
        execution_id = scope.execution_id(node_id(node))
        source_scope, source, source_slot = scope, node, slot
        if kind == "GetNode":
            values = node.get("widgets_values")
            name = str(values[0]) if isinstance(values, list) and values else ""
            set_node = scope.set_node(name)
            if set_node is None:
                return Unresolved(
                    f"comes from GetNode {execution_id}, and no SetNode stores '{name}'"
                )
            source, source_slot = set_node, 0
        if source_slot >= len(node_inputs(source)):
            return Unresolved(f"comes from {kind} node {execution_id}, which passes nothing on")
        result = self.resolve_input(source_scope, source, source_slot, visited, target_type)
        if result is None:
            return Unresolved(
                f"comes from {kind} node {execution_id}, which has no input connected"
            )
        return result

    def _resolve_subgraph_output(
        self,
        scope: Scope,
        node: EditorNode,
        definition: SubgraphDefinition,
        slot: int,
        target_type: str,
        visited: _Visited,
    ) -> Resolved:
        inner = self.child_scope(scope, node, definition)
        link = definition.output_link(slot)
        if link is None:
            return Unresolved(
                f"comes from output {slot} of subgraph node {scope.execution_id(node_id(node))}, "
                "which nothing inside the subgraph feeds"
            )
        if link.origin_id == definition.input_node_id:
            return self._resolve_subgraph_input(inner, link.origin_slot, visited)
        origin = inner.nodes_by_id.get(link.origin_id)
        if origin is None:
            missing = inner.execution_id(link.origin_id)
            return Unresolved(f"comes from node {missing}, which is not in the workflow")
        return self._resolve_output(inner, origin, link.origin_slot, target_type, visited)

    def _resolve_subgraph_input(self, scope: Scope, index: int, visited: _Visited) -> Resolved:
        """Resolve input ``index`` of the subgraph that ``scope`` is an instance of."""
        subgraph, instance, parent = scope.subgraph, scope.instance, scope.parent
        if subgraph is None or instance is None or parent is None:
            return None
        name = subgraph.input_names[index] if index < len(subgraph.input_names) else None
        label = f"input '{name}' of subgraph node {parent.execution_id(node_id(instance))}"
        if name is None:
            return Unresolved(f"comes from {label}, which does not exist")
        # The editor matches the node's saved inputs to the subgraph's inputs by name, and
        # saves no entry for an unconnected input that has a widget.
        outer_inputs = node_inputs(instance)
        outer_slot = next(
            (position for position, entry in enumerate(outer_inputs) if entry.get("name") == name),
            None,
        )
        if outer_slot is not None and outer_inputs[outer_slot].get("link") is not None:
            result = self.resolve_input(parent, instance, outer_slot, visited)
            if result is not None:
                return result
        if name in scope.promoted:
            return Value(scope.promoted[name])
        found, value = self._inner_widget_value(scope, index)
        if found:
            return Value(value)
        return Unresolved(f"comes from {label}, which is not connected")

    def _inner_widget_value(self, scope: Scope, index: int) -> tuple[bool, Any]:
        """Return the value of the widget that subgraph input ``index`` shows on its node.

        That widget is the one of the first inner input the subgraph input feeds that has a
        widget, and its value is that inner widget's value (SubgraphNode in the frontend).
        Returns ``(False, None)`` when the subgraph input feeds no widget.
        """
        subgraph = scope.subgraph
        if subgraph is None:
            return False, None
        for link in subgraph.input_links(index):
            target = scope.nodes_by_id.get(link.target_id)
            if target is None:
                continue
            entry = next(
                (entry for entry in node_inputs(target) if str(entry.get("link")) == link.id), {}
            )
            widget = entry.get("widget")
            widget_name = widget.get("name") if isinstance(widget, dict) else None
            if not isinstance(widget_name, str):
                continue
            kind = node_type(target)
            child = self.subgraphs.get(kind)
            if child is not None:
                inner = self.child_scope(scope, target, child)
                if widget_name in inner.promoted:
                    return True, inner.promoted[widget_name]
                if widget_name in child.input_names:
                    return self._inner_widget_value(inner, child.input_names.index(widget_name))
                continue
            definition = self.definitions.get(kind)
            if definition is None:
                continue
            values = self.widget_values(scope, target, definition)
            if widget_name in values:
                return True, values[widget_name]
        return False, None


def _primitive_value(node: EditorNode, execution_id: str) -> Resolved:
    values = node.get("widgets_values")
    if isinstance(values, list) and values:
        return Value(values[0])
    return Unresolved(f"comes from primitive node {execution_id}, which holds no value")


def bypass_input_index(node: EditorNode, slot: int, target_type: str) -> int | None:
    """Pick the input a bypassed node passes on to output ``slot``, as the editor does.

    Any type: the input at the same position, else the first. Otherwise the input at the same
    position if its type fits both the output and the consumer, then the first input of exactly
    the consumer's type, then the first input whose type fits both.
    """
    inputs = node_inputs(node)
    if not inputs:
        return None
    if target_type in ("", "*"):
        return slot if slot < len(inputs) else 0
    outputs = node_outputs(node)
    output_type = slot_type(outputs[slot].get("type")) if slot < len(outputs) else target_type
    types = [slot_type(entry.get("type")) for entry in inputs]
    if (
        slot < len(types)
        and types_compatible(types[slot], output_type)
        and types_compatible(types[slot], target_type)
    ):
        return slot
    if target_type in types:
        return types.index(target_type)
    for index, input_type in enumerate(types):
        if types_compatible(input_type, output_type) and types_compatible(input_type, target_type):
            return index
    return None
