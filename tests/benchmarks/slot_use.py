"""How fully the scheduler keeps the running slots busy when status comes from polling.

Runs a batch against the built-in sandbox (free plan: 2 running jobs, 60 requests per minute)
and compares the time the sandbox spent running jobs with the time the slots were available:
slot use = sum of (completed_at - started_at) over jobs / (running limit x wall time).

    python tests/benchmarks/slot_use.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from cmfy_desk.app import ConnectionConfig, Engine
from cmfy_desk.paths import bundled_workflows
from cmfy_desk.sandbox import SandboxConfig, SandboxServer
from cmfy_desk.store import FINAL_STATUSES, JobStatus
from cmfy_desk.workflows.batch import SeedMode
from cmfy_desk.workflows.formats import load_workflow_file

GOAL = 0.90


def _seconds(start: str | None, end: str | None) -> float:
    if not start or not end:
        return 0.0
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


async def measure(jobs: int, speed: float) -> dict[str, float]:
    workflow = load_workflow_file(
        next(path for path in bundled_workflows() if path.stem == "sdxl_txt2img")
    )
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        sandbox = SandboxServer(SandboxConfig(plan="free", speed=speed, output_dir=root / "sb"))
        await sandbox.start()
        engine = Engine(
            root / "db.sqlite3",
            root / "out",
            ConnectionConfig(kind="cmfy", base_url=sandbox.base_url, api_key=sandbox.api_key),
        )
        await engine.start()
        started = time.monotonic()
        batch, _ = engine.add_batch(workflow, jobs, SeedMode.INCREMENT)
        while any(job.status not in FINAL_STATUSES for job in engine.store.jobs_of_batch(batch.id)):
            await asyncio.sleep(0.05)
        wall = time.monotonic() - started
        finished = engine.store.jobs_of_batch(batch.id)
        stats = sandbox.stats
        running_limit = engine.status().running_limit
        await engine.stop()
        await sandbox.stop()
    busy = sum(_seconds(job.remote_started_at, job.remote_completed_at) for job in finished)
    return {
        "jobs": jobs,
        "succeeded": sum(job.status is JobStatus.SUCCEEDED for job in finished),
        "wall_seconds": wall,
        "busy_slot_seconds": busy,
        "slot_use": busy / (running_limit * wall),
        "requests": stats["requests_total"],
        "rate_limited": sum(stats["rate_limited"].values()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="8 jobs instead of 30")
    options = parser.parse_args()
    jobs = 8 if options.quick else 30
    result = asyncio.run(measure(jobs, speed=1.0))
    for name, value in result.items():
        print(f"{name}: {value:.3f}" if isinstance(value, float) else f"{name}: {value}")
    print(f"slot_use: {result['slot_use']:.2f} of the running limit (goal {GOAL:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
