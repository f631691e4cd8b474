"""The record of how an output was made, as the viewer and the compare window show it: the
output's job, batch and index row read from the store, the facts taken from the job's graph,
and the metadata panel with its copy buttons.

The job's stored graph is the record of how the image was made (the graph that ran, with its
seed and model URLs), so prompts, steps, sampler and models come from it. The index row adds
what the person gave the image: rating, favourite and tags.
"""

from __future__ import annotations

import html
import json
import time
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cmfy_desk.metrics import parse_iso
from cmfy_desk.outputs.index import describe_graph
from cmfy_desk.store import Batch, ImageRecord, Job, Output, Store
from cmfy_desk.workflows.model_urls import model_inputs, parse_model_reference

# The maximum number of characters of one value in a line of the graph tree. The line's
# tooltip shows the whole value.
GRAPH_VALUE_CHARS = 200


@dataclass(frozen=True)
class OutputDetails:
    """An output with the job and batch that made it and its image index row. Each of them is
    None when the store has no such row (a job deleted, an image not indexed yet)."""

    output: Output
    job: Job | None = None
    batch: Batch | None = None
    image: ImageRecord | None = None


def load_output_details(store: Store, output_id: int) -> OutputDetails:
    """Read output ``output_id`` with its job, batch and index row from ``store``.

    Raises KeyError when the store has no output ``output_id``.
    """
    output = store.get_output(output_id)
    job: Job | None
    try:
        job = store.get_job(output.job_id)
    except KeyError:
        job = None
    batch: Batch | None = None
    if job is not None:
        try:
            batch = store.get_batch(job.batch_id)
        except KeyError:
            batch = None
    image = store.gallery.get_by_path(output.local_path)
    return OutputDetails(output, job, batch, image)


# Facts ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelEntry:
    """A model the job loaded: its file name and the URL it came from (empty for a local
    file name)."""

    name: str
    url: str


@dataclass(frozen=True)
class ImageFacts:
    """The parameters that made an image, from its job's graph, or from its index row when
    the job is gone."""

    prompt: str = ""
    negative: str = ""
    seed: int | None = None
    steps: int | None = None
    cfg: float | None = None
    sampler: str = ""
    width: int | None = None
    height: int | None = None
    models: tuple[ModelEntry, ...] = ()


def image_facts(details: OutputDetails) -> ImageFacts:
    output, job, image = details.output, details.job, details.image
    if job is not None:
        graph = describe_graph(job.prompt)
        models: list[ModelEntry] = []
        for _node_id, _name, value in model_inputs(job.prompt):
            reference = parse_model_reference(value)
            entry = ModelEntry(reference.file_name, reference.url)
            if entry not in models:
                models.append(entry)
        return ImageFacts(
            prompt=graph.prompt,
            negative=graph.negative,
            seed=job.seed if job.seed is not None else graph.seed,
            steps=graph.steps,
            cfg=graph.cfg,
            sampler=graph.sampler,
            width=output.width if output.width is not None else graph.width,
            height=output.height if output.height is not None else graph.height,
            models=tuple(models),
        )
    if image is not None:
        # The index keeps names and URLs as two lists; they pair up only when equally long.
        urls = image.model_urls if len(image.model_urls) == len(image.models) else ()
        return ImageFacts(
            prompt=image.prompt,
            negative=image.negative,
            seed=image.seed,
            steps=image.steps,
            cfg=image.cfg,
            sampler=image.sampler,
            width=output.width if output.width is not None else image.width,
            height=output.height if output.height is not None else image.height,
            models=tuple(
                ModelEntry(name, urls[index] if urls else "")
                for index, name in enumerate(image.models)
            ),
        )
    return ImageFacts(width=output.width, height=output.height)


@dataclass(frozen=True)
class JobTimes:
    """A job's durations in seconds, None where a timestamp is missing.

    ``queued`` runs from the job's creation to its start and ``run`` from its start to its end,
    both by the server's clock where it reported these times and otherwise as the app saw
    them (the local queue and downloading included). ``execution`` is the GPU time the server
    reported, and ``total`` runs from the job's creation to the end of its download.
    """

    queued: float | None
    run: float | None
    execution: float | None
    total: float | None


