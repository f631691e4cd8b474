"""The parameter form of the batch dialog: a workflow's usual inputs as typed editors.

find_parameters() picks the inputs (seeds, prompts, steps, size, models...). Each gets an
editor that fits its type and range, grouped as Prompts, Sampling, Size, Models and Other.
Only the values a person changes become the batch's fixed values, keyed by ``NODE.INPUT``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QCoreApplication,
    QRegularExpression,
    QStringListModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QFont, QKeyEvent, QRegularExpressionValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from cmfy_desk.ui.theme import error_style
from cmfy_desk.workflows.definitions import NodeDefinitions
from cmfy_desk.workflows.graph import Graph, is_link
from cmfy_desk.workflows.parameters import Parameter, ParameterKind, describe_parameter

log = logging.getLogger(__name__)

# QSpinBox is limited to a C int, so wider integer inputs (seeds) get a line edit instead.
_INT32_MAX = 2**31 - 1
_INT32_MIN = -(2**31)
# Range of a float input whose definition gives none.
_FLOAT_LIMIT = 1e9
_PROMPT_LINES = 3

_GROUP_OF_KIND = {
    ParameterKind.POSITIVE_PROMPT: "prompts",
    ParameterKind.NEGATIVE_PROMPT: "prompts",
    ParameterKind.SEED: "sampling",
    ParameterKind.STEPS: "sampling",
    ParameterKind.CFG: "sampling",
    ParameterKind.SAMPLER: "sampling",
    ParameterKind.SCHEDULER: "sampling",
    ParameterKind.DENOISE: "sampling",
    ParameterKind.WIDTH: "size",
    ParameterKind.HEIGHT: "size",
    ParameterKind.BATCH_SIZE: "size",
    ParameterKind.MODEL: "models",
    ParameterKind.OTHER: "other",
}
_GROUPS = ("prompts", "sampling", "size", "models", "other")


def _group_of(parameter: Parameter) -> str:
    return _GROUP_OF_KIND.get(parameter.kind, "other")


def group_title(group: str) -> str:
    titles = {
        "prompts": QCoreApplication.translate("ParameterForm", "Prompts"),
        "sampling": QCoreApplication.translate("ParameterForm", "Sampling"),
        "size": QCoreApplication.translate("ParameterForm", "Size"),
        "models": QCoreApplication.translate("ParameterForm", "Models"),
        "other": QCoreApplication.translate("ParameterForm", "Other"),
    }
    return titles[group]


def kind_label(kind: ParameterKind) -> str | None:
    """Return the short label of a parameter kind, or None for models and other inputs."""
    labels = {
        ParameterKind.POSITIVE_PROMPT: QCoreApplication.translate(
            "ParameterForm", "Positive prompt"
        ),
        ParameterKind.NEGATIVE_PROMPT: QCoreApplication.translate(
            "ParameterForm", "Negative prompt"
        ),
        ParameterKind.SEED: QCoreApplication.translate("ParameterForm", "Seed"),
        ParameterKind.STEPS: QCoreApplication.translate("ParameterForm", "Steps"),
        ParameterKind.CFG: QCoreApplication.translate("ParameterForm", "CFG"),
        ParameterKind.SAMPLER: QCoreApplication.translate("ParameterForm", "Sampler"),
        ParameterKind.SCHEDULER: QCoreApplication.translate("ParameterForm", "Scheduler"),
        ParameterKind.DENOISE: QCoreApplication.translate("ParameterForm", "Denoise"),
        ParameterKind.WIDTH: QCoreApplication.translate("ParameterForm", "Width"),
        ParameterKind.HEIGHT: QCoreApplication.translate("ParameterForm", "Height"),
        ParameterKind.BATCH_SIZE: QCoreApplication.translate("ParameterForm", "Batch size"),
    }
    return labels.get(kind)


def node_description(graph: Graph, parameter: Parameter) -> str:
    """Return where a parameter sits, as ``node 5 KSampler.seed``."""
    class_type = graph.get(parameter.node_id, {}).get("class_type", "?")
    return QCoreApplication.translate("ParameterForm", "node {node} {class_type}.{input}").format(
        node=parameter.node_id, class_type=class_type, input=parameter.input_name
    )


def input_references(graph: Graph) -> list[str]:
    """Return a ``NODE.INPUT`` reference for every literal input, by node id and by title."""
    references: list[str] = []
    for node_id, node in graph.items():
        inputs = node.get("inputs")
        if not isinstance(inputs, dict):
            continue
        meta = node.get("_meta")
        title = meta.get("title") if isinstance(meta, dict) else None
        for name, value in inputs.items():
            if is_link(value):
                continue
            references.append(f"{node_id}.{name}")
            if isinstance(title, str) and title and "." not in title:
                references.append(f"{title}.{name}")
    return references


@dataclass
class ParameterEditor:
    """One parameter's editor: ``read()`` returns its value (raising ValueError for text that
    is not a number), ``write(value)`` shows one. ``initial`` is what the editor showed for the
    workflow's own value, so a value rounded by the editor does not count as an edit."""

    parameter: Parameter
    widget: QWidget
    label: QLabel
    read: Callable[[], Any]
    write: Callable[[Any], None]
    initial: Any = None

    def is_edited(self) -> bool:
        try:
            return bool(self.read() != self.initial)
        except ValueError:
            return True


