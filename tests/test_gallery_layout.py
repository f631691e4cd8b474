"""The gallery's filter column at the window's default width of 1200 px: its lists show typical
batch names whole, every group title is in view, and the grid keeps most of the width."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QGroupBox, QScrollArea
from pytestqt.qtbot import QtBot

from cmfy_desk.store import BatchFacet
from cmfy_desk.ui.gallery import GalleryPanel
from cmfy_desk.ui.gallery_search import TYPICAL_BATCH_ENTRY, FacetCounts

# The gallery's size in the default 1200 × 800 window with the gallery dragged taller, as the
# screenshot tour shows it.
PANEL_WIDTH = 1200
PANEL_HEIGHT = 420
# The grid keeps at least this share of the gallery's width for thumbnails.
GRID_MIN_SHARE = 0.65
COUNTS = FacetCounts(
    generation=1,
    batches=[
        BatchFacet(2, "sd15_lora_txt2img 2026-12-05 03-49-54", 2),
        BatchFacet(1, "sd15_txt2img 2026-12-05 03-49-54", 2),
    ],
    connections=[("sandbox", 4)],
    days=[("2026-12-05", 4)],
)


@pytest.fixture
def panel(qtbot: QtBot, tmp_path: Path) -> Iterator[GalleryPanel]:
    panel = GalleryPanel(tmp_path / "thumbnails")
    qtbot.addWidget(panel)
    panel.resize(PANEL_WIDTH, PANEL_HEIGHT)
    panel.show()
    qtbot.waitExposed(panel)
    yield panel
    panel.shutdown()


def side_area(panel: GalleryPanel) -> QScrollArea:
    side = panel.splitter.widget(0)
    assert isinstance(side, QScrollArea)
    return side


def test_filter_lists_show_batch_names(qtbot: QtBot, panel: GalleryPanel) -> None:
    panel.filters.set_facets(COUNTS)
    batches = panel.filters.batches
    qtbot.wait(10)
    widest = batches.sizeHintForColumn(0)
    typical = batches.fontMetrics().horizontalAdvance(TYPICAL_BATCH_ENTRY)

    assert batches.count() == 3
    assert widest <= batches.viewport().width()
    assert typical <= batches.viewport().width()


def test_grid_keeps_most_width(panel: GalleryPanel) -> None:
    filters_width, grid_width = panel.splitter.sizes()

    assert filters_width >= side_area(panel).minimumWidth()
    assert grid_width >= PANEL_WIDTH * GRID_MIN_SHARE


def test_filter_titles_in_view(qtbot: QtBot, panel: GalleryPanel) -> None:
    panel.filters.set_facets(COUNTS)
    qtbot.wait(10)
    viewport = side_area(panel).viewport()
    boxes = panel.filters.findChildren(QGroupBox)
    titles = [box.title() for box in boxes]
    bottoms = {box.title(): box.mapTo(viewport, box.rect().bottomLeft()).y() for box in boxes}

    assert titles == ["Batch", "Connection", "Day", "Folders"]
    for title, bottom in bottoms.items():
        assert bottom < viewport.height(), f"the {title} group ends below the filter column"


def test_filter_lists_follow_entries(qtbot: QtBot, panel: GalleryPanel) -> None:
    batches = panel.filters.batches
    empty_height = batches.height()
    panel.filters.set_facets(
        FacetCounts(
            generation=2,
            batches=[BatchFacet(number, f"batch {number}", 1) for number in range(1, 4)],
        )
    )
    three_height = batches.height()
    panel.filters.set_facets(
        FacetCounts(
            generation=3,
            batches=[BatchFacet(number, f"batch {number}", 1) for number in range(1, 21)],
        )
    )
    many_height = batches.height()
    row = batches.sizeHintForRow(0)
    # The scroll bar's range follows the items after the next layout pass.
    qtbot.wait(10)
    scroll_range = batches.verticalScrollBar().maximum()

    assert three_height == empty_height + 2 * row
    assert many_height == empty_height + 4 * row
    assert scroll_range > 0
