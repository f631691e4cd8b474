"""How long the window takes to appear over a large history.

Fills a database with 10,000 finished jobs (100 batches of 100) and 100,000 indexed images,
then times, offscreen, what the app does at start: import its modules, open the store, start
the engine on the built-in sandbox, build the main window over it, show it, and process events
until the gallery has its first search results. The Python interpreter's own start (about
20 ms) is not included. Peak memory is the process's maximum RSS.

    python tests/benchmarks/startup.py [--quick]
"""

from __future__ import annotations

import time

# Before the app's imports, whose time counts toward the start.
IMPORTS_STARTED = time.perf_counter()

import argparse  # noqa: E402
import asyncio  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import qasync  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from cmfy_desk.app import ConnectionConfig, Engine  # noqa: E402
from cmfy_desk.keystore import ApiKeyStore  # noqa: E402
from cmfy_desk.settings import Settings  # noqa: E402
from cmfy_desk.store import ImageData, ImageSource, JobStatus, Store  # noqa: E402
from cmfy_desk.ui.main_window import MainWindow  # noqa: E402

IMPORTS_SECONDS = time.perf_counter() - IMPORTS_STARTED
GOAL_SECONDS = 1.5
PROMPT = {
    "1": {"class_type": "KSampler", "inputs": {"seed": 1, "steps": 20}},
    "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0]}},
}
WORDS = ("red fox", "lighthouse at dusk", "snowy forest", "neon city", "old castle")


def fill(database: Path, batches: int, jobs_per_batch: int, images: int) -> None:
    """Write the history: finished jobs, their outputs' image rows, and folder images."""
    store = Store.open(database)
    now = time.time()
    job_ids: list[int] = []
    for number in range(batches):
        _batch, jobs = store.add_batch(
            name=f"batch {number}",
            workflow_name="sd15_txt2img",
            workflow_path="sd15_txt2img.json",
            connection="sandbox",
            seed_mode="increment",
            output_dir=f"out/batch {number}",
            jobs=[(PROMPT, "hash", seed) for seed in range(jobs_per_batch)],
        )
        job_ids.extend(job.id for job in jobs)
    with store.connection:
        store.connection.execute(
            "UPDATE jobs SET status = ?, finished_at = ?", (JobStatus.SUCCEEDED.value, now)
        )
    rows = [
        ImageData(
            path=f"/library/{number // 1000}/image{number:06d}.png",
            source=ImageSource.FOLDER,
            created_at=now - number,
            prompt=f"{WORDS[number % len(WORDS)]} number {number}",
            seed=number,
            steps=20,
            width=512,
            height=512,
            models=("v1-5-pruned-emaonly.safetensors",),
        )
        for number in range(images)
    ]
    for start in range(0, len(rows), 10_000):
        store.gallery.upsert(rows[start : start + 10_000])
    store.gallery.analyze()
    store.close()


async def open_window(database: Path, root: Path) -> dict[str, float]:
    started = time.perf_counter()
    engine = Engine(database, root / "out", ConnectionConfig(kind="sandbox", status_mode="poll"))
    await engine.start()
    engine_ready = time.perf_counter()
    window = MainWindow(
        engine,
        Settings(root / "settings.json"),
        ApiKeyStore(),
        False,
        thumbnail_dir=root / "thumbnails",
    )
    window.show()
    shown = time.perf_counter()
    while window.gallery_model.searching or window.gallery_model.rowCount() == 0:
        await asyncio.sleep(0.005)
    searched = time.perf_counter()
    rows = window.job_model.rowCount()
    images = window.gallery_model.rowCount()
    window.close()
    if window.quit_guard.box is not None:
        window.quit_guard.box.close()
    await window.shutdown()
    await engine.stop()
    return {
        "engine_start_s": engine_ready - started,
        "window_shown_s": shown - started,
        "first_results_s": searched - started,
        "job_rows": rows,
        "gallery_rows": images,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 jobs and 10,000 images")
    options = parser.parse_args()
    batches, images = (10, 10_000) if options.quick else (100, 100_000)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        database = root / "cmfy-desk.sqlite3"
        filling = time.perf_counter()
        fill(database, batches, 100, images)
        print(f"history written in {time.perf_counter() - filling:.1f} s")
        result = qasync.run(open_window(database, root))
    result["imports_s"] = IMPORTS_SECONDS
    result["imports_and_window_s"] = IMPORTS_SECONDS + result["window_shown_s"]
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for name, value in result.items():
        print(f"{name}: {value:.3f}" if isinstance(value, float) else f"{name}: {value}")
    print(
        f"startup_window_s: {result['imports_and_window_s']:.2f} with {batches * 100} jobs and "
        f"{images} images (goal {GOAL_SECONDS})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
