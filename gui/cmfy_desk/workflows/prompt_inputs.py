"""Finding the prompt texts of a graph and whether each is a positive or a negative prompt.

A sampler's ``positive`` and ``negative`` inputs decide the side. From each, the links are
followed back through reroutes and conditioning nodes (ConditioningCombine, ConditioningSetArea,
ControlNetApply...) to the text encoders, whose literal text inputs are the prompts.
"""

from __future__ import annotations

from typing import Any, Literal

from cmfy_desk.workflows.definitions import InputDefinition, NodeDefinitions
from cmfy_desk.workflows.graph import Graph, is_link

Polarity = Literal["positive", "negative"]

# Literal string inputs of text encoders: CLIPTextEncode (text), CLIPTextEncodeSDXL (text_g,
# text_l), CLIPTextEncodeSD3 and CLIPTextEncodeFlux (clip_l, clip_g, t5xxl), and the
# ``prompt`` input of newer encoders.
TEXT_INPUT_NAMES = frozenset({"text", "text_g", "text_l", "clip_l", "clip_g", "t5xxl", "prompt"})

# Linked inputs that never carry conditioning, so a walk without node definitions does not
# follow them (a CLIP link leads to the checkpoint loader, not to a prompt).
NON_CONDITIONING_INPUTS = frozenset(
    {
        "clip",
        "model",
        "vae",
        "control_net",
        "image",
        "images",
        "mask",
        "latent_image",
        "samples",
        "pixels",
        "style_model",
        "clip_vision",
        "clip_vision_output",
        "noise",
        "sigmas",
        "sampler",
        "guider",
        "upscale_model",
    }
)

_CONDITIONING_TYPE = "CONDITIONING"
_SIDES: tuple[Polarity, Polarity] = ("positive", "negative")
_OWN_PROMPT_INPUTS: dict[str, Polarity] = {
    "prompt": "positive",
    "prompt_text": "positive",
    "positive_prompt": "positive",
    "negative_prompt": "negative",
}
# Hops followed upstream from a text encoder's linked text input to the string that feeds it.
_MAX_STRING_HOPS = 8


def find_prompt_inputs(
    graph: Graph, definitions: NodeDefinitions | None = None
) -> list[tuple[str, str, Polarity]]:
    """Return ``(node_id, input_name, polarity)`` for every literal prompt text, in graph order.

    A text reached from both sides counts as positive. Text encoders that no sampler reaches
    are classified by their title ("negative" in it means negative, anything else positive).
    """
    found: dict[tuple[str, str], Polarity] = {}
    for node in graph.values():
        inputs = _inputs(node)
        for side in _SIDES:
            link = _link(inputs.get(side))
            if link is not None:
                _walk(graph, link[0], link[1], side, definitions, found, set())
    for node in graph.values():
        # Flux-style graphs feed one conditioning into a guider with no negative side.
        link = _link(_inputs(node).get("conditioning"))
        if str(node.get("class_type", "")).endswith("Guider") and link is not None:
            _walk(graph, link[0], link[1], "positive", definitions, found, set())

    for node_id, node in graph.items():
        if "TextEncode" not in str(node.get("class_type", "")):
            continue
        for name in _text_inputs(node, definitions):
            if (node_id, name) not in found:
                title = str(node.get("_meta", {}).get("title", "")).lower()
                found[(node_id, name)] = "negative" if "negative" in title else "positive"

    # Nodes that generate from a prompt of their own (the API nodes of ComfyUI 0.8.0, such as
    # GeminiImageNode or KlingTextToVideoNode) take it as a literal string input.
    for node_id, node in graph.items():
        class_type = str(node.get("class_type", ""))
        for name, value in _inputs(node).items():
            if not isinstance(value, str) or (node_id, name) in found:
                continue
            own = _OWN_PROMPT_INPUTS.get(name)
            definition = input_definition(definitions, class_type, name)
            if own is not None and (definition is None or str(definition.type).upper() == "STRING"):
                found[(node_id, name)] = own

    order = {node_id: index for index, node_id in enumerate(graph)}
    return sorted(
        ((node_id, name, polarity) for (node_id, name), polarity in found.items()),
        key=lambda item: (order[item[0]], _input_index(graph[item[0]], item[1])),
    )


