"""A batch through the whole engine: store, scheduler, sandbox over HTTP, downloads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from cmfy_desk.app import ConnectionConfig, Engine, EngineError
from cmfy_desk.scheduler import EngineEvent, SchedulerOptions
from cmfy_desk.store import JobStatus, Store
from cmfy_desk.workflows.batch import SeedMode
from cmfy_desk.workflows.formats import load_workflow_file
from tests.helpers import running_sandbox, wait_for

pytestmark = pytest.mark.asyncio

FAST_RETRIES = SchedulerOptions(retry_base_delay=0.01, retry_max_delay=0.05)


def _engine(tmp_path: Path, base_url: str, api_key: str) -> Engine:
    return Engine(
        tmp_path / "data" / "cmfy-desk.sqlite3",
        tmp_path / "out",
        ConnectionConfig(kind="cmfy", base_url=base_url, api_key=api_key),
        options=FAST_RETRIES,
    )


async def _run_until_final(engine: Engine, timeout: float = 60.0) -> None:
    await wait_for(
        lambda: not engine.unfinished_jobs({b.id for b in engine.store.batches()}), timeout
    )


async def test_batch_of_six_runs_once_each(
    tmp_path: Path, bundled_workflow_paths: list[Path]
) -> None:
    workflow = load_workflow_file(
        next(p for p in bundled_workflow_paths if p.stem == "sd15_txt2img")
    )
    events: list[EngineEvent] = []
    async with running_sandbox(tmp_path, speed=50) as sandbox:
        engine = _engine(tmp_path, sandbox.base_url, sandbox.api_key)
        engine.subscribe(events.append)
        await engine.start()
        try:
            batch, _jobs = engine.add_batch(workflow, 6, SeedMode.INCREMENT, base_seed=1000)
            await _run_until_final(engine)
            finished = engine.store.jobs_of_batch(batch.id)
            outputs = engine.store.outputs()
        finally:
            await engine.stop()
        stats = sandbox.stats

    assert [job.status for job in finished] == [JobStatus.SUCCEEDED] * 6
    assert [job.seed for job in finished] == [1000, 1001, 1002, 1003, 1004, 1005]
    assert len(outputs) == 6
    assert stats["jobs_created"] == 6
    assert stats["jobs_started"] == 6
    assert sorted(stats["runs_per_job"].values()) == [1] * 6
    assert {job.remote_id for job in finished} == set(stats["runs_per_job"])
    for job, output in zip(finished, sorted(outputs, key=lambda o: o.job_id), strict=True):
        path = Path(output.local_path)
        assert path.is_file()
        assert path.is_relative_to(tmp_path / "out" / batch.output_dir)
        with Image.open(path) as image:
            image.verify()
        with Image.open(path) as image:
            assert image.size == (512, 512)
            embedded = json.loads(image.text["prompt"])
        assert embedded == job.prompt
        sampler = next(n for n in embedded.values() if n["class_type"] == "KSampler")
        assert sampler["inputs"]["seed"] == job.seed
        assert output.width == 512
        assert output.size == path.stat().st_size
    assert not list((tmp_path / "out").rglob("*.part"))
    assert {type(event).__name__ for event in events} >= {"JobChanged", "OutputSaved"}


async def test_lost_response_is_retried_without_duplicate(
    tmp_path: Path, bundled_workflow_paths: list[Path]
) -> None:
    workflow = load_workflow_file(bundled_workflow_paths[0])
    async with running_sandbox(tmp_path, speed=50) as sandbox:
        sandbox.faults.drop_after_accept = 2
        sandbox.faults.error_5xx = 1
        engine = _engine(tmp_path, sandbox.base_url, sandbox.api_key)
        await engine.start()
        try:
            batch, _jobs = engine.add_batch(workflow, 2, SeedMode.RANDOM)
            await _run_until_final(engine)
            finished = engine.store.jobs_of_batch(batch.id)
        finally:
            await engine.stop()
        stats = sandbox.stats
    assert [job.status for job in finished] == [JobStatus.SUCCEEDED] * 2
    assert stats["jobs_created"] == 2
    assert stats["idempotent_replays"] >= 2
    assert sorted(stats["runs_per_job"].values()) == [1, 1]
    assert max(job.attempts for job in finished) >= 2


async def test_failed_job_keeps_error_and_others_finish(
    tmp_path: Path, bundled_workflow_paths: list[Path]
) -> None:
    workflow = load_workflow_file(bundled_workflow_paths[0])
    async with running_sandbox(tmp_path, speed=50) as sandbox:
        sandbox.faults.fail_jobs = 1
        engine = _engine(tmp_path, sandbox.base_url, sandbox.api_key)
        await engine.start()
        try:
            batch, _jobs = engine.add_batch(workflow, 3, SeedMode.INCREMENT)
            await _run_until_final(engine)
            finished = engine.store.jobs_of_batch(batch.id)
        finally:
            await engine.stop()
    statuses = sorted(job.status for job in finished)
    assert statuses == sorted([JobStatus.FAILED, JobStatus.SUCCEEDED, JobStatus.SUCCEEDED])
    failed = next(job for job in finished if job.status is JobStatus.FAILED)
    assert failed.error_code == "execution_error"
    assert failed.error_message


async def test_invalid_key_pauses_queue_and_keeps_jobs(
    tmp_path: Path, bundled_workflow_paths: list[Path]
) -> None:
    workflow = load_workflow_file(bundled_workflow_paths[0])
    async with running_sandbox(tmp_path, speed=50) as sandbox:
        sandbox.faults.revoked_keys.add(sandbox.api_key)
        engine = _engine(tmp_path, sandbox.base_url, sandbox.api_key)
        notices: list[EngineEvent] = []
        engine.subscribe(notices.append)
        await engine.start()
        try:
            batch, _jobs = engine.add_batch(workflow, 2, SeedMode.FIXED)
            await wait_for(lambda: engine.scheduler.paused)
            jobs = engine.store.jobs_of_batch(batch.id)
        finally:
            await engine.stop()
    assert [job.status for job in jobs] == [JobStatus.QUEUED] * 2
    assert any("API key" in getattr(event, "message", "") for event in notices)


async def test_cancel_queued_and_retry(tmp_path: Path, bundled_workflow_paths: list[Path]) -> None:
    workflow = load_workflow_file(bundled_workflow_paths[0])
    async with running_sandbox(tmp_path, speed=50) as sandbox:
        engine = _engine(tmp_path, sandbox.base_url, sandbox.api_key)
        await engine.start()
        try:
            engine.scheduler.pause()
            batch, jobs = engine.add_batch(workflow, 2, SeedMode.FIXED)
            await engine.cancel(jobs[0].id)
            assert engine.store.get_job(jobs[0].id).status is JobStatus.CANCELLED
            old_key = jobs[0].idempotency_key
            engine.retry(jobs[0].id)
            engine.scheduler.resume()
            await _run_until_final(engine)
            finished = engine.store.jobs_of_batch(batch.id)
        finally:
            await engine.stop()
    assert [job.status for job in finished] == [JobStatus.SUCCEEDED] * 2
    assert finished[0].idempotency_key != old_key


async def test_restart_resumes_queued_jobs(
    tmp_path: Path, bundled_workflow_paths: list[Path]
) -> None:
    workflow = load_workflow_file(bundled_workflow_paths[0])
    async with running_sandbox(tmp_path, speed=50) as sandbox:
        engine = _engine(tmp_path, sandbox.base_url, sandbox.api_key)
        await engine.start()
        engine.scheduler.pause()
        batch, _jobs = engine.add_batch(workflow, 3, SeedMode.INCREMENT)
        await engine.stop()

        store = Store.open(tmp_path / "data" / "cmfy-desk.sqlite3")
        assert [job.status for job in store.jobs_of_batch(batch.id)] == [JobStatus.QUEUED] * 3
        store.close()

        engine = _engine(tmp_path, sandbox.base_url, sandbox.api_key)
        await engine.start()
        try:
            await _run_until_final(engine)
            finished = engine.store.jobs_of_batch(batch.id)
        finally:
            await engine.stop()
        stats = sandbox.stats
    assert [job.status for job in finished] == [JobStatus.SUCCEEDED] * 3
    assert stats["jobs_created"] == 3


async def test_reject_mode_lowers_in_flight_target(
    tmp_path: Path, bundled_workflow_paths: list[Path]
) -> None:
    workflow = load_workflow_file(bundled_workflow_paths[0])
    async with running_sandbox(tmp_path, speed=50, limit_mode="reject") as sandbox:
        engine = _engine(tmp_path, sandbox.base_url, sandbox.api_key)
        await engine.start()
        try:
            batch, _jobs = engine.add_batch(workflow, 5, SeedMode.INCREMENT)
            await _run_until_final(engine)
            finished = engine.store.jobs_of_batch(batch.id)
            target = engine.scheduler.target_in_flight
        finally:
            await engine.stop()
        stats = sandbox.stats
    assert [job.status for job in finished] == [JobStatus.SUCCEEDED] * 5
    assert stats["jobs_created"] == 5
    assert sorted(stats["runs_per_job"].values()) == [1] * 5
    assert target == 2


async def test_new_output_folder_applies_to_new_batches(
    tmp_path: Path, bundled_workflow_paths: list[Path]
) -> None:
    workflow = load_workflow_file(bundled_workflow_paths[0])
    async with running_sandbox(tmp_path, speed=50) as sandbox:
        engine = _engine(tmp_path, sandbox.base_url, sandbox.api_key)
        await engine.start()
        try:
            engine.scheduler.pause()
            first, _ = engine.add_batch(workflow, 1, SeedMode.FIXED)
            engine.output_root = tmp_path / "elsewhere"
            second, _ = engine.add_batch(workflow, 1, SeedMode.FIXED)
            engine.scheduler.resume()
            await _run_until_final(engine)
            outputs = {output.job_id: Path(output.local_path) for output in engine.store.outputs()}
            jobs = {job.batch_id: job.id for job in engine.store.jobs()}
        finally:
            await engine.stop()
    assert Path(first.output_dir).parent == tmp_path / "out"
    assert Path(second.output_dir).parent == tmp_path / "elsewhere"
    assert outputs[jobs[first.id]].parent == Path(first.output_dir)
    assert outputs[jobs[second.id]].parent == Path(second.output_dir)
    assert first.output_dir != second.output_dir


async def test_definitions_file_from_connection(tmp_path: Path) -> None:
    good = tmp_path / "object_info.json"
    good.write_text(json.dumps({"SaveImage": {"input": {"required": {}}, "output_node": True}}))
    bad = tmp_path / "broken.json"
    bad.write_text("{")
    engine = Engine(
        tmp_path / "db.sqlite3",
        tmp_path / "out",
        ConnectionConfig(kind="sandbox", sandbox_speed=50, definitions_file=str(good)),
    )
    await engine.start()
    try:
        assert "SaveImage" in engine.definitions
        assert "KSampler" not in engine.definitions
    finally:
        await engine.stop()
    broken = Engine(
        tmp_path / "db2.sqlite3",
        tmp_path / "out",
        ConnectionConfig(kind="sandbox", definitions_file=str(bad)),
    )
    with pytest.raises(EngineError, match=r"broken\.json"):
        await broken.start()
    await broken.stop()
