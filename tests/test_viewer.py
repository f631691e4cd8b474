"""The image viewer and the compare window over a real store and real PNG files.

Each output is a job of the bundled SD 1.5 workflow with its own seed, prompt and size, run to
the end in the store with known times, and rendered by the sandbox's renderer into a PNG that
carries the graph in its "prompt" chunk, as ComfyUI writes it. The tests drive the windows
with keys, the wheel and the mouse as a person does, on Qt's offscreen platform.
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QFontInfo, QGuiApplication, QImage, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from cmfy_desk.outputs.index import index_output, parse_a1111_parameters
from cmfy_desk.paths import bundled_workflows
from cmfy_desk.sandbox.render import render_job_images
from cmfy_desk.scheduler.events import NoticeLevel
from cmfy_desk.store import JobStatus, Output, Store
from cmfy_desk.ui import image_canvas
from cmfy_desk.ui.compare import (
    CAPTION_PROMPT_CHARS,
    Caption,
    CompareWindow,
    difference_captions,
    open_compare,
)
from cmfy_desk.ui.image_canvas import (
    MAX_SCALE,
    ZOOM_STEP,
    DecodedImage,
    ImageCanvas,
    ImageDecoder,
    ZoomState,
    decode_image,
)
from cmfy_desk.ui.image_details import (
    OutputDetails,
    job_times,
    load_output_details,
    parameters_text,
)
from cmfy_desk.ui.rerun import RerunAction
from cmfy_desk.ui.viewer import ImageViewer
from cmfy_desk.workflows.graph import graph_hash
from tests.test_window import open_window, queue_sample, wait_for

MODEL_URL = (
    "https://huggingface.co/stable-diffusion-v1-5/stable-diffusion-v1-5/resolve/main/"
    "v1-5-pruned-emaonly.safetensors"
)
PROMPT = "a {colour} fox curled up in fresh snow at the edge of a pine forest"
NEGATIVE = "blurry, low quality, deformed, watermark, text"
# Seconds from a job's creation to its start and end, and the GPU time the server reports.
STARTED_AFTER = 2.0
FINISHED_AFTER = 5.5
EXECUTION_MS = 1200
# Larger than the viewer's canvas, so that "fit" shrinks it and 100 % can be panned.
LARGE_SIZE = (1536, 1024)


@dataclass
class Library:
    store: Store
    folder: Path
    decoder: ImageDecoder
    # Windows that delete themselves when closed, so pytest-qt must not close them again.
    windows: list[QWidget] = field(default_factory=list)

    def details(self, output: Output) -> OutputDetails:
        return load_output_details(self.store, output.id)

    def lookup(self, output_id: int) -> OutputDetails | None:
        try:
            return load_output_details(self.store, output_id)
        except KeyError:
            return None


@pytest.fixture
def library(tmp_path: Path, qapp: QApplication) -> Iterator[Library]:
    store = Store.open(tmp_path / "data" / "cmfy-desk.sqlite3")
    decoder = ImageDecoder()
    library = Library(store, tmp_path / "outputs", decoder)
    yield library
    for window in library.windows:
        if shiboken6.isValid(window):
            window.close()
    decoder.shutdown()
    store.close()


def sd15_graph() -> dict[str, Any]:
    path = next(path for path in bundled_workflows() if path.name == "sd15_txt2img.json")
    graph: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return graph


def add_outputs(
    library: Library,
    seeds: list[int],
    *,
    colours: list[str] | None = None,
    steps: int = 20,
    size: tuple[int, int] = (512, 512),
    batch_name: str = "foxes",
) -> list[Output]:
    """Run one finished job per seed in the store, each with a rendered PNG output."""
    graphs = []
    for number, seed in enumerate(seeds):
        graph = copy.deepcopy(sd15_graph())
        colour = colours[number] if colours else "red"
        graph["2"]["inputs"]["text"] = PROMPT.format(colour=colour)
        graph["5"]["inputs"]["seed"] = seed
        graph["5"]["inputs"]["steps"] = steps
        graph["4"]["inputs"]["width"], graph["4"]["inputs"]["height"] = size
        graphs.append(graph)
    batch, jobs = library.store.add_batch(
        name=batch_name,
        workflow_name="sd15_txt2img",
        workflow_path="/workflows/sd15_txt2img.json",
        connection="sandbox",
        seed_mode="list",
        output_dir=str(library.folder),
        jobs=[(graph, graph_hash(graph), seed) for graph, seed in zip(graphs, seeds, strict=True)],
        parameters=[{"seed": seed, "style": "photo"} for seed in seeds],
    )
    outputs = []
    for job, graph in zip(jobs, graphs, strict=True):
        store = library.store
        store.transition(job.id, JobStatus.SUBMITTING)
        store.transition(
            job.id, JobStatus.SUBMITTED, remote_id=f"remote-{job.id}", submitted_at=job.created_at
        )
        store.transition(job.id, JobStatus.RUNNING, started_at=job.created_at + STARTED_AFTER)
        store.transition(job.id, JobStatus.DOWNLOADING)
        store.transition(
            job.id,
            JobStatus.SUCCEEDED,
            finished_at=job.created_at + FINISHED_AFTER,
            execution_time_ms=EXECUTION_MS,
        )
        [path] = render_job_images(graph, library.folder / f"job-{job.id}")
        data = path.read_bytes()
        output = store.add_output(
            job.id,
            0,
            remote_url=f"http://127.0.0.1:1/outputs/{job.id}/image_0.png",
            local_path=str(path),
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            width=size[0],
            height=size[1],
        )
        index_output(store, output)
        outputs.append(output)
    assert batch.id > 0
    return outputs


def list_navigation(outputs: list[Output]) -> Any:
    """Return a neighbour function over ``outputs`` in their order."""
    ids = [output.id for output in outputs]

    def neighbour(output_id: int, step: int) -> int | None:
        row = ids.index(output_id) + step
        return ids[row] if 0 <= row < len(ids) else None

    return neighbour


def open_viewer(
    qtbot: QtBot, library: Library, outputs: list[Output], first: int = 0
) -> ImageViewer:
    viewer = ImageViewer(
        library.details(outputs[first]),
        library.decoder,
        neighbour=list_navigation(outputs),
        lookup=library.lookup,
    )
    library.windows.append(viewer)
    viewer.show()
    activate(qtbot, viewer)
    qtbot.waitUntil(viewer.canvas.has_image)
    return viewer


def activate(qtbot: QtBot, window: QWidget) -> None:
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)


def key(
    widget: QWidget, key: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier
) -> None:
    QTest.keyClick(widget, key, modifier)


def wheel(widget: QWidget, position: QPointF, notches: int) -> None:
    event = QWheelEvent(
        position,
        QPointF(widget.mapToGlobal(position.toPoint())),
        QPoint(0, 0),
        QPoint(0, 120 * notches),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


def drag(widget: QWidget, start: QPoint, end: QPoint) -> None:
    QTest.mousePress(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(widget, end)
    QTest.mouseRelease(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)


def image_point_at(canvas: ImageCanvas, point: QPointF) -> tuple[float, float]:
    """Return the image point under ``point`` as fractions of the image's width and height."""
    rect = canvas.image_rect()
    return ((point.x() - rect.left()) / rect.width(), (point.y() - rect.top()) / rect.height())


