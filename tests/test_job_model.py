"""The job table and gallery models, fed from a real store without an engine."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from cmfy_desk.store import JobStatus, Store
from cmfy_desk.ui.gallery import GalleryModel, ImageLoader
from cmfy_desk.ui.job_model import JOB_ROLE, PROGRESS_ROLE, Column, JobTableModel

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
    assert image.save(str(path), "PNG")
    return path


def test_job_model_passes_modeltester(store: Store, qtmodeltester: Any) -> None:
    add_batch(store, 3)
    model = JobTableModel(store.jobs())
    qtmodeltester.check(model)


def test_job_model_empty_passes_modeltester(qtmodeltester: Any) -> None:
    qtmodeltester.check(JobTableModel([]))


def test_job_model_shows_name_and_seed(store: Store) -> None:
    add_batch(store, 2)
    model = JobTableModel(store.jobs())
    assert model.data(model.index(1, Column.WORKFLOW)) == "portrait #2"
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

    job = store.transition(ids[1], JobStatus.SUBMITTING)
    model.update_job(job)

    assert changes == [(1, 1, 0, len(Column) - 1)]
    assert resets == []
    assert inserts == []
    assert model.data(model.index(1, Column.STATUS)) == "Submitting"
    assert model.data(model.index(1, Column.PROGRESS), PROGRESS_ROLE) == 5


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


def test_gallery_model_passes_modeltester(
    store: Store, tmp_path: Path, qtmodeltester: Any, qtbot: QtBot
) -> None:
    ids = add_batch(store, 2)
    for index, job_id in enumerate(ids):
        path = write_png(tmp_path / "out" / f"job{job_id}.png")
        store.add_output(
            job_id,
            0,
            remote_url=f"http://127.0.0.1/{index}.png",
            local_path=str(path),
            size=path.stat().st_size,
            sha256="0" * 64,
            width=320,
            height=200,
        )
    loader = ImageLoader()
    model = GalleryModel(loader, store.outputs(), describe_job=store.get_job)
    try:
        qtmodeltester.check(model)
        assert model.rowCount() == 2
        assert model.data(model.index(0, 0)) == "portrait #1\n100"
    finally:
        loader.shutdown()


def test_gallery_thumbnail_loads_off_thread(store: Store, tmp_path: Path, qtbot: QtBot) -> None:
    ids = add_batch(store, 1)
    path = write_png(tmp_path / "out" / "big.png", 1600, 1000)
    output = store.add_output(
        ids[0],
        0,
        remote_url="http://127.0.0.1/0.png",
        local_path=str(path),
        size=path.stat().st_size,
        sha256="0" * 64,
        width=1600,
        height=1000,
    )
    loader = ImageLoader()
    model = GalleryModel(loader, [], describe_job=store.get_job)
    inserted: list[tuple[int, int]] = []
    model.rowsInserted.connect(lambda _parent, first, last: inserted.append((first, last)))
    try:
        model.add_output(output)
        placeholder = model.data(model.index(0, 0), Qt.ItemDataRole.DecorationRole)
        qtbot.waitUntil(lambda: model.thumbnail_ready(0), timeout=10_000)
        thumbnail = model.data(model.index(0, 0), Qt.ItemDataRole.DecorationRole)
    finally:
        loader.shutdown()
    assert inserted == [(0, 0)]
    assert placeholder.width() == 160
    assert thumbnail.width() == 160
    assert thumbnail.height() == 100


def test_gallery_unreadable_file_marked_ready(store: Store, tmp_path: Path, qtbot: QtBot) -> None:
    ids = add_batch(store, 1)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    output = store.add_output(
        ids[0],
        0,
        remote_url="http://127.0.0.1/0.png",
        local_path=str(broken),
        size=16,
        sha256="0" * 64,
        width=None,
        height=None,
    )
    loader = ImageLoader()
    model = GalleryModel(loader, [output])
    try:
        model.data(model.index(0, 0), Qt.ItemDataRole.DecorationRole)
        qtbot.waitUntil(lambda: model.thumbnail_ready(0), timeout=10_000)
    finally:
        loader.shutdown()
    assert model.data(model.index(0, 0)) == "broken.png"
    assert model.data(QModelIndex()) is None
