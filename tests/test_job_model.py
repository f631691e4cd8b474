"""The job table and gallery models, fed from a real store without an engine."""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QByteArray, QMimeData, QModelIndex, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QTableView
from pytestqt.qtbot import QtBot

from cmfy_desk.store import Batch, Job, JobStatus, Output, Store
from cmfy_desk.ui.job_model import (
    FINISHED_PAGE,
    JOB_IDS_MIME_TYPE,
    JOB_ROLE,
    PROGRESS_ROLE,
    Column,
    JobTableModel,
    queue_sort_key,
    status_text,
)
from cmfy_desk.ui.model_sets import model_color, model_file_name
from cmfy_desk.ui.notifications import batch_outcome_text

GRAPH: dict[str, Any] = {
    "1": {"class_type": "KSampler", "inputs": {"seed": 1}},
    "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0]}},
}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store.open(tmp_path / "jobs.sqlite3")
    yield store
    store.close()


def add_batch(store: Store, count: int, name: str = "portrait") -> list[int]:
    """Store a batch named "<name> batch" of ``count`` queued jobs and return their ids."""
    _batch, jobs = store.add_batch(
        name=f"{name} batch",
        workflow_name=name,
        workflow_path=f"/workflows/{name}.json",
        connection="sandbox",
        seed_mode="increment",
        output_dir=f"{name} batch",
        jobs=[(GRAPH, "hash", 100 + index) for index in range(count)],
    )
    return [job.id for job in jobs]


def write_png(path: Path, width: int = 320, height: int = 200) -> Path:
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(Qt.GlobalColor.darkCyan)
    path.parent.mkdir(parents=True, exist_ok=True)
    assert image.save(str(path))
    return path


def batch_lookup(store: Store, calls: list[int]) -> Callable[[int], Batch | None]:
    """Return a batch lookup on ``store`` that records each batch id it is asked for."""

    def find(batch_id: int) -> Batch | None:
        calls.append(batch_id)
        return store.get_batch(batch_id)

    return find


def finish(store: Store, job_id: int, status: JobStatus) -> Job:
    """Move a queued job through submission to ``status``."""
    store.transition(job_id, JobStatus.SUBMITTING)
    if status is JobStatus.CANCELLED:
        return store.transition(job_id, status, finished_at=time.time())
    store.transition(job_id, JobStatus.SUBMITTED, remote_id=f"job_{job_id}", queue_position=3)
    if status is JobStatus.LOST:
        return store.transition(job_id, status, finished_at=time.time())
    store.transition(job_id, JobStatus.RUNNING)
    if status is JobStatus.FAILED:
        return store.transition(job_id, status, finished_at=time.time())
    store.transition(job_id, JobStatus.DOWNLOADING)
    return store.transition(job_id, status, finished_at=time.time())


def add_output(store: Store, tmp_path: Path, job_id: int, index: int = 0) -> Output:
    path = write_png(tmp_path / "out" / f"job{job_id}_{index}.png")
    return store.add_output(
        job_id,
        index,
        remote_url=f"http://127.0.0.1/{job_id}_{index}.png",
        local_path=str(path),
        size=path.stat().st_size,
        sha256="0" * 64,
        width=320,
        height=200,
    )


def test_job_model_passes_modeltester(store: Store, qtmodeltester: Any) -> None:
    add_batch(store, 3)
    model = JobTableModel(store.jobs(), find_batch=batch_lookup(store, []))
    qtmodeltester.check(model)


def test_job_model_final_rows_pass_modeltester(store: Store, qtmodeltester: Any) -> None:
    ids = add_batch(store, 5)
    statuses = [JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.LOST]
    for job_id, status in zip(ids[:4], statuses, strict=True):
        finish(store, job_id, status)
    model = JobTableModel(store.jobs(), find_batch=batch_lookup(store, []))
    qtmodeltester.check(model)


def test_job_model_empty_passes_modeltester(qtmodeltester: Any) -> None:
    qtmodeltester.check(JobTableModel([]))