def make_editor(
    parameter: Parameter, label: QLabel, on_change: Callable[[], None]
) -> ParameterEditor:
    """Return the editor that fits ``parameter``'s type, showing its value."""
    if parameter.value_type == "int":
        editor = _int_editor(parameter, label, on_change)
    elif parameter.value_type == "float":
        editor = _float_editor(parameter, label, on_change)
    elif parameter.value_type == "bool":
        box = QCheckBox()
        box.toggled.connect(on_change)
        editor = ParameterEditor(
            parameter, box, label, box.isChecked, lambda v: box.setChecked(bool(v))
        )
    elif parameter.value_type == "choice":
        editor = _choice_editor(parameter, label, on_change)
    elif parameter.kind in (ParameterKind.POSITIVE_PROMPT, ParameterKind.NEGATIVE_PROMPT):
        text = QPlainTextEdit()
        text.setTabChangesFocus(True)
        line_height = text.fontMetrics().lineSpacing()
        text.setFixedHeight(line_height * _PROMPT_LINES + 12)
        text.textChanged.connect(on_change)
        editor = ParameterEditor(
            parameter, text, label, text.toPlainText, lambda v: text.setPlainText(str(v))
        )
    else:
        line = QLineEdit()
        line.textChanged.connect(on_change)
        line.setCursorPosition(0)
        editor = ParameterEditor(parameter, line, label, line.text, lambda v: _set_line(line, v))
    editor.write(parameter.value)
    editor.initial = editor.read()
    return editor


def _set_line(line: QLineEdit, value: Any) -> None:
    line.setText("" if value is None else str(value))
    # Long URLs show their start, which names the host, rather than their end.
    line.setCursorPosition(0)


def _int_editor(
    parameter: Parameter, label: QLabel, on_change: Callable[[], None]
) -> ParameterEditor:
    minimum = int(parameter.minimum) if parameter.minimum is not None else _INT32_MIN
    maximum = int(parameter.maximum) if parameter.maximum is not None else _INT32_MAX
    value = parameter.value
    fits = not isinstance(value, int) or _INT32_MIN <= value <= _INT32_MAX
    if minimum >= _INT32_MIN and maximum <= _INT32_MAX and fits:
        spin = QSpinBox()
        spin.setRange(minimum, maximum)
        if parameter.step:
            spin.setSingleStep(max(1, int(parameter.step)))
        spin.setToolTip(
            QCoreApplication.translate("ParameterForm", "From {minimum} to {maximum}").format(
                minimum=minimum, maximum=maximum
            )
        )
        spin.valueChanged.connect(on_change)
        return ParameterEditor(parameter, spin, label, spin.value, lambda v: spin.setValue(int(v)))

    # Seeds reach 2**64 - 1, beyond QSpinBox, so they are typed as digits and checked here.
    line = QLineEdit()
    pattern = r"-?[0-9]{1,20}" if minimum < 0 else r"[0-9]{1,20}"
    line.setValidator(QRegularExpressionValidator(QRegularExpression(pattern), line))
    line.setPlaceholderText(
        QCoreApplication.translate("ParameterForm", "{minimum} to {maximum}").format(
            minimum=minimum, maximum=maximum
        )
    )
    line.textChanged.connect(on_change)

    def read() -> int:
        text = line.text().strip()
        try:
            value = int(text)
        except ValueError:
            raise ValueError(
                QCoreApplication.translate(
                    "ParameterForm", "{name}: '{text}' is not a whole number."
                ).format(name=parameter.label, text=text)
            ) from None
        if not minimum <= value <= maximum:
            raise ValueError(
                QCoreApplication.translate(
                    "ParameterForm", "{name} must be between {minimum} and {maximum}, got {value}."
                ).format(name=parameter.label, minimum=minimum, maximum=maximum, value=value)
            )
        return value

    return ParameterEditor(parameter, line, label, read, lambda v: line.setText(str(v)))


