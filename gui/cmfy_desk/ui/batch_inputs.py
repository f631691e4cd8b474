"""The batch part of the batch dialog: count, seeds, prompt list, CSV rows and an XY grid.

BatchInputs is what the widget shows, kept as typed text so that a switch between the
workflows of a batch keeps half-typed values. to_plan() turns it into a BatchPlan and raises
ValueError with a readable message for anything that cannot be one.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QRegularExpression, QSignalBlocker, Qt, Signal
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
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
from cmfy_desk.workflows.batch import MAX_BATCH_COUNT, SeedMode, check_seed
from cmfy_desk.workflows.batch_files import parse_axis, read_csv_rows, read_prompt_list
from cmfy_desk.workflows.expansion import BatchPlan
from cmfy_desk.workflows.parameters import Parameter

log = logging.getLogger(__name__)

_SEED_SEPARATORS = re.compile(r"[\s,;]+")


@dataclass(frozen=True)
class BatchInputs:
    """The batch settings as typed. ``first_seed`` and ``seed_list`` are text, and an empty
    ``first_seed`` means the workflow's own seed. ``prompts_text`` has one prompt per line."""

    count: int = 1
    seed_mode: SeedMode = SeedMode.RANDOM
    first_seed: str = ""
    seed_list: str = ""
    prompts_text: str = ""
    csv_path: Path | None = None
    csv_rows: tuple[Mapping[str, str], ...] = ()
    x_key: str = ""
    x_values: str = ""
    y_key: str = ""
    y_values: str = ""

    def prompts(self) -> tuple[str, ...]:
        return tuple(
            line.strip()
            for line in self.prompts_text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")
        )

    def to_plan(self, values: Mapping[str, Any]) -> BatchPlan:
        """Return the plan with ``values`` as its fixed values; raise ValueError naming the
        field to correct."""
        mode = SeedMode(self.seed_mode)
        seeds: tuple[int, ...] = ()
        base_seed: int | None = None
        if mode is SeedMode.LIST:
            seeds = parse_seed_list(self.seed_list)
        elif mode is not SeedMode.RANDOM and self.first_seed.strip():
            base_seed = _parse_seed(
                self.first_seed, QCoreApplication.translate("BatchInputs", "The first seed")
            )
        return BatchPlan(
            count=1 if mode is SeedMode.LIST else self.count,
            seed_mode=mode,
            base_seed=base_seed,
            seeds=seeds,
            prompts=self.prompts(),
            rows=self.csv_rows,
            x_axis=_axis("x", self.x_key, self.x_values),
            y_axis=_axis("y", self.y_key, self.y_values),
            values=dict(values),
        )


def parse_seed_list(text: str) -> tuple[int, ...]:
    """Return the seeds of a list separated by commas, semicolons or spaces.

    Raises ValueError for an empty list or an item that is not a seed."""
    parts = [part for part in _SEED_SEPARATORS.split(text.strip()) if part]
    if not parts:
        raise ValueError(
            QCoreApplication.translate(
                "BatchInputs", "The seed list is empty. Enter seeds separated by commas."
            )
        )
    return tuple(
        _parse_seed(
            part, QCoreApplication.translate("BatchInputs", "Seed '{text}'").format(text=part)
        )
        for part in parts
    )


def _parse_seed(text: str, name: str) -> int:
    try:
        return check_seed(int(text.strip()))
    except ValueError as exc:
        reason = (
            str(exc)
            if text.strip().lstrip("-").isdigit()
            else QCoreApplication.translate("BatchInputs", "not a number.")
        )
        raise ValueError(f"{name}: {reason}") from None


def _axis(name: str, key: str, values: str) -> tuple[str, tuple[str, ...]] | None:
    key = key.strip()
    if not key and not values.strip():
        return None
    if not key:
        raise ValueError(
            QCoreApplication.translate(
                "BatchInputs", "The {axis} axis has values but no parameter. Choose one."
            ).format(axis=name)
        )
    if not values.strip():
        raise ValueError(
            QCoreApplication.translate(
                "BatchInputs",
                "The {axis} axis '{key}' has no values. List them separated by commas.",
            ).format(axis=name, key=key)
        )
    return parse_axis(f"{key}={values}")