# Metadata -------------------------------------------------------------------------------------


def test_metadata_shows_job_ground_truth(qtbot: QtBot, library: Library) -> None:
    [output] = add_outputs(library, [4242])
    job = library.store.get_job(output.job_id)
    image = library.details(output).image
    assert image is not None
    library.store.gallery.set_rating([image.id], 4)
    viewer = open_viewer(qtbot, library, [output])
    fields = viewer.metadata.fields

    assert fields["prompt"].text() == job.prompt["2"]["inputs"]["text"]
    assert fields["negative"].text() == NEGATIVE
    assert fields["seed"].text() == "4242"
    assert fields["steps"].text() == "20"
    assert fields["cfg"].text() == "7"
    assert fields["sampler"].text() == "euler"
    assert fields["size"].text().startswith("512 × 512 px")
    assert "v1-5-pruned-emaonly.safetensors" in fields["models"].text()
    assert f'href="{MODEL_URL}"' in fields["models"].text()
    assert fields["parameters"].text() == "style: photo"
    assert fields["batch"].text() == "foxes (batch 1, job 1 of 1)"
    assert fields["connection"].text() == "sandbox"
    assert fields["queued"].text() == "2.0 s"
    assert fields["run"].text() == "3.5 s"
    assert fields["execution"].text() == "1.2 s"
    assert fields["total"].text() == "5.5 s"
    assert fields["rating"].text() == "★★★★☆"
    assert fields["path"].text() == output.local_path
    assert viewer.metadata.title.text() == "sd15_txt2img #1"


