"""The parameters a user changes between runs of a workflow, found without per-workflow setup.

A parameter is one literal input of one node, named ``NODE_ID.INPUT`` (for example ``5.seed``).
find_parameters() picks out the usual ones (seeds, prompts, steps, size, models...),
resolve_parameter() turns a reference typed by a user into a node and input, and
apply_values() sets values, checked against the node definitions where they are known.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from cmfy_desk.workflows.coercion import coerce_value, parse_size
from cmfy_desk.workflows.definitions import InputDefinition, NodeDefinitions
from cmfy_desk.workflows.graph import (
    MODEL_INPUT_NAMES,
    SEED_INPUT_NAMES,
    Graph,
    is_empty_latent_class,
    is_link,
    primitive_source,
)
from cmfy_desk.workflows.prompt_inputs import find_prompt_inputs, input_definition


class ParameterKind(StrEnum):
    SEED = "seed"
    POSITIVE_PROMPT = "positive_prompt"
    NEGATIVE_PROMPT = "negative_prompt"
    STEPS = "steps"
    CFG = "cfg"
    SAMPLER = "sampler"
    SCHEDULER = "scheduler"
    WIDTH = "width"
    HEIGHT = "height"
    BATCH_SIZE = "batch_size"
    DENOISE = "denoise"
    MODEL = "model"
    OTHER = "other"


# Shortcut names accepted by apply_values(), each standing for every parameter of its kind.
# "size" ("WxH") sets both WIDTH and HEIGHT.
SHORTCUTS: dict[str, ParameterKind] = {
    "prompt": ParameterKind.POSITIVE_PROMPT,
    "negative": ParameterKind.NEGATIVE_PROMPT,
    "steps": ParameterKind.STEPS,
    "cfg": ParameterKind.CFG,
    "width": ParameterKind.WIDTH,
    "height": ParameterKind.HEIGHT,
    "seed": ParameterKind.SEED,
    "sampler": ParameterKind.SAMPLER,
    "scheduler": ParameterKind.SCHEDULER,
    "denoise": ParameterKind.DENOISE,
    "batch_size": ParameterKind.BATCH_SIZE,
}
SIZE_SHORTCUT = "size"

_KIND_BY_INPUT = {
    "steps": ParameterKind.STEPS,
    "cfg": ParameterKind.CFG,
    "sampler_name": ParameterKind.SAMPLER,
    "scheduler": ParameterKind.SCHEDULER,
    "denoise": ParameterKind.DENOISE,
}
_SIZE_KINDS = {
    "width": ParameterKind.WIDTH,
    "height": ParameterKind.HEIGHT,
    "batch_size": ParameterKind.BATCH_SIZE,
}
# Ranges of ComfyUI's own seed inputs (KSampler, KSamplerAdvanced, RandomNoise in 0.8.0),
# used when no definition of the node is known.
_SEED_RANGE = (0, 0xFFFF_FFFF_FFFF_FFFF)
# Combo options that add an upload button in ComfyUI's editor: the choices are input files.
_UPLOAD_OPTIONS = ("image_upload", "video_upload", "audio_upload", "file_upload")
# QuadrupleCLIPLoader numbers its inputs up to clip_name4; other loaders may go further.
_NUMBERED_CLIP_NAME = re.compile(r"clip_name\d+")
_FILE_NAME = re.compile(r"\.[A-Za-z0-9]{2,12}$")
_PROMPT_KINDS = {
    "positive": ParameterKind.POSITIVE_PROMPT,
    "negative": ParameterKind.NEGATIVE_PROMPT,
}


@dataclass(frozen=True)
class Parameter:
    """One literal input of one node that a user may change.

    ``value_type`` is "int", "float", "bool", "choice" or "text". The range, step and choices
    come from the node definitions when the node is known there. Model inputs are "text" with
    no choices, because on cmfy.cloud they hold download URLs that no choice list contains.
    """

    key: str
    node_id: str
    input_name: str
    kind: ParameterKind
    label: str
    value: Any
    value_type: str
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    choices: tuple[str, ...] | None = None


def find_parameters(graph: Graph, definitions: NodeDefinitions | None = None) -> list[Parameter]:
    """Return the parameters of the usual kinds, in graph order and input order.

    Seeds (``seed``, ``noise_seed``), the positive and negative prompt texts (classified by
    the sampler input they reach), steps, cfg, sampler and scheduler names, denoise, the
    width, height and batch size of empty latent images, and every model input.
    """
    prompt_kinds = {
        (node_id, name): _PROMPT_KINDS[polarity]
        for node_id, name, polarity in find_prompt_inputs(graph, definitions)
    }
    found: list[Parameter] = []
    seen: set[tuple[str, str]] = set()
    for node_id, node in graph.items():
        inputs = node.get("inputs")
        if not isinstance(inputs, dict):
            continue
        for name, value in inputs.items():
            if is_link(value):
                # A size fed by a primitive node is that node's value.
                source = primitive_source(graph, value)
                size_kind = _SIZE_KINDS.get(name)
                on_latent = _is_latent_class(str(node.get("class_type", "")))
                if source and size_kind and on_latent and source not in seen:
                    seen.add(source)
                    found.append(_describe(graph, *source, size_kind, definitions))
                continue
            if (node_id, name) in seen:
                continue
            kind = prompt_kinds.get((node_id, name)) or _kind_of(node, name, value)
            if kind is None:
                continue
            found.append(_describe(graph, node_id, name, kind, definitions))
    return found


def describe_parameter(
    graph: Graph, reference: str, definitions: NodeDefinitions | None = None
) -> Parameter:
    """Return the Parameter for a ``NODE.INPUT`` reference (see resolve_parameter())."""
    node_id, name = resolve_parameter(graph, reference)
    for parameter in find_parameters(graph, definitions):
        if parameter.node_id == node_id and parameter.input_name == name:
            return parameter
    return _describe(graph, node_id, name, ParameterKind.OTHER, definitions)


def resolve_parameter(graph: Graph, reference: str) -> tuple[str, str]:
    """Return ``(node_id, input_name)`` for a reference ``NODE.INPUT``.

    NODE is a node id or a node title (``_meta.title``). An id wins over a title, and an exact
    title wins over one that differs only in case. Raises ValueError for a malformed reference,
    an unknown node or input, a title shared by several nodes, or an input that is a link.
    """
    text = reference.strip()
    node_part, dot, input_name = text.rpartition(".")
    node_part = node_part.strip()
    input_name = input_name.strip()
    if not dot or not node_part or not input_name:
        raise ValueError(
            f"'{reference}' is not a parameter reference: expected NODE.INPUT, for example "
            "'5.seed' or 'KSampler.steps'."
        )

    node_id = _find_node(graph, node_part, reference)
    inputs = graph[node_id].get("inputs")
    inputs = inputs if isinstance(inputs, dict) else {}
    if input_name not in inputs:
        available = ", ".join(sorted(inputs)) or "none"
        raise ValueError(
            f"Node {node_id} ({graph[node_id].get('class_type')}) has no input '{input_name}'. "
            f"Its inputs: {available}."
        )
    if is_link(inputs[input_name]):
        source = inputs[input_name][0]
        raise ValueError(
            f"Input '{input_name}' of node {node_id} is linked to node {source}, so it has no "
            f"value of its own. Set the value on node {source} instead."
        )
    return node_id, input_name


@dataclass(frozen=True)
class Target:
    """One input that a key of apply_values() sets. ``component`` is 0 (width) or 1 (height)
    for the "size" shortcut and None otherwise."""

    parameter: Parameter
    component: int | None = None


def apply_values(
    graph: Graph, values: Mapping[str, Any], definitions: NodeDefinitions | None = None
) -> Graph:
    """Return a copy of ``graph`` with ``values`` set; ``graph`` itself is not changed.

    Keys are ``NODE.INPUT`` references or the SHORTCUTS (and "size" as ``WxH``), which set
    every parameter of their kind. Values are converted to the input's type, so strings from a
    command line or a CSV file work ("20" becomes 20). Raises ValueError naming the parameter,
    the value and the allowed range or choices for a value that does not fit, and for a
    shortcut that matches nothing in the workflow.
    """
    result: Graph = copy.deepcopy(graph)
    parameters = find_parameters(graph, definitions)
    for key, value in values.items():
        assign_value(result, key, resolve_key(graph, key, definitions, parameters), value)
    return result


def resolve_key(
    graph: Graph,
    key: str,
    definitions: NodeDefinitions | None = None,
    parameters: list[Parameter] | None = None,
) -> list[Target]:
    """Return the inputs that ``key`` (a shortcut or ``NODE.INPUT``) sets in ``graph``.

    ``parameters`` is find_parameters(graph, definitions), passed in to save finding them
    again. Raises ValueError for an unknown shortcut, a shortcut that matches nothing, or a
    reference that resolve_parameter() rejects.
    """
    if parameters is None:
        parameters = find_parameters(graph, definitions)
    shortcut = key.strip().lower()
    if "." in shortcut:
        node_id, name = resolve_parameter(graph, key)
        for parameter in parameters:
            if parameter.node_id == node_id and parameter.input_name == name:
                return [Target(parameter)]
        return [Target(_describe(graph, node_id, name, ParameterKind.OTHER, definitions))]

    kinds: list[tuple[ParameterKind, int | None]]
    if shortcut == SIZE_SHORTCUT:
        kinds = [(ParameterKind.WIDTH, 0), (ParameterKind.HEIGHT, 1)]
    elif shortcut in SHORTCUTS:
        kinds = [(SHORTCUTS[shortcut], None)]
    else:
        raise ValueError(
            f"'{key}' is neither a shortcut nor a NODE.INPUT reference. Shortcuts: "
            f"{', '.join(shortcut_names())}. A reference names a node id or title and an "
            "input, for example '5.steps'."
        )
    targets: list[Target] = []
    for kind, component in kinds:
        matching = [parameter for parameter in parameters if parameter.kind is kind]
        if not matching:
            raise ValueError(
                f"'{key}' sets the {kind.value.replace('_', ' ')}, but the workflow has none. "
                "Name the input as NODE.INPUT instead."
            )
        targets.extend(Target(parameter, component) for parameter in matching)
    return targets


def assign_value(graph: Graph, key: str, targets: list[Target], value: Any) -> Any:
    """Set ``value``, converted and checked, in every target input of ``graph`` (in place).

    Returns the converted value as a job records it: a number for numeric inputs and
    ``"WxH"`` for the size. Raises ValueError as coerce_value() does.
    """
    size: tuple[Any, Any] | None = None
    if any(target.component is not None for target in targets):
        if isinstance(value, tuple | list) and len(value) == 2:
            size = (value[0], value[1])
        else:
            try:
                size = parse_size(str(value))
            except ValueError as exc:
                raise ValueError(f"{key}: {exc}") from None

    converted: list[Any] = []
    for target in targets:
        item = value
        if size is not None and target.component is not None:
            item = size[target.component]
        parameter = target.parameter
        converted_item = coerce_value(parameter, item, key)
        graph[parameter.node_id]["inputs"][parameter.input_name] = converted_item
        converted.append(converted_item)

    if size is not None:
        width, height = size
        for target, item in zip(targets, converted, strict=True):
            if target.component == 0:
                width = item
            elif target.component == 1:
                height = item
        return f"{width}x{height}"
    return converted[0] if converted else value


def parse_assignment(text: str) -> tuple[str, str]:
    """Split ``NODE.INPUT=VALUE`` (or ``SHORTCUT=VALUE``) at its first ``=``.

    The value may be empty and may contain ``=``. Raises ValueError when there is no ``=`` or
    nothing before it.
    """
    key, equals, value = text.partition("=")
    key = key.strip()
    if not equals or not key:
        raise ValueError(
            f"'{text}' is not an assignment: expected NODE.INPUT=VALUE or SHORTCUT=VALUE, for "
            f"example '5.steps=30' or 'cfg=7.5'. Shortcuts: {', '.join(shortcut_names())}."
        )
    return key, value


def shortcut_names() -> list[str]:
    return [*SHORTCUTS, SIZE_SHORTCUT]


def _find_node(graph: Graph, node_part: str, reference: str) -> str:
    if node_part in graph:
        return node_part
    titled = [node_id for node_id, node in graph.items() if _title(node) == node_part]
    if not titled:
        folded = node_part.casefold()
        titled = [
            node_id for node_id, node in graph.items() if (_title(node) or "").casefold() == folded
        ]
    if len(titled) == 1:
        return titled[0]
    if len(titled) > 1:
        raise ValueError(
            f"'{reference}': the title '{node_part}' names nodes {', '.join(titled)}. "
            f"Use a node id instead, for example '{titled[0]}.{reference.rpartition('.')[2]}'."
        )
    known = [
        f"{node_id} ({_title(node) or node.get('class_type')})" for node_id, node in graph.items()
    ]
    raise ValueError(
        f"'{reference}': no node has the id or title '{node_part}'. Nodes: {', '.join(known)}."
    )


def _title(node: dict[str, Any]) -> str | None:
    meta = node.get("_meta")
    title = meta.get("title") if isinstance(meta, dict) else None
    return title if isinstance(title, str) and title else None


def _kind_of(node: dict[str, Any], name: str, value: Any) -> ParameterKind | None:
    class_type = str(node.get("class_type", ""))
    if name in SEED_INPUT_NAMES and isinstance(value, int) and not isinstance(value, bool):
        return ParameterKind.SEED
    if (name in MODEL_INPUT_NAMES or _NUMBERED_CLIP_NAME.fullmatch(name)) and isinstance(
        value, str
    ):
        return ParameterKind.MODEL
    if name in _KIND_BY_INPUT and not isinstance(value, bool):
        return _KIND_BY_INPUT[name]
    if name in _SIZE_KINDS and _is_latent_class(class_type):
        return _SIZE_KINDS[name]
    return None


def _is_latent_class(class_type: str) -> bool:
    # Width and height of other nodes (SDXL text encoders, image scalers) are not the size of
    # the picture made, so only empty latent images count.
    return is_empty_latent_class(class_type)


def _describe(
    graph: Graph,
    node_id: str,
    name: str,
    kind: ParameterKind,
    definitions: NodeDefinitions | None,
) -> Parameter:
    node = graph[node_id]
    class_type = str(node.get("class_type", ""))
    value = node.get("inputs", {}).get(name)
    definition = input_definition(definitions, class_type, name)
    value_type, choices = _value_type(kind, value, definition)
    minimum = maximum = step = None
    if definition is not None and value_type in ("int", "float"):
        minimum = _number_or_none(definition.minimum)
        maximum = _number_or_none(definition.maximum)
        step = _number_or_none(definition.step)
    if value_type == "int":
        # The definitions store limits as floats, which cannot hold ComfyUI's seed maximum
        # 0xFFFFFFFFFFFFFFFF exactly, so integer limits are rounded back and capped at it.
        minimum = None if minimum is None else max(int(minimum), -_SEED_RANGE[1])
        maximum = None if maximum is None else min(int(maximum), _SEED_RANGE[1])
    if kind is ParameterKind.SEED and minimum is None and maximum is None:
        minimum, maximum = _SEED_RANGE
    return Parameter(
        key=f"{node_id}.{name}",
        node_id=node_id,
        input_name=name,
        kind=kind,
        label=f"{_title(node) or class_type} {name}",
        value=value,
        value_type=value_type,
        minimum=minimum,
        maximum=maximum,
        step=step,
        choices=choices,
    )


def _value_type(
    kind: ParameterKind, value: Any, definition: InputDefinition | None
) -> tuple[str, tuple[str, ...] | None]:
    if kind is ParameterKind.MODEL or kind in (
        ParameterKind.POSITIVE_PROMPT,
        ParameterKind.NEGATIVE_PROMPT,
    ):
        return "text", None
    if definition is not None:
        declared = definition.type
        if isinstance(declared, list | tuple):
            choices = tuple(str(choice) for choice in declared)
            if _is_file_choice(definition, choices):
                return "text", None
            return "choice", choices
        match str(declared).upper():
            case "INT":
                return "int", None
            case "FLOAT":
                return "float", None
            case "BOOLEAN":
                return "bool", None
            case "STRING":
                return "text", None
            case "COMBO":
                return "choice", None
    if kind in (ParameterKind.SAMPLER, ParameterKind.SCHEDULER):
        return "choice", None
    if isinstance(value, bool):
        return "bool", None
    if isinstance(value, int):
        return "int", None
    if isinstance(value, float):
        return "float", None
    return "text", None


def _is_file_choice(definition: InputDefinition, choices: tuple[str, ...]) -> bool:
    """Return whether a combo lists files, whose choices depend on the server's folders.

    Such lists in the bundled definitions are not the user's files, so values are not checked
    against them.
    """
    if any(definition.options.get(option) for option in _UPLOAD_OPTIONS):
        return True
    return bool(choices) and all(_FILE_NAME.search(choice) for choice in choices)


def _number_or_none(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return value
    return None
