"""200 jobs through a sandbox that fails on purpose: every job still ends exactly once."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmfy_desk.app import ConnectionConfig, Engine
from cmfy_desk.sandbox import SandboxConfig, SandboxFaults, SandboxServer
from cmfy_desk.scheduler import SchedulerOptions
from cmfy_desk.store import JobStatus
from cmfy_desk.workflows.batch import SeedMode
from cmfy_desk.workflows.formats import load_workflow_file
from tests.helpers import wait_for

JOBS = 200


@pytest.mark.asyncio
@pytest.mark.timeout(300)
async def test_faulty_sandbox_runs_each_job_once(
    tmp_path: Path, bundled_workflow_paths: list[Path]
) -> None:
    workflow = load_workflow_file(
        next(p for p in bundled_workflow_paths if p.stem == "sd15_txt2img")
    )
    faults = SandboxFaults.parse("5xx=0.1,drop_after_accept=0.05,429_storm=0.005,storm_seconds=2")
    sandbox = SandboxServer(
        SandboxConfig(plan="enterprise", speed=50, output_dir=tmp_path / "sb", fault_seed=7),
        faults=faults,
    )
    await sandbox.start()
    engine = Engine(
        tmp_path / "db.sqlite3",
        tmp_path / "out",
        ConnectionConfig(kind="cmfy", base_url=sandbox.base_url, api_key=sandbox.api_key),
        # Enough attempts that a run of injected 5xx responses never exhausts a job's retries.
        options=SchedulerOptions(retry_base_delay=0.05, retry_max_delay=0.5, max_attempts=20),
    )
    await engine.start()
    try:
        batch, _ = engine.add_batch(workflow, JOBS, SeedMode.INCREMENT)
        await wait_for(lambda: not engine.unfinished_jobs({batch.id}), timeout=240)
        jobs = engine.store.jobs_of_batch(batch.id)
        outputs = engine.store.outputs()
    finally:
        await engine.stop()
        stats = sandbox.stats
        await sandbox.stop()

    injected = stats["faults_injected"]
    assert injected["5xx"] > 0
    assert injected["drop_after_accept"] > 0
    assert injected["429_storm"] > 0
    assert {job.status for job in jobs} == {JobStatus.SUCCEEDED}
    assert stats["jobs_created"] == JOBS
    assert set(stats["runs_per_job"].values()) == {1}
    assert {job.remote_id for job in jobs} == set(stats["runs_per_job"])
    assert sorted(output.job_id for output in outputs) == sorted(job.id for job in jobs)
