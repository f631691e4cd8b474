"""Running a History batch or job again: rebuilding its jobs from the store, the panel's
actions and keys, the batch dialog filled from a batch, and the History tree's header."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from cmfy_desk.planning import GRID_PARAMETER
from cmfy_desk.scheduler.events import NoticeLevel
from cmfy_desk.store import Batch, JobStatus, Store
from cmfy_desk.store.history import BatchSummary, History, JobSummary
from cmfy_desk.ui.history import HistoryPanel
from cmfy_desk.ui.history_model import Column
from cmfy_desk.ui.history_rerun import (
    CONFIRM_JOBS,
    HistoryRerunAction,
    HistoryRerunRequest,
    RebuildError,
    edit_inputs,
    rebuild_batch,
)
from cmfy_desk.ui.main_window import MainWindow
from cmfy_desk.workflows.batch import SeedMode
from tests.test_history import make_batch, noon
from tests.test_history_window import add_big_batch, cut_headers, find
from tests.test_image_index import sdxl_graph
from tests.test_window import click_button, open_window, queue_sample, wait_for

OK, FAILED, CANCELLED = JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED


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


def request(
    batch: Batch, action: HistoryRerunAction, job_id: int | None = None
) -> HistoryRerunRequest:
    return HistoryRerunRequest(action, batch.id, batch.name, batch.count, job_id)


def add_batch(store: Store, parameters: list[dict[str, Any]], seeds: list[int | None]) -> Batch:
    """Add a queued batch whose jobs carry ``parameters`` and ``seeds``."""
    batch, _jobs = store.add_batch(
        name="planned",
        workflow_name="sdxl_txt2img",
        workflow_path="sdxl_txt2img.json",
        connection="sandbox",
        seed_mode="random",
        output_dir="out/planned",
        jobs=[(sdxl_graph(None, seed), "hash", seed) for seed in seeds],
        parameters=parameters,
    )
    return batch


def break_prompt(store: Store, job_id: int, prompt_json: str) -> None:
    store.connection.execute("UPDATE jobs SET prompt_json = ? WHERE id = ?", (prompt_json, job_id))


def select_batch(panel: HistoryPanel, name: str) -> BatchSummary:
    panel.show()
    today = panel.model.index(0, 0)
    panel.tree.expand(today)
    index = find(panel.model, today, name)
    panel.tree.setCurrentIndex(index)
    summary = panel.model.summary(index)
    assert isinstance(summary, BatchSummary)
    return summary


# Rebuilding from the store ----------------------------------------------------------------


def test_rebuild_keeps_prompts_seeds_parameters(store: Store, tmp_path: Path) -> None:
    batch = make_batch(store, tmp_path, "foxes", [OK, FAILED, OK], noon(0))
    stored = store.jobs_of_batch(batch.id)

    rebuilt = rebuild_batch(store.path, request(batch, HistoryRerunAction.RUN_AGAIN))

    assert [job.id for job in rebuilt.jobs] == [job.id for job in stored]
    assert list(rebuilt.graphs) == [job.prompt for job in stored]
    assert [job.seed for job in rebuilt.jobs] == [0, 1, 2]
    assert rebuilt.workflow.name == "sdxl_txt2img"
    assert rebuilt.workflow.graph == stored[0].prompt
    assert rebuilt.batch.connection == "sandbox"


def test_rebuild_failed_only(store: Store, tmp_path: Path) -> None:
    statuses = [OK, FAILED, CANCELLED, OK, JobStatus.LOST, JobStatus.PARTIAL]
    batch = make_batch(store, tmp_path, "mixed", statuses, noon(0))

    rebuilt = rebuild_batch(store.path, request(batch, HistoryRerunAction.RUN_FAILED))

    assert [job.status for job in rebuilt.jobs] == statuses[1:3] + statuses[4:]
    assert [job.seed for job in rebuilt.jobs] == [1, 2, 4, 5]


def test_rebuild_failed_only_without_failures(store: Store, tmp_path: Path) -> None:
    batch = make_batch(store, tmp_path, "clean", [OK, OK], noon(0))

    with pytest.raises(RebuildError) as raised:
        rebuild_batch(store.path, request(batch, HistoryRerunAction.RUN_FAILED))

    assert "Batch 'clean' has no failed, cancelled, partial or lost jobs" in str(raised.value)


def test_rebuild_one_job(store: Store, tmp_path: Path) -> None:
    batch = make_batch(store, tmp_path, "foxes", [OK, FAILED, OK], noon(0))
    second = store.jobs_of_batch(batch.id)[1]

    rebuilt = rebuild_batch(store.path, request(batch, HistoryRerunAction.RUN_AGAIN, second.id))

    assert [job.id for job in rebuilt.jobs] == [second.id]
    assert list(rebuilt.graphs) == [second.prompt]


@pytest.mark.parametrize(
    ("prompt_json", "reason"),
    [
        ("", "Expecting value"),
        ("{}", "expected a non-empty object"),
        ('{"1": {"inputs": {}}}', "Node 1 has no class_type"),
        ("[1, 2]", "expected a non-empty object"),
    ],
)
def test_rebuild_rejects_missing_prompt(
    store: Store, tmp_path: Path, prompt_json: str, reason: str
) -> None:
    batch = make_batch(store, tmp_path, "legacy", [OK, OK], noon(0))
    second = store.jobs_of_batch(batch.id)[1]
    break_prompt(store, second.id, prompt_json)

    with pytest.raises(RebuildError) as raised:
        rebuild_batch(store.path, request(batch, HistoryRerunAction.RUN_AGAIN))
    message = str(raised.value)

    assert message.startswith(f"Batch 'legacy' cannot be run again: job {second.id} has no")
    assert reason in message
    assert "Nothing was queued" in message
    assert "Load the workflow file sdxl_txt2img.json" in message


def test_rebuild_of_removed_batch(store: Store, tmp_path: Path) -> None:
    batch = make_batch(store, tmp_path, "gone", [OK], noon(0))
    store.connection.execute("DELETE FROM batches WHERE id = ?", (batch.id,))

    with pytest.raises(RebuildError) as raised:
        rebuild_batch(store.path, request(batch, HistoryRerunAction.RUN_AGAIN))

    assert str(raised.value) == (
        "Batch 'gone' is no longer in the history, so it cannot be run again."
    )


# Batch settings read back for Edit and run ----------------------------------------------


def test_edit_inputs_seed_list(store: Store) -> None:
    batch = add_batch(store, [{"seed": 7}, {"seed": 3}, {"seed": 99}], [7, 3, 99])

    inputs = edit_inputs(rebuild_batch(store.path, request(batch, HistoryRerunAction.EDIT)))

    assert inputs.seed_mode is SeedMode.LIST
    assert inputs.seed_list == "7, 3, 99"
    assert inputs.prompts_text == ""


def test_edit_inputs_increment_and_fixed(store: Store) -> None:
    counting = add_batch(store, [{"seed": 5}, {"seed": 6}, {"seed": 7}], [5, 6, 7])
    fixed = add_batch(store, [{"seed": 4}, {"seed": 4}], [4, 4])

    increment = edit_inputs(rebuild_batch(store.path, request(counting, HistoryRerunAction.EDIT)))
    same = edit_inputs(rebuild_batch(store.path, request(fixed, HistoryRerunAction.EDIT)))

    assert (increment.seed_mode, increment.first_seed, increment.count) == (
        SeedMode.INCREMENT,
        "5",
        3,
    )
    assert (same.seed_mode, same.first_seed, same.count) == (SeedMode.FIXED, "4", 2)


def test_edit_inputs_prompt_list_same_seeds(store: Store) -> None:
    parameters = [
        {"prompt": "a fox", "seed": 1},
        {"prompt": "a fox", "seed": 8},
        {"prompt": "a cat", "seed": 1},
        {"prompt": "a cat", "seed": 8},
    ]
    batch = add_batch(store, parameters, [1, 8, 1, 8])

    inputs = edit_inputs(rebuild_batch(store.path, request(batch, HistoryRerunAction.EDIT)))
    plan = inputs.to_plan({})

    assert inputs.prompts_text == "a fox\na cat"
    assert plan.prompts == ("a fox", "a cat")
    assert plan.seed_mode is SeedMode.LIST
    assert plan.seeds == (1, 8)


def test_edit_inputs_random_seeds_per_prompt(store: Store) -> None:
    parameters = [
        {"prompt": "a fox", "seed": 11},
        {"prompt": "a cat", "seed": 40},
    ]
    batch = add_batch(store, parameters, [11, 40])

    inputs = edit_inputs(rebuild_batch(store.path, request(batch, HistoryRerunAction.EDIT)))

    assert (inputs.seed_mode, inputs.count) == (SeedMode.RANDOM, 1)
    assert inputs.prompts_text == "a fox\na cat"


def test_edit_inputs_grid_axes(store: Store) -> None:
    def cell(x: int, y: int, steps: str, cfg: str) -> dict[str, Any]:
        grid = {
            "x": x,
            "y": y,
            "x_title": "steps",
            "x_label": steps,
            "y_title": "cfg",
            "y_label": cfg,
        }
        return {"steps": int(steps), "cfg": float(cfg), "seed": 3, GRID_PARAMETER: grid}

    parameters = [
        cell(0, 0, "10", "5"),
        cell(1, 0, "20", "5"),
        cell(0, 1, "10", "7.5"),
        cell(1, 1, "20", "7.5"),
    ]
    batch = add_batch(store, parameters, [3, 3, 3, 3])

    inputs = edit_inputs(rebuild_batch(store.path, request(batch, HistoryRerunAction.EDIT)))
    plan = inputs.to_plan({})

    assert plan.x_axis == ("steps", ("10", "20"))
    assert plan.y_axis == ("cfg", ("5", "7.5"))
    assert (inputs.seed_mode, inputs.first_seed, inputs.count) == (SeedMode.FIXED, "3", 1)


# The panel --------------------------------------------------------------------------------


def test_actions_follow_selection(panel: HistoryPanel, store: Store, tmp_path: Path) -> None:
    make_batch(store, tmp_path, "clean", [OK, OK], noon(0) - 60)
    make_batch(store, tmp_path, "broken", [OK, FAILED, CANCELLED], noon(0))
    actions = panel.rerun_actions

    def enabled() -> tuple[bool, bool, bool]:
        return (
            actions.run_again.isEnabled(),
            actions.edit.isEnabled(),
            actions.run_failed.isEnabled(),
        )

    panel.show()
    on_day = enabled()
    select_batch(panel, "clean")
    on_clean = enabled()
    broken = select_batch(panel, "broken")
    on_broken = enabled()
    panel.tree.expand(panel.tree.currentIndex())
    panel.tree.setCurrentIndex(panel.model.index(1, 0, panel.tree.currentIndex()))
    job = panel.current_summary()
    on_job = enabled()

    assert on_day == (False, False, False)
    assert on_clean == (True, True, False)
    assert on_broken == (True, True, True)
    assert isinstance(job, JobSummary) and job.batch_id == broken.id
    assert on_job == (True, True, False)
    assert panel.run_again_button.isEnabled()


def test_requests_name_batch_and_counts(panel: HistoryPanel, store: Store, tmp_path: Path) -> None:
    batch = make_batch(store, tmp_path, "broken", [OK, FAILED, CANCELLED, JobStatus.LOST], noon(0))
    requests: list[HistoryRerunRequest] = []
    panel.rerunRequested.connect(requests.append)

    select_batch(panel, "broken")
    panel.run_again()
    panel.run_failed_again()
    panel.edit_and_run()
    panel.tree.expand(panel.tree.currentIndex())
    panel.tree.setCurrentIndex(panel.model.index(2, 0, panel.tree.currentIndex()))
    job = panel.current_summary()
    assert isinstance(job, JobSummary)
    panel.run_again()
    # Run failed jobs again applies to batches, so on a job it requests nothing.
    panel.run_failed_again()

    assert requests == [
        HistoryRerunRequest(HistoryRerunAction.RUN_AGAIN, batch.id, "broken", 4),
        HistoryRerunRequest(HistoryRerunAction.RUN_FAILED, batch.id, "broken", 3),
        HistoryRerunRequest(HistoryRerunAction.EDIT, batch.id, "broken", 4),
        HistoryRerunRequest(HistoryRerunAction.RUN_AGAIN, batch.id, "broken", 1, job.id),
    ]


def test_ctrl_r_in_tree_runs_again(panel: HistoryPanel, store: Store, tmp_path: Path) -> None:
    batch = make_batch(store, tmp_path, "foxes", [OK, OK], noon(0))
    requests: list[HistoryRerunRequest] = []
    panel.rerunRequested.connect(requests.append)
    select_batch(panel, "foxes")

    QTest.keyClick(panel.tree, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(panel.tree, Qt.Key.Key_R)

    assert requests == [HistoryRerunRequest(HistoryRerunAction.RUN_AGAIN, batch.id, "foxes", 2)]


def test_context_menu_lists_actions(panel: HistoryPanel, store: Store, tmp_path: Path) -> None:
    make_batch(store, tmp_path, "foxes", [OK, FAILED], noon(0))
    select_batch(panel, "foxes")

    texts = [action.text() for action in panel.context_menu.actions() if not action.isSeparator()]
    shortcut = panel.rerun_actions.run_again.shortcut().toString()

    assert texts == [
        "Open folder",
        "Show in gallery",
        "Run again",
        "Edit and run…",
        "Run failed jobs again",
        "Remove from history…",
    ]
    assert shortcut == "Ctrl+R"


def test_headers_show_in_full(panel: HistoryPanel) -> None:
    # The panel takes the whole width of the window, 1200 px by default.
    panel.resize(1200, 600)
    panel.show()

    assert cut_headers(panel) == {}


def test_sign_headers_name_their_status(panel: HistoryPanel) -> None:
    model = panel.model
    horizontal = Qt.Orientation.Horizontal
    words = {
        Column.SUCCEEDED: "Succeeded jobs",
        Column.FAILED: "Failed jobs",
        Column.CANCELLED: "Cancelled jobs",
    }
    for column, text in words.items():
        assert model.headerData(column, horizontal, Qt.ItemDataRole.ToolTipRole) == text
        assert model.headerData(column, horizontal, Qt.ItemDataRole.AccessibleTextRole) == text
    assert model.headerData(Column.JOBS, horizontal, Qt.ItemDataRole.AccessibleTextRole) == "Jobs"


# The window -------------------------------------------------------------------------------


async def show_batch(window: MainWindow, batch_id: int) -> None:
    """Show the History tab with ``batch_id`` as its current item."""
    window.show_history()
    panel = window.history_panel
    panel.reload()
    panel.tree.expand(panel.model.index(0, 0))
    await wait_for(lambda: panel.select_batch(batch_id), description=f"batch {batch_id}")


def history_day(window: MainWindow) -> str:
    return window.history_panel.model.days()[0].day


def new_jobs(window: MainWindow, old_batches: set[int]) -> list[Any]:
    assert window.engine is not None
    return [job for job in window.engine.store.jobs() if job.batch_id not in old_batches]


@pytest.mark.asyncio
@pytest.mark.qt_loop
async def test_run_again_queues_same_jobs(tmp_path: Path) -> None:
    async with open_window(tmp_path) as window:
        assert window.engine is not None
        store = window.engine.store
        await queue_sample(window, 3)
        original = store.jobs()
        batch_id = original[0].batch_id
        await wait_for(
            lambda: window.job_model.batch_finished(batch_id), description="the first batch"
        )
        await show_batch(window, batch_id)
        QTest.keyClick(window.history_panel.tree, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
        await wait_for(lambda: len(new_jobs(window, {batch_id})) == 3, description="3 new jobs")
        again = new_jobs(window, {batch_id})
        notice = window.notices.messages()[0][1]

    assert [job.prompt for job in again] == [job.prompt for job in original]
    assert [job.seed for job in again] == [job.seed for job in original]
    assert [job.parameters for job in again] == [job.parameters for job in original]
    assert len({job.batch_id for job in again}) == 1
    assert notice.startswith("Queued 3 jobs of batch ")


@pytest.mark.asyncio
@pytest.mark.qt_loop
async def test_run_failed_queues_only_those(tmp_path: Path) -> None:
    async with open_window(tmp_path) as window:
        assert window.engine is not None
        store = window.engine.store
        batch = make_batch(store, tmp_path / "out", "mixed", [OK, FAILED, OK, CANCELLED], noon(0))
        old = store.jobs_of_batch(batch.id)
        await show_batch(window, batch.id)
        window.history_panel.run_failed_again()
        # The notice follows the queueing.
        await wait_for(lambda: len(window.notices.messages()) > 0, description="a notice")
        notice = window.notices.messages()[0][1]
        again = new_jobs(window, {batch.id})

    assert notice.startswith("Queued 2 jobs of batch 'mixed' again as batch ")
    assert [job.prompt for job in again] == [old[1].prompt, old[3].prompt]
    assert [job.seed for job in again] == [old[1].seed, old[3].seed]


@pytest.mark.asyncio
@pytest.mark.qt_loop
async def test_edit_and_run_prefills_dialog(tmp_path: Path) -> None:
    async with open_window(tmp_path) as window:
        assert window.engine is not None
        store = window.engine.store
        await queue_sample(window, 3)
        original = store.jobs()
        batch_id = original[0].batch_id
        await show_batch(window, batch_id)
        window.history_panel.edit_and_run()
        await wait_for(lambda: window.batch_dialog is not None, description="the batch dialog")
        dialog = window.batch_dialog
        assert dialog is not None
        graph = dialog.workflows[0].graph
        name = dialog.workflows[0].name
        seed_mode = dialog.selected_seed_mode()
        seed_list = dialog.batch_inputs.seed_list.text()
        dialog.accept()
        await wait_for(lambda: len(new_jobs(window, {batch_id})) == 3, description="3 new jobs")
        again = new_jobs(window, {batch_id})

    assert graph == original[0].prompt
    assert name == original[0].workflow_name
    # The sample batch draws random seeds, which the dialog lists to make the same jobs.
    assert seed_mode is SeedMode.LIST
    assert seed_list == ", ".join(str(job.seed) for job in original)
    assert [job.seed for job in again] == [job.seed for job in original]
    assert [job.prompt for job in again] == [job.prompt for job in original]


@pytest.mark.asyncio
@pytest.mark.qt_loop
async def test_unrebuildable_batch_queues_nothing(tmp_path: Path) -> None:
    async with open_window(tmp_path) as window:
        assert window.engine is not None
        store = window.engine.store
        batch = make_batch(store, tmp_path / "out", "legacy", [OK, FAILED], noon(0))
        first = store.jobs_of_batch(batch.id)[0]
        break_prompt(store, first.id, "{}")
        await show_batch(window, batch.id)
        window.history_panel.run_again()
        await wait_for(lambda: len(window.notices.messages()) > 0, description="a notice")
        level, message = window.notices.messages()[0]
        queued = new_jobs(window, {batch.id})

    assert level is NoticeLevel.ERROR
    assert message.startswith(f"Batch 'legacy' cannot be run again: job {first.id} has no")
    assert "Load the workflow file sdxl_txt2img.json" in message
    assert queued == []


@pytest.mark.asyncio
@pytest.mark.qt_loop
async def test_large_batch_asks_first(tmp_path: Path) -> None:
    async with open_window(tmp_path) as window:
        assert window.engine is not None
        store = window.engine.store
        batch = add_big_batch(store, CONFIRM_JOBS + 1, noon(0))
        await show_batch(window, batch.id)
        window.history_panel.run_again()
        box = window.workflow_actions.rerun_confirmation
        assert box is not None
        question = box.text()
        click_button(box, "Cancel")
        await wait_for(
            lambda: window.workflow_actions.rerun_confirmation is None, description="closed"
        )
        queued = new_jobs(window, {batch.id})
        batches = len(History(store.connection).batches_of_day(history_day(window)))

    assert question == f"Queue {CONFIRM_JOBS + 1} jobs of batch 'big' again?"
    assert queued == []
    assert batches == 1


@pytest.mark.asyncio
@pytest.mark.qt_loop
async def test_gone_connection_queues_nothing(tmp_path: Path) -> None:
    async with open_window(tmp_path) as window:
        assert window.engine is not None
        store = window.engine.store
        batch = make_batch(store, tmp_path / "out", "elsewhere", [OK, FAILED], noon(0))
        store.connection.execute(
            "UPDATE batches SET connection = 'studio' WHERE id = ?", (batch.id,)
        )
        await show_batch(window, batch.id)
        window.history_panel.run_again()
        await wait_for(lambda: len(window.notices.messages()) > 0, description="a notice")
        level, message = window.notices.messages()[0]
        queued = new_jobs(window, {batch.id})

    assert level is NoticeLevel.ERROR
    assert message == (
        "Batch 'elsewhere' ran on the connection studio, which is no longer set up. Nothing "
        "was queued. Use Edit and run… to choose a connection."
    )
    assert queued == []
