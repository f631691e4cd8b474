"""Queue control in the main window over a real engine and the built-in sandbox: order,
dragging rows, priority, batch pause, cancelling the queue, retrying by cause, the batch
estimate, the queue file and the queue settings."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import QApplication

from cmfy_desk.app import ConnectionConfig, Engine
from cmfy_desk.keystore import ApiKeyStore
from cmfy_desk.paths import bundled_workflows
from cmfy_desk.scheduler.events import NoticeLevel
from cmfy_desk.scheduler.failures import FailureCause
from cmfy_desk.settings import Settings
from cmfy_desk.store import Job, JobStatus
from cmfy_desk.ui.job_model import Column
from cmfy_desk.ui.main_window import MainWindow
from cmfy_desk.ui.quit_guard import RUNNING_STATUSES
from tests.test_window import click_button, keep_loop_on_close, statuses, wait_for

pytestmark = [pytest.mark.asyncio, pytest.mark.qt_loop]


@asynccontextmanager
async def queue_window(tmp_path: Path, *, speed: float = 100.0) -> AsyncIterator[MainWindow]:
    """Open the window over a started engine on the sandbox, on the database in ``tmp_path``
    (kept from an earlier window in the same test). On exit it closes the window, clicking
    Quit if the quit question opens."""
    keep_loop_on_close()
    (tmp_path / "data").mkdir(exist_ok=True)
    engine = Engine(
        tmp_path / "data" / "cmfy-desk.sqlite3",
        tmp_path / "outputs",
        ConnectionConfig(kind="sandbox", sandbox_speed=speed),
    )
    await engine.start()
    settings = Settings(tmp_path / "data" / "settings.json")
    # The settings describe the connection in use, so that only a change restarts the engine.
    settings.set("sandbox.speed", speed)
    window = MainWindow(engine, settings, ApiKeyStore(), demo=False)
    window.show()
    try:
        yield window
    finally:
        window.close()
        if window.quit_guard.box is not None:
            click_button(window.quit_guard.box, "Quit")
        await window.shutdown()
        window.deleteLater()


async def queue_workflow(window: MainWindow, count: int, index: int = 0) -> list[int]:
    """Queue ``count`` jobs of the sample workflow ``index`` through the batch dialog and
    return their ids in job order."""
    rows = window.job_model.rowCount() + count
    known = {job.id for job in window.job_model.jobs()}
    window.add_workflow_files([bundled_workflows()[index]])
    await wait_for(lambda: window.batch_dialog is not None, description="the batch dialog")
    assert window.batch_dialog is not None
    window.batch_dialog.count.setValue(count)
    window.batch_dialog.accept()
    await wait_for(lambda: window.job_model.rowCount() == rows, description=f"{rows} rows")
    return sorted(job.id for job in window.job_model.jobs() if job.id not in known)


def row_ids(window: MainWindow) -> list[int]:
    return [job.id for job in window.job_model.jobs()]


def select_jobs(window: MainWindow, job_ids: list[int]) -> None:
    table = window.job_table
    table.clearSelection()
    for job_id in job_ids:
        row = window.job_model.row_of(job_id)
        assert row is not None
        table.selectionModel().select(
            window.job_model.index(row, 0),
            table.selectionModel().SelectionFlag.Select | table.selectionModel().SelectionFlag.Rows,
        )
    first = window.job_model.row_of(job_ids[0])
    assert first is not None
    table.selectionModel().setCurrentIndex(
        window.job_model.index(first, 0), table.selectionModel().SelectionFlag.NoUpdate
    )


def cell(window: MainWindow, job_id: int, column: Column) -> object:
    row = window.job_model.row_of(job_id)
    assert row is not None
    return window.job_model.data(window.job_model.index(row, column))


def store_job(window: MainWindow, job_id: int) -> Job:
    assert window.engine is not None
    return window.engine.store.get_job(job_id)


def drop_rows(window: MainWindow, job_ids: list[int], target_job_id: int, lower: bool) -> bool:
    """Drag rows of the table onto the upper or lower half of the row of ``target_job_id``,
    with the data the view's own drag carries. Return whether the drag and the drop were
    accepted. The drag enter event comes first, because Qt delivers drag moves and drops only
    to the widget that accepted it."""
    model = window.job_model
    table = window.job_table
    indexes = []
    for job_id in job_ids:
        row = model.row_of(job_id)
        assert row is not None
        indexes.append(model.index(row, 0))
    mime = model.mimeData(indexes)
    target_row = model.row_of(target_job_id)
    assert target_row is not None
    rect = table.visualRect(model.index(target_row, Column.WORKFLOW))
    position = QPointF(QPoint(rect.center().x(), rect.bottom() - 2 if lower else rect.top() + 2))
    enter = QDragEnterEvent(
        position.toPoint(),
        Qt.DropAction.MoveAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(table.viewport(), enter)
    move = QDragMoveEvent(
        position.toPoint(),
        Qt.DropAction.MoveAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(table.viewport(), move)
    drop = QDropEvent(
        position,
        Qt.DropAction.MoveAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(table.viewport(), drop)
    return enter.isAccepted() and move.isAccepted() and drop.isAccepted()


async def test_move_to_top_and_bottom(tmp_path: Path) -> None:
    async with queue_window(tmp_path) as window:
        window.pause_action.trigger()
        first = await queue_workflow(window, 3)
        second = await queue_workflow(window, 2, index=1)
        select_jobs(window, [second[1]])
        window.queue_actions.move_top_action.trigger()
        after_top = row_ids(window)
        select_jobs(window, [first[0], first[1]])
        window.queue_actions.move_bottom_action.trigger()
        after_bottom = row_ids(window)
        top_shortcut = window.queue_actions.move_top_action.shortcut()
        bottom_shortcut = window.queue_actions.move_bottom_action.shortcut()

    assert after_top == [second[1], *first, second[0]]
    assert after_bottom == [second[1], first[2], second[0], first[0], first[1]]
    assert top_shortcut == QKeySequence("Ctrl+Home")
    assert bottom_shortcut == QKeySequence("Ctrl+End")


async def test_move_to_top_passes_high_priority(tmp_path: Path) -> None:
    async with queue_window(tmp_path) as window:
        window.pause_action.trigger()
        ids = await queue_workflow(window, 3)
        select_jobs(window, [ids[0]])
        high = window.queue_actions.priority_menu.actions()[0]
        high.trigger()
        select_jobs(window, [ids[2]])
        window.queue_actions.move_top_action.trigger()
        order = row_ids(window)
        priority = store_job(window, ids[2]).priority

    assert order == [ids[2], ids[0], ids[1]]
    assert priority == 10


async def test_drag_moves_queued_rows(tmp_path: Path) -> None:
    async with queue_window(tmp_path) as window:
        window.pause_action.trigger()
        ids = await queue_workflow(window, 5)
        await wait_for(lambda: window.job_table.isVisible(), description="the table")
        accepted_up = drop_rows(window, [ids[3], ids[4]], ids[1], lower=False)
        after_up = row_ids(window)
        accepted_down = drop_rows(window, [ids[0]], ids[2], lower=True)
        after_down = row_ids(window)
        orders = [store_job(window, job_id).queue_order for job_id in after_down]

    assert accepted_up
    assert after_up == [ids[0], ids[3], ids[4], ids[1], ids[2]]
    assert accepted_down
    assert after_down == [ids[3], ids[4], ids[1], ids[2], ids[0]]
    assert orders == sorted(orders)


async def test_drag_takes_target_priority(tmp_path: Path) -> None:
    async with queue_window(tmp_path) as window:
        window.pause_action.trigger()
        ids = await queue_workflow(window, 3)
        await wait_for(lambda: window.job_table.isVisible(), description="the table")
        select_jobs(window, [ids[0], ids[1]])
        window.queue_actions.priority_menu.actions()[0].trigger()
        accepted = drop_rows(window, [ids[2]], ids[1], lower=False)
        order = row_ids(window)
        priority = store_job(window, ids[2]).priority

    assert accepted
    assert order == [ids[0], ids[2], ids[1]]
    assert priority == 10


async def test_drop_files_on_table_adds_workflows(tmp_path: Path) -> None:
    async with queue_window(tmp_path) as window:
        window.pause_action.trigger()
        await queue_workflow(window, 1)
        await wait_for(lambda: window.job_table.isVisible(), description="the table")
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(bundled_workflows()[2]))])
        center = QPointF(window.job_table.viewport().rect().center())
        enter = QDragEnterEvent(
            center.toPoint(),
            Qt.DropAction.CopyAction,
            mime,
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier,
        )
        QApplication.sendEvent(window.job_table.viewport(), enter)
        drop = QDropEvent(
            center,
            Qt.DropAction.CopyAction,
            mime,
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier,
        )
        QApplication.sendEvent(window.job_table.viewport(), drop)
        await wait_for(lambda: window.batch_dialog is not None, description="the batch dialog")
        assert window.batch_dialog is not None
        paths = [workflow.path for workflow in window.batch_dialog.workflows]
        window.batch_dialog.reject()
        rows = window.job_model.rowCount()

    assert enter.isAccepted()
    assert paths == [bundled_workflows()[2]]
    assert rows == 1


async def test_priority_menus_set_priority(tmp_path: Path) -> None:
    async with queue_window(tmp_path) as window:
        window.pause_action.trigger()
        first = await queue_workflow(window, 2)
        second = await queue_workflow(window, 2, index=1)
        labels = [action.text() for action in window.queue_actions.priority_menu.actions()]
        select_jobs(window, [second[1]])
        window.queue_actions.priority_menu.actions()[0].trigger()
        after_high = row_ids(window)
        shown = cell(window, second[1], Column.PRIORITY)
        select_jobs(window, [first[0]])
        window.queue_actions.batch_priority_menu.actions()[2].trigger()
        after_low = row_ids(window)
        batch_cells = [cell(window, job_id, Column.PRIORITY) for job_id in first]

    assert labels == ["High (10)", "Normal (0)", "Low (-10)"]
    assert after_high == [second[1], *first, second[0]]
    assert shown == "10"
    assert after_low == [second[1], second[0], *first]
    assert batch_cells == ["-10", "-10"]


async def test_paused_batch_waits(tmp_path: Path) -> None:
    async with queue_window(tmp_path) as window:
        assert window.engine is not None
        window.pause_action.trigger()
        held = await queue_workflow(window, 2)
        other = await queue_workflow(window, 2, index=1)
        select_jobs(window, [held[0]])
        window.queue_actions.pause_batch_action.trigger()
        paused = window.engine.store.get_batch(store_job(window, held[0]).batch_id).paused
        batch_cell = cell(window, held[1], Column.BATCH)
        status_cell = cell(window, held[1], Column.STATUS)
        pause_checked = window.queue_actions.pause_batch_action.isChecked()
        window.pause_action.trigger()
        await wait_for(
            lambda: all(store_job(window, job_id).is_final for job_id in other),
            description="the other batch",
        )
        held_statuses = [store_job(window, job_id).status for job_id in held]

        window.queue_actions.pause_batch_action.trigger()
        await wait_for(
            lambda: statuses(window) == [JobStatus.SUCCEEDED] * 4, description="every job"
        )
        resumed_cell = cell(window, held[1], Column.BATCH)

    assert paused
    assert isinstance(batch_cell, str)
    assert batch_cell.endswith(" (paused)")
    assert status_cell == "Queued (paused)"
    assert pause_checked
    assert held_statuses == [JobStatus.QUEUED] * 2
    assert isinstance(resumed_cell, str)
    assert not resumed_cell.endswith("(paused)")


async def test_cancel_batch_queued_after_confirm(tmp_path: Path) -> None:
    async with queue_window(tmp_path) as window:
        window.pause_action.trigger()
        first = await queue_workflow(window, 3)
        second = await queue_workflow(window, 2, index=1)
        select_jobs(window, [first[1]])
        window.queue_actions.cancel_batch_action.trigger()
        box = window.queue_actions.confirm_box
        assert box is not None
        text = box.text()
        details = box.informativeText()
        click_button(box, "Cancel 3 jobs")
        await wait_for(
            lambda: all(store_job(window, job_id).is_final for job_id in first),
            description="the cancel",
        )
        first_statuses = [store_job(window, job_id).status for job_id in first]
        second_statuses = [store_job(window, job_id).status for job_id in second]

    assert "(3 jobs)" in text
    assert "Retry" in details
    assert "no undo" in details
    assert first_statuses == [JobStatus.CANCELLED] * 3
    assert second_statuses == [JobStatus.QUEUED] * 2


async def test_cancel_all_queued_asks_first(tmp_path: Path) -> None:
    async with queue_window(tmp_path) as window:
        window.pause_action.trigger()
        await queue_workflow(window, 2)
        await queue_workflow(window, 2, index=1)
        window.queue_actions.cancel_all_action.trigger()
        first_box = window.queue_actions.confirm_box
        assert first_box is not None
        first_text = first_box.text()
        click_button(first_box, "Keep them")
        after_keep = statuses(window)

        window.queue_actions.cancel_all_action.trigger()
        second_box = window.queue_actions.confirm_box
        assert second_box is not None
        click_button(second_box, "Cancel 4 jobs")
        await wait_for(
            lambda: statuses(window) == [JobStatus.CANCELLED] * 4, description="the cancel"
        )
        box_after = window.queue_actions.confirm_box

    assert first_text == "Cancel all 4 queued jobs?"
    assert after_keep == [JobStatus.QUEUED] * 4
    assert box_after is None


async def test_retry_failed_by_cause(tmp_path: Path) -> None:
    async with queue_window(tmp_path) as window:
        assert window.engine is not None and window.engine.sandbox is not None
        window.engine.sandbox.faults.fail_jobs = 2
        ids = await queue_workflow(window, 3)
        await wait_for(
            lambda: all(store_job(window, job_id).is_final for job_id in ids),
            description="3 final jobs",
        )
        failed = [job_id for job_id in ids if store_job(window, job_id).status is JobStatus.FAILED]
        select_jobs(window, [ids[0]])
        window.queue_actions.retry_failed_action.trigger()
        dialog = window.queue_actions.failures_dialog
        assert dialog is not None
        causes = list(dialog.retry_buttons)
        texts = [
            label.text()
            for label in dialog.findChildren(type(dialog.empty_label))
            if label.isVisibleTo(dialog)
        ]
        dialog.retry_buttons[FailureCause.SERVER].click()
        await wait_for(
            lambda: (
                [store_job(window, job_id).status for job_id in ids] == [JobStatus.SUCCEEDED] * 3
            ),
            description="the retried jobs",
        )
        await wait_for(lambda: not dialog.retry_buttons, description="an empty list")
        empty_shown = dialog.empty_label.isVisibleTo(dialog)
        dialog.reject()

    assert len(failed) == 2
    assert causes == [FailureCause.SERVER]
    assert any("Failed on the server" in text and "2 jobs" in text for text in texts)
    assert empty_shown


async def test_auto_paused_batch_shown(tmp_path: Path) -> None:
    async with queue_window(tmp_path) as window:
        assert window.engine is not None and window.engine.sandbox is not None
        window.engine.sandbox.faults.fail_jobs = 100
        # Up to 4 jobs are in flight when the third failure pauses the batch.
        ids = await queue_workflow(window, 10)
        engine = window.engine
        batch_id = store_job(window, ids[0]).batch_id
        await wait_for(lambda: engine.store.get_batch(batch_id).paused, description="a pause")
        await wait_for(
            lambda: any("is paused" in text for _level, text in window.notices.messages()),
            description="the notice",
        )
        queued = [job_id for job_id in ids if store_job(window, job_id).status is JobStatus.QUEUED]
        batch_cell = cell(window, queued[0], Column.BATCH)
        select_jobs(window, [queued[0]])
        window.refresh_status()
        checked = window.queue_actions.pause_batch_action.isChecked()
        estimate = window.status_bar.batch_label.text()
        await wait_for(
            lambda: all(
                store_job(window, job_id).status is JobStatus.QUEUED
                or store_job(window, job_id).is_final
                for job_id in ids
            ),
            description="no job in flight",
        )
        window.engine.sandbox.faults.fail_jobs = 0
        window.queue_actions.retry_failed(batch_id, None)
        await wait_for(
            lambda: all(store_job(window, job_id).status is JobStatus.SUCCEEDED for job_id in ids),
            description="every job",
        )

    assert queued
    assert isinstance(batch_cell, str)
    assert batch_cell.endswith(" (paused)")
    assert checked
    assert estimate.endswith("· batch paused")


async def test_batch_estimate_in_status_bar(tmp_path: Path) -> None:
    async with queue_window(tmp_path) as window:
        await queue_workflow(window, 2)
        await wait_for(lambda: statuses(window) == [JobStatus.SUCCEEDED] * 2, description="2 jobs")
        window.pause_action.trigger()
        ids = await queue_workflow(window, 3)
        select_jobs(window, [ids[0]])
        window.refresh_status()
        paused_text = window.status_bar.batch_label.text()
        select_jobs(window, [row_ids(window)[-1]])
        window.refresh_status()
        finished_text = window.status_bar.batch_label.text()
        finished_shown = window.status_bar.batch_label.isVisible()

    # At 0.01 times real time the jobs run for minutes, so the batch stays unfinished.
    async with queue_window(tmp_path, speed=0.01) as window:
        select_jobs(window, [ids[0]])
        window.refresh_status()
        running_text = window.status_bar.batch_label.text()
        tooltip = window.status_bar.batch_label.toolTip()

    assert paused_text == "3 jobs left · queue paused"
    assert finished_text == ""
    assert not finished_shown
    assert running_text.startswith("3 jobs left · done ≈ ")
    assert "last finished jobs" in tooltip


async def test_queue_export_import_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "exported" / "queue.json"
    path.parent.mkdir()
    async with queue_window(tmp_path) as window:
        window.pause_action.trigger()
        ids = await queue_workflow(window, 3)
        select_jobs(window, [ids[0]])
        window.queue_actions.batch_priority_menu.actions()[0].trigger()

        window.queue_transfer.export_action.trigger()
        export_dialog = window.queue_transfer.file_dialog
        assert export_dialog is not None
        export_dialog.selectFile(str(path))
        export_dialog.accept()
        document = json.loads(path.read_text(encoding="utf-8"))
        exported_notice = window.notices.messages()[0]

        window.queue_transfer.import_action.trigger()
        import_dialog = window.queue_transfer.file_dialog
        assert import_dialog is not None and import_dialog is not export_dialog
        import_dialog.selectFile(str(path))
        import_dialog.accept()
        rows = window.job_model.rowCount()
        imported = [job for job in window.job_model.jobs() if job.id not in ids]
        imported_notice = window.notices.messages()[0]
        window.pause_action.trigger()
        await wait_for(lambda: statuses(window) == [JobStatus.SUCCEEDED] * 6, description="6 jobs")

    assert [len(batch["jobs"]) for batch in document["batches"]] == [3]
    assert exported_notice == (NoticeLevel.INFO, "Exported 3 queued jobs to queue.json.")
    assert rows == 6
    assert [job.priority for job in imported] == [10, 10, 10]
    assert all(job.status is JobStatus.QUEUED for job in imported)
    assert imported_notice == (NoticeLevel.INFO, "Imported 3 jobs in 1 batch from queue.json.")


async def test_queue_import_bad_file_notice(tmp_path: Path) -> None:
    bad = tmp_path / "not-a-queue.json"
    bad.write_text(json.dumps({"format": "something-else"}), encoding="utf-8")
    async with queue_window(tmp_path) as window:
        added = window.queue_transfer.import_queue(bad)
        notice = window.notices.messages()[0]
        rows = window.job_model.rowCount()

    assert added is None
    assert notice[0] is NoticeLevel.ERROR
    assert notice[1].startswith("not-a-queue.json: is not a Cmfy Desk queue file")
    assert rows == 0


async def test_export_asks_before_replacing(tmp_path: Path) -> None:
    path = tmp_path / "queue.json"
    path.write_text("old", encoding="utf-8")
    async with queue_window(tmp_path) as window:
        window.pause_action.trigger()
        await queue_workflow(window, 1)
        window.queue_transfer.export_action.trigger()
        dialog = window.queue_transfer.file_dialog
        assert dialog is not None
        dialog.selectFile(str(path))
        dialog.accept()
        box = window.queue_transfer.confirm_box
        assert box is not None
        question = box.text()
        untouched = path.read_text(encoding="utf-8")
        click_button(box, "Replace")
        replaced = json.loads(path.read_text(encoding="utf-8"))

    assert question == "queue.json already exists. Replace it?"
    assert untouched == "old"
    assert len(replaced["batches"]) == 1


async def test_settings_queue_fields_saved(tmp_path: Path) -> None:
    async with queue_window(tmp_path) as window:
        old_engine = window.engine
        window.open_settings()
        dialog = window.settings_dialog
        assert dialog is not None
        initial = (
            dialog.max_running.text(),
            dialog.failures_before_pause.value(),
            dialog.cache_aware.isChecked(),
        )
        dialog.max_running.setValue(1)
        dialog.start_paused.setChecked(True)
        dialog.failures_before_pause.setValue(5)
        dialog.cache_aware.setChecked(False)
        dialog.accept()
        await wait_for(
            lambda: window.engine is not None and window.engine is not old_engine,
            description="a new engine",
        )
        assert window.engine is not None
        target = window.engine.scheduler.target_in_flight
        # The queue was running before the restart, so it keeps running although the
        # queue.start_paused setting is now on.
        paused = window.engine.scheduler.paused
        saved = json.loads((tmp_path / "data" / "settings.json").read_text(encoding="utf-8"))

    assert initial == ("No cap", 3, True)
    assert saved["queue.max_running"] == 1
    assert saved["queue.start_paused"] is True
    assert saved["queue.failures_before_pause"] == 5
    assert saved["queue.cache_aware"] is False
    assert target == 1
    assert not paused


async def test_queue_settings_wait_for_sandbox_jobs(tmp_path: Path) -> None:
    async with queue_window(tmp_path, speed=0.01) as window:
        old_engine = window.engine
        await queue_workflow(window, 2)
        await wait_for(
            lambda: any(job.status in RUNNING_STATUSES for job in window.job_model.jobs()),
            description="a running job",
        )
        window.open_settings()
        dialog = window.settings_dialog
        assert dialog is not None
        dialog.max_running.setValue(1)
        dialog.accept()
        notice = window.notices.messages()[0]
        engine = window.engine
        saved = window.settings.get("queue.max_running")

    assert engine is old_engine
    assert saved == 1
    assert notice[0] is NoticeLevel.INFO
    assert "next start" in notice[1]
