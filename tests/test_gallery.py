"""The gallery over a real image index: search line, filters, paging, thumbnails, image actions.

The library is a real SQLite store with real PNG files. Searches run on the gallery's worker
thread, so the tests wait for them with qtbot.waitUntil (these are plain, not async, tests).
"""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt
from PySide6.QtGui import QGuiApplication, QPixmap
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from cmfy_desk.outputs.index import index_unindexed_outputs
from cmfy_desk.outputs.query import FIELD_HELP, parse_query
from cmfy_desk.store import (
    Facets,
    Gallery,
    ImageData,
    ImageQuery,
    ImageRecord,
    ImageSource,
    ImageStatus,
    Output,
    Store,
)
from cmfy_desk.ui.gallery import (
    PAGE_SIZE,
    RECORD_CACHE_PAGES,
    RECORD_ROLE,
    REFRESH_DELAY_MS,
    THUMBNAIL_CACHE_LIMIT,
    THUMBNAIL_SIZE,
    GalleryPanel,
)
from cmfy_desk.ui.gallery_actions import ExportResult, copy_without_overwrite, export_files
from cmfy_desk.ui.gallery_search import FacetCounts, FacetKind, SearchWorker
from cmfy_desk.ui.rerun import RerunAction
from tests.test_image_index import add_job, save_output, sdxl_graph, write_png

DAY_ONE = datetime(2026, 11, 20, 12).timestamp()
DAY_TWO = datetime(2026, 11, 24, 12).timestamp()
WAIT_MS = 10_000

# name, prompt, batch (0 or 1), connection, day, rating, favourite, tags
LIBRARY: list[tuple[str, str, int, str, float, int, bool, tuple[str, ...]]] = [
    ("castle.png", "castle in fog", 0, "studio", DAY_ONE, 1, False, ()),
    ("fox1.png", "a red fox in snow", 0, "cloud", DAY_ONE, 5, True, ("draft",)),
    ("fox2.png", "a red fox at dusk", 0, "cloud", DAY_ONE, 3, False, ()),
    ("fox3.png", "red fox portrait", 1, "studio", DAY_TWO, 0, False, ()),
    ("light1.png", "lighthouse on a cliff", 1, "studio", DAY_TWO, 4, True, ("portfolio",)),
    ("light2.png", "lighthouse at night", 1, "cloud", DAY_TWO, 0, False, ()),
]
# Newest first, as the gallery shows them.
ALL_NAMES = [row[0] for row in reversed(LIBRARY)]
IMAGE_COLOR = (40, 120, 200)


def write_image(path: Path, color: tuple[int, int, int] = IMAGE_COLOR) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (320, 200), color).save(path, format="PNG")
    return path


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "db.sqlite3")
    yield opened
    opened.close()


@pytest.fixture
def library(store: Store, tmp_path: Path) -> dict[str, int]:
    """Index the images of LIBRARY, with their files, into ``store``; return their ids."""
    batch_ids = []
    for number in range(2):
        batch, _jobs = store.add_batch(
            name=f"batch {number}",
            workflow_name="wf",
            workflow_path="wf.json",
            connection="cloud",
            seed_mode="fixed",
            output_dir=str(tmp_path / "out"),
            jobs=[],
        )
        batch_ids.append(batch.id)
    rows = []
    for position, (name, prompt, batch, connection, day, _rating, _fav, _tags) in enumerate(
        LIBRARY
    ):
        path = write_image(tmp_path / "library" / name)
        rows.append(
            ImageData(
                path=str(path),
                source=ImageSource.FOLDER,
                created_at=day + position,
                batch_id=batch_ids[batch],
                connection=connection,
                prompt=prompt,
                seed=1000 + position,
                width=320,
                height=200,
                file_size=path.stat().st_size,
            )
        )
    store.gallery.upsert(rows)
    records = store.gallery.search(ImageQuery(), limit=len(LIBRARY))
    ids = {Path(record.path).name: record.id for record in records}
    for name, _prompt, _batch, _connection, _day, rating, favourite, tags in LIBRARY:
        store.gallery.set_rating([ids[name]], rating)
        store.gallery.set_favourite([ids[name]], favourite)
        store.gallery.set_tags([ids[name]], tags)
    return ids


@pytest.fixture
def panel(qtbot: QtBot, tmp_path: Path, store: Store, library: dict[str, int]) -> Iterator[Any]:
    widget = GalleryPanel(tmp_path / "thumbnails")
    qtbot.addWidget(widget)
    widget.resize(1100, 700)
    widget.show()
    widget.attach(store)
    wait_search(qtbot, widget)
    yield widget
    widget.shutdown()


def wait_search(qtbot: QtBot, panel: GalleryPanel) -> None:
    qtbot.waitUntil(lambda: not panel.model.searching, timeout=WAIT_MS)


def names(panel: GalleryPanel) -> list[str]:
    model = panel.model
    return [Path(record.path).name for record in model.records_at(range(model.rowCount()))]