def test_job_model_shows_name_and_seed(store: Store) -> None:
    add_batch(store, 2)
    model = JobTableModel(store.jobs())
    assert model.data(model.index(1, Column.WORKFLOW)) == "portrait #2"
    assert model.data(model.index(1, Column.BATCH)) == ""
    assert model.data(model.index(1, Column.SEED)) == "101"
    assert model.data(model.index(0, Column.STATUS)) == "Queued"
    assert model.data(model.index(0, Column.PROGRESS), PROGRESS_ROLE) == 0


def test_job_change_updates_one_row(store: Store, qtbot: QtBot) -> None:
    ids = add_batch(store, 3)
    model = JobTableModel(store.jobs())
    changes: list[tuple[int, int, int, int]] = []
    model.dataChanged.connect(
        lambda top, bottom, _roles: changes.append(
            (top.row(), bottom.row(), top.column(), bottom.column())
        )
    )
    resets: list[bool] = []
    model.modelReset.connect(lambda: resets.append(True))
    inserts: list[bool] = []
    model.rowsInserted.connect(lambda *_args: inserts.append(True))

    # The first queued job stays first when it is sent, so its row changes in place.
    job = store.transition(ids[0], JobStatus.SUBMITTING)
    model.update_job(job)

    assert changes == [(0, 0, 0, len(Column) - 1)]
    assert resets == []
    assert inserts == []
    assert model.data(model.index(0, Column.STATUS)) == "Submitting"
    assert model.data(model.index(0, Column.PROGRESS), PROGRESS_ROLE) == 5


def test_new_job_inserts_row(store: Store, qtmodeltester: Any) -> None:
    add_batch(store, 2)
    model = JobTableModel(store.jobs())
    inserted: list[tuple[int, int]] = []
    model.rowsInserted.connect(lambda _parent, first, last: inserted.append((first, last)))

    new_ids = add_batch(store, 1, name="landscape")
    model.update_job(store.get_job(new_ids[0]))

    assert inserted == [(2, 2)]
    assert model.rowCount() == 3
    assert model.row_of(new_ids[0]) == 2
    assert model.data(model.index(2, Column.WORKFLOW)) == "landscape #1"
    qtmodeltester.check(model)


def test_failed_job_tooltip_has_ids(store: Store) -> None:
    ids = add_batch(store, 1)
    store.transition(ids[0], JobStatus.SUBMITTING)
    job = store.transition(
        ids[0],
        JobStatus.FAILED,
        remote_id="job_abc",
        error_code="validation_error",
        error_message="Node 3 is missing.\nExport the workflow again.",
        error_request_id="req_123",
        finished_at=time.time(),
    )
    model = JobTableModel([job])
    tooltip = model.data(model.index(0, Column.ERROR), Qt.ItemDataRole.ToolTipRole)
    assert "job_abc" in tooltip
    assert "req_123" in tooltip
    assert "Export the workflow again." in tooltip
    assert model.data(model.index(0, Column.ERROR)) == "Node 3 is missing."
    assert model.data(model.index(0, Column.FINISHED)) != ""
    assert model.data(model.index(0, 0), JOB_ROLE) == job


def test_batch_column_names_each_batch(store: Store) -> None:
    add_batch(store, 2, name="portrait")
    add_batch(store, 1, name="landscape")
    calls: list[int] = []
    model = JobTableModel(store.jobs(), find_batch=batch_lookup(store, calls))

    shown = [model.data(model.index(row, Column.BATCH)) for row in range(3)]
    shown_again = [model.data(model.index(row, Column.BATCH)) for row in range(3)]
    tooltip = model.data(model.index(2, Column.STATUS), Qt.ItemDataRole.ToolTipRole)

    assert shown == ["#1 portrait batch", "#1 portrait batch", "#2 landscape batch"]
    assert shown_again == shown
    assert sorted(calls) == [1, 2]
    assert model.headerData(Column.BATCH, Qt.Orientation.Horizontal) == "Batch"
    assert "Batch: landscape batch" in tooltip