def _walk(
    graph: Graph,
    node_id: str,
    output_index: int,
    polarity: Polarity,
    definitions: NodeDefinitions | None,
    found: dict[tuple[str, str], Polarity],
    visited: set[tuple[str, int]],
) -> None:
    if (node_id, output_index) in visited or node_id not in graph:
        return
    visited.add((node_id, output_index))
    node = graph[node_id]
    inputs = _inputs(node)

    texts = _text_inputs(node, definitions)
    linked_texts = [name for name in TEXT_INPUT_NAMES if is_link(inputs.get(name))]
    if texts or linked_texts:
        for name in texts:
            _record(found, node_id, name, polarity)
        for name in linked_texts:
            _record_strings_upstream(graph, str(inputs[name][0]), polarity, found, set())
        return

    # Nodes that pass both sides through (ControlNetApplyAdvanced and the like) output the
    # positive side first and the negative second.
    if is_link(inputs.get("positive")) and is_link(inputs.get("negative")):
        side = "positive" if output_index == 0 else "negative"
        link = inputs[side]
        _walk(graph, str(link[0]), link[1], polarity, definitions, found, visited)
        return

    class_type = str(node.get("class_type", ""))
    for name, value in inputs.items():
        if not is_link(value) or not _carries_conditioning(definitions, class_type, name):
            continue
        _walk(graph, str(value[0]), value[1], polarity, definitions, found, visited)


def _record(
    found: dict[tuple[str, str], Polarity], node_id: str, name: str, polarity: Polarity
) -> None:
    # A text reached from both sides counts as positive: graphs such as InstructPix2Pix with
    # DualCFGGuider feed the positive text into a "negative" input as the text-only condition.
    if found.get((node_id, name)) != "positive":
        found[(node_id, name)] = polarity


def _record_strings_upstream(
    graph: Graph,
    node_id: str,
    polarity: Polarity,
    found: dict[tuple[str, str], Polarity],
    visited: set[str],
) -> None:
    """Record the string primitives that feed a text encoder's text input, through switches
    and other nodes in between."""
    node = graph.get(node_id)
    if node is None or node_id in visited or len(visited) >= _MAX_STRING_HOPS:
        return
    visited.add(node_id)
    inputs = _inputs(node)
    links = [value for value in inputs.values() if is_link(value)]
    if not links:
        for name, value in inputs.items():
            if isinstance(value, str):
                _record(found, node_id, name, polarity)
        return
    for value in links:
        _record_strings_upstream(graph, str(value[0]), polarity, found, visited)


def _text_inputs(node: dict[str, Any], definitions: NodeDefinitions | None) -> list[str]:
    class_type = str(node.get("class_type", ""))
    names: list[str] = []
    for name, value in _inputs(node).items():
        if not isinstance(value, str):
            continue
        definition = input_definition(definitions, class_type, name)
        if name in TEXT_INPUT_NAMES:
            if definition is None or str(definition.type).upper() == "STRING":
                names.append(name)
        elif (
            definition is not None
            and str(definition.type).upper() == "STRING"
            and is_link(_inputs(node).get("clip"))
        ):
            # A string input of a node that also takes a CLIP model is a prompt text.
            names.append(name)
    return names


def _carries_conditioning(definitions: NodeDefinitions | None, class_type: str, name: str) -> bool:
    definition = input_definition(definitions, class_type, name)
    if definition is not None:
        return str(definition.type).upper() == _CONDITIONING_TYPE
    return name not in NON_CONDITIONING_INPUTS


def input_definition(
    definitions: NodeDefinitions | None, class_type: str, name: str
) -> InputDefinition | None:
    """Return the definition of one input of a node class, or None when it is not known."""
    if definitions is None:
        return None
    node = definitions.get(class_type)
    return node.input(name) if node is not None else None


def _link(value: object) -> tuple[str, int] | None:
    if not is_link(value):
        return None
    assert isinstance(value, list)
    return str(value[0]), int(value[1])


def _inputs(node: dict[str, Any]) -> dict[str, Any]:
    inputs = node.get("inputs")
    return inputs if isinstance(inputs, dict) else {}


def _input_index(node: dict[str, Any], name: str) -> int:
    return list(_inputs(node)).index(name)
