"""How close the client runs to the requests-per-minute limit without getting a 429 response.

A long batch runs against the sandbox with a limit of 60 requests per window and room for
every job to run at once, so requests per window are the only bound. The figure is the
number of requests the sandbox received in the windows after the first (steady state), divided
by the limit; the sandbox also reports every 429 it sent. ``--quick`` scales time down: both
the sandbox's window and the client's pacing window are 10 s instead of 60 s.

    python tests/benchmarks/submission_pacing.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import tempfile
import time
from pathlib import Path

import httpx

from cmfy_desk.app import ConnectionConfig, Engine
from cmfy_desk.backends.limits import RequestPacer
from cmfy_desk.paths import bundled_workflows
from cmfy_desk.sandbox import PlanLimits, SandboxConfig, SandboxServer, Timings
from cmfy_desk.workflows.batch import SeedMode
from cmfy_desk.workflows.formats import load_workflow_file

GOAL = 0.95
LIMIT = 60


async def measure(window: float, windows: int) -> dict[str, float]:
    RequestPacer.WINDOW_SECONDS = window
    workflow = load_workflow_file(next(p for p in bundled_workflows() if p.stem == "sd15_txt2img"))
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        sandbox = SandboxServer(
            SandboxConfig(
                speed=200,
                output_dir=root / "sb",
                limits=PlanLimits(requests_per_minute=LIMIT, running=1000, queued=10_000),
                timings=Timings(rate_window_seconds=window),
            )
        )
        await sandbox.start()
        engine = Engine(
            root / "db.sqlite3",
            root / "out",
            ConnectionConfig(kind="cmfy", base_url=sandbox.base_url, api_key=sandbox.api_key),
        )
        await engine.start()
        engine.add_batch(workflow, 2000, SeedMode.INCREMENT)
        async with httpx.AsyncClient() as http:
            started = time.monotonic()
            counts = []
            for _ in range(windows):
                await asyncio.sleep(window - (time.monotonic() - started) % window)
                stats = (await http.get(f"{sandbox.base_url}/sandbox/stats")).json()
                counts.append(stats["requests_total"])
        await engine.stop()
        await sandbox.stop()
    steady = [later - earlier for earlier, later in itertools.pairwise(counts)]
    return {
        "window_seconds": window,
        "requests_per_window": steady,
        "ratio": sum(steady) / (LIMIT * len(steady)),
        "rate_limited": sum(stats["rate_limited"].values()),
        "jobs_created": stats["jobs_created"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 s windows instead of 60 s")
    options = parser.parse_args()
    window, windows = (10.0, 5) if options.quick else (60.0, 4)
    result = asyncio.run(measure(window, windows))
    print(f"window: {result['window_seconds']:.0f} s, limit {LIMIT} requests per window")
    print(f"requests in the steady-state windows: {result['requests_per_window']}")
    print(f"jobs created: {result['jobs_created']}, 429 answers: {result['rate_limited']}")
    print(
        f"submission_pacing: {result['ratio']:.2f} of the limit with {result['rate_limited']} "
        f"429s (goal >= {GOAL} with none)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
