"""How fast and how cheaply job status arrives: webhooks against polling, on the sandbox.

For each mode a batch runs on the built-in sandbox (free plan: 2 running jobs, 60 requests
per minute) and the script reports:

- webhook mode: the time from a delivery being recorded to the job's row changing (the
  delivery is confirmed by one status read in between), p50, p95 and max, and how many rows
  changed within the goal. A confirming read that finds the plan's requests per minute used
  up waits for the rate window like any other request;
- both modes: the delay from the sandbox finishing a job to the engine noticing it;
- both modes: API requests per job, by kind.

    python tests/benchmarks/live_status.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from cmfy_desk.app import ConnectionConfig, Engine
from cmfy_desk.bridge.events import BridgeEvent
from cmfy_desk.paths import bundled_workflows
from cmfy_desk.scheduler import EngineEvent, JobChanged
from cmfy_desk.store import FINAL_STATUSES, JobStatus
from cmfy_desk.workflows.batch import SeedMode
from cmfy_desk.workflows.formats import load_workflow_file

GOAL_ROW_MS = 20.0


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def _unix(stamp: str | None) -> float | None:
    return datetime.fromisoformat(stamp).timestamp() if stamp else None


async def measure(mode: str, jobs: int, speed: float) -> dict[str, Any]:
    workflow = load_workflow_file(
        next(path for path in bundled_workflows() if path.stem == "sd15_txt2img")
    )
    noticed: dict[int, float] = {}

    def on_event(event: EngineEvent | BridgeEvent) -> None:
        if isinstance(event, JobChanged) and event.job.status is JobStatus.DOWNLOADING:
            noticed.setdefault(event.job.id, time.time())

    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        engine = Engine(
            root / "db.sqlite3",
            root / "out",
            ConnectionConfig(kind="sandbox", sandbox_speed=speed, status_mode=mode),
        )
        engine.subscribe(on_event)
        await engine.start()
        started = time.monotonic()
        batch, _ = engine.add_batch(workflow, jobs, SeedMode.INCREMENT)
        while any(job.status not in FINAL_STATUSES for job in engine.store.jobs_of_batch(batch.id)):
            await asyncio.sleep(0.05)
        wall = time.monotonic() - started
        finished = engine.store.jobs_of_batch(batch.id)
        deliveries = engine.store.connection.execute(
            "SELECT job_id, MIN(received_at) FROM webhook_deliveries GROUP BY job_id"
        ).fetchall()
        requests = engine.request_counts()
        bridge = engine.bridge_status()
        await engine.stop()

    row_ms = [
        (noticed[job_id] - received) * 1000 for job_id, received in deliveries if job_id in noticed
    ]
    detection = []
    for job in finished:
        completed = _unix(job.remote_completed_at)
        if completed is not None and job.id in noticed:
            detection.append(noticed[job.id] - completed)
    return {
        "mode": mode,
        "source": str(bridge.state),
        "jobs": jobs,
        "succeeded": sum(job.status is JobStatus.SUCCEEDED for job in finished),
        "wall_seconds": round(wall, 2),
        "webhooks": len(deliveries),
        "row_ms_p50": _percentile(row_ms, 0.5),
        "row_ms_p95": _percentile(row_ms, 0.95),
        "row_ms_max": max(row_ms, default=float("nan")),
        "rows_within_goal": sum(ms <= GOAL_ROW_MS for ms in row_ms),
        "detect_s_mean": statistics.fmean(detection) if detection else float("nan"),
        "detect_s_p95": _percentile(detection, 0.95),
        "submit_per_job": requests["submit"] / jobs,
        "status_per_job": requests["status"] / jobs,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 jobs per mode instead of 40")
    options = parser.parse_args()
    jobs = 10 if options.quick else 40
    results = [asyncio.run(measure(mode, jobs, speed=4.0)) for mode in ("webhook", "poll")]
    for result in results:
        print(f"[{result['mode']}]")
        for name, value in result.items():
            text = f"{value:.3f}" if isinstance(value, float) else str(value)
            print(f"  {name}: {text}")
    webhook, poll = results
    print(
        f"status reads per job: webhook {webhook['status_per_job']:.2f}, "
        f"poll {poll['status_per_job']:.2f}; completion noticed after "
        f"{webhook['detect_s_mean']:.2f} s (webhook) vs {poll['detect_s_mean']:.2f} s (poll)"
    )
    print(
        f"live_status_row_p95: {webhook['row_ms_p95']:.1f} ms from webhook to row "
        f"(goal {GOAL_ROW_MS:.0f} ms)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
