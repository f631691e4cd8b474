"""How fast the history lists days, batches and jobs, and how long pruning takes.

Fills a database with 10,000 finished jobs in 1,000 batches of 10 over 100 days. Each job has
the prompt of a bundled workflow, 6 events, 1 output and 2 webhook deliveries, and the image
index has 100,000 images (10,000 of them the jobs' outputs). Then it times the queries of the
History tab and ``cmfy-desk history``, each as the best of 5 runs, and the pruning of the
older half of that history. The last line is the slowest listing query.

    python tests/benchmarks/history.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cmfy_desk.paths import bundled_workflows
from cmfy_desk.store import ImageData, ImageSource, JobStatus, Store
from cmfy_desk.store.history import History, preview_prune, prune_history

GOAL_MS = 50.0
DAYS = 100
STATUSES = [JobStatus.SUCCEEDED] * 16 + [JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.PARTIAL]


def fill(database: Path, batches: int, jobs_per_batch: int, folder_images: int) -> float:
    """Write the history and return the time ``now`` it was written relative to."""
    prompt = bundled_workflows()[0].read_text(encoding="utf-8")
    prompt_json = json.dumps(json.loads(prompt))
    store = Store.open(database)
    db = store.connection
    now = time.time()

    generator = random.Random(1)
    job_id = 0
    with store.connection:
        db.execute("BEGIN")
        for number in range(batches):
            created = now - (number * DAYS * 86_400 / batches) - 60
            db.execute(
                "INSERT INTO batches (id, name, workflow_name, workflow_path, connection, count,"
                " seed_mode, output_dir, created_at) VALUES (?, ?, 'sd15', 'sd15.json',"
                " 'sandbox', ?, 'increment', ?, ?)",
                (number + 1, f"batch {number}", jobs_per_batch, f"out/b{number}", created),
            )
            for position in range(jobs_per_batch):
                job_id += 1
                status = generator.choice(STATUSES)
                finished = created + 5 + position * 3
                db.execute(
                    "INSERT INTO jobs (id, batch_id, position, connection, workflow_name,"
                    " prompt_json, prompt_hash, seed, status, idempotency_key, created_at,"
                    " submitted_at, started_at, finished_at, execution_time_ms, updated_at,"
                    " error_code, error_message) VALUES (?, ?, ?, 'sandbox', 'sd15', ?, 'h', ?,"
                    " ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        job_id,
                        number + 1,
                        position,
                        prompt_json,
                        job_id,
                        status.value,
                        f"key-{job_id}",
                        created,
                        created + 1,
                        created + 2,
                        finished,
                        2500,
                        finished,
                        "node_error" if status is JobStatus.FAILED else None,
                        "KSampler failed" if status is JobStatus.FAILED else None,
                    ),
                )

                db.executemany(
                    "INSERT INTO job_events (job_id, at, status, detail) VALUES (?, ?, ?, NULL)",
                    [(job_id, created + step, status.value) for step in range(6)],
                )
                db.executemany(
                    "INSERT INTO webhook_deliveries (job_id, received_at, body, handled_at)"
                    " VALUES (?, ?, '{}', ?)",
                    [(job_id, finished, finished)] * 2,
                )
                db.execute(
                    "INSERT INTO outputs (id, job_id, idx, remote_url, local_path, size, sha256,"
                    " width, height, created_at) VALUES (?, ?, 0, 'u', ?, 1, 's', 512, 512, ?)",
                    (job_id, job_id, f"/out/b{number}/{job_id}.png", finished),
                )

    images = [
        ImageData(
            path=f"/out/b{(job - 1) // jobs_per_batch}/{job}.png",
            source=ImageSource.JOB,
            created_at=now - job,
            output_id=job,
            job_id=job,
            batch_id=(job - 1) // jobs_per_batch + 1,
            prompt="a red fox",
            seed=job,
        )
        for job in range(1, job_id + 1)
    ] + [
        ImageData(
            path=f"/library/{number:06d}.png",
            source=ImageSource.FOLDER,
            created_at=now - number,
            prompt="lighthouse at dusk",
            seed=number,
        )
        for number in range(folder_images)
    ]
    for start in range(0, len(images), 10_000):
        store.gallery.upsert(images[start : start + 10_000])
    store.close()
    return now


def best_ms(call: Callable[[], Any], runs: int = 5) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - started)
    return best * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 jobs and 10,000 images")
    options = parser.parse_args()
    batches, folder_images = (100, 9_000) if options.quick else (1_000, 90_000)
    with tempfile.TemporaryDirectory() as scratch:
        database = Path(scratch) / "cmfy-desk.sqlite3"
        filling = time.perf_counter()
        now = fill(database, batches, 10, folder_images)
        print(f"history written in {time.perf_counter() - filling:.1f} s")
        store = Store.open(database)
        history = History(store.connection)
        days = history.days()
        busiest = max(days, key=lambda day: day.batch_count)
        batch = history.batches_of_day(busiest.day)[0]
        listing = {
            "days_ms": best_ms(history.days),
            "batches_of_day_ms": best_ms(lambda: history.batches_of_day(busiest.day)),
            "jobs_of_batch_ms": best_ms(lambda: history.jobs(batch.id)),
            "outputs_of_batch_ms": best_ms(lambda: history.batch_outputs(batch.id, 24)),
            "prune_preview_ms": best_ms(lambda: preview_prune(store, DAYS // 2, now)),
        }
        for name, value in listing.items():
            print(f"{name}: {value:.2f}")
        print(f"days: {len(days)}, batches on the busiest day: {busiest.batch_count}")
        started = time.perf_counter()
        result = prune_history(store, DAYS // 2, now)
        pruned_s = time.perf_counter() - started
        print(
            f"prune_s: {pruned_s:.2f} for {result.batches} batches, {result.jobs} jobs,"
            f" {result.outputs} outputs"
        )
        kept_images = store.gallery.count_all()
        print(f"images kept: {kept_images}")
        store.close()
    slowest = max(listing, key=lambda name: listing[name])
    print(
        f"history_listing_ms: {listing[slowest]:.1f} ({slowest}) with {batches * 10} jobs and "
        f"{batches * 10 + folder_images} images (goal {GOAL_MS:g})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
