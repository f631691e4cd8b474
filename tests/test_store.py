"""The SQLite store: schema version, transitions written before they are acted on."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from cmfy_desk.store import InvalidTransition, JobStatus, Store, StoreError
from cmfy_desk.store.migrations import SCHEMA_VERSION


def _store_with_jobs(tmp_path: Path, count: int = 2) -> tuple[Store, list[int]]:
    store = Store.open(tmp_path / "db.sqlite3")
    _batch, jobs = store.add_batch(
        name="b",
        workflow_name="wf",
        workflow_path="/wf.json",
        connection="sandbox",
        seed_mode="fixed",
        output_dir="b",
        jobs=[({"1": {"class_type": "X", "inputs": {}}}, "hash", i) for i in range(count)],
    )
    return store, [job.id for job in jobs]


def test_new_database_is_wal_and_versioned(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "db.sqlite3")
    assert store.schema_version == SCHEMA_VERSION
    mode = sqlite3.connect(tmp_path / "db.sqlite3").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    store.close()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    connection = sqlite3.connect(path)
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    connection.close()
    with pytest.raises(StoreError, match="newer"):
        Store.open(path)


def test_jobs_get_unique_idempotency_keys(tmp_path: Path) -> None:
    store, ids = _store_with_jobs(tmp_path, 5)
    keys = {store.get_job(job_id).idempotency_key for job_id in ids}
    assert len(keys) == 5
    assert all(store.get_job(job_id).status is JobStatus.QUEUED for job_id in ids)


def test_transition_is_visible_to_another_connection(tmp_path: Path) -> None:
    store, ids = _store_with_jobs(tmp_path)
    store.transition(ids[0], JobStatus.SUBMITTING, attempts=1)
    reader = Store.open(tmp_path / "db.sqlite3")
    job = reader.get_job(ids[0])
    assert job.status is JobStatus.SUBMITTING
    assert job.attempts == 1
    assert [status for _at, status, _detail in reader.job_events(ids[0])] == [
        JobStatus.QUEUED,
        JobStatus.SUBMITTING,
    ]


def test_forbidden_transition_changes_nothing(tmp_path: Path) -> None:
    store, ids = _store_with_jobs(tmp_path)
    with pytest.raises(InvalidTransition):
        store.transition(ids[0], JobStatus.SUCCEEDED)
    assert store.get_job(ids[0]).status is JobStatus.QUEUED
    assert len(store.job_events(ids[0])) == 1


def test_final_state_cannot_change_twice(tmp_path: Path) -> None:
    store, ids = _store_with_jobs(tmp_path)
    for status in (
        JobStatus.SUBMITTING,
        JobStatus.SUBMITTED,
        JobStatus.RUNNING,
        JobStatus.DOWNLOADING,
        JobStatus.SUCCEEDED,
    ):
        store.transition(ids[0], status)
    with pytest.raises(InvalidTransition):
        store.transition(ids[0], JobStatus.FAILED)


def test_unknown_field_is_rejected(tmp_path: Path) -> None:
    store, ids = _store_with_jobs(tmp_path)
    with pytest.raises(ValueError, match="status_text"):
        store.update_job(ids[0], status_text="x")


def test_output_recorded_once_per_index(tmp_path: Path) -> None:
    store, ids = _store_with_jobs(tmp_path)
    for size in (10, 20):
        store.add_output(
            ids[0], 0, remote_url="u", local_path="p", size=size, sha256="s", width=1, height=1
        )
    outputs = store.outputs(ids[0])
    assert len(outputs) == 1
    assert outputs[0].size == 20


def test_version_1_database_is_migrated(tmp_path: Path) -> None:
    from cmfy_desk.store.migrations import MIGRATIONS

    path = tmp_path / "old.sqlite3"
    connection = sqlite3.connect(path)
    connection.executescript(MIGRATIONS[0] + ";PRAGMA user_version = 1;")
    connection.execute(
        "INSERT INTO batches (id, name, workflow_name, workflow_path, connection, count,"
        " seed_mode, output_dir, created_at) VALUES (1, 'b', 'w', 'p', 'c', 1, 'fixed', 'o', 0)"
    )
    connection.execute(
        "INSERT INTO jobs (batch_id, position, connection, workflow_name, prompt_json,"
        " prompt_hash, status, idempotency_key, created_at, updated_at)"
        " VALUES (1, 0, 'c', 'w', '{}', 'h', 'queued', 'k', 0, 0)"
    )
    connection.commit()
    connection.close()
    store = Store.open(path)
    assert store.schema_version == SCHEMA_VERSION
    job = store.jobs()[0]
    assert job.parameters == {}
    assert job.idempotency_key == "k"


def test_job_parameters_are_recorded(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "db.sqlite3")
    _batch, jobs = store.add_batch(
        name="b",
        workflow_name="wf",
        workflow_path="/wf.json",
        connection="sandbox",
        seed_mode="fixed",
        output_dir="b",
        jobs=[({"1": {}}, "h", 1), ({"1": {}}, "h", 2)],
        parameters=[{"seed": 1, "prompt": "a fox"}, {"seed": 2, "prompt": "a cat"}],
    )
    assert [job.parameters for job in jobs] == [
        {"seed": 1, "prompt": "a fox"},
        {"seed": 2, "prompt": "a cat"},
    ]


def test_added_jobs_equal_the_stored_ones(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "db.sqlite3")
    prompts = [{"1": {"class_type": "KSampler", "inputs": {"seed": seed}}} for seed in (7, 8, 9)]
    _batch, added = store.add_batch(
        name="b",
        workflow_name="wf",
        workflow_path="/wf.json",
        connection="sandbox",
        seed_mode="increment",
        output_dir="b",
        jobs=[(prompt, f"hash{index}", 7 + index) for index, prompt in enumerate(prompts)],
        parameters=[{"seed": 7 + index} for index in range(3)],
        model_keys=["sd15", "sd15", "sdxl"],
        priority=2,
    )
    assert [job.status for job in added] == [JobStatus.QUEUED] * 3
    assert [job.model_key for job in added] == ["sd15", "sd15", "sdxl"]
    assert added == [store.get_job(job.id) for job in added]
    store.close()