def job_times(job: Job) -> JobTimes:
    def between(start: float | None, end: float | None) -> float | None:
        return None if start is None or end is None else max(0.0, end - start)

    # The server's times where it reported them, as the metrics use them: the app records a
    # job's start only when it reads its status, which with webhooks is after the job ended.
    remote_started = parse_iso(job.remote_started_at)
    queued = between(parse_iso(job.remote_created_at), remote_started)
    run = between(remote_started, parse_iso(job.remote_completed_at))
    return JobTimes(
        queued=queued if queued is not None else between(job.created_at, job.started_at),
        run=run if run is not None else between(job.started_at, job.finished_at),
        execution=None if job.execution_time_ms is None else job.execution_time_ms / 1000,
        total=between(job.created_at, job.finished_at),
    )


def parameters_text(facts: ImageFacts) -> str:
    """Return the parameters in the "parameters" text of AUTOMATIC1111-style tools: the
    prompt, a "Negative prompt:" line, and one line of "Key: value" settings.

    Other image tools read this text, and so does outputs/index.py's parse_a1111_parameters.
    """
    lines = [facts.prompt]
    if facts.negative:
        lines.append(f"Negative prompt: {facts.negative}")
    settings: list[tuple[str, object]] = [
        ("Steps", facts.steps),
        ("Sampler", facts.sampler or None),
        ("CFG scale", facts.cfg),
        ("Seed", facts.seed),
    ]
    if facts.width and facts.height:
        settings.append(("Size", f"{facts.width}x{facts.height}"))
    if facts.models:
        settings.append(("Model", facts.models[0].name))
    lines.append(
        ", ".join(f"{key}: {_setting_value(value)}" for key, value in settings if value is not None)
    )
    return "\n".join(lines)


def _setting_value(value: object) -> str:
    text = str(value)
    # A value with a comma or a quote is quoted, as the format does, so it stays one setting.
    if "," in text or '"' in text:
        return json.dumps(text, ensure_ascii=False)
    return text


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return QCoreApplication.translate("ImageDetails", "{seconds:.1f} s").format(seconds=seconds)
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return QCoreApplication.translate("ImageDetails", "{minutes} min {seconds:02d} s").format(
            minutes=minutes, seconds=rest
        )
    hours, minutes = divmod(minutes, 60)
    return QCoreApplication.translate("ImageDetails", "{hours} h {minutes:02d} min").format(
        hours=hours, minutes=minutes
    )


def _date_time(timestamp: float | None) -> str:
    if timestamp is None:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp))