def test_batch_name_unknown_asked_again(store: Store) -> None:
    add_batch(store, 1)
    batch = store.get_batch(store.jobs()[0].batch_id)
    answers: list[Batch | None] = [None, dataclasses.replace(batch, name="named later")]
    model = JobTableModel(store.jobs(), find_batch=lambda _batch_id: answers.pop(0))

    first = model.data(model.index(0, Column.BATCH))
    second = model.data(model.index(0, Column.BATCH))

    assert first == ""
    assert second == "#1 named later"


@pytest.mark.parametrize("status", [JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.LOST], ids=str)
def test_unsuccessful_job_shows_no_bar(store: Store, status: JobStatus) -> None:
    ids = add_batch(store, 1)
    model = JobTableModel([finish(store, ids[0], status)])

    assert model.data(model.index(0, Column.PROGRESS), PROGRESS_ROLE) is None
    assert model.data(model.index(0, Column.PROGRESS)) == ""
    assert model.data(model.index(0, Column.STATUS)) == status_text(status)


def test_succeeded_job_shows_full_bar(store: Store) -> None:
    ids = add_batch(store, 1)
    model = JobTableModel([finish(store, ids[0], JobStatus.SUCCEEDED)])

    assert model.data(model.index(0, Column.PROGRESS), PROGRESS_ROLE) == 100
    assert model.data(model.index(0, Column.PROGRESS)) == "100 %"


def test_queue_position_only_while_submitted(store: Store) -> None:
    ids = add_batch(store, 1)
    store.transition(ids[0], JobStatus.SUBMITTING)
    submitted = store.transition(ids[0], JobStatus.SUBMITTED, queue_position=4)
    # The row keeps the last position the service reported after the job moved on.
    running = store.transition(ids[0], JobStatus.RUNNING)
    model = JobTableModel([submitted])
    while_submitted = model.data(model.index(0, Column.QUEUE_POSITION))
    model.update_job(running)
    while_running = model.data(model.index(0, Column.QUEUE_POSITION))

    assert running.queue_position == 4
    assert while_submitted == "4"
    assert while_running == ""


def test_batch_finished_after_last_job(store: Store) -> None:
    first_batch = add_batch(store, 2)
    second_batch = add_batch(store, 1, name="landscape")
    model = JobTableModel(store.jobs())
    batch_id = store.get_job(first_batch[0]).batch_id
    other_batch_id = store.get_job(second_batch[0]).batch_id

    model.update_job(finish(store, first_batch[0], JobStatus.SUCCEEDED))
    after_one = model.batch_finished(batch_id)
    model.update_job(finish(store, first_batch[1], JobStatus.FAILED))
    after_both = model.batch_finished(batch_id)

    assert not after_one
    assert after_both
    assert not model.batch_finished(other_batch_id)
    assert not model.batch_finished(999)


def test_batch_outcome_none_while_running(store: Store) -> None:
    ids = add_batch(store, 2)
    jobs = [finish(store, ids[0], JobStatus.SUCCEEDED), store.get_job(ids[1])]

    assert batch_outcome_text("portrait batch", jobs) is None
    assert batch_outcome_text("portrait batch", []) is None


# Queue order, moves, paused batches, models and dragging ------------------------------------

MODEL_URL = "https://models.example/checkpoints/base%20v1.safetensors"
LORA_URL = "https://models.example/loras/detail.safetensors"


def model_graph(*urls: str) -> dict[str, Any]:
    graph: dict[str, Any] = {
        "1": {"class_type": "KSampler", "inputs": {"seed": 1}},
        "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0]}},
    }
    names = ("ckpt_name", "lora_name")
    for number, (name, url) in enumerate(zip(names, urls, strict=False), start=3):
        graph[str(number)] = {"class_type": "Loader", "inputs": {name: url}}
    return graph


