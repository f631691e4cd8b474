"""The pre-flight check: what to fix in an API-format graph before it costs money.

check_graph looks for problems ComfyUI would reject (no output node, a missing required input, a
value out of range) and for waste (unused nodes, high resolution, many steps). For cmfy.cloud it
also looks for model URLs that would miss the GPU nodes' cache, which is keyed by the exact URL
string. The other functions return fixed copies of a graph and never change their argument.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from cmfy_desk.workflows.graph import (
    OUTPUT_NODE_CLASSES,
    Graph,
    image_size,
    is_link,
    sampling_steps,
)
from cmfy_desk.workflows.model_urls import (
    ALL_MODEL_INPUT_NAMES,
    ModelReference,
    canonical_form,
    model_inputs,
    parse_model_reference,
    same_model,
)

if TYPE_CHECKING:
    from cmfy_desk.workflows.definitions import InputDefinition, NodeDefinition, NodeDefinitions

# Advice of cmfy.cloud's performance guide: 20-30 steps is the usual sweet spot, and steps past
# 50 add little. A resolution above 1024x1024 costs much more time per image.
MAX_USEFUL_STEPS = 50
MAX_PLAIN_PIXELS = 1024 * 1024
REFERENCE_STEPS = 20

# (pixel count, cost relative to one 512x512 image at 20 steps), from the same guide: 768² is
# about 1.5×, 1024² 2-3× (2.5 taken), 2048² 6-10× (8 taken).
COST_POINTS: tuple[tuple[int, float], ...] = (
    (512 * 512, 1.0),
    (768 * 768, 1.5),
    (1024 * 1024, 2.5),
    (2048 * 2048, 8.0),
)


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


_SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


@dataclass(frozen=True)
class Finding:
    """One result of the check.

    ``code`` is stable for programs (``unused_nodes``, ``no_output_node``,
    ``missing_required_input``, ``missing_link_target``, ``value_out_of_range``,
    ``invalid_value``, ``value_not_in_choices``, ``unknown_node``, ``high_resolution``,
    ``many_steps``, ``local_model_name``, ``model_url_differs``, ``model_url_not_canonical``,
    ``duplicate_model_urls``, ``model_not_pinned``, ``model_url_on_server``). ``replacement``
    maps model input values to the values that fix the finding, for rewrite_model_urls.
    """

    severity: Severity
    code: str
    message: str
    node_ids: tuple[str, ...] = ()
    fix: str | None = None
    replacement: dict[str, str] | None = None


@dataclass(frozen=True)
class PreflightReport:
    node_count: int
    unused_nodes: tuple[str, ...]
    relative_cost: float
    findings: tuple[Finding, ...]

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.WARNING)

    @property
    def infos(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.INFO)

    @property
    def replacements(self) -> dict[str, str]:
        """All findings' replacements in one mapping, for one rewrite_model_urls call."""
        merged: dict[str, str] = {}
        for finding in self.findings:
            for old, new in (finding.replacement or {}).items():
                merged.setdefault(old, new)
        return merged

    def codes(self) -> list[str]:
        return [finding.code for finding in self.findings]


def check_graph(
    graph: Graph,
    definitions: NodeDefinitions | None,
    library: Mapping[str, str] | None = None,
    *,
    for_cloud: bool = True,
    strict_classes: bool = False,
) -> PreflightReport:
    """Check ``graph`` and return every finding, errors first.

    ``library`` maps model file names to the URL the model library chose for them.
    ``for_cloud`` checks model references for cmfy.cloud (URLs); otherwise for a ComfyUI
    server (file names). ``strict_classes`` makes an unknown node class an error, right when
    ``definitions`` came from the server that will run the graph.
    """
    library = library or {}
    findings: list[Finding] = []

    outputs = _output_nodes(graph, definitions)
    unused: tuple[str, ...] = ()
    if not outputs:
        findings.append(
            Finding(
                Severity.ERROR,
                "no_output_node",
                "The workflow has no output node (such as SaveImage or PreviewImage), "
                "so it would produce nothing.",
                fix="add a SaveImage node fed by the decoded image",
            )
        )
    else:
        unused = tuple(node_id for node_id in graph if node_id not in _used_nodes(graph, outputs))
        if unused:
            findings.append(
                Finding(
                    Severity.WARNING,
                    "unused_nodes",
                    f"{len(unused)} node(s) lead to no output node and would only cost "
                    f"time: {', '.join(_node_label(graph, node_id) for node_id in unused)}.",
                    node_ids=unused,
                    fix="remove unused nodes",
                )
            )

    findings.extend(_link_findings(graph))
    if definitions is not None:
        findings.extend(_definition_findings(graph, definitions, strict_classes))
    findings.extend(_size_findings(graph))
    if for_cloud:
        findings.extend(_cloud_model_findings(graph, library))
    else:
        findings.extend(_server_model_findings(graph))

    findings.sort(key=lambda finding: _SEVERITY_ORDER[finding.severity])
    return PreflightReport(
        node_count=len(graph),
        unused_nodes=unused,
        relative_cost=relative_cost(graph),
        findings=tuple(findings),
    )