def test_graph_tree_opens_node_by_node(qtbot: QtBot, library: Library) -> None:
    [output] = add_outputs(library, [7])
    viewer = open_viewer(qtbot, library, [output])
    panel = viewer.metadata
    hidden_before = panel.graph_tree.isHidden()

    panel.graph_button.click()
    tree = panel.graph_tree
    lines = [tree.topLevelItem(row).text(0) for row in range(tree.topLevelItemCount())]
    sampler = tree.topLevelItem(lines.index('"5": { KSampler }'))
    inputs = next(
        sampler.child(row)
        for row in range(sampler.childCount())
        if sampler.child(row).text(0).startswith('"inputs"')
    )
    input_lines = [inputs.child(row).text(0) for row in range(inputs.childCount())]

    assert hidden_before
    assert not tree.isHidden()
    assert panel.graph_button.text() == f"Graph ({len(sd15_graph())} nodes)"
    assert len(lines) == len(sd15_graph())
    assert not sampler.isExpanded()
    assert '"seed": 7' in input_lines
    assert '"model": ["1", 0]' in input_lines
    assert QFontInfo(tree.font()).fixedPitch()


def test_copy_buttons_fill_clipboard(qtbot: QtBot, library: Library) -> None:
    [output] = add_outputs(library, [98765], steps=30)
    viewer = open_viewer(qtbot, library, [output])
    panel = viewer.metadata
    clipboard = QGuiApplication.clipboard()

    panel.copy_prompt_button.click()
    prompt = clipboard.text()
    panel.copy_seed_button.click()
    seed = clipboard.text()
    panel.copy_parameters_button.click()
    parameters = clipboard.text()
    parsed = parse_a1111_parameters(parameters)

    assert prompt == PROMPT.format(colour="red")
    assert seed == "98765"
    assert parsed.prompt == prompt
    assert parsed.negative == NEGATIVE
    assert parsed.seed == 98765
    assert parsed.steps == 30
    assert parsed.cfg == 7.0
    assert parsed.sampler == "euler"
    assert parsed.models == ["v1-5-pruned-emaonly.safetensors"]
    assert "Size: 512x512" in parameters


def test_parameters_text_quotes_commas() -> None:
    details_text = parameters_text(
        image_facts_with(prompt="a cat", sampler="dpmpp_2m, karras", steps=12, seed=3)
    )
    parsed = parse_a1111_parameters(details_text)

    assert parsed.sampler == "dpmpp_2m, karras"
    assert parsed.steps == 12
    assert parsed.seed == 3


def image_facts_with(**values: Any) -> Any:
    from cmfy_desk.ui.image_details import ImageFacts

    return ImageFacts(**values)


def test_output_without_job_shows_file(qtbot: QtBot, library: Library) -> None:
    [output] = add_outputs(library, [5])
    orphan = OutputDetails(output)
    viewer = ImageViewer(orphan, library.decoder)
    library.windows.append(viewer)
    viewer.show()
    qtbot.waitUntil(viewer.canvas.has_image)

    assert viewer.metadata.title.text() == f"Output {output.id} (its job is no longer recorded)"
    assert viewer.metadata.fields["path"].text() == output.local_path
    assert not viewer.metadata.copy_seed_button.isEnabled()
    assert not viewer.rerun_buttons[RerunAction.RUN_AGAIN].isEnabled()
    assert not viewer.next_action.isEnabled()


def test_missing_output_raises_key_error(library: Library) -> None:
    with pytest.raises(KeyError, match="No output 999"):
        load_output_details(library.store, 999)


# Zoom and pan ---------------------------------------------------------------------------------


def test_zoom_keys_fit_and_actual_size(qtbot: QtBot, library: Library) -> None:
    [output] = add_outputs(library, [1], size=LARGE_SIZE)
    viewer = open_viewer(qtbot, library, [output])
    canvas = viewer.canvas
    fit_scale = canvas.fit_scale()
    fitted = canvas.image_rect()
    fitted_label = viewer.zoom_label.text()

    key(canvas, Qt.Key.Key_1)
    actual = canvas.image_rect()
    actual_label = viewer.zoom_label.text()
    key(canvas, Qt.Key.Key_Plus)
    zoomed_in = canvas.shown_scale()
    key(canvas, Qt.Key.Key_Minus)
    key(canvas, Qt.Key.Key_Minus)
    zoomed_out = canvas.shown_scale()
    key(canvas, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)

    assert fit_scale < 1
    assert canvas.state.fit
    assert canvas.shown_scale() == fit_scale
    assert fitted.width() <= canvas.width() + 0.5
    assert fitted.height() <= canvas.height() + 0.5
    assert fitted_label == f"Fit ({round(fit_scale * 100)} %)"
    assert (actual.width(), actual.height()) == LARGE_SIZE
    assert actual_label == "100 %"
    assert zoomed_in == pytest.approx(ZOOM_STEP)
    assert zoomed_out == pytest.approx(1 / ZOOM_STEP)
    assert canvas.image_rect() == fitted


