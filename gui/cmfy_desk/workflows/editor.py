"""Read access to ComfyUI editor-format workflows (the JSON that the editor's Save writes).

An editor workflow is ``{"nodes": [...], "links": [...], "definitions": {"subgraphs": [...]}}``.
A node has an integer ``id``, a ``type`` (a node class, an editor-only type, or the id of a
subgraph), a ``mode``, ``inputs`` (each with a ``link`` id or null), ``outputs`` and
``widgets_values``. A top-level link is ``[id, origin_id, origin_slot, target_id, target_slot,
type]``; links inside a subgraph are objects with the same fields. Inside a subgraph, node -10
stands for the subgraph's inputs and node -20 for its outputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# LiteGraph node modes (LGraphEventMode). Only these two change what is sent to the server.
MODE_NEVER = 2  # "muted": the node is left out and inputs linked to it are dropped
MODE_BYPASS = 4  # the node is skipped and its inputs are passed on to its outputs

EditorNode = dict[str, Any]

# Node types that exist only in the editor, so no server lists them in /object_info and they
# never reach it. Reroute, SetNode/GetNode (KJNodes) and "Reroute (rgthree)" pass a link on.
# PrimitiveNode gives its value to every widget it feeds. The others are notes, labels and
# canvas tools. A type counts as editor-only only when the definitions do not define it.
FRONTEND_ONLY_NODE_TYPES = frozenset(
    {
        "Note",
        "MarkdownNote",
        "Reroute",
        "PrimitiveNode",
        "SetNode",
        "GetNode",
        "Reroute (rgthree)",
        "Label (rgthree)",
        "Bookmark (rgthree)",
        "Fast Groups Muter (rgthree)",
        "Fast Groups Bypasser (rgthree)",
        "Fast Muter (rgthree)",
        "Fast Bypasser (rgthree)",
        "Mute / Bypass Relay (rgthree)",
        "Mute / Bypass Repeater (rgthree)",
        "Node Collector (rgthree)",
    }
)


class ConversionError(ValueError):
    """An editor-format workflow that cannot be converted, with the node at fault if any."""

    def __init__(
        self, reason: str, *, node_id: str | None = None, class_type: str | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.node_id = node_id
        self.class_type = class_type

    def __str__(self) -> str:
        if self.node_id is None:
            return self.reason
        label = f"Node {self.node_id}"
        if self.class_type:
            label += f" ({self.class_type})"
        return f"{label}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Link:
    id: str
    origin_id: str
    origin_slot: int
    target_id: str
    target_slot: int
    type: str


def parse_links(raw: object) -> dict[str, Link]:
    """Index the links of a graph or subgraph by id, skipping entries that are not links."""
    links: dict[str, Link] = {}
    if not isinstance(raw, list):
        return links
    for entry in raw:
        link = _parse_link(entry)
        if link is not None:
            links[link.id] = link
    return links


def _parse_link(entry: object) -> Link | None:
    if isinstance(entry, list) and len(entry) >= 5:
        link_id, origin_id, origin_slot, target_id, target_slot = entry[:5]
        link_type = entry[5] if len(entry) > 5 else ""
    elif isinstance(entry, dict):
        link_id = entry.get("id")
        origin_id = entry.get("origin_id")
        origin_slot = entry.get("origin_slot")
        target_id = entry.get("target_id")
        target_slot = entry.get("target_slot")
        link_type = entry.get("type", "")
    else:
        return None
    if link_id is None or origin_id is None or target_id is None:
        return None
    if not isinstance(origin_slot, int) or not isinstance(target_slot, int):
        return None
    return Link(
        id=str(link_id),
        origin_id=str(origin_id),
        origin_slot=origin_slot,
        target_id=str(target_id),
        target_slot=target_slot,
        type=slot_type(link_type),
    )


def node_id(node: EditorNode) -> str:
    return str(node.get("id"))


def node_type(node: EditorNode) -> str:
    value = node.get("type")
    return value if isinstance(value, str) else ""


def node_mode(node: EditorNode) -> int:
    value = node.get("mode", 0)
    return value if isinstance(value, int) else 0


def node_inputs(node: EditorNode) -> list[dict[str, Any]]:
    value = node.get("inputs")
    if not isinstance(value, list):
        return []
    return [entry if isinstance(entry, dict) else {} for entry in value]


def node_outputs(node: EditorNode) -> list[dict[str, Any]]:
    value = node.get("outputs")
    if not isinstance(value, list):
        return []
    return [entry if isinstance(entry, dict) else {} for entry in value]


def slot_type(value: object) -> str:
    """Return a slot or link type as a string; LiteGraph also uses numbers for event slots."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return str(value)


def types_compatible(first: str, second: str) -> bool:
    """Return whether two slot types may connect, by LiteGraph's rule (isValidConnection).

    ``*`` and the empty type match anything. Otherwise the comparison ignores case, and a
    comma-separated type such as ``IMAGE,MASK`` matches any of its parts.
    """
    if first in ("", "*", "0") or second in ("", "*", "0"):
        return True
    first, second = first.lower(), second.lower()
    if first == second:
        return True
    if "," not in first and "," not in second:
        return False
    return bool(set(first.split(",")) & set(second.split(",")))


