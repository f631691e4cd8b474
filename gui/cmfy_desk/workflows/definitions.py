"""Node definitions: what ComfyUI's ``GET /object_info`` reports about each node class.

Converting an editor-format workflow needs them, because an editor node stores its widget values
as a bare list (``widgets_values``) and only the definition tells which input each value belongs
to. The app ships the definitions of ComfyUI 0.8.0's core nodes. A server's own ``/object_info``,
or a file saved from one, adds its custom nodes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from cmfy_desk.paths import resource_path

logger = logging.getLogger(__name__)

BUNDLED_FILE = "comfyui-object-info.json"
BUNDLED_SOURCE = "bundled ComfyUI 0.8.0 core nodes"

# Input types that the ComfyUI frontend shows as a widget, so their value is stored in the
# editor node's widgets_values. A list type (legacy form) is a combo as well.
WIDGET_TYPES = frozenset({"INT", "FLOAT", "STRING", "BOOLEAN", "COMBO"})

# A combo whose chosen option adds more inputs, named "<combo>.<input>" (ComfyUI's V3 schema).
DYNAMIC_COMBO_TYPE = "COMFY_DYNAMICCOMBO_V3"

# Widgets whose value the editor produces itself when it queues the workflow: a camera capture,
# a microphone recording, a render of the 3D viewport. Their stored value is a placeholder.
EDITOR_FILLED_TYPES = frozenset({"WEBCAM", "AUDIO_RECORD", "LOAD_3D"})

# The frontend gives an INT widget a "control after generate" companion widget when the input
# requests one. When the definition leaves the flag out, it does so for inputs named seed or
# noise_seed.
LEGACY_SEED_NAMES = ("seed", "noise_seed")

# Options that make the frontend add an upload button (and, for audio, a player) after the
# node's required widgets. Each adds this many entries to widgets_values.
UPLOAD_OPTIONS = {"image_upload": 1, "video_upload": 1, "audio_upload": 2, "file_upload": 1}


@dataclass(frozen=True)
class InputDefinition:
    """One input of a node class, as ``/object_info`` describes it.

    ``type`` is a list of choices for a combo. ``control_after_generate`` is True when the editor
    stores an extra "control after generate" value after this widget's value. ``dynamic_inputs``
    maps each option of a dynamic combo to the inputs that option adds.
    """

    name: str
    type: str | list[str]
    required: bool
    is_widget: bool
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    control_after_generate: bool = False
    options: dict[str, Any] = field(default_factory=dict)
    dynamic_inputs: dict[str, tuple[InputDefinition, ...]] = field(default_factory=dict)

    @property
    def is_combo(self) -> bool:
        return isinstance(self.type, list)

    @property
    def is_dynamic_combo(self) -> bool:
        return bool(self.dynamic_inputs)

    @property
    def filled_by_editor(self) -> bool:
        """Whether the ComfyUI editor computes this widget's value when it queues the prompt."""
        return isinstance(self.type, str) and self.type in EDITOR_FILLED_TYPES

    @property
    def upload_widget_count(self) -> int:
        """Number of upload widgets (button, player) the frontend adds for this input."""
        return sum(count for option, count in UPLOAD_OPTIONS.items() if self.options.get(option))


@dataclass(frozen=True)
class NodeDefinition:
    """A node class: its inputs in ComfyUI's order (``input_order`` when present) and outputs."""

    class_type: str
    display_name: str
    inputs: tuple[InputDefinition, ...]
    output_node: bool
    outputs: tuple[str, ...]

    def widget_inputs(self) -> list[InputDefinition]:
        return [definition for definition in self.inputs if definition.is_widget]

    def input(self, name: str) -> InputDefinition | None:
        for definition in self.inputs:
            if definition.name == name:
                return definition
        return None


class NodeDefinitions:
    """The node classes one ComfyUI installation offers, keyed by class type."""

    def __init__(self, nodes: Mapping[str, NodeDefinition], source: str) -> None:
        self._nodes = dict(nodes)
        self.source = source

    @classmethod
    def bundled(cls) -> NodeDefinitions:
        """Return the definitions shipped with the app (ComfyUI 0.8.0's core nodes), cached."""
        return _bundled()

    @classmethod
    def from_object_info(cls, data: dict[str, Any], source: str) -> NodeDefinitions:
        """Build definitions from the JSON body of ComfyUI's ``GET /object_info``.

        Entries that are not node definitions are skipped with a warning, because one broken
        custom node should not hide all the others. Raises ValueError when ``data`` is not an
        object or contains no node definition at all.
        """
        if not isinstance(data, dict):
            raise ValueError(f"{source}: expected a JSON object of node classes (/object_info).")
        nodes: dict[str, NodeDefinition] = {}
        skipped = 0
        for class_type, entry in data.items():
            try:
                nodes[class_type] = _parse_node(class_type, entry)
            except ValueError as exc:
                skipped += 1
                logger.warning("Skipped node definition %s from %s: %s", class_type, source, exc)
        if not nodes:
            raise ValueError(
                f"{source}: no node definitions found; expected the JSON that ComfyUI returns "
                "for GET /object_info."
            )
        if skipped:
            logger.info(
                "Loaded %s node definitions from %s, skipped %s", len(nodes), source, skipped
            )
        return cls(nodes, source)

    @classmethod
    def from_file(cls, path: Path) -> NodeDefinitions:
        """Read a saved ``/object_info`` response. Raises ValueError naming the file if invalid."""
        fix = "Save the output of GET /object_info from your ComfyUI server and load that file."
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError as exc:
            raise ValueError(f"{path}: the definitions file was not found.") from exc
        except UnicodeDecodeError as exc:
            raise ValueError(f"{path}: is not UTF-8 JSON text. {fix}") from exc
        except OSError as exc:
            raise ValueError(f"{path}: cannot be read: {exc.strerror or exc}.") from exc
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"{path}: is not valid JSON ({exc.msg} at line {exc.lineno}). {fix}"
            ) from exc
        except RecursionError as exc:
            raise ValueError(f"{path}: its JSON is nested too deeply. {fix}") from exc
        if not isinstance(data, dict):
            raise ValueError(f"{path}: is not a node definitions file. {fix}")
        return cls.from_object_info(data, str(path))

    def get(self, class_type: str) -> NodeDefinition | None:
        return self._nodes.get(class_type)

    def __contains__(self, class_type: object) -> bool:
        return class_type in self._nodes

    def __iter__(self) -> Iterator[str]:
        return iter(self._nodes)

    def __len__(self) -> int:
        return len(self._nodes)

    def is_output_node(self, class_type: str) -> bool:
        node = self._nodes.get(class_type)
        return node is not None and node.output_node

    def __repr__(self) -> str:
        return f"NodeDefinitions({len(self._nodes)} classes from {self.source})"