def _number_text(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


# The panel ------------------------------------------------------------------------------------


class MetadataPanel(QWidget):
    """The metadata of the shown output: prompts, seed, parameters, models with their URLs,
    times, batch and connection, and the graph as a tree of JSON that opens node by node.

    "Copy prompt", "Copy seed" and "Copy parameters" put text on the clipboard; the
    parameters are in the format ``parameters_text()`` returns. Rows without a value are
    hidden.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._details: OutputDetails | None = None
        self._facts = ImageFacts()
        self._graph_shown_for: OutputDetails | None = None

        self.title = QLabel()
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.title.setFont(font)
        self.title.setWordWrap(True)

        self.copy_prompt_button = QPushButton(self.tr("Copy prompt"))
        self.copy_prompt_button.clicked.connect(self.copy_prompt)
        self.copy_seed_button = QPushButton(self.tr("Copy seed"))
        self.copy_seed_button.clicked.connect(self.copy_seed)
        self.copy_parameters_button = QPushButton(self.tr("Copy parameters"))
        self.copy_parameters_button.setToolTip(
            self.tr("Copy the prompts and settings in the text format other image tools read")
        )
        self.copy_parameters_button.clicked.connect(self.copy_parameters)
        copy_row = QHBoxLayout()
        for button in (
            self.copy_prompt_button,
            self.copy_seed_button,
            self.copy_parameters_button,
        ):
            copy_row.addWidget(button)
        copy_row.addStretch(1)

        self.fields: dict[str, QLabel] = {}
        self._form = QFormLayout()
        self._form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        for key, label in (
            ("prompt", self.tr("Prompt:")),
            ("negative", self.tr("Negative prompt:")),
            ("seed", self.tr("Seed:")),
            ("steps", self.tr("Steps:")),
            ("cfg", self.tr("CFG:")),
            ("sampler", self.tr("Sampler:")),
            ("size", self.tr("Size:")),
            ("models", self.tr("Models:")),
            ("parameters", self.tr("Batch values:")),
            ("batch", self.tr("Batch:")),
            ("connection", self.tr("Connection:")),
            ("created", self.tr("Created:")),
            ("queued", self.tr("Queued:")),
            ("run", self.tr("Run:")),
            ("execution", self.tr("GPU time:")),
            ("total", self.tr("Total:")),
            ("rating", self.tr("Rating:")),
            ("tags", self.tr("Tags:")),
            ("path", self.tr("File:")),
        ):
            field = _value_label()
            self.fields[key] = field
            self._form.addRow(label, field)
        models = self.fields["models"]
        models.setTextFormat(Qt.TextFormat.RichText)
        models.setOpenExternalLinks(True)
        models.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.LinksAccessibleByMouse
        )
        self.fields["queued"].setToolTip(self.tr("From queueing the job to its start"))
        self.fields["run"].setToolTip(self.tr("From its start to its end, download included"))
        self.fields["execution"].setToolTip(self.tr("The GPU time the server reported"))
        self.fields["parameters"].setToolTip(
            self.tr("The values the batch set for this job, such as a CSV row's")
        )

        self.graph_button = QToolButton()
        self.graph_button.setCheckable(True)
        self.graph_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.graph_button.setArrowType(Qt.ArrowType.RightArrow)
        self.graph_button.setAutoRaise(True)
        self.graph_button.toggled.connect(self._show_graph)
        self.copy_graph_button = QPushButton(self.tr("Copy graph"))
        self.copy_graph_button.setToolTip(self.tr("Copy the graph as API-format JSON"))
        self.copy_graph_button.clicked.connect(self.copy_graph)
        graph_row = QHBoxLayout()
        graph_row.addWidget(self.graph_button)
        graph_row.addStretch(1)
        graph_row.addWidget(self.copy_graph_button)
        self.graph_tree = QTreeWidget()
        self.graph_tree.setHeaderHidden(True)
        self.graph_tree.setColumnCount(1)
        self.graph_tree.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.graph_tree.setMinimumHeight(260)
        self.graph_tree.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.graph_tree.hide()

        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(self.title)
        layout.addLayout(copy_row)
        layout.addSpacing(4)
        layout.addLayout(self._form)
        layout.addSpacing(4)
        layout.addLayout(graph_row)
        layout.addWidget(self.graph_tree)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(page)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self.setMinimumWidth(300)

    @property
    def facts(self) -> ImageFacts:
        return self._facts

    def show_details(self, details: OutputDetails) -> None:
        self._details = details
        self._facts = facts = image_facts(details)
        output, job, batch, image = details.output, details.job, details.batch, details.image
        if job is not None:
            self.title.setText(f"{job.workflow_name} #{job.position + 1}")
        else:
            self.title.setText(
                self.tr("Output {id} (its job is no longer recorded)").format(id=output.id)
            )
        times = job_times(job) if job is not None else None
        values = {
            "prompt": facts.prompt,
            "negative": facts.negative,
            "seed": "" if facts.seed is None else str(facts.seed),
            "steps": "" if facts.steps is None else str(facts.steps),
            "cfg": _number_text(facts.cfg),
            "sampler": facts.sampler,
            "size": self._size_text(output, facts),
            "models": _models_html(facts.models),
            "parameters": _batch_values_text(job.parameters) if job is not None else "",
            "batch": self._batch_text(batch, job),
            "connection": job.connection
            if job is not None
            else (image.connection if image else ""),
            "created": _date_time(job.created_at if job is not None else output.created_at),
            "queued": duration_text(times.queued) if times else "",
            "run": duration_text(times.run) if times else "",
            "execution": duration_text(times.execution) if times else "",
            "total": duration_text(times.total) if times else "",
            "rating": self._rating_text(image),
            "tags": ", ".join(image.tags) if image is not None else "",
            "path": output.local_path,
        }
        for key, value in values.items():
            field = self.fields[key]
            field.setText(value)
            self._form.setRowVisible(field, bool(value))
        self.copy_prompt_button.setEnabled(bool(facts.prompt))
        self.copy_seed_button.setEnabled(facts.seed is not None)
        self.copy_parameters_button.setEnabled(job is not None or image is not None)

        graph = job.prompt if job is not None else {}
        self.graph_button.setText(self.tr("Graph ({count} nodes)").format(count=len(graph)))
        self.graph_button.setEnabled(bool(graph))
        self.copy_graph_button.setEnabled(bool(graph))
        if self.graph_button.isChecked():
            self._fill_graph()

    def copy_prompt(self) -> None:
        QGuiApplication.clipboard().setText(self._facts.prompt)

    def copy_seed(self) -> None:
        if self._facts.seed is not None:
            QGuiApplication.clipboard().setText(str(self._facts.seed))

    def copy_parameters(self) -> None:
        QGuiApplication.clipboard().setText(parameters_text(self._facts))

    def copy_graph(self) -> None:
        job = self._details.job if self._details is not None else None
        if job is not None:
            QGuiApplication.clipboard().setText(json.dumps(job.prompt, indent=2))

    def _show_graph(self, shown: bool) -> None:
        self.graph_button.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
        if shown:
            self._fill_graph()
        self.graph_tree.setVisible(shown)

    def _fill_graph(self) -> None:
        # The tree is built when first shown for an output: graphs have hundreds of nodes.
        if self._graph_shown_for is self._details:
            return
        self._graph_shown_for = self._details
        self.graph_tree.clear()
        job = self._details.job if self._details is not None else None
        if job is None:
            return
        for node_id, node in job.prompt.items():
            item = QTreeWidgetItem([_json_line(node_id, node)])
            self.graph_tree.addTopLevelItem(item)
            _add_json_children(item, node)

    def _size_text(self, output: Output, facts: ImageFacts) -> str:
        kilobytes = output.size / 1024
        if facts.width and facts.height:
            return self.tr("{width} × {height} px, {kb:.0f} KB").format(
                width=facts.width, height=facts.height, kb=kilobytes
            )
        return self.tr("{kb:.0f} KB").format(kb=kilobytes)

    def _batch_text(self, batch: Batch | None, job: Job | None) -> str:
        if batch is not None:
            return self.tr("{name} (batch {id}, job {position} of {count})").format(
                name=batch.name,
                id=batch.id,
                position=(job.position + 1) if job is not None else "?",
                count=batch.count,
            )
        return self.tr("batch {id}").format(id=job.batch_id) if job is not None else ""

    def _rating_text(self, image: ImageRecord | None) -> str:
        if image is None or (image.rating == 0 and not image.favourite):
            return ""
        stars = "★" * image.rating + "☆" * (5 - image.rating)
        return stars + (self.tr(", favourite") if image.favourite else "")


def _value_label() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    # Without this, one long word (a path, a URL) would widen the panel past the window.
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    return label


def _models_html(models: tuple[ModelEntry, ...]) -> str:
    lines = []
    for model in models:
        name = html.escape(model.name)
        if model.url:
            url = html.escape(model.url, quote=True)
            lines.append(f'{name}<br><a href="{url}">{url}</a>')
        else:
            lines.append(name)
    return "<br>".join(lines)


def _batch_values_text(parameters: dict[str, Any]) -> str:
    """Return one "name: value" line per value the batch set, the seed excepted (it has its
    own row)."""
    lines = []
    for name, value in parameters.items():
        if name == "seed":
            continue
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        lines.append(f"{name}: {text}")
    return "\n".join(lines)


def _json_line(key: str, value: object) -> str:
    """Return a tree line: the key and a scalar value in JSON, or a summary of a container."""
    if isinstance(value, dict):
        class_type = value.get("class_type")
        summary = class_type if isinstance(class_type, str) else f"{len(value)} keys"
        return f"{json.dumps(key)}: {{ {summary} }}"
    if isinstance(value, list):
        return (
            f"{json.dumps(key)}: {json.dumps(value)}"
            if len(value) <= 4
            else (f"{json.dumps(key)}: [ {len(value)} items ]")
        )
    text = json.dumps(value, ensure_ascii=False)
    if len(text) > GRAPH_VALUE_CHARS:
        text = text[:GRAPH_VALUE_CHARS] + "…"
    return f"{json.dumps(key)}: {text}"


def _add_json_children(item: QTreeWidgetItem, value: object) -> None:
    if isinstance(value, dict):
        children = [(str(key), child) for key, child in value.items()]
    elif isinstance(value, list) and len(value) > 4:
        children = [(str(index), child) for index, child in enumerate(value)]
    else:
        return
    for key, child in children:
        child_item = QTreeWidgetItem([_json_line(key, child)])
        if not isinstance(child, dict | list):
            child_item.setToolTip(0, json.dumps(child, ensure_ascii=False))
        item.addChild(child_item)
        _add_json_children(child_item, child)
