"""How long the UI thread stalls while many jobs finish and their images arrive.

The window runs offscreen over the sandbox (enterprise plan: 1,000 requests per minute, 50
running jobs) while a batch of jobs with two images each finishes, downloads and fills the
gallery with thumbnails. A Qt timer that should fire every 10 ms records how late each tick
is, so the longest lateness is the longest stall of the event loop.

By default the sandbox runs as a separate process (``cmfy-desk sandbox``) and delivers
webhooks to the app's receiver on loopback, as cmfy.cloud would through a tunnel: the app's
process then does only the app's work. ``--in-process`` runs the sandbox inside the app, as
demo mode does, so its HTTP server and its image rendering share the app's loop and
interpreter.

    python tests/benchmarks/ui_stall.py [--quick] [--in-process]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import qasync
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from cmfy_desk.app import ConnectionConfig, Engine
from cmfy_desk.keystore import ApiKeyStore
from cmfy_desk.paths import bundled_workflows
from cmfy_desk.planning import plan_batch
from cmfy_desk.settings import Settings
from cmfy_desk.store import JobStatus
from cmfy_desk.ui.collector import MainThreadCollector
from cmfy_desk.ui.main_window import MainWindow
from cmfy_desk.workflows.batch import SeedMode
from cmfy_desk.workflows.expansion import BatchPlan
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


def start_sandbox() -> tuple[subprocess.Popen[str], str, str]:
    """Start ``cmfy-desk sandbox`` on a free port; return the process, its URL and its key."""
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "cmfy_desk", "sandbox"),
            *("--port", "0", "--plan", "enterprise", "--speed", "400"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        # The sandbox plays the part of a server on another machine, so its rendering gets
        # the CPU only when the app does not need it.
        preexec_fn=(lambda: os.nice(19)) if hasattr(os, "nice") else None,
    )
    assert process.stdout is not None
    base_url = api_key = ""
    while not (base_url and api_key):
        line = process.stdout.readline()
        if not line:
            raise SystemExit("The sandbox stopped before printing its URL and key.")
        words = line.split()
        if line.startswith("Base URL:"):
            base_url = next(word for word in words if word.startswith("http://"))
        elif line.startswith("API key:"):
            api_key = words[-1]
    return process, base_url, api_key


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def measure(jobs: int, in_process: bool, collector: MainThreadCollector) -> dict[str, float]:
    workflow = load_workflow_file(
        next(path for path in bundled_workflows() if path.stem == "sd15_txt2img")
    )
    for node in workflow.graph.values():
        if node.get("class_type") == "EmptyLatentImage":
            node["inputs"]["batch_size"] = IMAGES_PER_JOB
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        sandbox: subprocess.Popen[str] | None = None
        if in_process:
            engine = Engine(
                root / "db.sqlite3",
                root / "out",
                ConnectionConfig(kind="sandbox", plan="enterprise", sandbox_speed=400),
            )
        else:
            sandbox, base_url, api_key = start_sandbox()
            port = free_port()
            engine = Engine(
                root / "db.sqlite3",
                root / "out",
                ConnectionConfig(
                    kind="cmfy",
                    base_url=base_url,
                    api_key=api_key,
                    status_mode="webhook",
                    public_base_url=f"http://127.0.0.1:{port}",
                ),
                webhook_port=port,
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
        collector.freeze()
        # A person opens the batch dialog after the window is up; the measurement starts then.
        await asyncio.sleep(1.0)
        probe = LatenessProbe()
        probe.start()
        started = time.perf_counter()
        # As the batch dialog does: the plan is made on a worker thread, then queued.
        plan = BatchPlan(count=jobs, seed_mode=SeedMode.INCREMENT)
        definitions = engine.definitions
        library = engine.model_library.canonical_urls()
        with ThreadPoolExecutor(1) as planner:
            planned = await asyncio.get_running_loop().run_in_executor(
                planner, lambda: plan_batch(workflow, plan, definitions, library)
            )
        batch, _ = engine.queue_planned(workflow, plan, planned)
        # A count, not a read of every job, so the wait itself adds no stall.
        while engine.store.count_unfinished(batch.id):
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
        if sandbox is not None:
            sandbox.terminate()
            sandbox.wait(10)
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
    parser.add_argument(
        "--in-process", action="store_true", help="run the sandbox inside the app (demo mode)"
    )
    options = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    # Garbage is collected from a Qt timer, as in the app.
    collector = MainThreadCollector(app)
    collector.start()
    result = qasync.run(measure(100 if options.quick else 1000, options.in_process, collector))
    collector.stop()
    for name, value in result.items():
        print(f"{name}: {value:.3f}" if isinstance(value, float) else f"{name}: {value}")
    print(f"ui_stall_max_ms: {result['late_ms_max']:.1f} (goal {GOAL_MS:.0f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
