"""The History tab: the lazy tree model, the panel's actions, and the tab in the main window."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt, QUrl
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QStyle
from pytestqt.qtbot import QtBot

from cmfy_desk.app import ConnectionConfig, Engine
from cmfy_desk.keystore import ApiKeyStore
from cmfy_desk.settings import Settings
from cmfy_desk.store import Batch, JobStatus, Output, Store
from cmfy_desk.store.history import BatchSummary, DaySummary, History, JobSummary, local_day
from cmfy_desk.ui.history import HistoryPanel
from cmfy_desk.ui.history_model import JOB_PAGE, Column, HistoryModel, NodeKind
from cmfy_desk.ui.main_window import MainWindow
from tests.test_desktop_integration import recorded_file_urls
from tests.test_history import make_batch, noon
from tests.test_image_index import sdxl_graph
from tests.test_window import click_button, keep_loop_on_close, open_window, queue_sample, wait_for

WAIT_MS = 10_000


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "data" / "cmfy-desk.sqlite3")
    yield opened
    opened.close()


@pytest.fixture
def panel(tmp_path: Path, store: Store, qtbot: QtBot) -> Iterator[HistoryPanel]:
    created = HistoryPanel(store.path, tmp_path / "thumbnails", refresh_interval_ms=50)
    qtbot.addWidget(created)
    created.resize(1100, 600)
    yield created
    created.shutdown()


def add_big_batch(store: Store, jobs: int, created_at: float) -> Batch:
    """Add a batch of ``jobs`` succeeded jobs, written with SQL for speed."""
    batch, _jobs = store.add_batch(
        name="big",
        workflow_name="sdxl_txt2img",
        workflow_path="sdxl_txt2img.json",
        connection="sandbox",
        seed_mode="increment",
        output_dir="out/big",
        jobs=[(sdxl_graph(), "hash", seed) for seed in range(jobs)],
    )
    with store.connection:
        store.connection.execute("BEGIN")
        store.connection.execute(
            "UPDATE batches SET created_at = ? WHERE id = ?", (created_at, batch.id)
        )
        store.connection.execute(
            "UPDATE jobs SET status = ?, created_at = ?, finished_at = ? WHERE batch_id = ?",
            (JobStatus.SUCCEEDED.value, created_at, created_at + 5, batch.id),
        )
    return batch


def find(model: HistoryModel, parent: QModelIndex, name: str) -> QModelIndex:
    """Return the index of the row under ``parent`` whose first column reads ``name``."""
    for row in range(model.rowCount(parent)):
        index = model.index(row, 0, parent)
        if model.data(index) == name:
            return index
    raise AssertionError(f"no row {name!r} in {batch_rows(model, parent)}")


def cell(model: HistoryModel, index: QModelIndex, column: Column) -> Any:
    return model.data(index.siblingAtColumn(column))


def batch_rows(model: HistoryModel, day: QModelIndex) -> list[str]:
    return [model.data(model.index(row, 0, day)) for row in range(model.rowCount(day))]


@pytest.fixture
def history(store: Store, tmp_path: Path) -> dict[str, Batch]:
    """Today: 'foxes' (succeeded, failed, succeeded) and 'waiting' (succeeded, queued).
    Three days ago: 'old' (cancelled)."""
    ok, failed = JobStatus.SUCCEEDED, JobStatus.FAILED
    return {
        "foxes": make_batch(store, tmp_path / "out", "foxes", [ok, failed, ok], noon(0) - 60),
        "waiting": make_batch(store, tmp_path / "out", "waiting", [ok, JobStatus.QUEUED], noon(0)),
        "old": make_batch(store, tmp_path / "out", "old", [JobStatus.CANCELLED], noon(3)),
    }


# The model --------------------------------------------------------------------------------


def test_panel_reads_on_first_show(panel: HistoryPanel, history: dict[str, Batch]) -> None:
    before = (panel.loaded, panel.model.rowCount())
    panel.show()

    assert before == (False, 0)
    assert panel.loaded
    assert [day.day for day in panel.model.days()] == [local_day(noon(0)), local_day(noon(3))]
    # The newest day opens by itself and is the current item.
    assert panel.tree.isExpanded(panel.model.index(0, 0))
    assert isinstance(panel.current_summary(), DaySummary)


def test_day_fetches_batches_on_expand(panel: HistoryPanel, history: dict[str, Batch]) -> None:
    panel.show()
    model = panel.model
    old_day = model.index(1, 0)

    before = (model.rowCount(old_day), model.hasChildren(old_day), model.canFetchMore(old_day))
    panel.tree.expand(old_day)

    assert before == (0, True, True)
    assert batch_rows(model, old_day) == ["old"]
    assert not model.canFetchMore(old_day)
    assert model.kind(model.index(0, 0, old_day)) is NodeKind.BATCH


def test_batch_jobs_fetched_in_pages(store: Store) -> None:
    batch = add_big_batch(store, JOB_PAGE + 50, noon(0))
    model = HistoryModel()
    model.attach(History(store.connection))
    day = model.index(0, 0)
    model.fetchMore(day)
    batch_index = model.batch_index(batch.id)

    model.fetchMore(batch_index)
    first_page = model.rowCount(batch_index)
    more = model.canFetchMore(batch_index)
    model.fetchMore(batch_index)

    assert first_page == JOB_PAGE
    assert more
    assert model.rowCount(batch_index) == JOB_PAGE + 50
    assert not model.canFetchMore(batch_index)
    last = model.summary(model.index(JOB_PAGE + 49, 0, batch_index))
    assert isinstance(last, JobSummary)
    assert last.position == JOB_PAGE + 49


def test_model_passes_modeltester(
    panel: HistoryPanel, history: dict[str, Batch], qtmodeltester: Any
) -> None:
    qtmodeltester.check(HistoryModel())
    panel.reload()
    # The tester fetches what canFetchMore offers, so it walks days, batches and jobs.
    qtmodeltester.check(panel.model)
    model = panel.model
    for row in range(model.rowCount()):
        day = model.index(row, 0)
        for batch_row in range(model.rowCount(day)):
            model.fetch_all_jobs(model.index(batch_row, 0, day))
    qtmodeltester.check(panel.model)


def test_columns_show_counts_times_errors(panel: HistoryPanel, history: dict[str, Batch]) -> None:
    panel.show()
    model = panel.model
    today = model.index(0, 0)
    panel.tree.expand(today)
    foxes = find(model, today, "foxes")
    waiting = find(model, today, "waiting")
    panel.tree.expand(foxes)
    failed_job = model.index(1, 0, foxes)
    failed = model.summary(failed_job)
    assert isinstance(failed, JobSummary)

    assert cell(model, today, Column.STATUS) == "2 batches"
    assert [cell(model, today, column) for column in (Column.JOBS, Column.SUCCEEDED)] == ["5", "3"]
    assert cell(model, foxes, Column.STATUS) == "Finished"
    assert cell(model, foxes, Column.FAILED) == "1"
    assert cell(model, foxes, Column.RUN_TIME) == "1.5 s"
    assert cell(model, foxes, Column.TOTAL_TIME) == "30.0 s"
    assert cell(model, foxes, Column.OUTPUTS) == "2"
    assert cell(model, waiting, Column.STATUS) == "1 of 2 unfinished"
    assert cell(model, failed_job, Column.NAME) == f"Job {failed.id} · seed 1"
    assert cell(model, failed_job, Column.STATUS) == "Failed"
    assert cell(model, failed_job, Column.ERROR) == "node_error: KSampler: out of memory"
    assert model.headerData(Column.OTHER, Qt.Orientation.Horizontal) == "Other"


# The panel --------------------------------------------------------------------------------


def test_details_show_error_and_outputs(
    panel: HistoryPanel, history: dict[str, Batch], qtbot: QtBot
) -> None:
    panel.show()
    model = panel.model
    today = model.index(0, 0)
    foxes = find(model, today, "foxes")
    panel.tree.setCurrentIndex(foxes)
    batch_error = panel.details.error.toPlainText()
    batch_outputs = len(panel.details.outputs())
    qtbot.waitUntil(lambda: panel.details.thumbnails_shown == 2, timeout=WAIT_MS)
    panel.tree.expand(foxes)

    panel.tree.setCurrentIndex(model.index(1, 0, foxes))
    job_error = panel.details.error.toPlainText()
    job_status = panel.details.field_text("status")
    job_outputs = len(panel.details.outputs())

    assert batch_error == "1 × node_error: KSampler: out of memory"
    assert batch_outputs == 2
    assert panel.details.field_text("folder") == ""
    assert job_error == "node_error\nKSampler: out of\nmemory"
    assert job_status == "Failed"
    assert job_outputs == 0
    assert panel.details.outputs_label.text() == "No outputs"


def test_delete_asks_then_removes_batch(
    panel: HistoryPanel, store: Store, history: dict[str, Batch], qtbot: QtBot, tmp_path: Path
) -> None:
    panel.show()
    removed: list[object] = []
    panel.batchesRemoved.connect(removed.append)
    model = panel.model
    foxes = find(model, model.index(0, 0), "foxes")
    panel.tree.setCurrentIndex(foxes)
    panel.tree.setFocus()

    QTest.keyClick(panel.tree, Qt.Key.Key_Delete)
    assert panel.remove_box is not None
    question = panel.remove_box.text()
    click_button(panel.remove_box, "Cancel")
    after_cancel = [batch.name for batch in store.batches()]
    QTest.keyClick(panel.tree, Qt.Key.Key_Delete)
    assert panel.remove_box is not None
    click_button(panel.remove_box, "Remove")

    assert question == "Remove batch 'foxes' and its 3 jobs from the history?"
    assert after_cancel == ["foxes", "waiting", "old"]
    assert [batch.name for batch in store.batches()] == ["waiting", "old"]
    assert batch_rows(model, model.index(0, 0)) == ["waiting"]
    assert len(removed) == 1
    # The pictures stay in the gallery and on disk.
    assert store.gallery.count_all() == 3
    assert (tmp_path / "out" / "foxes" / "job1.png").is_file()


def test_unfinished_batch_is_not_removed(
    panel: HistoryPanel, store: Store, history: dict[str, Batch]
) -> None:
    panel.show()
    notices: list[tuple[object, str]] = []
    panel.noticeRequested.connect(lambda level, text: notices.append((level, text)))
    waiting = find(panel.model, panel.model.index(0, 0), "waiting")
    panel.tree.setCurrentIndex(waiting)
    panel.tree.setFocus()

    enabled = panel.remove_button.isEnabled()
    QTest.keyClick(panel.tree, Qt.Key.Key_Delete)

    assert not enabled
    assert panel.remove_box is None
    assert "still has 1 unfinished jobs" in notices[0][1]
    assert len(store.batches()) == 3


def test_delete_on_day_removes_finished_batches(
    panel: HistoryPanel, store: Store, history: dict[str, Batch]
) -> None:
    panel.show()
    panel.tree.setCurrentIndex(panel.model.index(0, 0))
    panel.remove_selected()
    assert panel.remove_box is not None
    question = panel.remove_box.text()
    click_button(panel.remove_box, "Remove")

    assert question == (
        f"Remove the 1 finished batches of {local_day(noon(0))} and their 3 jobs from the history?"
    )
    assert [batch.name for batch in store.batches()] == ["waiting", "old"]


def test_enter_opens_output_and_folder(
    panel: HistoryPanel, history: dict[str, Batch], tmp_path: Path
) -> None:
    panel.show()
    opened: list[Output] = []
    panel.openRequested.connect(opened.append)
    model = panel.model
    foxes = find(model, model.index(0, 0), "foxes")
    panel.tree.expand(foxes)
    panel.tree.setFocus()

    with recorded_file_urls() as urls:
        panel.tree.setCurrentIndex(foxes)
        QTest.keyClick(panel.tree, Qt.Key.Key_Return)
        panel.tree.setCurrentIndex(model.index(0, 0, foxes))
        QTest.keyClick(panel.tree, Qt.Key.Key_Enter, Qt.KeyboardModifier.KeypadModifier)

    assert urls == [QUrl.fromLocalFile(str(tmp_path / "out" / "foxes"))]
    assert [Path(output.local_path).name for output in opened] == ["job1.png"]


def test_final_jobs_refresh_day_once(
    panel: HistoryPanel, store: Store, history: dict[str, Batch], qtbot: QtBot
) -> None:
    panel.show()
    refreshed: list[set[str]] = []
    original = panel.model.refresh_days

    def counting(days: set[str]) -> None:
        refreshed.append(days)
        original(days)

    panel.model.refresh_days = counting  # type: ignore[method-assign]
    queued = next(job for job in store.jobs_of_batch(history["waiting"].id) if not job.is_final)
    cancelled = store.transition(queued.id, JobStatus.CANCELLED, finished_at=noon(0) + 30)
    for _ in range(50):
        panel.job_changed(cancelled)
    qtbot.waitUntil(lambda: len(refreshed) == 1, timeout=WAIT_MS)
    qtbot.wait(200)
    row = find(panel.model, panel.model.index(0, 0), "waiting")

    assert len(refreshed) == 1
    assert local_day(noon(0)) in refreshed[0]
    assert cell(panel.model, row, Column.STATUS) == "Finished"
    assert cell(panel.model, row, Column.CANCELLED) == "1"


def test_retried_job_refreshes_finished_batch(
    panel: HistoryPanel, store: Store, history: dict[str, Batch], qtbot: QtBot
) -> None:
    panel.show()
    foxes = find(panel.model, panel.model.index(0, 0), "foxes")
    panel.tree.setCurrentIndex(foxes)
    removable = panel.remove_button.isEnabled()
    failed = next(job for job in store.jobs_of_batch(history["foxes"].id) if job.error_code)

    panel.job_changed(store.transition(failed.id, JobStatus.QUEUED))
    qtbot.waitUntil(lambda: cell(panel.model, foxes, Column.STATUS) != "Finished", timeout=WAIT_MS)

    assert removable
    assert cell(panel.model, foxes, Column.STATUS) == "1 of 3 unfinished"
    assert not panel.remove_button.isEnabled()


def test_running_job_changes_refresh_nothing(
    panel: HistoryPanel, store: Store, history: dict[str, Batch], qtbot: QtBot
) -> None:
    panel.show()
    refreshed: list[set[str]] = []
    panel.model.refresh_days = refreshed.append  # type: ignore[method-assign, assignment]
    queued = next(job for job in store.jobs_of_batch(history["waiting"].id) if not job.is_final)
    submitting = store.transition(queued.id, JobStatus.SUBMITTING)

    panel.job_changed(submitting)
    qtbot.wait(200)

    assert refreshed == []


# The main window --------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.qt_loop
async def test_tabs_and_ctrl_h_show_history(tmp_path: Path) -> None:
    async with open_window(tmp_path) as window:
        tabs = [window.lower_tabs.tabText(index) for index in range(window.lower_tabs.count())]
        first = window.lower_tabs.currentWidget()
        same_key = [
            action.text()
            for action in window.findChildren(type(window.history_action))
            if QKeySequence("Ctrl+H") in action.shortcuts()
        ]
        window.activateWindow()
        await wait_for(window.isActiveWindow, description="the active window")
        window.job_table.setFocus()
        QTest.keyClick(window.job_table, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier)
        shown = window.lower_tabs.currentWidget()

    assert tabs == ["Gallery", "History"]
    assert first is window.gallery_panel
    assert window.gallery is window.gallery_panel.view
    assert same_key == ["History"]
    assert shown is window.history_panel


@pytest.mark.asyncio
@pytest.mark.qt_loop
async def test_history_follows_sandbox_batches(tmp_path: Path) -> None:
    async with open_window(tmp_path) as window:
        await queue_sample(window, 2)
        await wait_for(
            lambda: window.job_model.batch_finished(window.job_model.job_at(0).batch_id),
            description="the first batch",
        )
        window.show_history()
        panel = window.history_panel
        model = panel.model
        today = model.index(0, 0)
        first = batch_rows(model, today)
        await queue_sample(window, 3)
        # Finished jobs refresh the shown day within the refresh interval (2 s).
        await wait_for(
            lambda: (
                len(batch_rows(model, model.index(0, 0))) == 2
                and cell(model, model.index(0, 0, model.index(0, 0)), Column.SUCCEEDED) == "3"
            ),
            description="the second batch in the history",
        )
        day_jobs = cell(model, model.index(0, 0), Column.SUCCEEDED)

    assert len(first) == 1
    assert day_jobs == "5"


@pytest.mark.asyncio
@pytest.mark.qt_loop
async def test_show_in_gallery_and_remove(tmp_path: Path) -> None:
    async with open_window(tmp_path) as window:
        await queue_sample(window, 1)
        await queue_sample(window, 2)
        await wait_for(lambda: window.gallery_model.rowCount() == 3, description="3 images")
        window.show_history()
        panel = window.history_panel
        model = panel.model
        await wait_for(lambda: model.rowCount(model.index(0, 0)) == 2, description="2 batches")
        # Batches are newest first: the one with 2 jobs.
        newest = model.index(0, 0, model.index(0, 0))
        batch = model.summary(newest)
        assert isinstance(batch, BatchSummary)
        panel.tree.setCurrentIndex(newest)
        panel.gallery_button.click()
        search_text = window.gallery_panel.search.edit.text()
        gallery_shown = window.lower_tabs.currentWidget()
        await wait_for(
            lambda: window.gallery_model.rowCount() == 2 and not window.gallery_model.searching,
            description="the batch's 2 images",
        )
        gallery_batches = {
            window.gallery_model.record_at(row).batch_id  # type: ignore[union-attr]
            for row in range(2)
        }

        window.show_history()
        panel.tree.setCurrentIndex(newest)
        # Delete in the tree removes from the history; elsewhere it cancels queued jobs.
        QTest.keyClick(panel.tree, Qt.Key.Key_Delete)
        assert panel.remove_box is not None
        click_button(panel.remove_box, "Remove")
        await wait_for(lambda: window.job_model.rowCount() == 1, description="1 job row left")
        window.gallery_panel.search.set_text("")
        await wait_for(
            lambda: window.gallery_model.rowCount() == 3 and not window.gallery_model.searching,
            description="all 3 images again",
        )

    assert search_text == f"batch:{batch.id}"
    assert gallery_shown is window.gallery_panel
    assert gallery_batches == {batch.id}


@pytest.mark.asyncio
@pytest.mark.qt_loop
async def test_settings_prune_now(tmp_path: Path) -> None:
    async with open_window(tmp_path) as window:
        assert window.engine is not None
        store = window.engine.store
        make_batch(store, tmp_path / "old", "ancient", [JobStatus.SUCCEEDED] * 2, noon(90))
        window.open_settings()
        dialog = window.settings_dialog
        assert dialog is not None
        disabled_at_zero = not dialog.prune_button.isEnabled()
        dialog.keep_days.setValue(30)
        dialog.prune_button.click()
        assert dialog.prune_box is not None
        question = dialog.prune_box.text()
        click_button(dialog.prune_box, "Remove")
        await wait_for(
            lambda: dialog.prune_result.text().startswith("Removed"), description="prune"
        )
        result = dialog.prune_result.text()
        dialog.accept()
        names = [batch.name for batch in store.batches()]

    assert disabled_at_zero
    assert question == (
        "Remove 1 finished batches with 2 jobs, created more than 30 days ago, from the history?"
    )
    assert result == "Removed 1 batches with 2 jobs from the history."
    assert names == []
    assert window.settings.get("history.keep_days") == 30


@pytest.mark.asyncio
@pytest.mark.qt_loop
async def test_window_prunes_at_start(tmp_path: Path) -> None:
    keep_loop_on_close()
    data = tmp_path / "data"
    store = Store.open(data / "cmfy-desk.sqlite3")
    make_batch(store, tmp_path / "out", "ancient", [JobStatus.FAILED], noon(60))
    kept = make_batch(store, tmp_path / "out", "recent", [JobStatus.SUCCEEDED], noon(2))
    store.close()
    (data / "settings.json").write_text(json.dumps({"history.keep_days": 30}), encoding="utf-8")
    engine = Engine(
        data / "cmfy-desk.sqlite3", tmp_path / "outputs", ConnectionConfig(kind="sandbox")
    )
    await engine.start()
    window = MainWindow(engine, Settings(data / "settings.json"), ApiKeyStore(), False)
    window.show()
    try:
        await wait_for(
            lambda: [batch.id for batch in engine.store.batches()] == [kept.id],
            description="the old batch pruned",
        )
        await wait_for(lambda: window.job_model.rowCount() == 1, description="1 job row")
    finally:
        window.close()
        await window.shutdown()
        window.deleteLater()


# Column widths ----------------------------------------------------------------------------

# Batches on one day, more than the tree shows at once, so that a vertical scroll bar takes
# its share of the width.
MANY_BATCHES = 40


def cut_headers(panel: HistoryPanel) -> dict[str, tuple[int, int]]:
    """Return the header texts whose column is narrower than the text with the style's
    margins, each with the column's width and the width it needs."""
    header = panel.tree.header()
    margin = header.style().pixelMetric(QStyle.PixelMetric.PM_HeaderMargin, None, header)
    metrics = header.fontMetrics()
    cut = {}
    for column in Column:
        text = str(panel.model.headerData(column, Qt.Orientation.Horizontal))
        needed = metrics.horizontalAdvance(text) + 2 * margin
        if header.sectionSize(column) < needed:
            cut[text] = (header.sectionSize(column), needed)
    return cut


