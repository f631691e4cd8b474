"""How long the UI thread stalls while many jobs finish and their images arrive.

The window runs offscreen over the built-in sandbox (enterprise plan: 1,000 requests per
minute, 50 running jobs) while a batch of jobs with two images each finishes, downloads and
fills the gallery with thumbnails. A Qt timer that should fire every 10 ms records how late
each tick is, so the longest lateness is the longest stall of the event loop.

    python tests/benchmarks/ui_stall.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import qasync
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from cmfy_desk.app import ConnectionConfig, Engine
from cmfy_desk.keystore import ApiKeyStore
from cmfy_desk.paths import bundled_workflows
from cmfy_desk.settings import Settings
from cmfy_desk.store import FINAL_STATUSES, JobStatus
from cmfy_desk.ui.main_window import MainWindow
from cmfy_desk.workflows.batch import SeedMode
from cmfy_desk.workflows.formats import load_workflow_file

GOAL_MS = 50.0
TICK_MS = 10
IMAGES_PER_JOB = 2


class LatenessProbe:
    """A timer that should fire every TICK_MS and remembers how late each tick came."""

    def __init__(self) -> None:
        self.late_ms: list[float] = []
        self._last = time.perf_counter()
        self._timer = QTimer()
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.late_ms.append(max(0.0, (now - self._last) * 1000 - TICK_MS))
        self._last = now


async def measure(jobs: int) -> dict[str, float]:
    workflow = load_workflow_file(
        next(path for path in bundled_workflows() if path.stem == "sd15_txt2img")
    )
    for node in workflow.graph.values():
        if node.get("class_type") == "EmptyLatentImage":
            node["inputs"]["batch_size"] = IMAGES_PER_JOB
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        engine = Engine(
            root / "db.sqlite3",
            root / "out",
            ConnectionConfig(kind="sandbox", plan="enterprise", sandbox_speed=400),
        )
        await engine.start()
        window = MainWindow(
            engine,
            Settings(root / "settings.json"),
            ApiKeyStore(),
            False,
            thumbnail_dir=root / "thumbnails",
        )
        window.resize(1400, 900)
        window.show()
        probe = LatenessProbe()
        probe.start()
        started = time.perf_counter()
        batch, _ = engine.add_batch(workflow, jobs, SeedMode.INCREMENT)
        while any(job.status not in FINAL_STATUSES for job in engine.store.jobs_of_batch(batch.id)):
            await asyncio.sleep(0.1)
        # The last thumbnails are made after the last download.
        await asyncio.sleep(2.0)
        wall = time.perf_counter() - started
        probe.stop()
        finished = engine.store.jobs_of_batch(batch.id)
        outputs = len(engine.store.outputs())
        window.close()
        if window.quit_guard.box is not None:
            window.quit_guard.box.close()
        await window.shutdown()
        await engine.stop()
    late = sorted(probe.late_ms)
    return {
        "jobs": jobs,
        "succeeded": sum(job.status is JobStatus.SUCCEEDED for job in finished),
        "images": outputs,
        "wall_seconds": wall,
        "ticks": len(late),
        "late_ms_p50": statistics.median(late),
        "late_ms_p99": late[int(0.99 * (len(late) - 1))],
        "late_ms_max": late[-1],
        "stalls_over_goal": sum(value > GOAL_MS for value in late),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 jobs instead of 1,000")
    options = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    result = qasync.run(measure(100 if options.quick else 1000))
    for name, value in result.items():
        print(f"{name}: {value:.3f}" if isinstance(value, float) else f"{name}: {value}")
    print(f"ui_stall_max_ms: {result['late_ms_max']:.1f} (goal {GOAL_MS:.0f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
