"""Live progress in the job table and the job details panel beside it.

The model tests feed a table model from a real store. The window tests run the main window
over a real engine and the built-in sandbox on a qasync loop, and feed progress and preview
events through the engine's own dispatch, as a server's websocket bridge does.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QModelIndex, Qt
from PySide6.QtGui import QFontInfo, QGuiApplication, QImage
from pytestqt.qtbot import QtBot

from cmfy_desk.bridge.events import (
    BridgeChanged,
    BridgeState,
    BridgeStatus,
    JobPreview,
    JobProgress,
)
from cmfy_desk.paths import bundled_workflows
from cmfy_desk.scheduler.events import NoticeLevel
from cmfy_desk.store import Job, JobStatus, Store
from cmfy_desk.ui.job_details import JobDetailsPanel
from cmfy_desk.ui.job_model import PROGRESS_ROLE, Column, JobTableModel
from cmfy_desk.ui.job_table import JobTableView
from cmfy_desk.ui.main_window import MainWindow
from tests.test_window import open_window, queue_sample, wait_for

GRAPH: dict[str, Any] = {
    "1": {"class_type": "KSampler", "inputs": {"seed": 1}},
    "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0]}},
}
# The sandbox runs the first sample workflow, with its two models not yet cached, for about
# 17.5 s divided by the speed: long enough at this speed to send events while it runs.
RUN_SPEED = 4.0
# Slow enough that a job still runs when the test makes the sandbox forget it.
SLOW_SPEED = 0.2
LOST_EXPLANATION = (
    "The server no longer knows this job (it restarted or forgot it). Resubmit it to run it again."
)


# Table model ----------------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store.open(tmp_path / "jobs.sqlite3")
    yield store
    store.close()


def add_jobs(store: Store, count: int) -> list[int]:
    _batch, jobs = store.add_batch(
        name="portrait batch",
        workflow_name="portrait",
        workflow_path="/workflows/portrait.json",
        connection="comfyui",
        seed_mode="increment",
        output_dir="portrait batch",
        jobs=[(GRAPH, "hash", 100 + index) for index in range(count)],
    )
    return [job.id for job in jobs]


def start_running(store: Store, job_id: int) -> Job:
    store.transition(job_id, JobStatus.SUBMITTING)
    store.transition(job_id, JobStatus.SUBMITTED, remote_id=f"prompt-{job_id}")
    return store.transition(job_id, JobStatus.RUNNING, started_at=time.time())


def progress_cell(model: JobTableModel, job_id: int) -> QModelIndex:
    row = model.row_of(job_id)
    assert row is not None
    return model.index(row, Column.PROGRESS)


def test_progress_repaints_one_cell(store: Store) -> None:
    ids = add_jobs(store, 3)
    start_running(store, ids[1])
    model = JobTableModel(store.jobs())
    changes: list[tuple[int, int, int, int, list[int]]] = []
    model.dataChanged.connect(
        lambda top, bottom, roles: changes.append(
            (top.row(), top.column(), bottom.row(), bottom.column(), list(roles))
        )
    )

    model.update_progress(JobProgress(ids[1], "1", "KSampler", 12, 20, 0, 2))

    cell = progress_cell(model, ids[1])
    assert len(changes) == 1
    assert changes[0][:4] == (cell.row(), Column.PROGRESS, cell.row(), Column.PROGRESS)
    assert PROGRESS_ROLE in changes[0][4]
    assert cell.data(Qt.ItemDataRole.DisplayRole) == "KSampler 12/20"
    assert cell.data(PROGRESS_ROLE) == 30
    assert "step 12 of 20" in cell.data(Qt.ItemDataRole.ToolTipRole)
    assert "0 of 2 nodes done" in cell.data(Qt.ItemDataRole.ToolTipRole)


def test_progress_without_steps_names_node(store: Store) -> None:
    ids = add_jobs(store, 1)
    start_running(store, ids[0])
    model = JobTableModel(store.jobs())

    model.update_progress(JobProgress(ids[0], "2", "", 0, 0, 1, 2))

    cell = progress_cell(model, ids[0])
    assert cell.data(Qt.ItemDataRole.DisplayRole) == "node 2"
    assert cell.data(PROGRESS_ROLE) == 50


def test_progress_dropped_after_running(store: Store) -> None:
    ids = add_jobs(store, 1)
    start_running(store, ids[0])
    model = JobTableModel(store.jobs())
    model.update_progress(JobProgress(ids[0], "1", "KSampler", 20, 20, 1, 2))

    model.update_job(store.transition(ids[0], JobStatus.DOWNLOADING))
    late: list[object] = []
    model.dataChanged.connect(lambda *args: late.append(args))
    model.update_progress(JobProgress(ids[0], "2", "SaveImage", 0, 0, 1, 2))

    cell = progress_cell(model, ids[0])
    assert model.progress(ids[0]) is None
    assert cell.data(PROGRESS_ROLE) == 90
    assert cell.data(Qt.ItemDataRole.DisplayRole) == "90 %"
    assert late == []


def test_progress_ignored_unless_running(store: Store) -> None:
    ids = add_jobs(store, 1)
    model = JobTableModel(store.jobs())
    changes: list[object] = []
    model.dataChanged.connect(lambda *args: changes.append(args))

    model.update_progress(JobProgress(ids[0], "1", "KSampler", 3, 20, 0, 2))
    model.update_progress(JobProgress(ids[0] + 100, "1", "KSampler", 3, 20, 0, 2))

    assert changes == []
    assert model.progress(ids[0]) is None
    assert progress_cell(model, ids[0]).data(PROGRESS_ROLE) == 0


def test_reload_forgets_progress(store: Store) -> None:
    ids = add_jobs(store, 1)
    start_running(store, ids[0])
    model = JobTableModel(store.jobs())
    model.update_progress(JobProgress(ids[0], "1", "KSampler", 3, 20, 0, 2))

    model.reload(store.jobs())

    assert model.progress(ids[0]) is None
    assert progress_cell(model, ids[0]).data(PROGRESS_ROLE) == 50


def test_model_with_progress_passes_modeltester(store: Store, qtmodeltester: Any) -> None:
    ids = add_jobs(store, 4)
    for job_id in ids[:2]:
        start_running(store, job_id)
    model = JobTableModel(store.jobs())
    for step in range(1, 21):
        model.update_progress(JobProgress(ids[0], "1", "KSampler", step, 20, 0, 2))
    model.update_progress(JobProgress(ids[1], "1", "", 0, 0, 1, 2))
    model.update_job(store.transition(ids[1], JobStatus.DOWNLOADING))

    qtmodeltester.check(model)


def test_partial_job_shows_message(store: Store, qtbot: QtBot) -> None:
    ids = add_jobs(store, 2)
    start_running(store, ids[0])
    store.transition(ids[0], JobStatus.DOWNLOADING)
    message = "Some output nodes produced nothing: node 9 (SaveImage)"
    store.transition(ids[0], JobStatus.PARTIAL, finished_at=time.time(), error_message=message)
    model = JobTableModel(store.jobs(), find_batch=store.get_batch)
    table = JobTableView(model, [])
    qtbot.addWidget(table)
    notices: list[tuple[NoticeLevel, str]] = []
    panel = JobDetailsPanel(
        table, model, engine=lambda: None, notify=lambda level, text: notices.append((level, text))
    )
    qtbot.addWidget(panel)

    row = model.row_of(ids[0])
    assert row is not None
    table.selectRow(row)

    assert panel.status_label.text() == "Partial"
    assert panel.explanation.text() == message
    assert panel.action_button.text() == "Retry"
    assert not panel.action_button.isHidden()
    # Without an engine there is nothing to queue the job on.
    assert not panel.action_button.isEnabled()
    assert panel.fields["batch"].text() == "portrait batch"
    assert panel.error_details.isHidden()
    assert notices == []


# The window -----------------------------------------------------------------------------------


def image_bytes(width: int, height: int, image_format: str) -> bytes:
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(Qt.GlobalColor.darkMagenta)
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    assert image.save(buffer, image_format)
    buffer.close()
    return bytes(data.data())


def select_job(window: MainWindow, job_id: int) -> None:
    row = window.job_model.row_of(job_id)
    assert row is not None
    window.job_table.selectRow(row)


def job_in_table(window: MainWindow, job_id: int) -> Job:
    job = window.job_model.job(job_id)
    assert job is not None
    return job


async def start_one_job(window: MainWindow, *statuses: JobStatus) -> Job:
    """Queue one job of the first sample workflow and return it once its status is one of
    ``statuses`` and the server has given it an id."""
    await queue_sample(window, 1)
    job_id = window.job_model.job_at(0).id

    def reached() -> bool:
        job = job_in_table(window, job_id)
        return job.status in statuses and job.remote_id is not None

    await wait_for(reached, description=f"job {job_id} to reach {statuses}")
    return job_in_table(window, job_id)


def engine_of(window: MainWindow) -> Any:
    assert window.engine is not None
    return window.engine


@pytest.mark.asyncio
@pytest.mark.qt_loop
async def test_progress_shown_in_cell_and_panel(tmp_path: Path, qtmodeltester: Any) -> None:
    async with open_window(tmp_path, speed=RUN_SPEED, status_mode="poll") as window:
        job = await start_one_job(window, JobStatus.RUNNING)
        select_job(window, job.id)
        model = window.job_model
        panel = window.job_details
        changes: list[tuple[int, int, int, int]] = []
        model.dataChanged.connect(
            lambda top, bottom, _roles: changes.append(
                (top.row(), top.column(), bottom.row(), bottom.column())
            )
        )
        busy_before = (panel.progress_bar.minimum(), panel.progress_bar.maximum())

        engine_of(window)._dispatch(JobProgress(job.id, "6", "KSampler", 12, 20, 5, 8))
        progress_changes = list(changes)

        cell = progress_cell(model, job.id)
        cell_text = cell.data(Qt.ItemDataRole.DisplayRole)
        cell_percent = cell.data(PROGRESS_ROLE)
        bar = (panel.progress_bar.value(), panel.progress_bar.maximum())
        bar_text = panel.progress_bar.text()
        summary = panel.progress_text.text()
        qtmodeltester.check(model)

        await wait_for(
            lambda: job_in_table(window, job.id).status is JobStatus.SUCCEEDED,
            description="the job to succeed",
        )
        finished_text = progress_cell(model, job.id).data(Qt.ItemDataRole.DisplayRole)
        finished_progress = model.progress(job.id)
        bar_hidden = panel.progress_bar.isHidden()
        finished_status = panel.status_label.text()

    assert busy_before == (0, 0)
    assert progress_changes == [(cell.row(), Column.PROGRESS, cell.row(), Column.PROGRESS)]
    assert cell_text == "KSampler 12/20"
    # 5 of 8 nodes done and the sixth at 12 of 20 steps: (5 + 0.6) / 8.
    assert cell_percent == 70
    assert bar == (700, 1000)
    assert bar_text == "KSampler 12/20"
    assert summary.startswith("Node 6 (KSampler), step 12 of 20.")
    assert finished_text == "100 %"
    assert finished_progress is None
    assert bar_hidden
    assert finished_status == "Succeeded"


@pytest.mark.asyncio
@pytest.mark.qt_loop
async def test_preview_shown_only_while_running(tmp_path: Path) -> None:
    async with open_window(tmp_path, speed=RUN_SPEED, status_mode="poll") as window:
        job = await start_one_job(window, JobStatus.RUNNING)
        panel = window.job_details
        engine = engine_of(window)
        # A frame that arrives before the row is selected is kept for it.
        engine._dispatch(JobPreview(job.id, image_bytes(64, 48, "JPEG"), "image/jpeg"))
        select_job(window, job.id)
        first = panel.preview.pixmap()
        first_shown = not panel.preview.isHidden()
        engine._dispatch(JobPreview(job.id, image_bytes(40, 40, "PNG"), "image/png"))
        second = panel.preview.pixmap()
        engine._dispatch(JobPreview(job.id, b"not an image", "image/jpeg"))
        broken_hidden = panel.preview.isHidden()
        engine._dispatch(JobPreview(job.id, image_bytes(40, 40, "PNG"), "image/png"))

        await wait_for(
            lambda: job_in_table(window, job.id).status is JobStatus.SUCCEEDED,
            description="the job to succeed",
        )
        finished_hidden = panel.preview.isHidden()
        finished_pixmap = panel.preview.pixmap()
        engine._dispatch(JobPreview(job.id, image_bytes(64, 48, "JPEG"), "image/jpeg"))
        late_hidden = panel.preview.isHidden()

    assert first is not None
    assert (first.width(), first.height()) == (64, 48)
    assert first_shown
    assert second is not None
    assert (second.width(), second.height()) == (40, 40)
    assert broken_hidden
    assert finished_hidden
    assert finished_pixmap is None
    assert late_hidden


@pytest.mark.asyncio
@pytest.mark.qt_loop
async def test_lost_job_resubmitted_from_panel(tmp_path: Path) -> None:
    async with open_window(tmp_path, speed=SLOW_SPEED, status_mode="poll") as window:
        job = await start_one_job(window, JobStatus.SUBMITTED, JobStatus.RUNNING)
        engine = engine_of(window)
        assert engine.sandbox is not None
        assert engine.sandbox.forget_all_jobs() == 1
        await wait_for(
            lambda: job_in_table(window, job.id).status is JobStatus.LOST,
            description="the job to be lost",
        )
        select_job(window, job.id)
        panel = window.job_details
        status = panel.status_label.text()
        explanation = panel.explanation.text()
        button_text = panel.action_button.text()
        button_shown = not panel.action_button.isHidden()
        old_remote_id = panel.fields["remote_id"].text()

        panel.action_button.click()
        stored = engine.store.get_job(job.id)

        await wait_for(
            lambda: job_in_table(window, job.id).remote_id not in (None, old_remote_id),
            description="the job to be submitted again",
        )
        button_hidden_after = panel.action_button.isHidden()
        status_after = panel.status_label.text()

    assert status == "Lost"
    assert explanation == LOST_EXPLANATION
    assert button_text == "Resubmit"
    assert button_shown
    assert old_remote_id == job.remote_id
    assert stored.status is JobStatus.QUEUED
    assert stored.remote_id is None
    assert button_hidden_after
    assert status_after in ("Submitted", "Running")


@pytest.mark.asyncio
@pytest.mark.qt_loop
async def test_failed_job_error_details_copied(tmp_path: Path) -> None:
    # The sandbox rejects images over 8192 pixels a side, which the pre-flight check allows.
    graph = json.loads(bundled_workflows()[0].read_text(encoding="utf-8"))
    for node in graph.values():
        if node["class_type"] == "EmptyLatentImage":
            node["inputs"]["width"] = 12000
    workflow = tmp_path / "too_wide.json"
    workflow.write_text(json.dumps(graph), encoding="utf-8")
    async with open_window(tmp_path) as window:
        window.add_workflow_files([workflow])
        await wait_for(lambda: window.batch_dialog is not None, description="the batch dialog")
        assert window.batch_dialog is not None
        window.batch_dialog.count.setValue(1)
        window.batch_dialog.accept()
        await wait_for(lambda: window.job_model.rowCount() == 1, description="1 row")
        job_id = window.job_model.job_at(0).id
        await wait_for(
            lambda: job_in_table(window, job_id).status is JobStatus.FAILED,
            description="the job to fail",
        )
        job = job_in_table(window, job_id)
        select_job(window, job_id)
        panel = window.job_details
        explanation = panel.explanation.text()
        button = (panel.action_button.text(), not panel.action_button.isHidden())
        details_shown = not panel.error_details.isHidden() and not panel.copy_button.isHidden()
        details = panel.error_details.toPlainText()
        read_only = panel.error_details.isReadOnly()
        fixed_pitch = QFontInfo(panel.error_details.font()).fixedPitch()
        request_id = panel.fields["request_id"].text()
        error_code = panel.fields["error_code"].text()
        QGuiApplication.clipboard().clear()
        panel.copy_button.click()
        copied = QGuiApplication.clipboard().text()

        panel.action_button.click()
        stored = engine_of(window).store.get_job(job_id)

    assert job.error_details is not None
    assert json.loads(job.error_details) == {"node_id": "5"}
    assert explanation == job.error_message
    assert explanation.startswith("Invalid image size 12000x512")
    assert button == ("Retry", True)
    assert details_shown
    assert details == job.error_details
    assert read_only
    assert fixed_pitch
    assert copied == job.error_details
    assert request_id == job.error_request_id
    assert request_id.startswith("req_")
    assert error_code == "validation_error"
    assert stored.status is JobStatus.QUEUED


@pytest.mark.asyncio
@pytest.mark.qt_loop
async def test_panel_follows_current_row(tmp_path: Path) -> None:
    async with open_window(tmp_path) as window:
        panel = window.job_details
        hidden_while_empty = panel.isHidden()
        window.pause_action.trigger()
        await queue_sample(window, 2)
        shown_with_jobs = not panel.isHidden()
        empty_without_selection = panel.job is None and not panel.empty_label.isHidden()

        second = window.job_model.job_at(1)
        select_job(window, second.id)
        shown_job = panel.job
        title = panel.title.text()
        status = panel.status_label.text()
        explanation = panel.explanation.text()
        fields = {key: field.text() for key, field in panel.fields.items()}
        shown_fields = {key for key, field in panel.fields.items() if not field.isHidden()}
        hidden = {
            "action": panel.action_button.isHidden(),
            "progress": panel.progress_bar.isHidden(),
            "preview": panel.preview.isHidden(),
            "error details": panel.error_details.isHidden(),
            "copy": panel.copy_button.isHidden(),
        }
        batch_name = window.job_model.batch_name(second.batch_id)

        window.job_table.clearSelection()
        cleared = panel.job

    assert hidden_while_empty
    assert shown_with_jobs
    assert empty_without_selection
    assert shown_job is not None
    assert shown_job.id == second.id
    assert title == f"Job {second.id}"
    assert status == "Queued"
    assert explanation == "Waiting in the local queue for a free slot on the server."
    assert fields["workflow"] == f"{second.workflow_name} #2"
    assert fields["batch"] == batch_name
    assert fields["connection"] == second.connection
    assert fields["seed"] == str(second.seed)
    assert shown_fields == {"workflow", "batch", "connection", "seed", "attempts"}
    assert all(hidden.values()), hidden
    assert cleared is None


@pytest.mark.asyncio
@pytest.mark.qt_loop
async def test_bridge_status_forwarded(tmp_path: Path) -> None:
    async with open_window(tmp_path) as window:
        received: list[BridgeStatus] = []
        window.signals.bridgeChanged.connect(received.append)
        status = BridgeStatus("sandbox", BridgeState.POLLING, "No tunnel is set.")
        engine_of(window)._dispatch(BridgeChanged(status))

    assert received == [status]