def cut_values(panel: HistoryPanel, index: QModelIndex) -> dict[str, tuple[int, int]]:
    """Return the values of the row of ``index``, except its name and error, whose column is
    narrower than the value with the style's cell margins."""
    tree = panel.tree
    margin = tree.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, tree) + 1
    cut = {}
    for column in Column:
        if column in (Column.NAME, Column.ERROR):
            continue
        text = cell(panel.model, index, column) or ""
        needed = tree.fontMetrics().horizontalAdvance(text) + 2 * margin
        if tree.header().sectionSize(column) < needed:
            cut[f"{column.name}: {text}"] = (tree.header().sectionSize(column), needed)
    return cut


@pytest.mark.asyncio
@pytest.mark.qt_loop
@pytest.mark.parametrize("size", [(1200, 800), (1400, 900)], ids=["default size", "1400x900"])
async def test_columns_fit_window_width(tmp_path: Path, size: tuple[int, int]) -> None:
    async with open_window(tmp_path) as window:
        store = Store.open(tmp_path / "data" / "cmfy-desk.sqlite3")
        ok, failed = JobStatus.SUCCEEDED, JobStatus.FAILED
        try:
            for number in range(MANY_BATCHES):
                name = f"sd15_lora_txt2img 2026-12-05 03-49-{number:02d}"
                make_batch(store, tmp_path / "out", name, [ok, failed, ok], noon(0) - number)
        finally:
            store.close()
        if size != (1200, 800):
            window.resize(*size)
        window.show_history()
        panel = window.history_panel
        tree = panel.tree
        await wait_for(
            lambda: panel.model.rowCount(panel.model.index(0, 0)) == MANY_BATCHES,
            description="the day's batches",
        )
        await wait_for(tree.verticalScrollBar().isVisible, description="a vertical scroll bar")
        first_batch = panel.model.index(0, 0, panel.model.index(0, 0))
        window_size = (window.width(), window.height())
        header_length = tree.header().length()
        viewport_width = tree.viewport().width()
        horizontal_bar = tree.horizontalScrollBar().isVisible()
        headers = cut_headers(panel)
        values = cut_values(panel, first_batch)

    assert window_size == size
    assert not horizontal_bar
    assert header_length <= viewport_width
    assert headers == {}
    assert values == {}