# Graph structure -----------------------------------------------------------------------


def _output_nodes(graph: Graph, definitions: NodeDefinitions | None) -> list[str]:
    found = []
    for node_id, node in graph.items():
        class_type = node.get("class_type")
        if not isinstance(class_type, str):
            continue
        if class_type in OUTPUT_NODE_CLASSES or (
            definitions is not None and definitions.is_output_node(class_type)
        ):
            found.append(node_id)
    return found


def _used_nodes(graph: Graph, outputs: list[str]) -> set[str]:
    """Return the output nodes and every node on a path of links into one of them."""
    used: set[str] = set()
    pending = list(outputs)
    while pending:
        node_id = pending.pop()
        if node_id in used or node_id not in graph:
            continue
        used.add(node_id)
        for value in _inputs(graph[node_id]).values():
            if is_link(value):
                pending.append(str(value[0]))
    return used


def remove_unused_nodes(graph: Graph, definitions: NodeDefinitions | None = None) -> Graph:
    """Return a copy of ``graph`` without the nodes that lead to no output node.

    A graph without any output node is returned unchanged (copied), because then every node
    would count as unused.
    """
    copy = _copy(graph)
    outputs = _output_nodes(copy, definitions)
    if not outputs:
        return copy
    used = _used_nodes(copy, outputs)
    return {node_id: node for node_id, node in copy.items() if node_id in used}


def _link_findings(graph: Graph) -> Iterator[Finding]:
    for node_id, node in graph.items():
        for name, value in _inputs(node).items():
            if is_link(value) and str(value[0]) not in graph:
                yield Finding(
                    Severity.ERROR,
                    "missing_link_target",
                    f"{_node_label(graph, node_id)} input '{name}' links to node {value[0]}, "
                    "which is not in the workflow.",
                    node_ids=(node_id,),
                    fix=f"link '{name}' to an existing node or export the workflow again",
                )


# Node definitions ----------------------------------------------------------------------


def _definition_findings(
    graph: Graph, definitions: NodeDefinitions, strict_classes: bool
) -> Iterator[Finding]:
    for node_id, node in graph.items():
        class_type = node.get("class_type")
        if not isinstance(class_type, str):
            continue
        definition = definitions.get(class_type)
        if definition is None:
            yield _unknown_node(graph, node_id, class_type, strict_classes)
            continue
        yield from _input_findings(graph, node_id, definition)


def _unknown_node(graph: Graph, node_id: str, class_type: str, strict: bool) -> Finding:
    if strict:
        return Finding(
            Severity.ERROR,
            "unknown_node",
            f"{_node_label(graph, node_id)}: the server has no node class '{class_type}'.",
            node_ids=(node_id,),
            fix="install the custom node on the server or replace the node",
        )
    return Finding(
        Severity.WARNING,
        "unknown_node",
        f"{_node_label(graph, node_id)}: '{class_type}' is not a built-in node class. It runs "
        "only where that custom node is installed.",
        node_ids=(node_id,),
        fix="check that the server has this custom node",
    )