def select(panel: GalleryPanel, selected_names: list[str]) -> None:
    """Select the images named ``selected_names``, the first of them current."""
    selection = panel.view.selectionModel()
    selection.clearSelection()
    shown = names(panel)
    for name in selected_names:
        index = panel.model.index(shown.index(name), 0)
        selection.select(index, QItemSelectionModel.SelectionFlag.Select)
    current = panel.model.index(shown.index(selected_names[0]), 0)
    selection.setCurrentIndex(current, QItemSelectionModel.SelectionFlag.NoUpdate)


def record(store: Store, ids: dict[str, int], name: str) -> ImageRecord:
    return store.gallery.get(ids[name])


# The model ------------------------------------------------------------------------------


def test_model_passes_modeltester(
    panel: GalleryPanel, qtmodeltester: Any, qtbot: QtBot, library: dict[str, int]
) -> None:
    model = panel.model
    qtmodeltester.check(model)
    model.remove_ids([library["fox2.png"]])
    panel.search.set_text("fox")
    wait_search(qtbot, panel)
    qtmodeltester.check(model)

    assert names(panel) == ["fox3.png", "fox2.png", "fox1.png"]
    assert model.data(model.index(0, 0), RECORD_ROLE).id == library["fox3.png"]
    assert model.data(QModelIndex()) is None


def test_caption_and_tooltip_show_facts(panel: GalleryPanel) -> None:
    model = panel.model
    row = names(panel).index("fox1.png")
    caption = model.data(model.index(row, 0), Qt.ItemDataRole.DisplayRole)
    tooltip = model.data(model.index(row, 0), Qt.ItemDataRole.ToolTipRole)
    assert caption == "fox1.png\n♥ ★★★★★"
    assert "a red fox in snow" in tooltip
    assert "Seed: 1001" in tooltip
    assert "Tags: draft" in tooltip


def test_thumbnail_loads_into_disk_cache(
    store: Store, library: dict[str, int], qtbot: QtBot, tmp_path: Path
) -> None:
    # A hidden panel paints nothing, so only this test requests thumbnails.
    panel = GalleryPanel(tmp_path / "thumbnails")
    qtbot.addWidget(panel)
    panel.attach(store)
    try:
        wait_search(qtbot, panel)
        model = panel.model
        index = model.index(0, 0)
        placeholder = model.data(index, Qt.ItemDataRole.DecorationRole)
        qtbot.waitUntil(lambda: model.thumbnail_ready(0), timeout=WAIT_MS)
        thumbnail = model.data(index, Qt.ItemDataRole.DecorationRole)
    finally:
        panel.shutdown()

    assert placeholder.toImage().pixelColor(80, 80).name() == "#d0d0d0"
    assert isinstance(thumbnail, QPixmap)
    assert (thumbnail.width(), thumbnail.height()) == (THUMBNAIL_SIZE, 100)
    center = thumbnail.toImage().pixelColor(80, 50)
    assert abs(center.blue() - IMAGE_COLOR[2]) < 10
    assert len(list((tmp_path / "thumbnails").glob("*/*.jpg"))) == 1


