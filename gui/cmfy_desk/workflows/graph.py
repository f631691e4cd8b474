"""Inspection and validation of ComfyUI graphs in API format.

An API-format graph maps node ids (opaque strings such as ``"3"`` or ``"58:3"``) to
``{"class_type": str, "inputs": {name: value}, "_meta": {...}}``. An input value that is a
two-item list ``[node_id, output_index]`` is a link to another node's output.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

Graph = dict[str, dict[str, Any]]

# Node classes whose definition has ``output_node: true`` in ComfyUI 0.8.0's /object_info,
# limited to the ones that write images, plus the common custom save nodes. A graph needs at
# least one output node or ComfyUI runs nothing.
OUTPUT_NODE_CLASSES = frozenset(
    {
        "SaveImage",
        "PreviewImage",
        "SaveAnimatedWEBP",
        "SaveAnimatedPNG",
        "SaveImageWebsocket",
        "SaveWEBM",
        "SaveVideo",
        "MaskPreview",
        "Image Save",
        "SaveImageExtended",
        "SaveImageWithMetaData",
    }
)

SEED_INPUT_NAMES = ("seed", "noise_seed")

# Inputs that name a model file. On cmfy.cloud their value is the model's download URL.
MODEL_INPUT_NAMES = frozenset(
    {
        "ckpt_name",
        "lora_name",
        "vae_name",
        "control_net_name",
        "unet_name",
        "clip_name",
        "clip_name1",
        "clip_name2",
        "clip_name3",
        "upscale_model_name",
        "model_name",
    }
)

LATENT_CLASSES = frozenset(
    {
        "EmptyLatentImage",
        "EmptySD3LatentImage",
        "EmptyHunyuanLatentVideo",
        "EmptyImage",
    }
)

DEFAULT_IMAGE_SIZE = (512, 512, 1)


class GraphError(ValueError):
    """An API-format graph that ComfyUI would reject; ``node_id`` names the node at fault."""

    def __init__(self, message: str, node_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.node_id = node_id


@dataclass(frozen=True)
class ImageSize:
    width: int
    height: int
    batch_size: int


def is_link(value: object) -> bool:
    """Return whether an input value is a link ``[node_id, output_index]``."""
    return (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], str | int)
        and not isinstance(value[0], bool)
        and isinstance(value[1], int)
        and not isinstance(value[1], bool)
    )


def looks_like_api_graph(data: object) -> bool:
    """Return whether ``data`` has the shape of an API-format graph (every value a node)."""
    if not isinstance(data, dict) or not data:
        return False
    return all(isinstance(node, dict) and "class_type" in node for node in data.values())


def validate_graph(data: object) -> Graph:
    """Check an API-format graph the way ComfyUI does before queueing it.

    Raises GraphError on the first problem: not an object, a node without ``class_type`` or
    ``inputs``, a link to a node that does not exist, or no output node.
    """
    if not isinstance(data, dict) or not data:
        raise GraphError("The workflow is not an API-format graph: expected a non-empty object.")
    for node_id, node in data.items():
        if not isinstance(node, dict):
            raise GraphError(f"Node {node_id} is not an object.", node_id)
        class_type = node.get("class_type")
        if not isinstance(class_type, str) or not class_type:
            raise GraphError(f"Node {node_id} has no class_type.", node_id)
        inputs = node.get("inputs")
        if not isinstance(inputs, dict):
            raise GraphError(f"Node {node_id} ({class_type}) has no inputs object.", node_id)
        for name, value in inputs.items():
            if is_link(value) and str(value[0]) not in data:
                raise GraphError(
                    f"Node {node_id} ({class_type}) input '{name}' links to node "
                    f"{value[0]}, which is not in the graph.",
                    node_id,
                )
    if not output_nodes(data):
        raise GraphError(
            "The workflow has no output node (for example SaveImage or PreviewImage), "
            "so it would produce nothing."
        )
    return data


def output_nodes(graph: Graph) -> list[str]:
    return [
        node_id for node_id, node in graph.items() if node.get("class_type") in OUTPUT_NODE_CLASSES
    ]


def iter_inputs(graph: Graph) -> Iterator[tuple[str, str, Any]]:
    """Yield ``(node_id, input_name, value)`` for every literal (non-link) input."""
    for node_id, node in graph.items():
        for name, value in node.get("inputs", {}).items():
            if not is_link(value):
                yield node_id, name, value


def seed_inputs(graph: Graph) -> list[tuple[str, str]]:
    """Return ``(node_id, input_name)`` of every literal seed input (``seed``, ``noise_seed``)."""
    return [
        (node_id, name)
        for node_id, name, value in iter_inputs(graph)
        if name in SEED_INPUT_NAMES and isinstance(value, int) and not isinstance(value, bool)
    ]


def with_seed(graph: Graph, seed: int) -> Graph:
    """Return a copy of ``graph`` with ``seed`` in every seed input."""
    copy: Graph = json.loads(json.dumps(graph))
    for node_id, name in seed_inputs(copy):
        copy[node_id]["inputs"][name] = seed
    return copy


def first_seed(graph: Graph) -> int | None:
    for node_id, name in seed_inputs(graph):
        value = graph[node_id]["inputs"][name]
        return int(value)
    return None


def primitive_source(graph: Graph, value: object) -> tuple[str, str] | None:
    """Return ``(node_id, "value")`` when ``value`` links to a primitive node (PrimitiveInt,
    PrimitiveFloat, ...) whose own value is a literal, else None. Newer workflows feed sizes
    and seeds through such nodes."""
    if not is_link(value):
        return None
    assert isinstance(value, list)
    source_id = str(value[0])
    source = graph.get(source_id)
    if not isinstance(source, dict) or not str(source.get("class_type", "")).startswith(
        "Primitive"
    ):
        return None
    literal = source.get("inputs", {}).get("value")
    if literal is None or is_link(literal):
        return None
    return source_id, "value"


def literal_value(graph: Graph, value: object) -> object:
    """Return ``value``, or the literal of the primitive node it links to."""
    source = primitive_source(graph, value)
    if source is None:
        return value
    return graph[source[0]]["inputs"][source[1]]


def is_empty_latent_class(class_type: str) -> bool:
    """Return whether a node class makes the empty picture a workflow renders into (its width
    and height are the output's size): the known ones, and any ``Empty...Latent...`` class."""
    return class_type in LATENT_CLASSES or (
        class_type.startswith("Empty") and "Latent" in class_type
    )


def image_size(graph: Graph) -> ImageSize:
    """Return the size and count of the images the graph makes, from its empty latent node."""
    for node in graph.values():
        if not is_empty_latent_class(str(node.get("class_type", ""))):
            continue
        inputs = node.get("inputs", {})
        width = literal_value(graph, inputs.get("width"))
        height = literal_value(graph, inputs.get("height"))
        batch = literal_value(graph, inputs.get("batch_size", inputs.get("length", 1)))
        if isinstance(width, int) and isinstance(height, int):
            count = batch if isinstance(batch, int) and batch > 0 else 1
            return ImageSize(width, height, count)
    return ImageSize(*DEFAULT_IMAGE_SIZE)


def sampling_steps(graph: Graph) -> int:
    """Return the total sampling steps over all sampler nodes (0 when there is none)."""
    return sum(
        value
        for _node_id, name, value in iter_inputs(graph)
        if name == "steps" and isinstance(value, int) and not isinstance(value, bool)
    )


def model_urls(graph: Graph) -> list[str]:
    """Return the distinct model references (URLs on cmfy.cloud) in the order they appear."""
    found: list[str] = []
    for _node_id, name, value in iter_inputs(graph):
        if name in MODEL_INPUT_NAMES and isinstance(value, str) and value and value not in found:
            found.append(value)
    return found


def prompt_texts(graph: Graph) -> list[str]:
    """Return the literal texts of text-encoder inputs (``text``, ``text_g`` and ``text_l``)."""
    return [
        value
        for _node_id, name, value in iter_inputs(graph)
        if name in ("text", "text_g", "text_l") and isinstance(value, str) and value
    ]


def graph_hash(graph: Graph) -> str:
    """Return a SHA-256 of the graph's canonical JSON, the same for equal graphs."""
    canonical = json.dumps(graph, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