class BatchInputsWidget(QWidget):
    """Edits a BatchInputs. ``changed()`` is emitted on every edit; file read errors show
    under the field they belong to."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._csv_path: Path | None = None
        self._csv_rows: tuple[Mapping[str, str], ...] = ()
        self._file_dialog: QFileDialog | None = None

        self.count = QSpinBox()
        self.count.setRange(1, MAX_BATCH_COUNT)
        self.count.setToolTip(
            QCoreApplication.translate("BatchInputs", "Jobs for each prompt, CSV row and grid cell")
        )
        self.count.valueChanged.connect(self.changed)

        self.seed_mode = QComboBox()
        for mode, label in (
            (SeedMode.RANDOM, QCoreApplication.translate("BatchInputs", "Random")),
            (SeedMode.INCREMENT, QCoreApplication.translate("BatchInputs", "Increment")),
            (SeedMode.FIXED, QCoreApplication.translate("BatchInputs", "Fixed")),
            (SeedMode.LIST, QCoreApplication.translate("BatchInputs", "List")),
        ):
            self.seed_mode.addItem(label, str(mode))
        self.seed_mode.currentIndexChanged.connect(self._update_seed_fields)
        self.seed_mode.currentIndexChanged.connect(self.changed)

        # A line edit, because QSpinBox stops at 2**31 - 1 and seeds go up to 2**64 - 1.
        self.first_seed = QLineEdit()
        self.first_seed.setValidator(
            QRegularExpressionValidator(QRegularExpression(r"[0-9]{0,20}"), self)
        )
        self.first_seed.textChanged.connect(self.changed)
        self.seed_list = QLineEdit()
        self.seed_list.setPlaceholderText(
            QCoreApplication.translate("BatchInputs", "e.g. 1, 2, 42 (one job each)")
        )
        self.seed_list.textChanged.connect(self.changed)
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed_mode)
        seed_row.addWidget(self.first_seed, 1)
        seed_row.addWidget(self.seed_list, 1)

        self.prompts = QPlainTextEdit()
        self.prompts.setPlaceholderText(
            QCoreApplication.translate(
                "BatchInputs", "One prompt per line, one job each. Empty: the workflow's prompt."
            )
        )
        self.prompts.setTabChangesFocus(True)
        self.prompts.setFixedHeight(self.prompts.fontMetrics().lineSpacing() * 4 + 12)
        self.prompts.textChanged.connect(self.changed)
        self.prompts.textChanged.connect(self._update_prompt_count)
        self.load_prompts_button = QPushButton(
            QCoreApplication.translate("BatchInputs", "Load from file…")
        )
        self.load_prompts_button.setAutoDefault(False)
        self.load_prompts_button.clicked.connect(self._choose_prompt_file)
        self.prompt_count = QLabel()
        self.prompt_count.setEnabled(False)
        prompt_buttons = QHBoxLayout()
        prompt_buttons.addWidget(self.prompt_count, 1)
        prompt_buttons.addWidget(self.load_prompts_button)
        prompt_box = QVBoxLayout()
        prompt_box.addWidget(self.prompts)
        prompt_box.addLayout(prompt_buttons)

        self.csv_label = QLabel()
        self.csv_label.setWordWrap(True)
        self.choose_csv_button = QPushButton(QCoreApplication.translate("BatchInputs", "Choose…"))
        self.choose_csv_button.setAutoDefault(False)
        self.choose_csv_button.clicked.connect(self._choose_csv_file)
        self.clear_csv_button = QPushButton(QCoreApplication.translate("BatchInputs", "Clear"))
        self.clear_csv_button.setAutoDefault(False)
        self.clear_csv_button.clicked.connect(self.clear_csv)
        csv_row = QHBoxLayout()
        csv_row.addWidget(self.csv_label, 1)
        csv_row.addWidget(self.choose_csv_button)
        csv_row.addWidget(self.clear_csv_button)

        self.x_key, self.x_values, x_row = self._axis_row()
        self.y_key, self.y_values, y_row = self._axis_row()

        self.file_error = QLabel()
        self.file_error.setWordWrap(True)
        self.file_error.setStyleSheet(error_style())
        self.file_error.hide()

        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow(QCoreApplication.translate("BatchInputs", "Count:"), self.count)
        form.addRow(QCoreApplication.translate("BatchInputs", "Seeds:"), seed_row)
        form.addRow(QCoreApplication.translate("BatchInputs", "Prompts:"), prompt_box)
        form.addRow(QCoreApplication.translate("BatchInputs", "CSV file:"), csv_row)
        form.addRow(QCoreApplication.translate("BatchInputs", "Grid x:"), x_row)
        form.addRow(QCoreApplication.translate("BatchInputs", "Grid y:"), y_row)
        form.addRow(self.file_error)
        self._update_csv_label()
        self._update_prompt_count()
        self._update_seed_fields()

    def _axis_row(self) -> tuple[QComboBox, QLineEdit, QHBoxLayout]:
        key = QComboBox()
        key.setEditable(True)
        key.setMinimumContentsLength(14)
        key.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        line = key.lineEdit()
        assert line is not None
        line.setPlaceholderText(QCoreApplication.translate("BatchInputs", "parameter"))
        key.setToolTip(
            QCoreApplication.translate(
                "BatchInputs", "A parameter, a shortcut such as steps or cfg, or NODE.INPUT"
            )
        )
        key.currentTextChanged.connect(self.changed)
        values = QLineEdit()
        values.setPlaceholderText(
            QCoreApplication.translate("BatchInputs", "values, comma-separated: 20, 30, 40")
        )
        values.textChanged.connect(self.changed)
        row = QHBoxLayout()
        row.addWidget(key, 2)
        row.addWidget(values, 3)
        return key, values, row

    # State ------------------------------------------------------------------------------------

    def set_parameters(self, parameters: list[Parameter]) -> None:
        """Offer ``parameters`` in the axis combos, keeping the text typed there."""
        for combo in (self.x_key, self.y_key):
            text = combo.currentText()
            with QSignalBlocker(combo):
                combo.clear()
                combo.addItem("", "")
                for parameter in parameters:
                    combo.addItem(parameter.key, parameter.key)
                    combo.setItemData(
                        combo.count() - 1, parameter.label, Qt.ItemDataRole.ToolTipRole
                    )
                combo.setEditText(text)

    def inputs(self) -> BatchInputs:
        return BatchInputs(
            count=self.count.value(),
            seed_mode=self.selected_seed_mode(),
            first_seed=self.first_seed.text(),
            seed_list=self.seed_list.text(),
            prompts_text=self.prompts.toPlainText(),
            csv_path=self._csv_path,
            csv_rows=self._csv_rows,
            x_key=self.x_key.currentText().strip(),
            x_values=self.x_values.text(),
            y_key=self.y_key.currentText().strip(),
            y_values=self.y_values.text(),
        )

    def set_inputs(self, inputs: BatchInputs) -> None:
        widgets = (
            self.count,
            self.seed_mode,
            self.first_seed,
            self.seed_list,
            self.prompts,
            self.x_key,
            self.x_values,
            self.y_key,
            self.y_values,
        )
        blockers = [QSignalBlocker(widget) for widget in widgets]
        try:
            self.count.setValue(inputs.count)
            self.seed_mode.setCurrentIndex(max(self.seed_mode.findData(str(inputs.seed_mode)), 0))
            self.first_seed.setText(inputs.first_seed)
            self.seed_list.setText(inputs.seed_list)
            self.prompts.setPlainText(inputs.prompts_text)
            self.x_key.setEditText(inputs.x_key)
            self.x_values.setText(inputs.x_values)
            self.y_key.setEditText(inputs.y_key)
            self.y_values.setText(inputs.y_values)
        finally:
            for blocker in blockers:
                blocker.unblock()
        self._csv_path = inputs.csv_path
        self._csv_rows = inputs.csv_rows
        self.file_error.hide()
        self._update_csv_label()
        self._update_prompt_count()
        self._update_seed_fields()
        self.changed.emit()

    def selected_seed_mode(self) -> SeedMode:
        return SeedMode(self.seed_mode.currentData())

    def set_seed_mode(self, mode: SeedMode) -> None:
        self.seed_mode.setCurrentIndex(max(self.seed_mode.findData(str(mode)), 0))

    # Files ------------------------------------------------------------------------------------

    def load_prompt_file(self, path: Path) -> bool:
        """Put the prompts of a text file into the prompt box; return False and show why
        when it cannot be read."""
        try:
            prompts = read_prompt_list(path)
        except ValueError as exc:
            self._show_file_error(str(exc))
            return False
        self.file_error.hide()
        self.prompts.setPlainText("\n".join(prompts))
        return True

    def load_csv_file(self, path: Path) -> bool:
        """Use the rows of a CSV file; return False and show why when it cannot be read."""
        try:
            rows = read_csv_rows(path)
        except ValueError as exc:
            self._show_file_error(str(exc))
            return False
        self.file_error.hide()
        self._csv_path = path
        self._csv_rows = tuple(rows)
        self._update_csv_label()
        self.changed.emit()
        return True

    def clear_csv(self) -> None:
        self._csv_path = None
        self._csv_rows = ()
        self._update_csv_label()
        self.changed.emit()

    def _choose_prompt_file(self) -> None:
        self._open_file_dialog(
            QCoreApplication.translate("BatchInputs", "Load prompts"),
            [
                QCoreApplication.translate("BatchInputs", "Text files (*.txt)"),
                QCoreApplication.translate("BatchInputs", "All files (*)"),
            ],
            self.load_prompt_file,
        )

    def _choose_csv_file(self) -> None:
        self._open_file_dialog(
            QCoreApplication.translate("BatchInputs", "Choose a CSV file"),
            [
                QCoreApplication.translate("BatchInputs", "CSV files (*.csv *.tsv *.txt)"),
                QCoreApplication.translate("BatchInputs", "All files (*)"),
            ],
            self.load_csv_file,
        )

    def _open_file_dialog(self, title: str, filters: list[str], on_file: Any) -> None:
        dialog = QFileDialog(self, title)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setNameFilters(filters)
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
        dialog.fileSelected.connect(lambda name: on_file(Path(name)))
        self._file_dialog = dialog
        dialog.open()

    def _show_file_error(self, text: str) -> None:
        self.file_error.setText(text)
        self.file_error.show()

    # Display ----------------------------------------------------------------------------------

    def _update_csv_label(self) -> None:
        has_file = self._csv_path is not None
        self.clear_csv_button.setEnabled(has_file)
        if self._csv_path is None:
            self.csv_label.setText(
                QCoreApplication.translate("BatchInputs", "none (each column names a parameter)")
            )
            self.csv_label.setToolTip("")
            return
        columns: list[str] = []
        for row in self._csv_rows:
            columns.extend(column for column in row if column not in columns)
        self.csv_label.setText(
            QCoreApplication.translate(
                "BatchInputs", "{name}: {rows} rows · columns {columns}"
            ).format(name=self._csv_path.name, rows=len(self._csv_rows), columns=", ".join(columns))
        )
        self.csv_label.setToolTip(str(self._csv_path))

    def _update_prompt_count(self) -> None:
        count = len(BatchInputs(prompts_text=self.prompts.toPlainText()).prompts())
        self.prompt_count.setText(
            QCoreApplication.translate("BatchInputs", "{count} prompts").format(count=count)
            if count
            else ""
        )

    def _update_seed_fields(self) -> None:
        mode = self.selected_seed_mode()
        listed = mode is SeedMode.LIST
        self.seed_list.setVisible(listed)
        self.first_seed.setVisible(not listed)
        self.first_seed.setEnabled(mode is not SeedMode.RANDOM)
        self.first_seed.setPlaceholderText(
            QCoreApplication.translate("BatchInputs", "a new random seed per job")
            if mode is SeedMode.RANDOM
            else QCoreApplication.translate(
                "BatchInputs", "first seed; empty: the workflow's own seed"
            )
        )
        # A seed list makes one job per seed, so the count does not apply.
        self.count.setEnabled(not listed)