@dataclass
class SubgraphDefinition:
    """One entry of ``definitions.subgraphs``: a reusable graph with named inputs and outputs."""

    id: str
    name: str
    nodes: list[EditorNode]
    nodes_by_id: dict[str, EditorNode]
    links: dict[str, Link]
    input_names: list[str]
    input_link_ids: list[list[str]]
    input_node_id: str
    output_node_id: str
    output_link_ids: list[list[str]]

    def input_links(self, slot: int) -> list[Link]:
        """Return the inner links that start at input ``slot``, in the order the editor keeps."""
        ids = self.input_link_ids[slot] if slot < len(self.input_link_ids) else []
        links = [self.links[link_id] for link_id in ids if link_id in self.links]
        if not links:
            links = [
                link
                for link in self.links.values()
                if link.origin_id == self.input_node_id and link.origin_slot == slot
            ]
        return links

    def output_link(self, slot: int) -> Link | None:
        """Return the inner link that feeds output ``slot``, the first one if there are several."""
        if slot < len(self.output_link_ids):
            for link_id in self.output_link_ids[slot]:
                link = self.links.get(link_id)
                if link is not None:
                    return link
        for link in self.links.values():
            if link.target_id == self.output_node_id and link.target_slot == slot:
                return link
        return None


def parse_subgraphs(workflow: dict[str, Any]) -> dict[str, SubgraphDefinition]:
    """Collect every subgraph definition, including ones nested in other definitions."""
    found: dict[str, SubgraphDefinition] = {}
    pending: list[object] = [workflow.get("definitions")]
    while pending:
        definitions = pending.pop()
        if not isinstance(definitions, dict):
            continue
        entries = definitions.get("subgraphs")
        if not isinstance(entries, list):
            continue
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
                continue
            if entry["id"] not in found:
                found[entry["id"]] = _parse_subgraph(entry)
            pending.append(entry.get("definitions"))
    return found


def _parse_subgraph(entry: dict[str, Any]) -> SubgraphDefinition:
    nodes = [node for node in entry.get("nodes") or [] if isinstance(node, dict)]
    inputs = [slot for slot in entry.get("inputs") or [] if isinstance(slot, dict)]
    outputs = [slot for slot in entry.get("outputs") or [] if isinstance(slot, dict)]
    name = entry.get("name")
    return SubgraphDefinition(
        id=entry["id"],
        name=name if isinstance(name, str) and name else entry["id"],
        nodes=nodes,
        nodes_by_id={node_id(node): node for node in nodes},
        links=parse_links(entry.get("links")),
        input_names=[str(slot.get("name", "")) for slot in inputs],
        input_link_ids=[[str(link) for link in slot.get("linkIds") or []] for slot in inputs],
        input_node_id=_io_node_id(entry.get("inputNode"), "-10"),
        output_node_id=_io_node_id(entry.get("outputNode"), "-20"),
        output_link_ids=[[str(link) for link in slot.get("linkIds") or []] for slot in outputs],
    )


def _io_node_id(value: object, default: str) -> str:
    if isinstance(value, dict) and value.get("id") is not None:
        return str(value["id"])
    return default


@dataclass
class Scope:
    """The root graph, or one instance of a subgraph inside its parent scope.

    ``path`` contains the ids of the subgraph nodes from the root down to this instance, so a node's
    id in the API graph is ``"<path>:<node id>"`` (``"58:3"``, nested ``"58:7:3"``), as in
    ComfyUI. ``promoted`` contains the widget values that the subgraph node stores for its inputs.
    """

    path: tuple[str, ...]
    nodes: list[EditorNode]
    nodes_by_id: dict[str, EditorNode]
    links: dict[str, Link]
    subgraph: SubgraphDefinition | None = None
    parent: Scope | None = None
    instance: EditorNode | None = None
    promoted: dict[str, Any] = field(default_factory=dict)
    _set_nodes: dict[str, EditorNode] | None = None

    def execution_id(self, local_id: str) -> str:
        return ":".join((*self.path, local_id))

    def set_node(self, name: str) -> EditorNode | None:
        """Return the KJNodes ``SetNode`` that stores the value called ``name`` in this scope."""
        if self._set_nodes is None:
            self._set_nodes = {}
            for node in self.nodes:
                values = node.get("widgets_values")
                if node_type(node) == "SetNode" and isinstance(values, list) and values:
                    self._set_nodes.setdefault(str(values[0]), node)
        return self._set_nodes.get(name)


def root_scope(workflow: dict[str, Any]) -> Scope:
    nodes = [node for node in workflow.get("nodes") or [] if isinstance(node, dict)]
    return Scope(
        path=(),
        nodes=nodes,
        nodes_by_id={node_id(node): node for node in nodes},
        links=parse_links(workflow.get("links")),
    )


def subgraph_scope(parent: Scope, instance: EditorNode, definition: SubgraphDefinition) -> Scope:
    return Scope(
        path=(*parent.path, node_id(instance)),
        nodes=definition.nodes,
        nodes_by_id=definition.nodes_by_id,
        links=definition.links,
        subgraph=definition,
        parent=parent,
        instance=instance,
        promoted=promoted_widget_values(instance),
    )


def promoted_widget_values(instance: EditorNode) -> dict[str, Any]:
    """Return the widget values a subgraph node stores for its inputs, by input name.

    The frontend keeps one widget per subgraph input that feeds a widget, and saves their values
    in input order. Newer frontends save an empty list and keep the value in the inner node (the
    ``proxyWidgets`` property lists them), and some older ones saved a longer list whose layout
    is not documented. In both cases the inner nodes' own values are used.
    """
    values = instance.get("widgets_values")
    widget_inputs = [entry for entry in node_inputs(instance) if entry.get("widget")]
    if isinstance(values, dict):
        return {
            str(entry.get("name")): values[entry["name"]]
            for entry in widget_inputs
            if entry.get("name") in values
        }
    # NOTE: a list whose length differs from the number of widget inputs is ignored, because
    # no frontend source documents how such a list lines up with the inputs.
    if not isinstance(values, list) or not values or len(values) != len(widget_inputs):
        return {}
    return {
        str(entry.get("name")): value for entry, value in zip(widget_inputs, values, strict=True)
    }