def add_model_batch(store: Store, count: int, key: str, *urls: str) -> list[int]:
    _batch, jobs = store.add_batch(
        name=f"{key} batch",
        workflow_name=key,
        workflow_path=f"/workflows/{key}.json",
        connection="sandbox",
        seed_mode="fixed",
        output_dir=f"{key} batch",
        jobs=[(model_graph(*urls), f"hash-{key}", 1) for _ in range(count)],
        model_keys=[key] * count,
    )
    return [job.id for job in jobs]


def row_ids(model: JobTableModel) -> list[int]:
    return [model.job_at(row).id for row in range(model.rowCount())]


def test_rows_follow_priority_then_order(store: Store) -> None:
    first = add_batch(store, 2, name="first")
    second = add_batch(store, 2, name="second")
    store.set_job_priority([second[1]], 10)
    store.set_job_priority([first[0]], -10)
    model = JobTableModel(store.jobs())

    priorities = [model.data(model.index(row, Column.PRIORITY)) for row in range(4)]

    assert row_ids(model) == [second[1], first[1], second[0], first[0]]
    assert priorities == ["10", "0", "0", "-10"]
    assert model.headerData(Column.PRIORITY, Qt.Orientation.Horizontal) == "Priority"


def test_running_first_finished_last(store: Store) -> None:
    ids = add_batch(store, 5)
    store.transition(ids[3], JobStatus.SUBMITTING)
    finish(store, ids[0], JobStatus.SUCCEEDED)
    finish(store, ids[1], JobStatus.FAILED)
    model = JobTableModel(store.jobs())

    # Running first, then the queue in order, then the most recently finished first.
    assert row_ids(model) == [ids[3], ids[2], ids[4], ids[1], ids[0]]


@pytest.mark.qt_log_level_fail("WARNING")
def test_priority_change_moves_row(store: Store, qtmodeltester: Any) -> None:
    ids = add_batch(store, 4)
    model = JobTableModel(store.jobs())
    qtmodeltester.check(model)
    moves: list[tuple[int, int]] = []
    model.rowsMoved.connect(lambda _parent, start, _end, _dest, row: moves.append((start, row)))
    changes: list[int] = []
    model.dataChanged.connect(lambda top, _bottom, _roles: changes.append(top.row()))
    resets: list[bool] = []
    model.modelReset.connect(lambda: resets.append(True))

    store.set_job_priority([ids[2]], 10)
    model.update_job(store.get_job(ids[2]))
    store.set_job_priority([ids[2]], -10)
    model.update_job(store.get_job(ids[2]))

    assert moves == [(2, 0), (0, 4)]
    assert changes == [0, 3]
    assert resets == []
    assert row_ids(model) == [ids[0], ids[1], ids[3], ids[2]]
    assert model.row_of(ids[2]) == 3
    assert model.data(model.index(3, Column.PRIORITY)) == "-10"


@pytest.mark.qt_log_level_fail("WARNING")
def test_finished_job_moves_below_queue(store: Store, qtmodeltester: Any) -> None:
    ids = add_batch(store, 3)
    model = JobTableModel(store.jobs())
    qtmodeltester.check(model)

    model.update_job(store.transition(ids[0], JobStatus.SUBMITTING))
    sent = row_ids(model)
    model.update_job(store.transition(ids[1], JobStatus.SUBMITTING))
    model.update_job(store.transition(ids[1], JobStatus.CANCELLED, finished_at=time.time()))
    cancelled = row_ids(model)
    model.update_job(store.transition(ids[1], JobStatus.QUEUED))
    retried = row_ids(model)

    assert sent == ids
    assert cancelled == [ids[0], ids[2], ids[1]]
    assert retried == ids


