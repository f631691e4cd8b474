"""Kill the headless command at random moments and resume: every job ends exactly once."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cmfy_desk.store import JobStatus, Store

JOBS = 200
KILLS = 10


def _start_sandbox() -> tuple[subprocess.Popen[str], str, str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cmfy_desk",
            "sandbox",
            "--port",
            "0",
            "--plan",
            "enterprise",
            "--speed",
            "50",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    base_url = api_key = ""
    deadline = time.monotonic() + 30
    while not (base_url and api_key) and time.monotonic() < deadline:
        line = process.stdout.readline()
        words = line.split()
        if line.startswith("Base URL:"):
            base_url = next(word for word in words if word.startswith("http://"))
        elif line.startswith("API key:"):
            api_key = words[-1]
    assert base_url and api_key, "the sandbox did not print its URL and key"
    return process, base_url, api_key


def _stats(base_url: str) -> dict:
    import httpx

    return httpx.get(f"{base_url}/sandbox/stats", timeout=10).json()


@pytest.mark.timeout(600)
def test_killed_runs_resume_without_duplicates(
    tmp_path: Path, bundled_workflow_paths: list[Path]
) -> None:
    sandbox, base_url, api_key = _start_sandbox()
    environment = {**os.environ, "CMFY_API_KEY": api_key}
    data, out = tmp_path / "data", tmp_path / "out"
    common = ["--base-url", base_url, "--data-dir", str(data)]
    rng = random.Random(20261204)
    workflow = next(p for p in bundled_workflow_paths if p.stem == "sd15_txt2img")
    try:
        commands = [
            ["run", *common, "--count", str(JOBS), "--out", str(out), str(workflow)],
            *[["resume", *common]] * (KILLS - 1),
        ]
        for command in commands:
            process = subprocess.Popen(
                [sys.executable, "-m", "cmfy_desk", *command],
                env=environment,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(rng.uniform(0.5, 2.5))
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)

        final = subprocess.run(
            [sys.executable, "-m", "cmfy_desk", "resume", *common],
            env=environment,
            capture_output=True,
            text=True,
            timeout=400,
            check=False,
        )
        stats = _stats(base_url)
    finally:
        sandbox.send_signal(signal.SIGTERM)
        sandbox.wait(timeout=30)
        assert sandbox.stdout is not None
        sandbox.stdout.close()

    assert final.returncode == 0, final.stdout[-2000:] + final.stderr[-2000:]
    store = Store.open(data / "cmfy-desk.sqlite3")
    jobs = store.jobs()
    outputs = store.outputs()
    assert len(jobs) == JOBS
    assert {job.status for job in jobs} == {JobStatus.SUCCEEDED}
    assert stats["jobs_created"] == JOBS
    assert len(stats["runs_per_job"]) == JOBS
    assert set(stats["runs_per_job"].values()) == {1}
    assert {job.remote_id for job in jobs} == set(stats["runs_per_job"])
    assert sorted(output.job_id for output in outputs) == sorted(job.id for job in jobs)
    for output in outputs:
        path = Path(output.local_path)
        content = path.read_bytes()
        assert len(content) == output.size
        assert hashlib.sha256(content).hexdigest() == output.sha256
    assert len(list(out.rglob("*.png"))) == JOBS
    assert not list(out.rglob("*.part"))
    # The kills must have cut jobs short, or this test proved nothing about recovery.
    submitted_again = [
        job.id
        for job in jobs
        if [status for _at, status, _detail in store.job_events(job.id)].count(JobStatus.SUBMITTING)
        > 1
    ]
    assert submitted_again, "no submission was cut short by the kills"
