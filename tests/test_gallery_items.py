"""The gallery's items keep one size whatever their image: a small folder image among job
images neither shrinks the other items nor hides their captions.

The view lays out items of uniform size from one sampled item, so the checks run after a
search that lays the grid out again while every thumbnail is already in memory. These are
plain tests that wait for the search thread and the thumbnail processes with qtbot.waitUntil.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QRect
from PySide6.QtGui import QColor, QImage
from pytestqt.qtbot import QtBot

from cmfy_desk.store import ImageData, ImageSource, Store
from cmfy_desk.ui.gallery import CAPTION_LINES, THUMBNAIL_SIZE, GalleryPanel

WAIT_MS = 10_000
SMALL_NAME = "small.png"
SMALL_SIZE = (64, 48)
# Job images as they come out of typical workflows: square and 3:2, newest first.
JOB_SIZES = [(512, 512), (768, 512), (512, 512), (768, 512)]
# A caption pixel is one within this distance, per channel, of the palette's text colour.
INK_TOLERANCE = 60
# Pixels of text colour a line of caption has at least; a file name has far more.
MIN_INK_PIXELS = 10


def write_image(path: Path, size: tuple[int, int]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (40, 120, 200)).save(path, format="PNG")
    return path


def image_rows(folder: Path, small_first: bool) -> list[ImageData]:
    """Return index rows for the job images and one small folder image without a seed, whose
    caption is one line. The gallery shows the newest first."""
    rows = []
    for number, size in enumerate(JOB_SIZES):
        path = write_image(folder / f"job{number}.png", size)
        rows.append(
            ImageData(
                path=str(path),
                source=ImageSource.JOB,
                created_at=2000.0 - number,
                prompt="red fox",
                seed=100 + number,
                width=size[0],
                height=size[1],
                file_size=path.stat().st_size,
            )
        )
    small = write_image(folder / SMALL_NAME, SMALL_SIZE)
    rows.append(
        ImageData(
            path=str(small),
            source=ImageSource.FOLDER,
            created_at=3000.0 if small_first else 1000.0,
            prompt="red fox sketch",
            width=SMALL_SIZE[0],
            height=SMALL_SIZE[1],
            file_size=small.stat().st_size,
        )
    )
    # An image the search below leaves out, so that searching lays the grid out again.
    other = write_image(folder / "lighthouse.png", (512, 512))
    rows.append(
        ImageData(
            path=str(other),
            source=ImageSource.JOB,
            created_at=1500.0,
            prompt="lighthouse",
            seed=7,
            width=512,
            height=512,
            file_size=other.stat().st_size,
        )
    )
    return rows


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "db.sqlite3")
    yield opened
    opened.close()


@pytest.fixture
def panel(qtbot: QtBot, tmp_path: Path) -> Iterator[GalleryPanel]:
    widget = GalleryPanel(tmp_path / "thumbnails")
    qtbot.addWidget(widget)
    widget.resize(1100, 700)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.shutdown()


def wait_search(qtbot: QtBot, panel: GalleryPanel) -> None:
    qtbot.waitUntil(lambda: not panel.model.searching, timeout=WAIT_MS)


def wait_thumbnails(qtbot: QtBot, panel: GalleryPanel) -> None:
    model = panel.model
    qtbot.waitUntil(
        lambda: all(model.thumbnail_ready(row) for row in range(model.rowCount())),
        timeout=WAIT_MS,
    )


def item_rects(panel: GalleryPanel) -> list[QRect]:
    model = panel.model
    return [panel.view.visualRect(model.index(row, 0)) for row in range(model.rowCount())]


def ink_pixels(image: QImage, area: QRect, ink: QColor) -> int:
    """Count the pixels of ``image`` in ``area`` that have about the colour ``ink``."""
    count = 0
    for y in range(max(area.top(), 0), min(area.bottom() + 1, image.height())):
        for x in range(max(area.left(), 0), min(area.right() + 1, image.width())):
            pixel = image.pixelColor(x, y)
            if (
                abs(pixel.red() - ink.red()) <= INK_TOLERANCE
                and abs(pixel.green() - ink.green()) <= INK_TOLERANCE
                and abs(pixel.blue() - ink.blue()) <= INK_TOLERANCE
            ):
                count += 1
    return count


def search_after_thumbnails(
    qtbot: QtBot, panel: GalleryPanel, store: Store
) -> tuple[list[QRect], list[QRect]]:
    """Show every image until its thumbnail is in memory, then search for "fox". Return the
    item rectangles of the first layout and those after the search."""
    panel.attach(store)
    wait_search(qtbot, panel)
    first_layout = item_rects(panel)
    wait_thumbnails(qtbot, panel)
    panel.search.set_text("fox")
    wait_search(qtbot, panel)
    qtbot.wait(50)
    return first_layout, item_rects(panel)


@pytest.mark.parametrize("small_first", [True, False], ids=["small first", "small last"])
def test_small_image_keeps_item_size(
    qtbot: QtBot, panel: GalleryPanel, store: Store, tmp_path: Path, small_first: bool
) -> None:
    store.gallery.upsert(image_rows(tmp_path / "images", small_first))
    first_layout, rects = search_after_thumbnails(qtbot, panel, store)
    names = [Path(record.path).name for record in panel.model.records_at(range(len(rects)))]
    line = panel.view.fontMetrics().lineSpacing()
    expected = first_layout[0].size()

    assert len(rects) == len(JOB_SIZES) + 1
    assert names.index(SMALL_NAME) == (0 if small_first else len(JOB_SIZES))
    assert {rect.size().toTuple() for rect in first_layout} == {expected.toTuple()}
    for name, rect in zip(names, rects, strict=True):
        assert rect.size() == expected, f"{name} changed size"
    assert expected.width() >= THUMBNAIL_SIZE
    assert expected.height() >= THUMBNAIL_SIZE + CAPTION_LINES * line


def test_captions_visible_beside_small_image(
    qtbot: QtBot, panel: GalleryPanel, store: Store, tmp_path: Path
) -> None:
    store.gallery.upsert(image_rows(tmp_path / "images", small_first=False))
    _first_layout, rects = search_after_thumbnails(qtbot, panel, store)
    model = panel.model
    captions = [model.index(row, 0).data() for row in range(len(rects))]
    panel.view.clearSelection()
    image = panel.view.viewport().grab().toImage()
    ink = panel.view.palette().text().color()
    line = panel.view.fontMetrics().lineSpacing()

    for rect, caption in zip(rects, captions, strict=True):
        # The caption's lines start under the thumbnail's square.
        top = rect.top() + THUMBNAIL_SIZE + 2
        for number, text in enumerate(caption.split("\n")):
            area = QRect(rect.left(), top + number * line, rect.width(), line)
            assert area.bottom() <= rect.bottom(), f"line {number + 1} of {caption!r} is cut off"
            assert ink_pixels(image, area, ink) >= MIN_INK_PIXELS, f"{text!r} is not drawn"