@pytest.mark.qt_log_level_fail("WARNING")
def test_moves_keep_order_in_random_changes(store: Store, qtmodeltester: Any) -> None:
    ids = add_batch(store, 12) + add_batch(store, 6, name="landscape")
    model = JobTableModel(store.jobs())
    qtmodeltester.check(model)
    rng = random.Random(7)

    for _ in range(80):
        job_id = rng.choice(ids)
        job = store.get_job(job_id)
        choice = rng.randrange(4)
        if choice == 0:
            store.set_job_priority([job_id], rng.choice([-10, 0, 10]))
        elif choice == 1:
            store.move_jobs([job_id], to=rng.choice(["top", "bottom"]))
        elif choice == 2 and job.status is JobStatus.QUEUED:
            store.transition(job_id, JobStatus.SUBMITTING)
            store.transition(job_id, JobStatus.CANCELLED, finished_at=time.time())
        elif job.status is JobStatus.CANCELLED:
            store.transition(job_id, JobStatus.QUEUED, finished_at=None)
        model.update_job(store.get_job(job_id))

    expected = [job.id for job in sorted(store.jobs(), key=queue_sort_key)]
    assert row_ids(model) == expected
    assert all(model.row_of(job_id) == row for row, job_id in enumerate(expected))


def test_paused_batch_shown_in_rows(store: Store) -> None:
    ids = add_batch(store, 2)
    finish(store, ids[1], JobStatus.SUCCEEDED)
    model = JobTableModel(store.jobs(), find_batch=store.get_batch)
    changes: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda top, bottom, _roles: changes.append((top.row(), bottom.row())))
    before = model.data(model.index(0, Column.BATCH))

    store.set_batch_paused(store.get_job(ids[0]).batch_id, True)
    model.refresh_batches()
    batch_font = model.data(model.index(0, Column.BATCH), Qt.ItemDataRole.FontRole)
    tooltip = model.data(model.index(0, Column.SEED), Qt.ItemDataRole.ToolTipRole)

    assert before == "#1 portrait batch"
    assert changes == [(0, 1)]
    assert model.data(model.index(0, Column.BATCH)) == "#1 portrait batch (paused)"
    assert batch_font.italic()
    assert model.data(model.index(0, Column.STATUS)) == "Queued (paused)"
    assert model.data(model.index(1, Column.STATUS)) == "Succeeded"
    assert model.data(model.index(0, Column.SEED), Qt.ItemDataRole.ForegroundRole) is not None
    assert model.data(model.index(1, Column.SEED), Qt.ItemDataRole.ForegroundRole) is None
    assert "The batch is paused" in tooltip


