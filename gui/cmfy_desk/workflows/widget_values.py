"""Mapping of an editor node's ``widgets_values`` to the names of its inputs.

The editor saves one value per widget, in the order it created the widgets, and that order comes
from the node definition: the required inputs, then the optional ones, skipping inputs that are
sockets only. Some widgets add values that are never sent to the server:

- a "control after generate" value (``fixed``, ``randomize``...) after a seed-like widget, and
  after a combo that requests one a second value (the combo's filter);
- upload buttons (and an audio player) after the last required widget of a node that loads
  images, video, audio or 3D files, as in ``["photo.png", "red", "image"]`` for LoadImageMask;
- widgets the definition does not know about (previews, buttons) at the end, which are ignored.

Some custom nodes save an object of values by name instead of a list.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cmfy_desk.workflows.definitions import InputDefinition, NodeDefinition
from cmfy_desk.workflows.editor import ConversionError

NUMBER_TYPES = ("INT", "FLOAT")


class _ValueReader:
    def __init__(self, values: list[Any]) -> None:
        self._values = values
        self._position = 0

    @property
    def exhausted(self) -> bool:
        return self._position >= len(self._values)

    def take(self) -> Any:
        value = self._values[self._position]
        self._position += 1
        return value

    def skip(self, count: int) -> None:
        self._position += count


def widget_values_by_name(
    definition: NodeDefinition, values: object, node_id: str, source: str
) -> dict[str, Any]:
    """Return the widget values of one editor node by input name.

    A widget without a saved value gets its default, as in the editor when a node gains an input.
    Raises ConversionError when a number widget would receive a value that is not a number,
    which means the saved values do not line up with this definition of the node.
    """
    if values is None:
        values = []
    if isinstance(values, dict):
        return _values_from_object(definition, values, node_id, source)
    if not isinstance(values, list):
        raise ConversionError(
            "its widgets_values is neither a list nor an object.",
            node_id=node_id,
            class_type=definition.class_type,
        )

    widgets = _widgets_in_list(definition, len(values))
    reader = _ValueReader(values)
    result: dict[str, Any] = {}
    for widget in widgets:
        if widget is None:
            reader.skip(1)
        else:
            _read_widget(widget, reader, result, node_id, definition, source)
    return result


def _widgets_in_list(definition: NodeDefinition, count: int) -> list[InputDefinition | None]:
    """Return the widgets in the order of a saved list of ``count`` values; None is a slot to skip.

    Workflows saved before an input became socket-only (``forceInput``) still hold a value for
    it. The frontend recognizes them by their length (migrateWidgetsValues), and so does this.
    """
    legacy = [
        spec
        for spec in definition.inputs
        if spec.is_widget or (spec.options.get("forceInput") and _widget_type(spec))
    ]
    current = [spec for spec in legacy if spec.is_widget]
    uses_legacy = (
        len(legacy) != len(current)
        and not any(spec.is_dynamic_combo for spec in current)
        and _stored_count(legacy) == count
    )
    chosen = legacy if uses_legacy else current

    layout: list[InputDefinition | None] = []
    uploads = sum(spec.upload_widget_count for spec in chosen)
    required = [spec for spec in chosen if spec.required]
    optional = [spec for spec in chosen if not spec.required]
    for spec in required:
        layout.append(spec if spec.is_widget else None)
    layout.extend([None] * uploads)
    for spec in optional:
        layout.append(spec if spec.is_widget else None)
    return layout


def _widget_type(spec: InputDefinition) -> bool:
    return spec.is_combo or spec.type in ("INT", "FLOAT", "STRING", "BOOLEAN", "COMBO")


def _stored_count(specs: Iterable[InputDefinition]) -> int:
    return sum(1 + _control_value_count(spec) + spec.upload_widget_count for spec in specs)


def _control_value_count(spec: InputDefinition) -> int:
    if not spec.control_after_generate:
        return 0
    # NOTE: the second value for a combo (its filter) follows the frontend's value-control
    # code. No core node of ComfyUI 0.8.0 has such a combo, so no saved workflow confirms it.
    return 2 if spec.is_combo else 1


def _read_widget(
    spec: InputDefinition,
    reader: _ValueReader,
    result: dict[str, Any],
    node_id: str,
    definition: NodeDefinition,
    source: str,
) -> None:
    if reader.exhausted:
        value = spec.default
    else:
        value = reader.take()
        _check_value(spec, value, node_id, definition, source)
        reader.skip(_control_value_count(spec))
    if value is not None:
        result[spec.name] = value
    if spec.is_dynamic_combo:
        for nested in spec.dynamic_inputs.get(str(value), ()):
            if nested.is_widget:
                _read_widget(nested, reader, result, node_id, definition, source)


def _values_from_object(
    definition: NodeDefinition, values: dict[str, Any], node_id: str, source: str
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    pending = list(definition.widget_inputs())
    while pending:
        spec = pending.pop(0)
        value = values.get(spec.name, spec.default)
        if spec.name in values:
            _check_value(spec, value, node_id, definition, source)
        if value is not None:
            result[spec.name] = value
        if spec.is_dynamic_combo:
            pending[0:0] = [
                nested for nested in spec.dynamic_inputs.get(str(value), ()) if nested.is_widget
            ]
    return result


def _check_value(
    spec: InputDefinition, value: Any, node_id: str, definition: NodeDefinition, source: str
) -> None:
    if spec.type not in NUMBER_TYPES or _is_number(value):
        return
    raise ConversionError(
        f"the saved value {value!r} of widget '{spec.name}' is not a number, so the node's "
        f"saved values do not match its definition in {source} (the workflow was probably "
        "saved with another version of this node). Load the node definitions of the server "
        "that will run it, or open the workflow in that server's ComfyUI and save it again.",
        node_id=node_id,
        class_type=definition.class_type,
    )


def _is_number(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    if isinstance(value, str):
        # ComfyUI converts a number widget's value with int() or float() before it runs the node.
        try:
            float(value)
        except ValueError:
            return False
        return True
    return False