def _float_editor(
    parameter: Parameter, label: QLabel, on_change: Callable[[], None]
) -> ParameterEditor:
    spin = QDoubleSpinBox()
    minimum = parameter.minimum if parameter.minimum is not None else -_FLOAT_LIMIT
    maximum = parameter.maximum if parameter.maximum is not None else _FLOAT_LIMIT
    step = parameter.step or 0.1
    # Enough decimals for the step (0.01 → 2) and for the workflow's own value.
    decimals = max(2, _decimals(step), _decimals(parameter.value))
    spin.setDecimals(min(decimals, 6))
    spin.setRange(float(minimum), float(maximum))
    spin.setSingleStep(float(step))
    spin.setToolTip(
        QCoreApplication.translate("ParameterForm", "From {minimum} to {maximum}").format(
            minimum=minimum, maximum=maximum
        )
    )
    spin.valueChanged.connect(on_change)
    return ParameterEditor(parameter, spin, label, spin.value, lambda v: spin.setValue(float(v)))


def _decimals(value: object) -> int:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return 0
    text = repr(float(value))
    if "e" in text:
        return 6
    return len(text.partition(".")[2].rstrip("0"))


def _choice_editor(
    parameter: Parameter, label: QLabel, on_change: Callable[[], None]
) -> ParameterEditor:
    combo = QComboBox()
    choices = list(parameter.choices or ())
    current = "" if parameter.value is None else str(parameter.value)
    if current and current not in choices:
        # A value the bundled definitions do not list (a custom sampler) stays selectable.
        choices.insert(0, current)
    combo.addItems(choices)
    if not parameter.choices:
        combo.setEditable(True)
    combo.currentTextChanged.connect(on_change)

    def write(value: Any) -> None:
        text = str(value)
        index = combo.findText(text)
        if index < 0:
            combo.addItem(text)
            index = combo.count() - 1
        combo.setCurrentIndex(index)

    return ParameterEditor(parameter, combo, label, combo.currentText, write)


class _ReferenceEdit(QLineEdit):
    """A line edit that keeps Return for itself, so that adding an input does not also press
    the dialog's default button."""

    def keyPressEvent(self, event: QKeyEvent) -> None:
        super().keyPressEvent(event)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            event.accept()