def red_cross(pixmap: QPixmap) -> bool:
    center = pixmap.toImage().pixelColor(THUMBNAIL_SIZE // 2, THUMBNAIL_SIZE // 2)
    return center.red() > 150 and center.green() < 60 and center.blue() < 60


def test_damaged_and_missing_files_marked(
    panel: GalleryPanel, store: Store, library: dict[str, int], tmp_path: Path, qtbot: QtBot
) -> None:
    broken = tmp_path / "library" / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not an image")
    store.gallery.upsert(
        [
            ImageData(
                path=str(broken),
                source=ImageSource.FOLDER,
                created_at=DAY_TWO + 100,
                status=ImageStatus.CORRUPT,
                message="The image is damaged: truncated.",
            )
        ]
    )
    # This file vanished after it was indexed, so only the thumbnail finds out.
    gone = write_image(tmp_path / "library" / "gone.png")
    store.gallery.upsert(
        [ImageData(path=str(gone), source=ImageSource.FOLDER, created_at=DAY_TWO + 200)]
    )
    gone.unlink()
    panel.model.search()
    wait_search(qtbot, panel)
    model = panel.model
    shown = names(panel)
    damaged = model.index(shown.index("broken.png"), 0)
    vanished_row = shown.index("gone.png")
    vanished = model.index(vanished_row, 0)
    model.data(vanished, Qt.ItemDataRole.DecorationRole)
    qtbot.waitUntil(lambda: model.thumbnail_ready(vanished_row), timeout=WAIT_MS)

    assert red_cross(model.data(damaged, Qt.ItemDataRole.DecorationRole))
    assert model.data(damaged).endswith("\nDamaged file")
    assert "The image is damaged: truncated." in model.data(damaged, Qt.ItemDataRole.ToolTipRole)
    assert red_cross(model.data(vanished, Qt.ItemDataRole.DecorationRole))
    assert "gone.png cannot be read" in model.data(vanished, Qt.ItemDataRole.ToolTipRole)


# Search and filters ---------------------------------------------------------------------


def test_search_line_updates_results(panel: GalleryPanel, qtbot: QtBot) -> None:
    QTest.keyClicks(panel.search.edit, "lighthouse")
    before_pause = names(panel)
    qtbot.waitUntil(lambda: names(panel) == ["light2.png", "light1.png"], timeout=WAIT_MS)

    assert before_pause == ALL_NAMES
    assert panel.search.count_label.text() == "2 images"


def test_parse_error_keeps_results(panel: GalleryPanel, qtbot: QtBot) -> None:
    panel.search.set_text("fox")
    wait_search(qtbot, panel)
    QTest.keyClicks(panel.search.edit, " steps:abc")
    qtbot.waitUntil(lambda: panel.search.error != "", timeout=WAIT_MS)
    error = panel.search.error
    shown = names(panel)
    panel.search.set_text("fox steps:>1")
    wait_search(qtbot, panel)

    assert shown == ["fox3.png", "fox2.png", "fox1.png"]
    assert "'steps:abc' is not a whole number" in error
    assert "steps takes a whole number" in error
    assert panel.search.error == ""
    # No image has a step count, so the corrected search finds none.
    assert names(panel) == []


def test_help_lists_every_field(panel: GalleryPanel) -> None:
    panel.search.help_button.click()
    dialog = panel.search.help_dialog
    assert dialog is not None and dialog.isVisible()
    for field, accepted in FIELD_HELP.items():
        assert f"<b>{field}:</b>" in dialog.text.text()
        assert html.escape(accepted) in dialog.text.text()


def item_texts(widget: Any) -> list[str]:
    return [widget.item(row).text() for row in range(widget.count())]


def choose(widget: Any, prefix: str) -> None:
    for row in range(widget.count()):
        if widget.item(row).text().startswith(prefix):
            widget.setCurrentRow(row)
            return
    raise AssertionError(f"no item starting with {prefix!r} in {item_texts(widget)}")


def test_filters_narrow_results(panel: GalleryPanel, qtbot: QtBot) -> None:
    filters = panel.filters
    qtbot.waitUntil(lambda: filters.batches.count() == 3, timeout=WAIT_MS)
    results: dict[str, list[str]] = {}

    filters.favourites.setChecked(True)
    wait_search(qtbot, panel)
    results["favourites"] = names(panel)
    filters.favourites.setChecked(False)
    filters.rating.setCurrentIndex(filters.rating.findData(3))
    wait_search(qtbot, panel)
    results["rating 3+"] = names(panel)
    filters.clear()

    choose(filters.batches, "#2 batch 1")
    wait_search(qtbot, panel)
    results["batch 1"] = names(panel)
    qtbot.waitUntil(lambda: "cloud  (1)" in item_texts(filters.connections), timeout=WAIT_MS)
    batches_while_chosen = item_texts(filters.batches)
    choose(filters.connections, "cloud")
    wait_search(qtbot, panel)
    results["batch 1 on cloud"] = names(panel)
    filters.clear()

    qtbot.waitUntil(lambda: "2026-11-20  (3)" in item_texts(filters.days), timeout=WAIT_MS)
    choose(filters.days, "2026-11-20")
    wait_search(qtbot, panel)
    results["day"] = names(panel)

    assert results == {
        "favourites": ["light1.png", "fox1.png"],
        "rating 3+": ["light1.png", "fox2.png", "fox1.png"],
        "batch 1": ["light2.png", "light1.png", "fox3.png"],
        "batch 1 on cloud": ["light2.png"],
        "day": ["fox2.png", "fox1.png", "castle.png"],
    }
    # The batch list counts without its own filter, so the other batch stays listed.
    assert batches_while_chosen == ["All batches", "#2 batch 1  (3)", "#1 batch 0  (3)"]


def test_ctrl_f_focuses_and_escape_clears(panel: GalleryPanel, qtbot: QtBot) -> None:
    panel.search.set_text("fox")
    wait_search(qtbot, panel)
    panel.activateWindow()
    qtbot.waitUntil(panel.isActiveWindow, timeout=WAIT_MS)
    panel.view.setFocus()
    QTest.keyClick(panel.view, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    focused = panel.search.edit.hasFocus()
    QTest.keyClick(panel.search.edit, Qt.Key.Key_Escape)
    wait_search(qtbot, panel)

    assert focused
    assert panel.search.edit.text() == ""
    assert names(panel) == ALL_NAMES


# Actions on the selection -----------------------------------------------------------------


def test_keys_rate_and_favourite_persist(
    panel: GalleryPanel, qtbot: QtBot, tmp_path: Path, library: dict[str, int]
) -> None:
    select(panel, ["fox2.png", "castle.png"])
    panel.view.setFocus()
    panel.activateWindow()
    qtbot.waitUntil(panel.isActiveWindow, timeout=WAIT_MS)
    QTest.keyClick(panel.view, Qt.Key.Key_4)
    QTest.keyClick(panel.view, Qt.Key.Key_F)
    row = names(panel).index("fox2.png")
    caption = panel.model.data(panel.model.index(row, 0))
    QTest.keyClick(panel.view, Qt.Key.Key_0)

    # A second connection reads what the first one committed.
    reopened = Store.open(tmp_path / "db.sqlite3")
    try:
        fox2 = reopened.gallery.get(library["fox2.png"])
        castle = reopened.gallery.get(library["castle.png"])
        fox1 = reopened.gallery.get(library["fox1.png"])
    finally:
        reopened.close()
    assert caption == "fox2.png\n♥ ★★★★"
    assert (fox2.rating, fox2.favourite) == (0, True)
    assert (castle.rating, castle.favourite) == (0, True)
    assert (fox1.rating, fox1.favourite) == (5, True)


def test_favourite_key_unsets_when_current_is_favourite(
    panel: GalleryPanel, store: Store, library: dict[str, int]
) -> None:
    select(panel, ["fox1.png", "fox2.png"])
    panel.image_actions.favourite_action.trigger()
    assert not record(store, library, "fox1.png").favourite
    assert not record(store, library, "fox2.png").favourite
    panel.image_actions.favourite_action.trigger()
    assert record(store, library, "fox1.png").favourite
    assert record(store, library, "fox2.png").favourite


def test_tag_dialog_adds_and_removes(
    panel: GalleryPanel, store: Store, library: dict[str, int]
) -> None:
    select(panel, ["fox1.png", "fox2.png"])
    panel.image_actions.edit_tags()
    dialog = panel.image_actions.tag_dialog
    assert dialog is not None
    draft = dialog.list.item(0)
    listed = (draft.text(), draft.checkState())
    completions = dialog.new_tag.completer().model()
    known = [completions.index(row, 0).data() for row in range(completions.rowCount())]
    dialog.new_tag.setText("portfolio")
    dialog.add_typed_tag()
    draft.setCheckState(Qt.CheckState.Unchecked)
    dialog.accept()

    assert listed == ("draft (1 of 2)", Qt.CheckState.PartiallyChecked)
    assert sorted(known) == ["draft", "portfolio"]
    assert record(store, library, "fox1.png").tags == ("portfolio",)
    assert record(store, library, "fox2.png").tags == ("portfolio",)
    assert record(store, library, "light1.png").tags == ("portfolio",)


def test_copy_puts_file_urls_and_image(panel: GalleryPanel, tmp_path: Path) -> None:
    select(panel, ["fox1.png"])
    panel.image_actions.copy()
    one = QGuiApplication.clipboard().mimeData()
    one_urls = [url.toLocalFile() for url in one.urls()]
    one_has_image = one.hasImage()
    select(panel, ["fox1.png", "fox2.png"])
    panel.image_actions.copy()
    two = QGuiApplication.clipboard().mimeData()

    library = tmp_path / "library"
    assert one_urls == [str(library / "fox1.png")]
    assert one_has_image
    assert sorted(url.toLocalFile() for url in two.urls()) == [
        str(library / "fox1.png"),
        str(library / "fox2.png"),
    ]
    assert not two.hasImage()


def test_drag_carries_file_urls(panel: GalleryPanel, tmp_path: Path) -> None:
    model = panel.model
    rows = [names(panel).index("light1.png"), names(panel).index("castle.png")]
    data = model.mimeData([model.index(row, 0) for row in rows])
    flags = model.flags(model.index(0, 0))

    assert panel.view.dragEnabled()
    assert flags & Qt.ItemFlag.ItemIsDragEnabled
    assert model.supportedDragActions() == Qt.DropAction.CopyAction
    assert sorted(url.toLocalFile() for url in data.urls()) == [
        str(tmp_path / "library" / "castle.png"),
        str(tmp_path / "library" / "light1.png"),
    ]


def test_copy_without_overwrite_numbers_names(tmp_path: Path) -> None:
    source = write_image(tmp_path / "src" / "fox.png")
    target = tmp_path / "export"
    target.mkdir()
    (target / "fox.png").write_bytes(b"someone else's file")
    (target / "fox (2).png").write_bytes(b"another one")

    first = copy_without_overwrite(source, target)
    second = copy_without_overwrite(source, target)

    assert first.name == "fox (3).png"
    assert second.name == "fox (4).png"
    assert (target / "fox.png").read_bytes() == b"someone else's file"
    assert (target / "fox (2).png").read_bytes() == b"another one"
    assert first.read_bytes() == source.read_bytes()
    assert first.stat().st_mtime == source.stat().st_mtime


def test_export_selection_reports_each_file(
    panel: GalleryPanel, qtbot: QtBot, tmp_path: Path
) -> None:
    target = tmp_path / "export"
    target.mkdir()
    (target / "fox1.png").write_bytes(b"keep me")
    gone = tmp_path / "library" / "nowhere.png"
    results: list[ExportResult] = []
    panel.image_actions.exported.connect(results.append)
    notices: list[tuple[object, str]] = []
    panel.noticeRequested.connect(lambda level, text: notices.append((level, text)))
    paths = [tmp_path / "library" / "fox1.png", tmp_path / "library" / "fox2.png", gone]
    panel.image_actions.export_to(target, paths).result(timeout=10)
    qtbot.waitUntil(lambda: len(results) == 1, timeout=WAIT_MS)

    assert sorted(path.name for path in target.iterdir()) == [
        "fox1 (2).png",
        "fox1.png",
        "fox2.png",
    ]
    assert (target / "fox1.png").read_bytes() == b"keep me"
    assert [path.name for path in results[0].copied] == ["fox1 (2).png", "fox2.png"]
    assert len(results[0].errors) == 1
    assert "nowhere.png" in results[0].errors[0]
    assert [text.split(":")[0] for _level, text in notices] == [
        f"Exported 2 images to {target}.",
        "Exporting failed for 1 image",
    ]


def test_export_files_never_overwrites(tmp_path: Path) -> None:
    sources = [write_image(tmp_path / "a" / "same.png"), write_image(tmp_path / "b" / "same.png")]
    target = tmp_path / "export"
    target.mkdir()
    result = export_files(sources, target)
    assert [path.name for path in result.copied] == ["same.png", "same (2).png"]
    assert result.errors == []


@pytest.fixture
def trash_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Send QFile.moveToTrash to a trash folder under tmp_path, on the files' own drive."""
    data_home = tmp_path / "xdg-data"
    data_home.mkdir()
    monkeypatch.setenv("XDG_DATA_HOME", str(data_home))
    return data_home / "Trash" / "files"


def answer_trash(panel: GalleryPanel, button_text: str) -> None:
    panel.image_actions.confirm_trash()
    box = panel.image_actions.trash_box
    assert isinstance(box, QMessageBox)
    buttons = [button for button in box.buttons() if button.text() == button_text]
    assert len(buttons) == 1, [button.text() for button in box.buttons()]
    buttons[0].click()


def test_trash_keeping_records(
    panel: GalleryPanel,
    qtbot: QtBot,
    store: Store,
    library: dict[str, int],
    tmp_path: Path,
    trash_home: Path,
) -> None:
    select(panel, ["fox3.png"])
    answer_trash(panel, "Keep records")
    shown = names(panel)
    panel.search.set_text("is:missing")
    wait_search(qtbot, panel)

    assert not (tmp_path / "library" / "fox3.png").exists()
    assert (trash_home / "fox3.png").is_file()
    assert record(store, library, "fox3.png").status is ImageStatus.MISSING
    assert record(store, library, "fox3.png").rating == 0
    assert "fox3.png" not in shown
    assert len(shown) == 5
    assert names(panel) == ["fox3.png"]


def test_trash_removing_records(
    panel: GalleryPanel, store: Store, library: dict[str, int], tmp_path: Path, trash_home: Path
) -> None:
    select(panel, ["light2.png", "castle.png"])
    answer_trash(panel, "Remove records")

    assert sorted(path.name for path in trash_home.iterdir()) == ["castle.png", "light2.png"]
    with pytest.raises(KeyError):
        store.gallery.get(library["light2.png"])
    with pytest.raises(KeyError):
        store.gallery.get(library["castle.png"])
    assert names(panel) == ["light1.png", "fox3.png", "fox2.png", "fox1.png"]
    assert panel.search.count_label.text() == "4 images"


def test_trash_cancel_changes_nothing(
    panel: GalleryPanel, tmp_path: Path, trash_home: Path
) -> None:
    select(panel, ["fox1.png"])
    answer_trash(panel, "Cancel")
    assert (tmp_path / "library" / "fox1.png").is_file()
    assert names(panel) == ALL_NAMES


# Job outputs ------------------------------------------------------------------------------


def new_output(store: Store, tmp_path: Path, prompt: str, name: str) -> Output:
    job = add_job(store, sdxl_graph(prompt=prompt, seed=77), seed=77)
    return save_output(store, job, write_png(tmp_path / "out" / name))


def test_new_output_appears_at_top(
    panel: GalleryPanel, store: Store, tmp_path: Path, qtbot: QtBot
) -> None:
    model = panel.model
    resets: list[bool] = []
    inserted: list[tuple[int, int]] = []
    model.modelReset.connect(lambda: resets.append(True))
    model.rowsInserted.connect(lambda _parent, first, last: inserted.append((first, last)))

    output = new_output(store, tmp_path, "a harbour at dawn", "job1.png")
    model.add_output(output)
    top = names(panel)[0]
    indexed = store.gallery.get_by_path(output.local_path)
    # Saved again: the row is repainted, not added twice.
    model.add_output(output)
    rows_after_again = model.rowCount()

    assert top == "job1.png"
    assert indexed is not None
    assert indexed.seed == 77
    assert indexed.output_id == output.id
    assert inserted == [(0, 0)]
    assert resets == []
    assert rows_after_again == len(ALL_NAMES) + 1


def test_burst_of_outputs_inserted_together(
    panel: GalleryPanel, store: Store, tmp_path: Path, qtbot: QtBot
) -> None:
    model = panel.model
    inserted: list[tuple[int, int]] = []
    model.rowsInserted.connect(lambda _parent, first, last: inserted.append((first, last)))
    outputs = [
        new_output(store, tmp_path, f"a harbour at dawn {number}", f"burst{number}.png")
        for number in range(20)
    ]

    for output in outputs:
        model.add_output(output)
    qtbot.waitUntil(lambda: model.rowCount() == len(ALL_NAMES) + 20, timeout=WAIT_MS)

    # The first image shows at once and the other 19 in one insertion, newest first.
    assert inserted == [(0, 0), (0, 18)]
    assert names(panel)[:20] == [f"burst{number}.png" for number in reversed(range(20))]


def test_new_output_checked_against_search(
    panel: GalleryPanel, store: Store, tmp_path: Path, qtbot: QtBot
) -> None:
    panel.search.set_text("harbour")
    wait_search(qtbot, panel)
    model = panel.model
    model.add_output(new_output(store, tmp_path, "a castle on a hill", "other.png"))
    model.add_output(new_output(store, tmp_path, "a harbour at dawn", "harbour.png"))
    # The worker checks new images in the order they came, so the castle image was checked
    # and left out before the harbour image arrives.
    qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=WAIT_MS)
    assert names(panel) == ["harbour.png"]


def test_removed_job_record_not_restored(
    panel: GalleryPanel, store: Store, tmp_path: Path, qtbot: QtBot, trash_home: Path
) -> None:
    output = new_output(store, tmp_path, "a harbour at dawn", "job1.png")
    panel.model.add_output(output)
    select(panel, ["job1.png"])
    answer_trash(panel, "Remove records")

    # What the app runs at start, then the gallery's search.
    indexed_at_start = index_unindexed_outputs(store)
    panel.model.search()
    wait_search(qtbot, panel)

    assert (trash_home / "job1.png").is_file()
    assert indexed_at_start == 0
    assert store.gallery.get_by_path(output.local_path) is None
    assert names(panel) == ALL_NAMES
    assert [item.id for item in store.outputs(output.job_id)] == [output.id]


def test_kept_job_record_survives_restart(
    panel: GalleryPanel, store: Store, tmp_path: Path, qtbot: QtBot, trash_home: Path
) -> None:
    output = new_output(store, tmp_path, "a harbour at dawn", "job1.png")
    panel.model.add_output(output)
    select(panel, ["job1.png"])
    answer_trash(panel, "Keep records")

    indexed_at_start = index_unindexed_outputs(store)
    panel.search.set_text("is:missing")
    wait_search(qtbot, panel)
    record_after = store.gallery.get_by_path(output.local_path)

    assert (trash_home / "job1.png").is_file()
    assert indexed_at_start == 0
    assert record_after is not None
    assert record_after.status is ImageStatus.MISSING
    assert record_after.output_id == output.id
    assert names(panel) == ["job1.png"]


# Images arrive this far apart, faster than the filter lists may be recounted.
ARRIVAL_GAP_MS = REFRESH_DELAY_MS // 4
ARRIVALS = 12


def shown_facets(panel: GalleryPanel) -> list[list[str]]:
    """Return the entries of the batch, connection and day lists, without "All …"."""
    filters = panel.filters
    return [
        item_texts(widget)[1:] for widget in (filters.batches, filters.connections, filters.days)
    ]


def indexed_facets(store: Store, query: ImageQuery) -> list[list[str]]:
    """Return the entries the batch, connection and day lists show for ``query``."""
    facets = store.gallery.facets(query)
    return [
        [f"#{batch.batch_id} {batch.name}  ({batch.count})" for batch in facets.batches],
        [f"{name}  ({count})" for name, count in facets.connections],
        [f"{day}  ({count})" for day, count in facets.days],
    ]


def add_outputs_one_by_one(
    panel: GalleryPanel, store: Store, tmp_path: Path, qtbot: QtBot
) -> list[int]:
    """Add ARRIVALS job images ARRIVAL_GAP_MS apart, as a running batch saves them. Return
    how many images had arrived at each recount of the filter lists."""
    qtbot.waitUntil(lambda: panel.filters.batches.count() == 3, timeout=WAIT_MS)
    arrived = 0
    recounts: list[int] = []
    panel.model.facetsCounted.connect(lambda _counts: recounts.append(arrived))
    for number in range(ARRIVALS):
        output = new_output(store, tmp_path, f"a harbour, take {number}", f"take{number}.png")
        panel.model.add_output(output)
        arrived += 1
        qtbot.wait(ARRIVAL_GAP_MS)
    return recounts


def test_facet_counts_match_index_after_last_image(
    panel: GalleryPanel, store: Store, tmp_path: Path, qtbot: QtBot
) -> None:
    recounts = add_outputs_one_by_one(panel, store, tmp_path, qtbot)
    qtbot.waitUntil(lambda: ARRIVALS in recounts, timeout=WAIT_MS)

    assert panel.model.rowCount() == len(ALL_NAMES) + ARRIVALS
    assert shown_facets(panel) == indexed_facets(store, ImageQuery())
    # 3 images of the library and the 12 new ones.
    assert "cloud  (15)" in shown_facets(panel)[1]
    # Recounted in bursts, not once per image.
    assert len(recounts) <= ARRIVALS // 2


def test_facet_counts_refresh_while_images_arrive(
    panel: GalleryPanel, store: Store, tmp_path: Path, qtbot: QtBot
) -> None:
    recounts = add_outputs_one_by_one(panel, store, tmp_path, qtbot)
    during = [arrived for arrived in recounts if arrived < ARRIVALS]

    # The images take 3 s to arrive, and the lists are recounted about once a second.
    assert len(during) >= 2
    assert len(recounts) <= ARRIVALS // 2


def test_worker_merges_waiting_facet_counts(
    store: Store, library: dict[str, int], qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    studio = parse_query("connection:studio")
    release = threading.Event()
    counted_queries: list[ImageQuery] = []
    count_facets = Gallery.facets

    def held_facets(gallery: Gallery, query: ImageQuery) -> Facets:
        # Counting waits until every request is made, as a slow count on a large index would.
        counted_queries.append(query)
        release.wait(WAIT_MS / 1000)
        return count_facets(gallery, query)

    monkeypatch.setattr(Gallery, "facets", held_facets)
    worker = SearchWorker(store.path)
    received: list[FacetCounts] = []
    worker.facetsCounted.connect(received.append)
    everything = {kind: ImageQuery() for kind in FacetKind}
    try:
        worker.search(1, ImageQuery(), everything)
        for _request in range(30):
            worker.count_facets(1, everything)
        worker.count_facets(1, {kind: studio for kind in FacetKind})
        release.set()
        qtbot.waitUntil(lambda: len(received) >= 2, timeout=WAIT_MS)
        qtbot.wait(200)
    finally:
        worker.close()

    # The search's own count, then one count for the 31 requests, with the last one's query.
    assert counted_queries == [ImageQuery(), studio]
    assert len(received) == 2
    assert received[1].connections == [("studio", 3)]
    assert sum(batch.count for batch in received[1].batches) == 3


def test_rerun_and_compare_emit_outputs(
    panel: GalleryPanel, store: Store, tmp_path: Path, qtbot: QtBot
) -> None:
    first = new_output(store, tmp_path, "a harbour at dawn", "job1.png")
    second = new_output(store, tmp_path, "a harbour at dusk", "job2.png")
    panel.model.add_output(first)
    panel.model.add_output(second)
    qtbot.waitUntil(lambda: "job2.png" in names(panel), timeout=WAIT_MS)
    reruns: list[tuple[Output, RerunAction]] = []
    compares: list[list[Output]] = []
    opened: list[Output] = []
    panel.rerunRequested.connect(lambda output, action: reruns.append((output, action)))
    panel.compareRequested.connect(compares.append)
    panel.openRequested.connect(opened.append)
    actions = panel.image_actions

    select(panel, ["job1.png", "job2.png"])
    actions.rerun_actions[RerunAction.RUN_AGAIN].trigger()
    actions.rerun_actions[RerunAction.VARY_SEED].trigger()
    actions.compare_action.trigger()
    actions.open_action.trigger()
    select(panel, ["fox1.png"])
    rerun_enabled_for_folder_image = actions.rerun_actions[RerunAction.EDIT].isEnabled()

    # "Run again" takes every selected image in the grid's order (newest first), the
    # other actions only the current image.
    assert [(output.id, action) for output, action in reruns] == [
        (second.id, RerunAction.RUN_AGAIN),
        (first.id, RerunAction.RUN_AGAIN),
        (first.id, RerunAction.VARY_SEED),
    ]
    assert [[output.id for output in outputs] for outputs in compares] == [[second.id, first.id]]
    assert [output.id for output in opened] == [first.id]
    assert not rerun_enabled_for_folder_image


# Folders from elsewhere -------------------------------------------------------------------


def test_add_folder_indexes_and_remove_drops(
    panel: GalleryPanel, qtbot: QtBot, tmp_path: Path
) -> None:
    folder = tmp_path / "elsewhere"
    for number in range(3):
        write_png(folder / f"found{number}.png", sdxl_graph(prompt=f"found image {number}"))
    future = panel.folders.add_folder(folder)
    assert future is not None
    result = future.result(timeout=30)
    qtbot.waitUntil(lambda: panel.model.rowCount() == len(ALL_NAMES) + 3, timeout=WAIT_MS)
    # The status line follows the scan's end through the event queue, maybe after the rows.
    qtbot.waitUntil(lambda: bool(panel.filters.folders.status.text()), timeout=WAIT_MS)
    listed = item_texts(panel.filters.folders.list)
    status = panel.filters.folders.status.text()
    panel.search.set_text("found")
    wait_search(qtbot, panel)
    found = names(panel)

    panel.folders.forget_folder(str(folder))
    panel.search.clear()
    wait_search(qtbot, panel)

    assert result.indexed == 3
    assert result.failed == 0, result
    assert listed == [str(folder)]
    assert status.startswith("elsewhere: 3 images indexed")
    assert sorted(found) == ["found0.png", "found1.png", "found2.png"]
    assert names(panel) == ALL_NAMES
    assert panel.filters.folders.list.count() == 0


def test_watched_folder_rescans_on_check(
    panel: GalleryPanel, store: Store, qtbot: QtBot, tmp_path: Path
) -> None:
    folder = tmp_path / "elsewhere"
    write_png(folder / "first.png", sdxl_graph(prompt="first find"))
    future = panel.folders.add_folder(folder)
    assert future is not None
    future.result(timeout=30)
    qtbot.waitUntil(lambda: panel.model.rowCount() == len(ALL_NAMES) + 1, timeout=WAIT_MS)
    # Checking the folder starts the watcher, whose first round runs at once.
    write_png(folder / "second.png", sdxl_graph(prompt="second find"))
    panel.filters.folders.list.item(0).setCheckState(Qt.CheckState.Checked)
    qtbot.waitUntil(lambda: panel.model.rowCount() == len(ALL_NAMES) + 2, timeout=WAIT_MS)

    assert [folder.watch for folder in store.gallery.watched_folders()] == [True]
    assert names(panel)[:2] == ["second.png", "first.png"]


def test_add_missing_folder_reports_error(panel: GalleryPanel, tmp_path: Path) -> None:
    notices: list[str] = []
    panel.noticeRequested.connect(lambda _level, text: notices.append(text))
    future = panel.folders.add_folder(tmp_path / "not-there")

    assert future is None
    assert notices == [f"{tmp_path / 'not-there'} is not a folder. Choose an existing folder."]
    assert panel.filters.folders.list.count() == 0


# A large index ----------------------------------------------------------------------------

LARGE = 100_000


@pytest.fixture
def large_store(tmp_path: Path) -> Iterator[Store]:
    """A store with 100,000 image rows whose files do not exist (each shows the bad-file
    mark). It takes about 4 s to fill on a 2-core machine."""
    opened = Store.open(tmp_path / "large.sqlite3")
    rows = [
        ImageData(
            path=f"/library/{number // 1000:03d}/image{number:06d}.png",
            source=ImageSource.FOLDER,
            created_at=DAY_ONE + number,
            prompt="red fox" if number % 10 == 0 else "lighthouse",
            seed=number,
        )
        for number in range(LARGE)
    ]
    opened.gallery.upsert(rows)
    opened.gallery.analyze()
    yield opened
    opened.close()


@pytest.mark.timeout(300)
def test_large_index_scrolls_by_pages(large_store: Store, qtbot: QtBot, tmp_path: Path) -> None:
    panel = GalleryPanel(tmp_path / "thumbnails")
    qtbot.addWidget(panel)
    panel.resize(1100, 700)
    panel.show()
    try:
        started = time.perf_counter()
        panel.attach(large_store)
        wait_search(qtbot, panel)
        search_seconds = time.perf_counter() - started
        model = panel.model
        rows = model.rowCount()
        first_pages = model.pages_fetched

        bar = panel.view.verticalScrollBar()
        steps = 100
        held: list[int] = []
        for step in range(steps + 1):
            bar.setValue(bar.maximum() * step // steps)
            qtbot.wait(1)
            held.append(model.cached_records())
        last = model.record_at(rows - 1)
        first_still_held = model.is_record_cached(0)

        print(f"search of {LARGE} rows: {search_seconds * 1000:.0f} ms")
        print(f"pages read while scrolling: {model.pages_fetched}, records held: {max(held)}")
        assert rows == LARGE
        assert first_pages <= 2
        # Each step shows about 20 rows of a new page.
        assert steps // 2 <= model.pages_fetched - first_pages <= 3 * steps
        assert max(held) <= PAGE_SIZE * RECORD_CACHE_PAGES
        assert model.cached_thumbnails() <= THUMBNAIL_CACHE_LIMIT
        assert last is not None and last.seed == 0
        assert not first_still_held
    finally:
        panel.shutdown()