def _input_findings(graph: Graph, node_id: str, definition: NodeDefinition) -> Iterator[Finding]:
    inputs = _inputs(graph[node_id])
    label = _node_label(graph, node_id)
    for spec in definition.inputs:
        if spec.name not in inputs:
            if spec.required:
                yield Finding(
                    Severity.ERROR,
                    "missing_required_input",
                    f"{label} is missing its required input '{spec.name}'.",
                    node_ids=(node_id,),
                    fix=f"set '{spec.name}' or link it to another node's output",
                )
            continue
        value = inputs[spec.name]
        if is_link(value):
            continue
        finding = _value_finding(label, node_id, spec, value)
        if finding is not None:
            yield finding


def _value_finding(
    label: str, node_id: str, spec: InputDefinition, value: object
) -> Finding | None:
    """Check one literal input value against its definition."""
    if isinstance(spec.type, list | tuple):
        return _choice_finding(label, node_id, spec, value)
    if spec.type not in ("INT", "FLOAT"):
        return None
    number = _as_number(value)
    if number is None:
        return Finding(
            Severity.ERROR,
            "invalid_value",
            f"{label} input '{spec.name}' is {value!r}, not a number.",
            node_ids=(node_id,),
            fix=f"set '{spec.name}' to a number",
        )
    if spec.minimum is not None and number < spec.minimum:
        bound = f"below the minimum {_format_number(spec.minimum)}"
        fix = f"set '{spec.name}' to {_format_number(spec.minimum)} or more"
    elif spec.maximum is not None and number > spec.maximum:
        bound = f"above the maximum {_format_number(spec.maximum)}"
        fix = f"set '{spec.name}' to {_format_number(spec.maximum)} or less"
    else:
        return None
    return Finding(
        Severity.ERROR,
        "value_out_of_range",
        f"{label} input '{spec.name}' is {value}, {bound}.",
        node_ids=(node_id,),
        fix=fix,
    )


def _choice_finding(
    label: str, node_id: str, spec: InputDefinition, value: object
) -> Finding | None:
    choices = list(spec.type)
    # Lists of models and of uploaded files depend on one server's folders (the bundled
    # definitions list no models and only example.png), and on cmfy.cloud model inputs hold
    # URLs, so none of them is checked against its choices.
    if (
        not choices
        or spec.name in ALL_MODEL_INPUT_NAMES
        or spec.upload_widget_count
        or _is_url(value)
        or value in choices
    ):
        return None
    listed = ", ".join(repr(choice) for choice in choices[:8])
    more = ", ..." if len(choices) > 8 else ""
    return Finding(
        Severity.ERROR,
        "value_not_in_choices",
        f"{label} input '{spec.name}' is {value!r}, which is not one of its choices "
        f"({listed}{more}).",
        node_ids=(node_id,),
        fix=f"pick one of the choices for '{spec.name}'",
    )