class ParameterForm(QWidget):
    """Typed editors for one workflow's parameters, plus "Add input" for any other input.

    ``changed()`` is emitted on every edit. ``values()`` returns the edited values keyed by
    ``NODE.INPUT``; ``extra_keys()`` the inputs added by hand, so that both survive a switch
    to another workflow of the batch and back.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._graph: Graph = {}
        self._definitions: NodeDefinitions | None = None
        self._editors: dict[str, ParameterEditor] = {}
        self._extra_keys: list[str] = []
        self._loading = False
        self._groups: dict[str, tuple[QGroupBox, QFormLayout]] = {}

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for group in _GROUPS:
            box = QGroupBox(group_title(group))
            form = QFormLayout(box)
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
            self._groups[group] = (box, form)
            layout.addWidget(box)

        self.add_input = _ReferenceEdit()
        self.add_input.setPlaceholderText(
            QCoreApplication.translate("ParameterForm", "NODE.INPUT, e.g. KSampler.denoise")
        )
        self.add_input.setToolTip(
            QCoreApplication.translate(
                "ParameterForm",
                "Any literal input of the workflow, by node id or title and input name",
            )
        )
        self._completions = QStringListModel(self)
        completer = QCompleter(self._completions, self.add_input)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.add_input.setCompleter(completer)
        self.add_input.returnPressed.connect(self._add_typed_input)
        self.add_button = QPushButton(QCoreApplication.translate("ParameterForm", "Add input"))
        self.add_button.setAutoDefault(False)
        self.add_button.clicked.connect(self._add_typed_input)
        self.reset_button = QPushButton(QCoreApplication.translate("ParameterForm", "Reset values"))
        self.reset_button.setToolTip(
            QCoreApplication.translate("ParameterForm", "Show the workflow's own values again")
        )
        self.reset_button.setAutoDefault(False)
        self.reset_button.clicked.connect(self.reset_values)
        add_row = QHBoxLayout()
        add_row.addWidget(self.add_input, 1)
        add_row.addWidget(self.add_button)
        add_row.addWidget(self.reset_button)
        self.add_error = QLabel()
        self.add_error.setWordWrap(True)
        self.add_error.setStyleSheet(error_style())
        self.add_error.hide()
        layout.addLayout(add_row)
        layout.addWidget(self.add_error)
        layout.addStretch(1)

    # Contents ---------------------------------------------------------------------------------

    def set_workflow(
        self,
        graph: Graph,
        parameters: list[Parameter],
        definitions: NodeDefinitions | None,
        values: dict[str, Any] | None = None,
        extra_keys: list[str] | None = None,
    ) -> None:
        """Show ``parameters`` of ``graph``, then the inputs added by hand and the edits kept
        from before; edits of inputs the graph no longer has are dropped."""
        self._loading = True
        try:
            self._clear()
            self._graph = graph
            self._definitions = definitions
            kinds = [parameter.kind for parameter in parameters]
            # The positive prompt comes first, whatever the order of the nodes in the graph.
            ordered = sorted(
                parameters, key=lambda item: item.kind is not ParameterKind.POSITIVE_PROMPT
            )
            for parameter in ordered:
                self._add_editor(parameter, unique=kinds.count(parameter.kind) == 1)
            self._extra_keys = []
            for key in extra_keys or []:
                try:
                    parameter = describe_parameter(graph, key, definitions)
                except ValueError:
                    continue
                if parameter.key not in self._editors:
                    self._add_editor(parameter, unique=False)
                    self._extra_keys.append(parameter.key)
            for key, value in (values or {}).items():
                editor = self._editors.get(key)
                if editor is not None:
                    editor.write(value)
            self._set_completions(input_references(graph))
            self._update_groups()
            self._update_labels()
        finally:
            self._loading = False

    def values(self) -> dict[str, Any]:
        """Return the edited values keyed by ``NODE.INPUT``; raise ValueError for one that is
        not valid (a seed that is not a number)."""
        return {key: editor.read() for key, editor in self._editors.items() if editor.is_edited()}

    def draft_values(self) -> dict[str, Any]:
        """Return the edited values that can be read, skipping invalid ones."""
        found: dict[str, Any] = {}
        for key, editor in self._editors.items():
            try:
                if editor.is_edited():
                    found[key] = editor.read()
            except ValueError:
                continue
        return found

    def extra_keys(self) -> list[str]:
        return list(self._extra_keys)

    def editor(self, key: str) -> ParameterEditor | None:
        return self._editors.get(key)

    def editors(self) -> list[ParameterEditor]:
        return list(self._editors.values())

    def reset_values(self) -> None:
        for editor in self._editors.values():
            editor.write(editor.initial)

    def add_reference(self, reference: str) -> Parameter | None:
        """Add an editor for ``reference`` (``NODE.INPUT``); return its parameter, or None
        with the reason shown under the field."""
        try:
            parameter = describe_parameter(self._graph, reference, self._definitions)
        except ValueError as exc:
            self.add_error.setText(str(exc))
            self.add_error.show()
            return None
        self.add_error.hide()
        existing = self._editors.get(parameter.key)
        if existing is not None:
            existing.widget.setFocus()
            return parameter
        self._add_editor(parameter, unique=False)
        self._extra_keys.append(parameter.key)
        self._update_groups()
        self.add_input.clear()
        self._editors[parameter.key].widget.setFocus()
        return parameter

    # Helpers ----------------------------------------------------------------------------------

    def _set_completions(self, references: list[str]) -> None:
        self._completions.setStringList(references)

    def completions(self) -> list[str]:
        return self._completions.stringList()

    def _add_typed_input(self) -> None:
        text = self.add_input.text().strip()
        if text:
            self.add_reference(text)

    def _add_editor(self, parameter: Parameter, unique: bool) -> None:
        name = kind_label(parameter.kind)
        if name is None:
            name = parameter.label
        elif not unique:
            name = QCoreApplication.translate("ParameterForm", "{name} (node {node})").format(
                name=name, node=parameter.node_id
            )
        label = QLabel(name)
        where = node_description(self._graph, parameter)
        label.setToolTip(where)
        editor = make_editor(parameter, label, self._on_edit)
        existing_tip = editor.widget.toolTip()
        editor.widget.setToolTip(f"{where}\n{existing_tip}" if existing_tip else where)
        self._editors[parameter.key] = editor
        _box, form = self._groups[_group_of(parameter)]
        form.addRow(label, editor.widget)

    def _clear(self) -> None:
        for editor in self._editors.values():
            _box, form = self._groups[_group_of(editor.parameter)]
            # removeRow() deletes the widget, so its signals are blocked for good first.
            editor.widget.blockSignals(True)
            form.removeRow(editor.widget)
        self._editors.clear()
        self.add_error.hide()
        self.add_input.clear()

    def _update_groups(self) -> None:
        for _group, (box, form) in self._groups.items():
            box.setVisible(form.rowCount() > 0)

    def _update_labels(self) -> None:
        # An edited value shows its label in bold, so the values the batch changes stand out.
        for editor in self._editors.values():
            font = QFont(editor.label.font())
            font.setBold(editor.is_edited())
            editor.label.setFont(font)

    def _on_edit(self) -> None:
        if self._loading:
            return
        self._update_labels()
        self.changed.emit()
