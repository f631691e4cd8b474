"""Queue control through the engine against the sandbox: caps, pauses, retries by cause."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from cmfy_desk.app import ConnectionConfig, Engine
from cmfy_desk.scheduler import EngineEvent, JobChanged, Notice, SchedulerOptions
from cmfy_desk.scheduler import queue as queue_module
from cmfy_desk.scheduler.failures import FailureCause
from cmfy_desk.store import JobStatus
from cmfy_desk.workflows.batch import SeedMode
from cmfy_desk.workflows.formats import load_workflow_file
from tests.helpers import running_sandbox, wait_for

pytestmark = pytest.mark.asyncio


def _engine(tmp_path: Path, base_url: str, api_key: str, **options: object) -> Engine:
    return Engine(
        tmp_path / "data" / "cmfy-desk.sqlite3",
        tmp_path / "out",
        ConnectionConfig(kind="cmfy", base_url=base_url, api_key=api_key),
        options=SchedulerOptions(retry_base_delay=0.01, retry_max_delay=0.05, **options),  # type: ignore[arg-type]
    )


def _final(engine: Engine, batch_id: int) -> bool:
    return not engine.unfinished_jobs({batch_id})


async def test_batch_pauses_after_failures_in_row(
    tmp_path: Path, bundled_workflow_paths: list[Path]
) -> None:
    workflow = load_workflow_file(bundled_workflow_paths[0])
    events: list[EngineEvent] = []
    async with running_sandbox(tmp_path, speed=50) as sandbox:
        sandbox.faults.fail_jobs = 100
        engine = _engine(tmp_path, sandbox.base_url, sandbox.api_key, max_running=1)
        engine.subscribe(events.append)
        await engine.start()
        try:
            batch, _ = engine.add_batch(workflow, 6, SeedMode.INCREMENT)
            await wait_for(lambda: engine.store.get_batch(batch.id).paused)
            await wait_for(lambda: engine.scheduler.in_flight == 0)
            jobs = engine.store.jobs_of_batch(batch.id)
            groups = engine.failure_groups(batch.id)
        finally:
            await engine.stop()
    failed = [job for job in jobs if job.status is JobStatus.FAILED]
    queued = [job for job in jobs if job.status is JobStatus.QUEUED]
    assert len(failed) == 3
    assert len(queued) == 3
    assert list(groups) == [FailureCause.SERVER]
    assert any(isinstance(e, Notice) and "paused" in e.message for e in events)


async def test_retry_failed_by_cause_and_resume(
    tmp_path: Path, bundled_workflow_paths: list[Path]
) -> None:
    workflow = load_workflow_file(bundled_workflow_paths[0])
    async with running_sandbox(tmp_path, speed=50) as sandbox:
        sandbox.faults.fail_jobs = 2
        engine = _engine(tmp_path, sandbox.base_url, sandbox.api_key, max_running=1)
        await engine.start()
        try:
            batch, _ = engine.add_batch(workflow, 4, SeedMode.INCREMENT)
            await wait_for(lambda: _final(engine, batch.id))
            assert engine.retry_failed(batch.id, FailureCause.VALIDATION) == 0
            assert engine.retry_failed(batch.id, FailureCause.SERVER) == 2
            await wait_for(lambda: _final(engine, batch.id))
            jobs = engine.store.jobs_of_batch(batch.id)
            estimate = engine.batch_estimate(batch.id)
        finally:
            await engine.stop()
    assert [job.status for job in jobs] == [JobStatus.SUCCEEDED] * 4
    assert estimate.jobs_left == 0


async def test_user_cap_limits_jobs_in_flight(
    tmp_path: Path, bundled_workflow_paths: list[Path]
) -> None:
    workflow = load_workflow_file(bundled_workflow_paths[0])
    seen: list[int] = []
    async with running_sandbox(tmp_path, speed=20) as sandbox:
        engine = _engine(tmp_path, sandbox.base_url, sandbox.api_key, max_running=1)
        engine.subscribe(lambda _event: seen.append(engine.scheduler.in_flight))
        await engine.start()
        try:
            batch, _ = engine.add_batch(workflow, 4, SeedMode.INCREMENT)
            await wait_for(lambda: _final(engine, batch.id))
        finally:
            await engine.stop()
    assert max(seen) == 1


async def test_cancel_queued_keeps_submitted(
    tmp_path: Path, bundled_workflow_paths: list[Path]
) -> None:
    workflow = load_workflow_file(bundled_workflow_paths[0])
    async with running_sandbox(tmp_path, speed=2) as sandbox:
        engine = _engine(tmp_path, sandbox.base_url, sandbox.api_key, max_running=1)
        await engine.start()
        try:
            batch, _ = engine.add_batch(workflow, 4, SeedMode.INCREMENT)
            await wait_for(lambda: engine.scheduler.in_flight == 1)
            await wait_for(
                lambda: any(
                    job.status is JobStatus.SUBMITTED or job.status is JobStatus.RUNNING
                    for job in engine.store.jobs_of_batch(batch.id)
                )
            )
            cancelled = await engine.cancel_queued(batch.id)
            await wait_for(lambda: _final(engine, batch.id))
            jobs = engine.store.jobs_of_batch(batch.id)
        finally:
            await engine.stop()
    assert cancelled == 3
    assert sorted(job.status for job in jobs) == sorted(
        [JobStatus.SUCCEEDED] + [JobStatus.CANCELLED] * 3
    )


async def test_start_paused_submits_nothing(
    tmp_path: Path, bundled_workflow_paths: list[Path]
) -> None:
    workflow = load_workflow_file(bundled_workflow_paths[0])
    async with running_sandbox(tmp_path, speed=50) as sandbox:
        engine = _engine(tmp_path, sandbox.base_url, sandbox.api_key, start_paused=True)
        await engine.start()
        try:
            batch, _ = engine.add_batch(workflow, 2, SeedMode.INCREMENT)
            # Give a wrongly running scheduler time to submit before looking.
            await asyncio.sleep(0.3)
            assert engine.scheduler.paused
            assert sandbox.stats["jobs_created"] == 0
            engine.scheduler.resume()
            await wait_for(lambda: _final(engine, batch.id))
        finally:
            await engine.stop()
        stats = sandbox.stats
    assert stats["jobs_created"] == 2


async def test_rate_limit_waits_have_own_budget(
    tmp_path: Path, bundled_workflow_paths: list[Path]
) -> None:
    workflow = load_workflow_file(bundled_workflow_paths[0])
    async with running_sandbox(tmp_path, speed=50) as sandbox:
        sandbox.faults.set_value("429_storm", 1.0)
        sandbox.faults.set_value("storm_seconds", 0.5)
        engine = _engine(tmp_path, sandbox.base_url, sandbox.api_key, rate_limit_waits=2)
        changes: list[JobStatus] = []

        def record(event: EngineEvent) -> None:
            if isinstance(event, JobChanged):
                changes.append(event.job.status)

        engine.subscribe(record)
        await engine.start()
        try:
            batch, jobs = engine.add_batch(workflow, 1, SeedMode.FIXED)
            # The job goes back to the queue after two 429s, with no attempt counted.
            await wait_for(lambda: changes.count(JobStatus.SUBMITTING) >= 2, timeout=30)
            requeued = engine.store.get_job(jobs[0].id)
            sandbox.faults.set_value("429_storm", 0.0)
            await wait_for(lambda: _final(engine, batch.id), timeout=30)
            final = engine.store.get_job(jobs[0].id)
        finally:
            await engine.stop()
    assert JobStatus.QUEUED in changes[1:]
    assert requeued.attempts <= 1
    assert final.status is JobStatus.SUCCEEDED


async def test_priority_job_reaches_service_first(
    tmp_path: Path, bundled_workflow_paths: list[Path]
) -> None:
    import httpx

    workflow = load_workflow_file(bundled_workflow_paths[0])
    async with running_sandbox(tmp_path, speed=5) as sandbox:
        engine = _engine(tmp_path, sandbox.base_url, sandbox.api_key, start_paused=True)
        await engine.start()
        try:
            engine.add_batch(workflow, 3, SeedMode.INCREMENT)
            urgent, urgent_jobs = engine.add_batch(workflow, 1, SeedMode.INCREMENT)
            engine.set_batch_priority(urgent.id, 10)
            engine.scheduler.resume()
            await wait_for(lambda: engine.scheduler.in_flight >= 4)
            await wait_for(
                lambda: all(
                    job.remote_id
                    for job in engine.store.jobs()
                    if job.status is not JobStatus.QUEUED
                )
            )
            async with httpx.AsyncClient(
                headers={"Authorization": f"Bearer {sandbox.api_key}"}
            ) as http:
                listing = (await http.get(f"{sandbox.base_url}/v1/jobs?limit=100")).json()
            urgent_remote = engine.store.get_job(urgent_jobs[0].id).remote_id
        finally:
            await engine.stop()
    created_order = [job["job_id"] for job in reversed(listing["jobs"])]
    assert created_order[0] == urgent_remote


async def test_queue_full_lowers_target_and_resubmits(
    tmp_path: Path, bundled_workflow_paths: list[Path]
) -> None:
    from cmfy_desk.sandbox import PlanLimits

    workflow = load_workflow_file(bundled_workflow_paths[0])
    # The engine starts from the free plan (2 running, 100 queued), more than this sandbox
    # takes, so its first submissions overflow the service's queue.
    limits = PlanLimits(requests_per_minute=600, running=1, queued=1)
    async with running_sandbox(tmp_path, speed=50, limits=limits) as sandbox:
        engine = _engine(tmp_path, sandbox.base_url, sandbox.api_key)
        await engine.start()
        try:
            batch, _ = engine.add_batch(workflow, 5, SeedMode.INCREMENT)
            await wait_for(lambda: _final(engine, batch.id), timeout=60)
            jobs = engine.store.jobs_of_batch(batch.id)
        finally:
            await engine.stop()
        stats = sandbox.stats
    assert [job.status for job in jobs] == [JobStatus.SUCCEEDED] * 5
    assert stats["rate_limited"]["queue_full"] >= 1
    assert stats["jobs_created"] == 5
    assert set(stats["runs_per_job"].values()) == {1}


async def test_filling_free_slots_lets_other_tasks_run(
    tmp_path: Path, bundled_workflow_paths: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every submission then uses up the loop's turn, as many of them do on a busy machine.
    monkeypatch.setattr(queue_module, "SUBMIT_SLICE_SECONDS", 0.0)
    workflow = load_workflow_file(bundled_workflow_paths[0])
    seen: list[int] = []
    async with running_sandbox(tmp_path, speed=50) as sandbox:
        engine = _engine(tmp_path, sandbox.base_url, sandbox.api_key)
        await engine.start()
        try:
            target = engine.scheduler.target_in_flight
            batch, _ = engine.add_batch(workflow, target, SeedMode.INCREMENT)
            # Scheduled after the scheduler's wake-up: it runs as soon as the loop gets a turn.
            asyncio.get_running_loop().call_soon(lambda: seen.append(engine.scheduler.in_flight))
            await wait_for(lambda: _final(engine, batch.id))
        finally:
            await engine.stop()
    assert target > 1
    # Without the turns, all of the free slots were filled before anything else ran.
    assert seen == [1]