def _format_number(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def _as_number(value: object) -> int | float | None:
    # Integers stay integers: a seed of 2**64 - 1 would round past its maximum as a float.
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        # ComfyUI converts numeric strings before validating them.
        for convert in (int, float):
            try:
                return convert(value)
            except ValueError:
                continue
    return None


# Resolution, steps and cost ------------------------------------------------------------


def _size_findings(graph: Graph) -> Iterator[Finding]:
    size = image_size(graph)
    if size.width * size.height > MAX_PLAIN_PIXELS:
        latent_ids = tuple(
            node_id
            for node_id, node in graph.items()
            if _inputs(node).get("width") == size.width
            and _inputs(node).get("height") == size.height
        )
        yield Finding(
            Severity.WARNING,
            "high_resolution",
            f"The workflow makes {size.width}x{size.height} images, above 1024x1024. This costs "
            f"about {relative_cost(graph):.1f}x a 512x512 image at 20 steps. Generating at "
            "1024x1024 or below and upscaling afterwards is usually cheaper.",
            node_ids=latent_ids,
            fix="lower the width and height to 1024 or below",
        )
    many = [
        (node_id, steps)
        for node_id, node in graph.items()
        if isinstance(steps := _inputs(node).get("steps"), int)
        and not isinstance(steps, bool)
        and steps > MAX_USEFUL_STEPS
    ]
    if many:
        detail = ", ".join(f"{_node_label(graph, node_id)}: {steps}" for node_id, steps in many)
        yield Finding(
            Severity.WARNING,
            "many_steps",
            f"Sampler steps above {MAX_USEFUL_STEPS} ({detail}). 20-30 steps is the usual "
            f"sweet spot. Past {MAX_USEFUL_STEPS}, more steps add little but time.",
            node_ids=tuple(node_id for node_id, _steps in many),
            fix="lower steps to 20-30",
        )


def relative_cost(graph: Graph) -> float:
    """Estimate the GPU time of ``graph`` relative to one 512x512 image at 20 steps.

    Resolution factor: piecewise linear in log-log space through COST_POINTS (so it grows as a
    power of the pixel count between the points), extended past either end with the nearest
    segment's slope. Multiplied by total sampler steps / 20 (20 when the graph has no sampler)
    and by the batch size. An estimate only: the model, sampler and GPU change the real time.
    """
    size = image_size(graph)
    steps = sampling_steps(graph) or REFERENCE_STEPS
    return _resolution_factor(size.width * size.height) * steps / REFERENCE_STEPS * size.batch_size


def _resolution_factor(pixels: int) -> float:
    if pixels <= 0:
        return 0.0
    points = COST_POINTS
    # Pick the segment that contains ``pixels``, or the first or last one to extend.
    index = 0
    while index < len(points) - 2 and pixels > points[index + 1][0]:
        index += 1
    (x0, y0), (x1, y1) = points[index], points[index + 1]
    slope = math.log(y1 / y0) / math.log(x1 / x0)
    return y0 * math.exp(slope * math.log(pixels / x0))


# Model references ----------------------------------------------------------------------


def rewrite_model_urls(graph: Graph, replacements: Mapping[str, str]) -> Graph:
    """Return a copy of ``graph`` with every model input whose value is a key of
    ``replacements`` set to that key's value."""
    copy = _copy(graph)
    for node_id, name, value in list(model_inputs(copy)):
        if value in replacements:
            copy[node_id]["inputs"][name] = replacements[value]
    return copy


def localize_for_cloud(graph: Graph, library: Mapping[str, str]) -> tuple[Graph, list[str]]:
    """Replace local model file names by their library URL.

    Returns the new graph and the local names (as written in the graph, each once) that have
    no library entry and stay as they were.
    """
    replacements: dict[str, str] = {}
    missing: list[str] = []
    for _node_id, _name, value in model_inputs(graph):
        reference = parse_model_reference(value)
        if reference.is_url:
            continue
        url = library.get(reference.file_name)
        if url is not None:
            replacements[value] = url
        elif value not in missing:
            missing.append(value)
    return rewrite_model_urls(graph, replacements), missing


def _model_values(graph: Graph) -> dict[str, list[str]]:
    """Return each distinct model value with the ids of the nodes that use it, in graph order."""
    values: dict[str, list[str]] = {}
    for node_id, _name, value in model_inputs(graph):
        users = values.setdefault(value, [])
        if node_id not in users:
            users.append(node_id)
    return values


def _cloud_model_findings(graph: Graph, library: Mapping[str, str]) -> Iterator[Finding]:
    values = _model_values(graph)
    references = {value: parse_model_reference(value) for value in values}
    for value, node_ids in values.items():
        reference = references[value]
        if reference.is_url:
            yield from _url_findings(graph, reference, tuple(node_ids), library)
        else:
            yield _local_name_finding(graph, reference, tuple(node_ids), library)
    yield from _duplicate_findings(
        [reference for reference in references.values() if reference.is_url], values, library
    )


def _local_name_finding(
    graph: Graph, reference: ModelReference, node_ids: tuple[str, ...], library: Mapping[str, str]
) -> Finding:
    labels = ", ".join(_node_label(graph, node_id) for node_id in node_ids)
    url = library.get(reference.file_name)
    if url is None:
        return Finding(
            Severity.ERROR,
            "local_model_name",
            f"{labels} names the local file '{reference.url}', but cmfy.cloud needs the "
            "model's download URL, and the model library has none for this file.",
            node_ids=node_ids,
            fix=f"add a download URL for {reference.file_name} to the model library",
        )
    return Finding(
        Severity.INFO,
        "local_model_name",
        f"{labels} names the local file '{reference.url}'. It will be replaced by the model "
        f"library's URL {url}.",
        node_ids=node_ids,
        fix="use the library URL",
        replacement={reference.url: url},
    )


def _url_findings(
    graph: Graph, reference: ModelReference, node_ids: tuple[str, ...], library: Mapping[str, str]
) -> Iterator[Finding]:
    labels = ", ".join(_node_label(graph, node_id) for node_id in node_ids)
    url = reference.url
    chosen = library.get(reference.file_name)
    if (
        chosen is not None
        and chosen != url
        and same_model(reference, parse_model_reference(chosen))
    ):
        yield Finding(
            Severity.WARNING,
            "model_url_differs",
            f"{labels} loads {reference.file_name} from {url}, but the model library uses "
            f"{chosen}. The GPU nodes cache models by exact URL, so this URL misses the nodes "
            "that already hold the file.",
            node_ids=node_ids,
            fix="use the library URL",
            replacement={url: chosen},
        )
    elif chosen is None and canonical_form(url) != url:
        yield Finding(
            Severity.WARNING,
            "model_url_not_canonical",
            f"{labels} loads {reference.file_name} from {url}. Without its extra parts "
            f"(such as download=true) the URL is {canonical_form(url)}. The GPU nodes cache "
            "models by exact URL, so one spelling per model keeps them warm.",
            node_ids=node_ids,
            fix="use the plain URL",
            replacement={url: canonical_form(url)},
        )
    if reference.repo is not None and not reference.pinned:
        yield Finding(
            Severity.INFO,
            "model_not_pinned",
            f"{labels} loads {reference.file_name} from the branch '{reference.revision}' of "
            f"{reference.repo}, so a GPU node downloads whatever the branch holds at that "
            "moment, and nodes that cached the file earlier may hold an older version. Pin "
            "the URL to a commit so that every node caches and runs the same file.",
            node_ids=node_ids,
            fix="replace the branch in the URL by a commit hash",
        )


def _duplicate_findings(
    references: list[ModelReference], values: Mapping[str, list[str]], library: Mapping[str, str]
) -> Iterator[Finding]:
    groups: list[list[ModelReference]] = []
    for reference in references:
        for group in groups:
            if same_model(group[0], reference):
                group.append(reference)
                break
        else:
            groups.append([reference])
    for group in groups:
        # With a library URL for the file, model_url_differs already maps every other URL.
        if len(group) < 2 or group[0].file_name in library:
            continue
        keep = next((ref.url for ref in group if canonical_form(ref.url) == ref.url), None)
        keep = keep or canonical_form(group[0].url)
        node_ids = tuple(node_id for ref in group for node_id in values[ref.url])
        yield Finding(
            Severity.WARNING,
            "duplicate_model_urls",
            f"The workflow loads {group[0].file_name} from {len(group)} different URLs "
            f"({', '.join(ref.url for ref in group)}). Each URL is a separate cache entry on "
            "the GPU nodes.",
            node_ids=node_ids,
            fix=f"use one URL: {keep}",
            replacement={ref.url: keep for ref in group if ref.url != keep},
        )


def _server_model_findings(graph: Graph) -> Iterator[Finding]:
    for value, node_ids in _model_values(graph).items():
        if not _is_url(value):
            continue
        labels = ", ".join(_node_label(graph, node_id) for node_id in node_ids)
        yield Finding(
            Severity.INFO,
            "model_url_on_server",
            f"{labels} names its model by URL ({value}). A ComfyUI server looks models up by "
            "file name in its models folder, so this works only with a node that downloads "
            "URLs.",
            node_ids=tuple(node_ids),
            fix=f"use the file name {parse_model_reference(value).file_name}",
        )


# Helpers -------------------------------------------------------------------------------


def _inputs(node: Mapping[str, Any]) -> dict[str, Any]:
    inputs = node.get("inputs")
    return inputs if isinstance(inputs, dict) else {}


def _node_label(graph: Graph, node_id: str) -> str:
    class_type = graph[node_id].get("class_type", "?")
    return f"Node {node_id} ({class_type})"


def _is_url(value: object) -> bool:
    return isinstance(value, str) and parse_model_reference(value).is_url


def _copy(graph: Graph) -> Graph:
    copy: Graph = json.loads(json.dumps(graph))
    return copy