def test_fit_never_enlarges_small_image(qtbot: QtBot, library: Library) -> None:
    [output] = add_outputs(library, [1], size=(256, 192))
    viewer = open_viewer(qtbot, library, [output])

    assert viewer.canvas.shown_scale() == 1.0
    assert not viewer.canvas.can_pan()


def test_wheel_zooms_around_pointer(qtbot: QtBot, library: Library) -> None:
    [output] = add_outputs(library, [1], size=LARGE_SIZE)
    viewer = open_viewer(qtbot, library, [output])
    canvas = viewer.canvas
    pointer = QPointF(canvas.width() * 0.3, canvas.height() * 0.6)
    before = image_point_at(canvas, pointer)
    fit_scale = canvas.fit_scale()

    wheel(canvas, pointer, 4)
    after_in = image_point_at(canvas, pointer)
    scale_in = canvas.shown_scale()
    wheel(canvas, pointer, -1)
    rect_out = canvas.image_rect()

    assert scale_in == pytest.approx(fit_scale * ZOOM_STEP**4)
    assert after_in == pytest.approx(before, abs=1e-6)
    assert canvas.shown_scale() == pytest.approx(fit_scale * ZOOM_STEP**3)
    # Still larger than the canvas both ways, so no edge stops the image.
    assert rect_out.width() > canvas.width()
    assert rect_out.height() > canvas.height()
    assert image_point_at(canvas, pointer) == pytest.approx(before, abs=1e-6)


def test_zoomed_out_image_is_centred(qtbot: QtBot, library: Library) -> None:
    [output] = add_outputs(library, [1], size=LARGE_SIZE)
    viewer = open_viewer(qtbot, library, [output])
    canvas = viewer.canvas
    wheel(canvas, QPointF(10, 10), -2)
    rect = canvas.image_rect()

    assert rect.center().x() == pytest.approx(canvas.width() / 2)
    assert rect.center().y() == pytest.approx(canvas.height() / 2)


def test_zoom_stops_at_maximum(qtbot: QtBot, library: Library) -> None:
    [output] = add_outputs(library, [1])
    viewer = open_viewer(qtbot, library, [output])
    for _ in range(40):
        key(viewer.canvas, Qt.Key.Key_Plus)

    assert viewer.canvas.shown_scale() == MAX_SCALE