def test_models_column_labels_model_sets(store: Store) -> None:
    pair = add_model_batch(store, 2, "aaaa0001", MODEL_URL, LORA_URL)
    single = add_model_batch(store, 1, "bbbb0002", MODEL_URL)
    none = add_model_batch(store, 1, "")
    model = JobTableModel(store.jobs())

    def cell(job_id: int, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = model.row_of(job_id)
        assert row is not None
        return model.data(model.index(row, Column.MODELS), role)

    tooltip = cell(pair[0], Qt.ItemDataRole.ToolTipRole)
    first_icon = cell(pair[0], Qt.ItemDataRole.DecorationRole)

    assert cell(pair[0]) == "base v1.safetensors +1"
    assert cell(single[0]) == "base v1.safetensors"
    assert cell(none[0]) == ""
    assert tooltip.splitlines() == ["Model files:", MODEL_URL, LORA_URL]
    assert first_icon is cell(pair[1], Qt.ItemDataRole.DecorationRole)
    assert first_icon is not cell(single[0], Qt.ItemDataRole.DecorationRole)
    assert cell(none[0], Qt.ItemDataRole.DecorationRole) is None
    assert model_color("aaaa0001") != model_color("bbbb0002")
    assert model_file_name("https://example.org/") == "https://example.org/"


def test_drag_data_has_queued_ids(store: Store) -> None:
    ids = add_batch(store, 3)
    finish(store, ids[2], JobStatus.SUCCEEDED)
    model = JobTableModel(store.jobs())
    other = JobTableModel(store.jobs())
    indexes = [model.index(row, column) for row in range(3) for column in (0, 1)]

    mime = model.mimeData(indexes)

    assert model.mimeTypes() == [JOB_IDS_MIME_TYPE]
    assert model.dragged_job_ids(mime) == [ids[0], ids[1]]
    assert other.dragged_job_ids(mime) is None
    assert model.canDropMimeData(mime, Qt.DropAction.MoveAction, -1, -1, QModelIndex())
    assert model.flags(model.index(0, 0)) & Qt.ItemFlag.ItemIsDragEnabled
    assert not model.flags(model.index(2, 0)) & Qt.ItemFlag.ItemIsDragEnabled
    assert model.flags(QModelIndex()) & Qt.ItemFlag.ItemIsDropEnabled


def test_drag_data_from_elsewhere_ignored(store: Store) -> None:
    add_batch(store, 1)
    model = JobTableModel(store.jobs())
    foreign = QMimeData()
    foreign.setData(JOB_IDS_MIME_TYPE, QByteArray(b'{"token": "other", "job_ids": [1]}'))
    broken = QMimeData()
    broken.setData(JOB_IDS_MIME_TYPE, QByteArray(b"\xff not json"))
    text = QMimeData()
    text.setText("1")

    assert model.dragged_job_ids(foreign) is None
    assert model.dragged_job_ids(broken) is None
    assert model.dragged_job_ids(text) is None


def finish_at(store: Store, job_ids: list[int], times: list[float | None]) -> None:
    """Mark jobs succeeded with the given finish times (None: no finish time recorded)."""
    store.connection.executemany(
        "UPDATE jobs SET status = ?, finished_at = ? WHERE id = ?",
        [
            (JobStatus.SUCCEEDED.value, moment, job_id)
            for job_id, moment in zip(job_ids, times, strict=True)
        ],
    )


def test_table_reads_finished_jobs_page_by_page(store: Store) -> None:
    old = add_batch(store, FINISHED_PAGE + 60, name="old")
    # Ties in the finish time and jobs without one must neither repeat nor go missing.
    finish_at(store, old, [1000.0 + index // 3 for index in range(len(old) - 5)] + [None] * 5)
    running = add_batch(store, 3, name="running")
    finish_at(store, running[:1], [10.0])
    model = JobTableModel()
    pages: list[int] = []

    model.load(store)
    pages.append(model.rowCount())
    while model.canFetchMore(QModelIndex()):
        model.fetchMore(QModelIndex())
        pages.append(model.rowCount())

    everything = sorted(store.jobs(), key=queue_sort_key)
    # The running batch is whole from the start, its finished job included.
    assert pages[0] == FINISHED_PAGE + len(running)
    assert pages == [FINISHED_PAGE + 3, len(old) + 3]
    assert [job.id for job in model.jobs()] == [job.id for job in everything]


def test_view_fetches_finished_jobs_at_end_of_scroll(store: Store, qtbot: QtBot) -> None:
    ids = add_batch(store, FINISHED_PAGE * 2 + 10)
    finish_at(store, ids, [1000.0 + index for index in range(len(ids))])
    model = JobTableModel()
    model.load(store)
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.resize(800, 400)
    view.show()
    first = model.rowCount()

    for _ in range(4):
        view.scrollToBottom()
        qtbot.wait(20)

    assert first == FINISHED_PAGE
    assert model.rowCount() == len(ids)
    assert not model.canFetchMore(QModelIndex())


def test_load_without_store_empties_table(store: Store) -> None:
    add_batch(store, 2)
    model = JobTableModel(store.jobs())

    model.load(None)

    assert model.rowCount() == 0
    assert not model.canFetchMore(QModelIndex())


def test_batch_queued_together_inserted_in_one_step(store: Store) -> None:
    model = JobTableModel(store.jobs())
    first = add_batch(store, 3, name="first")
    model.add_jobs(store.jobs_of_batch(store.get_job(first[0]).batch_id))
    inserted: list[tuple[int, int]] = []
    model.rowsInserted.connect(lambda _parent, start, end: inserted.append((start, end)))

    second = add_batch(store, 50, name="second")
    model.add_jobs(store.jobs_of_batch(store.get_job(second[0]).batch_id))

    assert inserted == [(3, 52)]
    assert [job.id for job in model.jobs()] == first + second
