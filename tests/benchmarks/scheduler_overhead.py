"""What a scheduling decision costs with 10,000 jobs queued.

Fills a database with queued jobs (three model sets, two priorities), then times the
scheduler's choice of the next job (the database query for the head of the queue plus the
cache-aware pick) and measures the process's memory.

    python tests/benchmarks/scheduler_overhead.py [--quick]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from cmfy_desk.paths import bundled_workflows
from cmfy_desk.scheduler.ordering import CacheAwareOrder
from cmfy_desk.store import JobStatus, Store
from cmfy_desk.workflows.formats import load_workflow_file

GOAL_MS = 5.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 decisions instead of 2,000")
    options = parser.parse_args()
    decisions = 200 if options.quick else 2000
    graph = load_workflow_file(bundled_workflows()[0]).graph
    with tempfile.TemporaryDirectory() as scratch:
        store = Store.open(Path(scratch) / "db.sqlite3")
        started = time.perf_counter()
        for batch in range(100):
            store.add_batch(
                name=f"batch {batch}",
                workflow_name="wf",
                workflow_path="wf.json",
                connection="sandbox",
                seed_mode="increment",
                output_dir=f"/out/{batch}",
                jobs=[(graph, "h", seed) for seed in range(100)],
                model_keys=[f"key{seed % 3}" for seed in range(100)],
                priority=batch % 2,
            )
        fill = time.perf_counter() - started
        order = CacheAwareOrder()
        times = []
        for _ in range(decisions):
            begin = time.perf_counter()
            job = order.choose(store.queued_candidates("sandbox"))
            times.append(time.perf_counter() - begin)
            assert job is not None
            store.transition(job.id, JobStatus.SUBMITTING)
            order.remember(job.model_key)
        queued = store.count_jobs(JobStatus.QUEUED)
        store.close()
    times.sort()
    mean_ms = sum(times) / len(times) * 1000
    p95_ms = times[int(len(times) * 0.95)] * 1000
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"queued jobs at the start: 10000, still queued at the end: {queued}")
    print(f"filling the database: {fill:.2f} s")
    print(f"decision time: mean {mean_ms:.2f} ms, p95 {p95_ms:.2f} ms over {decisions} decisions")
    print(f"peak memory of the process: {peak_mb:.0f} MB")
    print(f"scheduler_overhead: {p95_ms:.2f} ms per decision at p95 (goal <= {GOAL_MS} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
