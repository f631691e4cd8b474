"""Comparing two or four outputs side by side, zoomed and panned together, each captioned
with what sets it apart from the others: seed, prompt, steps and the rest of its parameters.

The gallery opens it for a selection through ``open_compare(parent, outputs, decoder)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from cmfy_desk.ui.image_canvas import (
    DecodedImage,
    ImageCanvas,
    ImageDecoder,
    ViewActions,
    ZoomState,
    zoom_text,
)
from cmfy_desk.ui.image_details import ImageFacts, OutputDetails, image_facts

# The numbers of outputs a compare window shows: two side by side, or four in a 2 × 2 grid.
PANE_COUNTS = (2, 4)
# The maximum number of characters of a prompt shown in a caption.
CAPTION_PROMPT_CHARS = 80
# Words that every prompt starts or ends with are left out of the captions only from this
# many on, so that a shared leading "a" or "a red" stays in front of the words that differ.
CAPTION_MIN_SHARED_WORDS = 3


class ComparePane(QWidget):
    """One output of a compare window: its canvas over its title and what sets it apart."""

    def __init__(self, details: OutputDetails, caption: Caption, state: ZoomState) -> None:
        super().__init__()
        self.details = details
        self.canvas = ImageCanvas(state)
        self.title = QLabel(caption.title)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.title.setToolTip(details.output.local_path)
        self.caption = QLabel(caption.differences)
        self.caption.setWordWrap(True)
        for label in (self.title, self.caption):
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.title)
        layout.addWidget(self.caption)


class CompareWindow(QWidget):
    """A separate, non-modal window with two outputs side by side or four in a grid.

    All panes share one ZoomState, so zooming or panning one zooms and pans all: one scale,
    and one centre as a fraction of each image. The keys are the viewer's: the wheel, + and -
    zoom, Ctrl+0 fits, 1 shows 100 %, dragging and the arrow keys pan, F11 switches full
    screen, and Esc leaves full screen or closes the window.
    """

    def __init__(
        self,
        outputs: Sequence[OutputDetails],
        decoder: ImageDecoder,
        parent: QWidget | None = None,
    ) -> None:
        if len(outputs) not in PANE_COUNTS:
            raise ValueError(
                f"Compare takes 2 or 4 images, not {len(outputs)}. Select 2 or 4 images."
            )
        super().__init__(parent, Qt.WindowType.Window)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle(
            self.tr("Compare {count} images — Cmfy Desk").format(count=len(outputs))
        )
        self._decoder = decoder
        self.zoom_state = ZoomState(self)

        self.panes: list[ComparePane] = []
        grid = QGridLayout()
        grid.setSpacing(6)
        columns = 2
        for number, (details, caption) in enumerate(
            zip(outputs, difference_captions(outputs), strict=True)
        ):
            pane = ComparePane(details, caption, self.zoom_state)
            self.panes.append(pane)
            grid.addWidget(pane, number // columns, number % columns)

        self.view_actions = ViewActions(self, self._active_canvas)
        self.zoom_label = QLabel()
        self.zoom_label.setMinimumWidth(90)
        fit_button = QToolButton()
        fit_button.setDefaultAction(self.view_actions.fit)
        fit_button.setText(self.tr("Fit"))
        actual_button = QToolButton()
        actual_button.setDefaultAction(self.view_actions.actual_size)
        actual_button.setText(self.tr("100 %"))
        for button in (fit_button, actual_button):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        hint = QLabel(self.tr("Zoom and pan in any image: the others follow."))
        hint.setEnabled(False)
        self.bottom_bar = QWidget()
        row = QHBoxLayout(self.bottom_bar)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.zoom_label)
        row.addWidget(fit_button)
        row.addWidget(actual_button)
        row.addWidget(hint, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(grid, 1)
        layout.addWidget(self.bottom_bar)
        self.resize(1200, 720 if len(outputs) == 2 else 900)

        self._requests: dict[int, ComparePane] = {}
        decoder.decoded.connect(self._on_decoded)
        for pane in self.panes:
            self._requests[decoder.request(pane.details.output.local_path)] = pane
        self.zoom_state.changed.connect(self._update_zoom_label)
        self.panes[0].canvas.setFocus()

    def canvases(self) -> list[ImageCanvas]:
        return [pane.canvas for pane in self.panes]

    def _active_canvas(self) -> ImageCanvas:
        """Return the canvas with the keyboard focus, or the first one."""
        for pane in self.panes:
            if pane.canvas.hasFocus():
                return pane.canvas
        return self.panes[0].canvas

    def _on_decoded(self, request_id: int, decoded: DecodedImage) -> None:
        pane = self._requests.pop(request_id, None)
        if pane is not None:
            pane.canvas.set_image(decoded)
            self._update_zoom_label()

    def _update_zoom_label(self) -> None:
        canvas = self._active_canvas()
        self.zoom_label.setText(zoom_text(canvas) if canvas.has_image() else "")

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.WindowStateChange:
            self.bottom_bar.setVisible(not self.isFullScreen())

    def closeEvent(self, event: QCloseEvent) -> None:
        for request_id in self._requests:
            self._decoder.cancel(request_id)
        self._requests.clear()
        super().closeEvent(event)


def open_compare(
    parent: QWidget | None, outputs: Sequence[OutputDetails], decoder: ImageDecoder
) -> CompareWindow:
    """Open a compare window for 2 or 4 outputs, in the order given; return it.

    Raises ValueError for any other number of outputs. The window deletes itself when closed.
    """
    window = CompareWindow(outputs, decoder, parent)
    window.show()
    window.raise_()
    window.activateWindow()
    return window


# Captions -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Caption:
    """The text of a compare pane about its output: a title (the job's workflow and number, or
    the file name) and the parameters that differ, such as "Seed 12 · Prompt: …red…"."""

    title: str
    differences: str


def difference_captions(outputs: Sequence[OutputDetails]) -> list[Caption]:
    """Return one caption per output, naming each parameter whose value differs among the
    outputs.

    A prompt that differs is shown by the words between the words all prompts start and end
    with, when those are at least CAPTION_MIN_SHARED_WORDS words. Outputs whose parameters are
    all equal get "Same parameters as the others".
    """
    facts = [image_facts(details) for details in outputs]
    compared = [
        _compared_values(details, item) for details, item in zip(outputs, facts, strict=True)
    ]
    lines: list[list[str]] = [[] for _ in outputs]
    for row, (label, _value) in enumerate(compared[0]):
        values = [values_of_output[row][1] for values_of_output in compared]
        if len(set(values)) > 1:
            for line, value in zip(lines, values, strict=True):
                line.append(f"{label} {value or '—'}")
    for label, texts in (
        (QCoreApplication.translate("Compare", "Prompt"), [item.prompt for item in facts]),
        (QCoreApplication.translate("Compare", "Negative"), [item.negative for item in facts]),
    ):
        if len(set(texts)) > 1:
            for line, part in zip(lines, _differing_words(texts), strict=True):
                line.append(f"{label}: {part}")

    same = QCoreApplication.translate("Compare", "Same parameters as the others")
    return [
        Caption(_title(details), " · ".join(line) if line else same)
        for details, line in zip(outputs, lines, strict=True)
    ]


def _differing_words(texts: list[str]) -> list[str]:
    """Return each text's words between the words that all texts start with and end with,
    with "…" where words were left out, shortened to CAPTION_PROMPT_CHARS characters.

    Shared runs shorter than CAPTION_MIN_SHARED_WORDS words are kept.
    """
    word_lists = [text.split() for text in texts]
    shortest = min(len(words) for words in word_lists)
    prefix = 0
    while prefix < shortest and len({words[prefix] for words in word_lists}) == 1:
        prefix += 1
    if prefix < CAPTION_MIN_SHARED_WORDS:
        prefix = 0
    suffix = 0
    while suffix < shortest - prefix and len({words[-1 - suffix] for words in word_lists}) == 1:
        suffix += 1
    if suffix < CAPTION_MIN_SHARED_WORDS:
        suffix = 0
    parts = []
    for words in word_lists:
        middle = " ".join(words[prefix : len(words) - suffix]) or "—"
        before = "…" if prefix else ""
        after = "…" if suffix else ""
        if len(middle) > CAPTION_PROMPT_CHARS:
            middle = _cut_at_word(middle, CAPTION_PROMPT_CHARS - 1)
            after = "…"
        parts.append(f"{before}{middle}{after}")
    return parts


def _cut_at_word(text: str, limit: int) -> str:
    """Return the start of ``text`` up to ``limit`` characters, ending after a whole word
    unless the first word alone is longer than ``limit``."""
    cut = text[: limit + 1]
    end = cut.rfind(" ")
    if end <= 0:
        return text[:limit]
    return cut[:end].rstrip(",;:")


def _compared_values(details: OutputDetails, facts: ImageFacts) -> list[tuple[str, str]]:
    """Return the (label, value) pairs of an output that its caption shows when they differ."""
    return [
        (QCoreApplication.translate("Compare", "Workflow"), _workflow_name(details)),
        (QCoreApplication.translate("Compare", "Seed"), _text(facts.seed)),
        (QCoreApplication.translate("Compare", "Steps"), _text(facts.steps)),
        (
            QCoreApplication.translate("Compare", "CFG"),
            "" if facts.cfg is None else f"{facts.cfg:g}",
        ),
        (QCoreApplication.translate("Compare", "Sampler"), facts.sampler),
        (QCoreApplication.translate("Compare", "Size"), _size_text(facts)),
        (
            QCoreApplication.translate("Compare", "Models"),
            ", ".join(model.name for model in facts.models),
        ),
    ]


def _title(details: OutputDetails) -> str:
    job = details.job
    if job is None:
        return Path(details.output.local_path).name
    return f"{job.workflow_name} #{job.position + 1}"


def _workflow_name(details: OutputDetails) -> str:
    return details.job.workflow_name if details.job is not None else ""


def _size_text(facts: ImageFacts) -> str:
    if facts.width and facts.height:
        return f"{facts.width} × {facts.height}"
    return ""


def _text(value: object) -> str:
    return "" if value is None else str(value)