def test_drag_pans_within_image_edges(qtbot: QtBot, library: Library) -> None:
    [output] = add_outputs(library, [1], size=LARGE_SIZE)
    viewer = open_viewer(qtbot, library, [output])
    canvas = viewer.canvas
    key(canvas, Qt.Key.Key_1)
    start = canvas.image_rect()
    middle = QPoint(canvas.width() // 2, canvas.height() // 2)

    drag(canvas, middle, middle + QPoint(-50, -30))
    moved = canvas.image_rect()
    drag(canvas, middle, middle + QPoint(5000, 5000))
    at_edge = canvas.image_rect()

    assert canvas.can_pan()
    assert moved.left() == pytest.approx(start.left() - 50)
    assert moved.top() == pytest.approx(start.top() - 30)
    assert at_edge.left() == pytest.approx(0)
    assert at_edge.top() == pytest.approx(0)


def test_arrows_pan_zoomed_image(qtbot: QtBot, library: Library) -> None:
    outputs = add_outputs(library, [1, 2], size=LARGE_SIZE)
    viewer = open_viewer(qtbot, library, outputs)
    canvas = viewer.canvas
    key(canvas, Qt.Key.Key_1)
    start = canvas.image_rect()

    key(canvas, Qt.Key.Key_Right)
    after_right = canvas.image_rect()
    key(canvas, Qt.Key.Key_Down)
    after_down = canvas.image_rect()

    assert viewer.output.id == outputs[0].id
    assert after_right.left() == pytest.approx(start.left() - canvas.width() * 0.1)
    assert after_down.top() == pytest.approx(start.top() - canvas.height() * 0.1)


def test_double_click_switches_fit_and_actual(qtbot: QtBot, library: Library) -> None:
    [output] = add_outputs(library, [1], size=LARGE_SIZE)
    viewer = open_viewer(qtbot, library, [output])
    canvas = viewer.canvas
    middle = QPoint(canvas.width() // 2, canvas.height() // 2)

    QTest.mouseDClick(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, middle)
    actual = canvas.shown_scale()
    QTest.mouseDClick(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, middle)

    assert actual == 1.0
    assert canvas.state.fit


# Stepping through a list ----------------------------------------------------------------------


def test_left_right_step_through_list(qtbot: QtBot, library: Library) -> None:
    outputs = add_outputs(library, [11, 12, 13])
    viewer = open_viewer(qtbot, library, outputs)
    shown_ids: list[int] = []
    viewer.outputChanged.connect(lambda output: shown_ids.append(output.id))
    canvas = viewer.canvas

    key(canvas, Qt.Key.Key_Right)
    second_seed = viewer.metadata.fields["seed"].text()
    key(canvas, Qt.Key.Key_PageDown)
    key(canvas, Qt.Key.Key_Right)
    end_status = viewer.status_label.text()
    key(canvas, Qt.Key.Key_PageUp)
    key(canvas, Qt.Key.Key_Left)
    key(canvas, Qt.Key.Key_Left)
    start_status = viewer.status_label.text()

    assert shown_ids == [outputs[1].id, outputs[2].id, outputs[1].id, outputs[0].id]
    assert second_seed == "12"
    assert end_status == "This is the last image."
    assert start_status == "This is the first image."
    assert viewer.output.id == outputs[0].id
    assert viewer.windowTitle() == f"{Path(outputs[0].local_path).name} — Cmfy Desk"


def test_step_shows_new_image_and_reruns_it(qtbot: QtBot, library: Library) -> None:
    outputs = add_outputs(library, [21, 22], colours=["red", "blue"])
    viewer = open_viewer(qtbot, library, outputs)
    requests: list[tuple[Output, RerunAction]] = []
    viewer.rerunRequested.connect(lambda output, action: requests.append((output, action)))

    viewer.step(1)
    qtbot.waitUntil(viewer.canvas.has_image)
    viewer.rerun_buttons[RerunAction.VARY_SEED].click()

    assert viewer.metadata.fields["prompt"].text() == PROMPT.format(colour="blue")
    assert requests == [(outputs[1], RerunAction.VARY_SEED)]


def test_neighbours_are_decoded_ahead(qtbot: QtBot, library: Library) -> None:
    outputs = add_outputs(library, [31, 32, 33])
    decoded_paths: list[str] = []
    library.decoder.decoded.connect(lambda _id, result: decoded_paths.append(result.path))
    viewer = open_viewer(qtbot, library, outputs, first=1)
    qtbot.waitUntil(lambda: len(decoded_paths) == 3)

    viewer.step(1)
    shown_at_once = viewer.canvas.has_image()

    assert decoded_paths[0] == outputs[1].local_path
    assert sorted(decoded_paths[1:]) == sorted([outputs[0].local_path, outputs[2].local_path])
    assert shown_at_once


def test_large_neighbours_not_decoded_ahead(qtbot: QtBot, library: Library) -> None:
    outputs = add_outputs(library, [35, 36, 37])
    # Recorded as 20 megapixels, above what the viewer decodes ahead (16 megapixels).
    large = [
        library.store.add_output(
            output.job_id,
            0,
            remote_url=output.remote_url,
            local_path=output.local_path,
            size=output.size,
            sha256=output.sha256,
            width=5000,
            height=4000,
        )
        for output in outputs
    ]
    decoded_paths: list[str] = []
    library.decoder.decoded.connect(lambda _id, result: decoded_paths.append(result.path))
    viewer = open_viewer(qtbot, library, large, first=1)
    viewer.step(1)
    shown_at_once = viewer.canvas.has_image()
    qtbot.waitUntil(viewer.canvas.has_image)

    assert decoded_paths == [large[1].local_path, large[2].local_path]
    assert not shown_at_once


def test_deleted_neighbour_keeps_current(qtbot: QtBot, library: Library) -> None:
    outputs = add_outputs(library, [41])
    ids = [outputs[0].id, 10_000]
    viewer = ImageViewer(
        library.details(outputs[0]),
        library.decoder,
        neighbour=lambda output_id, step: ids[1] if step > 0 else None,
        lookup=library.lookup,
    )
    library.windows.append(viewer)

    moved = viewer.step(1)

    assert not moved
    assert viewer.output.id == outputs[0].id
    assert viewer.status_label.text() == "Output 10000 is no longer in the library."


def test_viewer_needs_neighbour_with_lookup(library: Library) -> None:
    details = OutputDetails(Output(1, 1, 0, "", "/nowhere/image.png", 0, "", None, None, 0.0))
    with pytest.raises(ValueError, match="neighbour and lookup together"):
        ImageViewer(details, library.decoder, neighbour=lambda _id, _step: None)


# Window keys ----------------------------------------------------------------------------------


def test_full_screen_and_escape(qtbot: QtBot, library: Library) -> None:
    [output] = add_outputs(library, [1])
    viewer = open_viewer(qtbot, library, [output])

    key(viewer.canvas, Qt.Key.Key_F11)
    full = viewer.isFullScreen()
    bar_hidden = viewer.bottom_bar.isHidden()
    key(viewer.canvas, Qt.Key.Key_Escape)
    left_full = not viewer.isFullScreen()
    still_open = viewer.isVisible()
    bar_back = not viewer.bottom_bar.isHidden()
    key(viewer.canvas, Qt.Key.Key_Escape)

    assert full
    assert bar_hidden
    assert left_full
    assert still_open
    assert bar_back
    assert not viewer.isVisible()


def test_i_toggles_metadata_panel(qtbot: QtBot, library: Library) -> None:
    [output] = add_outputs(library, [1])
    viewer = open_viewer(qtbot, library, [output])
    shown_first = viewer.metadata.isVisible()

    key(viewer.canvas, Qt.Key.Key_I)
    hidden = not viewer.metadata.isVisible()
    key(viewer.canvas, Qt.Key.Key_I)

    assert shown_first
    assert hidden
    assert viewer.metadata.isVisible()


# Decoding -------------------------------------------------------------------------------------


def test_decoding_runs_off_ui_thread(
    qtbot: QtBot, library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    [output] = add_outputs(library, [1], size=LARGE_SIZE)
    threads: list[threading.Thread] = []
    release = threading.Event()

    def slow_decode(path: str) -> DecodedImage:
        threads.append(threading.current_thread())
        release.wait(10)
        return decode_image(path)

    monkeypatch.setattr(image_canvas, "decode_image", slow_decode)
    viewer = ImageViewer(library.details(output), library.decoder)
    library.windows.append(viewer)
    viewer.show()
    loading = viewer.canvas.message()
    release.set()
    qtbot.waitUntil(viewer.canvas.has_image)

    assert loading == "Loading…"
    assert threads
    assert threading.main_thread() not in threads
    assert viewer.canvas.image_size().width() == LARGE_SIZE[0]


def test_exif_orientation_honoured(tmp_path: Path, qapp: QApplication) -> None:
    # Stored landscape with orientation 6: shown turned 90° clockwise, so portrait, and the
    # stored image's left edge (red) becomes the top.
    stored = Image.new("RGB", (300, 200), (0, 0, 255))
    stored.paste((255, 0, 0), (0, 0, 30, 200))
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "turned.jpg"
    stored.save(path, exif=exif, quality=95)

    decoded = decode_image(str(path))
    image = decoded.levels[0]
    top = image.pixelColor(150, 5)
    bottom = image.pixelColor(150, 295)

    assert (decoded.size.width(), decoded.size.height()) == (200, 300)
    assert top.red() > 200
    assert top.blue() < 60
    assert bottom.blue() > 200
    assert bottom.red() < 60


def test_large_image_keeps_halved_copies(tmp_path: Path, qapp: QApplication) -> None:
    path = tmp_path / "large.png"
    Image.new("RGB", (4096, 2048), (10, 200, 30)).save(path)

    decoded = decode_image(str(path))

    assert [(level.width(), level.height()) for level in decoded.levels] == [
        (4096, 2048),
        (2048, 1024),
        (1024, 512),
    ]
    assert decoded.levels[0].format() == QImage.Format.Format_RGB32


def test_unreadable_file_named_in_message(qtbot: QtBot, library: Library, tmp_path: Path) -> None:
    [output] = add_outputs(library, [1])
    Path(output.local_path).write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    viewer = ImageViewer(library.details(output), library.decoder)
    library.windows.append(viewer)
    viewer.show()
    qtbot.waitUntil(lambda: viewer.canvas.message() != "Loading…")

    assert not viewer.canvas.has_image()
    assert viewer.canvas.message().startswith(f"Cannot show {Path(output.local_path).name}:")
    assert "moved, deleted or damaged" in viewer.canvas.message()


def test_missing_file_named_in_message(qtbot: QtBot, library: Library) -> None:
    [output] = add_outputs(library, [1])
    Path(output.local_path).unlink()
    viewer = ImageViewer(library.details(output), library.decoder)
    library.windows.append(viewer)
    viewer.show()
    qtbot.waitUntil(lambda: viewer.canvas.message() != "Loading…")

    assert viewer.canvas.message().startswith(f"Cannot show {Path(output.local_path).name}:")


def test_cancelled_request_never_delivered(qtbot: QtBot, library: Library) -> None:
    outputs = add_outputs(library, [1, 2])
    delivered: list[int] = []
    library.decoder.decoded.connect(lambda request_id, _result: delivered.append(request_id))

    cancelled = library.decoder.request(outputs[0].local_path)
    library.decoder.cancel(cancelled)
    second = library.decoder.request(outputs[1].local_path)
    qtbot.waitUntil(lambda: second in delivered)

    assert delivered == [second]


# Compare --------------------------------------------------------------------------------------


def open_compare_window(qtbot: QtBot, library: Library, outputs: list[Output]) -> CompareWindow:
    window = open_compare(None, [library.details(output) for output in outputs], library.decoder)
    library.windows.append(window)
    activate(qtbot, window)
    qtbot.waitUntil(lambda: all(canvas.has_image() for canvas in window.canvases()))
    return window


def test_compare_two_panes_share_zoom(qtbot: QtBot, library: Library) -> None:
    outputs = add_outputs(library, [51, 52], size=LARGE_SIZE)
    window = open_compare_window(qtbot, library, outputs)
    left, right = window.canvases()
    pointer = QPointF(left.width() * 0.25, left.height() * 0.25)

    wheel(left, pointer, 4)
    scales = (left.shown_scale(), right.shown_scale())
    centres = (left.shown_centre(), right.shown_centre())
    middle = QPoint(right.width() // 2, right.height() // 2)
    drag(right, middle, middle + QPoint(40, 25))
    dragged = (left.shown_centre(), right.shown_centre())

    assert len(window.panes) == 2
    assert left.y() == right.y()
    assert scales[0] == scales[1]
    assert scales[0] == pytest.approx(left.fit_scale() * ZOOM_STEP**4)
    assert centres[0] == centres[1]
    assert dragged[0] == dragged[1]
    assert dragged[0] != centres[0]
    assert left.image_rect() == right.image_rect()


def test_compare_four_panes_in_grid(qtbot: QtBot, library: Library) -> None:
    outputs = add_outputs(library, [61, 62, 63, 64], size=LARGE_SIZE)
    window = open_compare_window(qtbot, library, outputs)
    canvases = window.canvases()
    positions = {(pane.x(), pane.y()) for pane in window.panes}

    key(canvases[2], Qt.Key.Key_1)
    actual = [canvas.shown_scale() for canvas in canvases]
    key(canvases[2], Qt.Key.Key_Right)
    centres = {canvas.shown_centre() for canvas in canvases}
    key(canvases[2], Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)

    assert len(canvases) == 4
    assert len({x for x, _y in positions}) == 2
    assert len({y for _x, y in positions}) == 2
    assert actual == [1.0] * 4
    assert len(centres) == 1
    assert all(canvas.state.fit for canvas in canvases)
    assert window.zoom_label.text().startswith("Fit")


def test_compare_captions_name_differences(qtbot: QtBot, library: Library) -> None:
    outputs = add_outputs(library, [71, 72], colours=["red", "blue"])
    window = open_compare_window(qtbot, library, outputs)
    titles = [pane.title.text() for pane in window.panes]
    captions = [pane.caption.text() for pane in window.panes]

    assert titles == ["sd15_txt2img #1", "sd15_txt2img #2"]
    assert captions == ["Seed 71 · Prompt: a red…", "Seed 72 · Prompt: a blue…"]


def test_compare_four_captions_keep_prompt_start(qtbot: QtBot, library: Library) -> None:
    outputs = add_outputs(library, [81, 82, 83, 84], colours=["red", "red", "blue", "blue"])
    window = open_compare_window(qtbot, library, outputs)
    captions = [pane.caption.text() for pane in window.panes]

    assert captions == [
        "Seed 81 · Prompt: a red…",
        "Seed 82 · Prompt: a red…",
        "Seed 83 · Prompt: a blue…",
        "Seed 84 · Prompt: a blue…",
    ]


def test_compare_captions_leave_out_long_shared_words(library: Library) -> None:
    # PROMPT starts with "a", so two colours that start with "big red" make a shared start
    # of three words.
    outputs = add_outputs(library, [91, 92], colours=["big red shiny", "big red dull"])
    long_colour = "very " * 30 + "blue"
    long_outputs = add_outputs(library, [93, 94], colours=["red", long_colour])
    shared = difference_captions([library.details(output) for output in outputs])
    long = difference_captions([library.details(output) for output in long_outputs])

    assert [caption.differences for caption in shared] == [
        "Seed 91 · Prompt: …shiny…",
        "Seed 92 · Prompt: …dull…",
    ]
    assert long[0].differences == "Seed 93 · Prompt: a red…"
    shortened = long[1].differences.removeprefix("Seed 94 · Prompt: ")
    assert shortened.startswith("a very very ")
    assert shortened.endswith(" very…")
    assert len(shortened) <= CAPTION_PROMPT_CHARS


def test_compare_captions_of_equal_outputs(library: Library) -> None:
    first = add_outputs(library, [5], steps=20, batch_name="first")
    second = add_outputs(library, [5], steps=30, batch_name="second")
    same = difference_captions([library.details(first[0]), library.details(first[0])])
    steps = difference_captions([library.details(first[0]), library.details(second[0])])

    assert same == [Caption("sd15_txt2img #1", "Same parameters as the others")] * 2
    assert steps == [
        Caption("sd15_txt2img #1", "Steps 20"),
        Caption("sd15_txt2img #1", "Steps 30"),
    ]


def test_compare_rejects_three_images(library: Library) -> None:
    outputs = add_outputs(library, [1, 2, 3])
    details = [library.details(output) for output in outputs]
    with pytest.raises(ValueError, match="Compare takes 2 or 4 images, not 3"):
        open_compare(None, details, library.decoder)


def test_compare_full_screen_and_escape(qtbot: QtBot, library: Library) -> None:
    outputs = add_outputs(library, [1, 2])
    window = open_compare_window(qtbot, library, outputs)
    canvas = window.canvases()[0]

    key(canvas, Qt.Key.Key_F11)
    full = window.isFullScreen()
    key(canvas, Qt.Key.Key_Escape)
    left_full = not window.isFullScreen() and window.isVisible()
    key(canvas, Qt.Key.Key_Escape)

    assert full
    assert left_full
    assert not window.isVisible()


def test_shared_zoom_state_without_window(qtbot: QtBot, library: Library) -> None:
    outputs = add_outputs(library, [1, 2], size=LARGE_SIZE)
    state = ZoomState()
    canvases = []
    for output in outputs:
        canvas = ImageCanvas(state)
        qtbot.addWidget(canvas)
        canvas.resize(400, 300)
        canvas.set_image(decode_image(output.local_path))
        canvases.append(canvas)

    canvases[0].zoom_to(2.0, QPointF(100, 100))

    assert canvases[1].shown_scale() == 2.0
    assert canvases[1].image_rect() == canvases[0].image_rect()


# The main window ------------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.qt_loop
async def test_window_viewer_follows_gallery(tmp_path: Path) -> None:
    async with open_window(tmp_path) as window:
        await queue_sample(window, 3)
        model = window.gallery_model
        await wait_for(lambda: model.rowCount() == 3, description="three images")
        records = [model.record_at(row) for row in range(3)]
        order = [record.output_id for record in records if record is not None]
        assert window.engine is not None
        outputs = {output.id: output for output in window.engine.store.outputs()}

        window.open_viewer(outputs[order[0]])
        viewer = window.viewers()[0]
        await wait_for(viewer.canvas.has_image, description="the first image")
        stepped = [viewer.step(1), viewer.step(1), viewer.step(1)]
        last_shown = viewer.output.id
        stepped_back = viewer.step(-1)
        after_back = viewer.output.id

        compare_window = window.open_compare([outputs[order[0]], outputs[order[2]]])
        rejected = window.open_compare([outputs[order[1]]])
        assert compare_window is not None
        await wait_for(
            lambda: all(canvas.has_image() for canvas in compare_window.canvases()),
            description="both compared images",
        )
        titles = [pane.title.text() for pane in compare_window.panes]
        notices = window.notices.messages()

    assert len(order) == 3
    assert stepped == [True, True, False]
    assert last_shown == order[2]
    assert stepped_back
    assert after_back == order[1]
    assert rejected is None
    assert len(titles) == 2
    assert titles[0] != titles[1]
    assert (NoticeLevel.WARNING, "Select 2 or 4 images to compare, not 1.") in notices


def test_times_use_server_clock_when_reported(library: Library) -> None:
    [output] = add_outputs(library, [11])
    store = library.store
    # With webhooks the app records the job's start only when it has finished; the server's
    # times say it waited 2 s and ran 5 s.
    store.update_job(
        output.job_id,
        started_at=store.get_job(output.job_id).finished_at,
        remote_created_at="2026-12-05T10:00:00Z",
        remote_started_at="2026-12-05T10:00:02Z",
        remote_completed_at="2026-12-05T10:00:07.5Z",
    )

    times = job_times(store.get_job(output.job_id))

    assert times.queued == pytest.approx(2.0)
    assert times.run == pytest.approx(5.5)
    assert times.execution == pytest.approx(EXECUTION_MS / 1000)


def test_times_fall_back_to_local_clock(library: Library) -> None:
    [output] = add_outputs(library, [12])

    times = job_times(library.store.get_job(output.job_id))

    assert times.queued == pytest.approx(STARTED_AFTER)
    assert times.run == pytest.approx(FINISHED_AFTER - STARTED_AFTER)
    assert times.total == pytest.approx(FINISHED_AFTER)
