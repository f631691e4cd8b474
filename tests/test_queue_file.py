"""Queue export and import: queued jobs only, new keys, nothing added from a bad file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cmfy_desk.scheduler.queue_file import (
    QueueFileError,
    import_queue,
    read_queue_file,
    write_queue_file,
)
from cmfy_desk.store import JobStatus, Store

GRAPH = {
    "1": {
        "class_type": "EmptyImage",
        "inputs": {"width": 64, "height": 64, "batch_size": 1, "color": 0},
    },
    "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "q"}},
}


def _store_with_queue(path: Path) -> Store:
    store = Store.open(path)
    _batch, jobs = store.add_batch(
        name="fox batch",
        workflow_name="fox",
        workflow_path="/wf/fox.json",
        connection="sandbox",
        seed_mode="increment",
        output_dir="/out/fox batch",
        jobs=[(GRAPH, "h", seed) for seed in (1, 2, 3)],
        parameters=[{"seed": seed} for seed in (1, 2, 3)],
        model_keys=["k"] * 3,
        priority=2,
    )
    store.transition(jobs[0].id, JobStatus.SUBMITTING)
    store.set_job_priority([jobs[2].id], 7)
    return store


def test_export_leaves_out_submitted_jobs(tmp_path: Path) -> None:
    store = _store_with_queue(tmp_path / "a.sqlite3")
    count = write_queue_file(store, tmp_path / "queue.json")
    document = json.loads((tmp_path / "queue.json").read_text())
    assert count == 2
    assert [job["seed"] for job in document["batches"][0]["jobs"]] == [2, 3]
    assert document["batches"][0]["priority"] == 2


def test_import_adds_queued_batches_with_new_keys(tmp_path: Path) -> None:
    source = _store_with_queue(tmp_path / "a.sqlite3")
    write_queue_file(source, tmp_path / "queue.json")
    target = Store.open(tmp_path / "b.sqlite3")
    batches = read_queue_file(target, tmp_path / "queue.json", connection="https://api.cmfy.cloud")
    jobs = target.jobs()
    assert len(batches) == 1
    assert [job.seed for job in jobs] == [2, 3]
    assert {job.status for job in jobs} == {JobStatus.QUEUED}
    assert {job.connection for job in jobs} == {"https://api.cmfy.cloud"}
    assert [job.parameters for job in jobs] == [{"seed": 2}, {"seed": 3}]
    assert [job.priority for job in jobs] == [2, 7]
    old_keys = {job.idempotency_key for job in source.jobs()}
    assert not old_keys & {job.idempotency_key for job in jobs}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "not a Cmfy Desk queue file"),
        ({"format": "cmfy-desk-queue", "version": 99, "batches": []}, "version 99"),
        ({"format": "cmfy-desk-queue", "version": 1}, "batches"),
        (
            {
                "format": "cmfy-desk-queue",
                "version": 1,
                "batches": [
                    {
                        "workflow_name": "w",
                        "connection": "c",
                        "output_dir": "o",
                        "jobs": [{"prompt": GRAPH}],
                    },
                    {
                        "workflow_name": "w",
                        "connection": "c",
                        "output_dir": "o",
                        "jobs": [
                            {
                                "prompt": {
                                    "1": {"class_type": "SaveImage", "inputs": {"images": ["9", 0]}}
                                }
                            }
                        ],
                    },
                ],
            },
            "batch 2, job 1",
        ),
        (
            {
                "format": "cmfy-desk-queue",
                "version": 1,
                "batches": [
                    {
                        "workflow_name": "w",
                        "connection": "c",
                        "output_dir": "o",
                        "jobs": [
                            {
                                "prompt": {
                                    "1": {
                                        "class_type": "EmptyImage",
                                        "inputs": {
                                            "width": -3,
                                            "height": 64,
                                            "batch_size": 1,
                                            "color": 0,
                                        },
                                    },
                                    "2": {
                                        "class_type": "SaveImage",
                                        "inputs": {"images": ["1", 0]},
                                    },
                                }
                            }
                        ],
                    }
                ],
            },
            "batch 1, job 1",
        ),
    ],
)
def test_bad_queue_file_adds_nothing(tmp_path: Path, document: object, message: str) -> None:
    store = Store.open(tmp_path / "db.sqlite3")
    with pytest.raises(QueueFileError, match=message):
        import_queue(store, document)
    assert store.jobs() == []
    assert store.batches() == []


def test_queue_command_round_trip(tmp_path: Path) -> None:
    _store_with_queue(tmp_path / "first" / "cmfy-desk.sqlite3").close()
    queue = tmp_path / "queue.json"

    def cmfy_desk(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cmfy_desk", "queue", *args],
            capture_output=True,
            text=True,
            timeout=60,
            env=dict(os.environ),
            check=False,
        )

    exported = cmfy_desk("export", str(queue), "--data-dir", str(tmp_path / "first"))
    imported = cmfy_desk("import", str(queue), "--data-dir", str(tmp_path / "second"))
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    refused = cmfy_desk("import", str(broken), "--data-dir", str(tmp_path / "second"))
    assert exported.returncode == 0, exported.stderr
    assert "Exported 2 queued jobs" in exported.stdout
    assert imported.returncode == 0, imported.stderr
    assert "Imported 1 batch (2 jobs)" in imported.stdout
    assert refused.returncode == 2
    assert "broken.json" in refused.stderr