@cache
def _bundled() -> NodeDefinitions:
    path = resource_path(BUNDLED_FILE)
    data = json.loads(path.read_text(encoding="utf-8"))
    return NodeDefinitions.from_object_info(data, BUNDLED_SOURCE)


def _parse_node(class_type: str, entry: object) -> NodeDefinition:
    if not isinstance(entry, dict):
        raise ValueError("the entry is not an object")
    sections = entry.get("input", {})
    if not isinstance(sections, dict):
        raise ValueError("'input' is not an object")
    order = entry.get("input_order")
    inputs: list[InputDefinition] = []
    for section in ("required", "optional"):
        specs = sections.get(section) or {}
        if not isinstance(specs, dict):
            raise ValueError(f"'input.{section}' is not an object")
        names = _ordered_names(specs, order.get(section) if isinstance(order, dict) else None)
        inputs.extend(_parse_input(name, specs[name], section == "required") for name in names)

    outputs = entry.get("output") or []
    display_name = entry.get("display_name")
    return NodeDefinition(
        class_type=class_type,
        display_name=display_name if isinstance(display_name, str) and display_name else class_type,
        inputs=tuple(inputs),
        output_node=entry.get("output_node") is True,
        outputs=tuple(str(output) for output in outputs) if isinstance(outputs, list) else (),
    )


def _ordered_names(specs: dict[str, Any], order: object) -> list[str]:
    """Return the input names in ``input_order``, then any it leaves out in their JSON order."""
    names = [name for name in order if name in specs] if isinstance(order, list) else []
    names.extend(name for name in specs if name not in names)
    return names


def _parse_input(name: str, spec: object, required: bool) -> InputDefinition:
    if isinstance(spec, str):
        spec = [spec]
    if not isinstance(spec, list | tuple) or not spec:
        raise ValueError(f"input {name!r} has no type")
    raw_type = spec[0]
    options = spec[1] if len(spec) > 1 and isinstance(spec[1], dict) else {}

    input_type: str | list[str]
    if isinstance(raw_type, list):
        input_type = [str(choice) for choice in raw_type]
    elif raw_type == "COMBO" and isinstance(options.get("options"), list):
        input_type = [str(choice) for choice in options["options"]]
    else:
        input_type = str(raw_type)

    dynamic_inputs: dict[str, tuple[InputDefinition, ...]] = {}
    if raw_type == DYNAMIC_COMBO_TYPE:
        dynamic_inputs = _parse_dynamic_options(name, options.get("options"))
        input_type = list(dynamic_inputs)

    is_widget = not options.get("forceInput") and (
        isinstance(input_type, list)
        or input_type in WIDGET_TYPES
        or input_type in EDITOR_FILLED_TYPES
    )
    control = options.get("control_after_generate")
    if control is None and input_type == "INT":
        control = name in LEGACY_SEED_NAMES

    return InputDefinition(
        name=name,
        type=input_type,
        required=required,
        is_widget=is_widget,
        default=_default(options, input_type),
        minimum=_number(options.get("min")),
        maximum=_number(options.get("max")),
        step=_number(options.get("step")),
        control_after_generate=bool(control) and is_widget,
        options=options,
        dynamic_inputs=dynamic_inputs,
    )


def _parse_dynamic_options(name: str, raw: object) -> dict[str, tuple[InputDefinition, ...]]:
    if not isinstance(raw, list):
        raise ValueError(f"dynamic combo {name!r} has no options list")
    result: dict[str, tuple[InputDefinition, ...]] = {}
    for option in raw:
        if not isinstance(option, dict) or "key" not in option:
            raise ValueError(f"dynamic combo {name!r} has an option without a key")
        sections = option.get("inputs")
        if not isinstance(sections, dict):
            sections = {}
        nested: list[InputDefinition] = []
        for section in ("required", "optional"):
            specs = sections.get(section)
            if not isinstance(specs, dict):
                continue
            for child, spec in specs.items():
                nested.append(_parse_input(f"{name}.{child}", spec, section == "required"))
        result[str(option["key"])] = tuple(nested)
    return result


def _default(options: dict[str, Any], input_type: str | list[str]) -> Any:
    if "default" in options:
        return options["default"]
    # The frontend's own fallbacks when a definition gives no default.
    if isinstance(input_type, list):
        return input_type[0] if input_type else None
    return {"INT": 0, "FLOAT": 0.0, "STRING": "", "BOOLEAN": False}.get(input_type)


def _number(value: object) -> float | None:
    # Integers stay integers: a seed's maximum (2**64 - 1) does not survive a float.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value
