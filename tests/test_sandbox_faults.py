"""Fault injection of the sandbox server, observed over real HTTP on loopback."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web

from cmfy_desk.sandbox import PlanLimits, SandboxConfig, SandboxFaults, SandboxServer
from cmfy_desk.sandbox.faults import add_fault_arguments
from tests.helpers import wait_for
from tests.test_sandbox import ROOMY_LIMITS, auth, make_workflow, submit, wait_until_final

OTHER_KEY = {"Authorization": "Bearer sk_test_" + "d" * 43}


@contextlib.asynccontextmanager
async def faulty_sandbox(
    tmp_path: Path, faults: str, *, fault_seed: int | None = 1, **options: Any
) -> AsyncIterator[tuple[SandboxServer, httpx.AsyncClient]]:
    """Run a sandbox with ``faults`` and yield it with a client that sends its key."""
    options.setdefault("speed", 50.0)
    options.setdefault("limits", ROOMY_LIMITS)
    config = SandboxConfig(output_dir=tmp_path / "outputs", fault_seed=fault_seed, **options)
    server = SandboxServer(config, SandboxFaults.parse(faults))
    await server.start()
    try:
        async with httpx.AsyncClient(
            base_url=server.base_url, headers=auth(server), trust_env=False, timeout=10
        ) as http:
            yield server, http
    finally:
        await server.stop()


@contextlib.asynccontextmanager
async def webhook_receiver() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """Serve a webhook receiver on loopback and yield its URL and the bodies it received."""
    received: list[dict[str, Any]] = []

    async def receive(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hooks/{job}", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/hooks", received
    finally:
        await runner.cleanup()


def injected(server: SandboxServer, name: str) -> int:
    count: int = server.stats["faults_injected"][name]
    return count


# -- parsing ----------------------------------------------------------------------------------


def test_parse_rates_and_seconds() -> None:
    faults = SandboxFaults.parse("5xx=0.1, drop_after_accept=0.05,slow=0.1,slow_seconds=3")
    assert faults.rates["5xx"] == 0.1
    assert faults.rates["drop_after_accept"] == 0.05
    assert faults.rates["slow"] == 0.1
    assert faults.rates["lost"] == 0.0
    assert faults.slow_seconds == 3.0
    assert faults.storm_seconds == 5.0
    assert faults.drop_after_accept == 0
    assert faults.describe() == "5xx=0.1,drop_after_accept=0.05,slow=0.1,slow_seconds=3"


def test_parse_empty_string() -> None:
    faults = SandboxFaults.parse("")
    assert all(rate == 0.0 for rate in faults.rates.values())
    assert faults.describe() == "none"


def test_parse_unknown_name() -> None:
    with pytest.raises(ValueError, match="Unknown fault 'boom'") as error:
        SandboxFaults.parse("5xx=0.1,boom=0.5")
    assert "drop_before_accept" in str(error.value)
    assert "webhook_late_seconds" in str(error.value)


@pytest.mark.parametrize("text", ["5xx=1.5", "slow=-0.1", "fail=nan", "lost=abc", "lost="])
def test_parse_rate_out_of_range(text: str) -> None:
    with pytest.raises(ValueError, match="expected a probability from 0 to 1"):
        SandboxFaults.parse(text)


@pytest.mark.parametrize("text", ["slow_seconds=-1", "storm_seconds=inf", "webhook_late_seconds=x"])
def test_parse_invalid_seconds(text: str) -> None:
    with pytest.raises(ValueError, match="seconds"):
        SandboxFaults.parse(text)


def test_parse_missing_value() -> None:
    with pytest.raises(ValueError, match="expected NAME=VALUE"):
        SandboxFaults.parse("slow")


def test_parse_duplicate_name() -> None:
    with pytest.raises(ValueError, match="given twice"):
        SandboxFaults.parse("slow=0.1,slow=0.2")


def test_fault_arguments_parse() -> None:
    parser = argparse.ArgumentParser()
    add_fault_arguments(parser)
    options = parser.parse_args(["--faults", "5xx=0.2,lost=0.1", "--fault-seed", "7"])
    defaults = parser.parse_args([])
    assert options.faults == "5xx=0.2,lost=0.1"
    assert options.fault_seed == 7
    assert defaults.faults == ""
    assert defaults.fault_seed is None


def test_fault_arguments_reject_bad_value(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    add_fault_arguments(parser)
    with pytest.raises(SystemExit):
        parser.parse_args(["--faults", "5xx=2"])
    assert "Invalid value 2.0 for fault 5xx" in capsys.readouterr().err


# -- request faults ---------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_5xx_rate_answers_every_request(tmp_path: Path) -> None:
    async with faulty_sandbox(tmp_path, "5xx=1.0") as (server, http):
        answers = [await http.get("/v1/jobs") for _ in range(3)]
        submitted = await submit(http)
        stats_page = await http.get("/sandbox/stats")
        stats = server.stats
    assert [answer.status_code for answer in answers] == [503, 503, 503]
    assert answers[0].json()["error"]["code"] == "server_error"
    assert submitted.status_code == 503
    assert stats_page.status_code == 200
    assert stats["jobs_created"] == 0
    assert stats["faults_injected"]["5xx"] == 4


@pytest.mark.asyncio
async def test_5xx_counter_counted(tmp_path: Path) -> None:
    async with faulty_sandbox(tmp_path, "") as (server, http):
        server.faults.error_5xx = 1
        first = await http.get("/v1/jobs")
        second = await http.get("/v1/jobs")
        count = injected(server, "5xx")
    assert first.status_code == 503
    assert second.status_code == 200
    assert count == 1


@pytest.mark.asyncio
async def test_drop_before_accept_creates_nothing(tmp_path: Path) -> None:
    async with faulty_sandbox(tmp_path, "drop_before_accept=1.0") as (server, http):
        with pytest.raises(httpx.TransportError):
            await submit(http, idempotency_key="never-created")
        listed = await http.get("/v1/jobs")
        stats = server.stats
    assert listed.status_code == 200
    assert listed.json()["jobs"] == []
    assert stats["jobs_created"] == 0
    assert stats["faults_injected"]["drop_before_accept"] == 1


@pytest.mark.asyncio
async def test_drop_after_accept_replays_on_retry(tmp_path: Path) -> None:
    async with faulty_sandbox(tmp_path, "drop_after_accept=1.0") as (server, http):
        with pytest.raises(httpx.TransportError):
            await submit(http, idempotency_key="job-7")
        created = server.stats["jobs_created"]
        retry = await submit(http, idempotency_key="job-7")
        job = await wait_until_final(http, retry.json()["job_id"])
        stats = server.stats
    assert created == 1
    assert retry.status_code == 200
    assert job["status"] == "completed"
    assert stats["jobs_created"] == 1
    assert stats["idempotent_replays"] == 1
    assert stats["runs_per_job"] == {job["job_id"]: 1}
    assert stats["faults_injected"]["drop_after_accept"] == 1


@pytest.mark.asyncio
async def test_slow_request_times_out_client(tmp_path: Path) -> None:
    # The server holds the request 60 s; stopping the server releases it at once.
    async with faulty_sandbox(tmp_path, "slow=1.0,slow_seconds=60") as (server, http):
        with pytest.raises(httpx.ReadTimeout):
            await http.get("/v1/jobs", timeout=0.5)
        stats_page = await http.get("/sandbox/stats", timeout=5)
        count = injected(server, "slow")
    assert stats_page.status_code == 200
    assert count == 1


@pytest.mark.asyncio
async def test_slow_request_still_answers(tmp_path: Path) -> None:
    async with faulty_sandbox(tmp_path, "slow=1.0,slow_seconds=0.05") as (server, http):
        response = await http.get("/v1/jobs")
        count = injected(server, "slow")
    assert response.status_code == 200
    assert count == 1


@pytest.mark.asyncio
async def test_429_storm_rejects_key(tmp_path: Path) -> None:
    async with faulty_sandbox(tmp_path, "429_storm=1.0,storm_seconds=60") as (server, http):
        first = await http.get("/v1/jobs")
        server.faults.set_value("429_storm", 0.0)
        second = await submit(http)
        other_key = await http.get("/v1/jobs", headers=OTHER_KEY)
        stats = server.stats
    assert first.status_code == 429
    assert first.json()["error"]["code"] == "rate_limit_exceeded"
    assert 1 <= int(first.headers["Retry-After"]) <= 60
    assert first.json()["error"]["retry_after"] == int(first.headers["Retry-After"])
    assert second.status_code == 429
    assert other_key.status_code == 200
    assert stats["jobs_created"] == 0
    assert stats["faults_injected"]["429_storm"] == 1
    assert stats["faults_injected"]["429_storm_requests"] == 2
    assert stats["rate_limited"]["rate_limit_exceeded"] == 2


# -- job faults -------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_fail_rate_fails_job(tmp_path: Path) -> None:
    async with faulty_sandbox(tmp_path, "fail=1.0") as (server, http):
        response = await submit(http)
        job = await wait_until_final(http, response.json()["job_id"])
        count = injected(server, "fail")
    assert job["status"] == "failed"
    assert job["error"]["code"] == "execution_error"
    assert job["outputs"]["images"] == []
    assert count == 1


@pytest.mark.asyncio
async def test_lost_job_vanishes_and_frees_slot(tmp_path: Path) -> None:
    # Speed 5 makes each run last about 2 s (a model download plus sampling).
    limits = PlanLimits(10_000, running=1, queued=10)
    async with faulty_sandbox(tmp_path, "lost=1.0", speed=5.0, limits=limits) as (server, http):
        first_id = (await submit(http)).json()["job_id"]
        second = await submit(http)
        running = await http.get(f"/v1/jobs/{first_id}")

        async def first_gone() -> bool:
            return (await http.get(f"/v1/jobs/{first_id}")).status_code == 404

        while not await first_gone():
            await asyncio.sleep(0.02)
        forgotten = await http.get(f"/v1/jobs/{first_id}")
        next_job = await http.get(f"/v1/jobs/{second.json()['job_id']}")
        listed = [job["job_id"] for job in (await http.get("/v1/jobs")).json()["jobs"]]
        stats = server.stats
    assert running.json()["status"] == "running"
    assert second.json()["queue_position"] == 1
    assert forgotten.json()["error"]["code"] == "job_not_found"
    assert next_job.json()["status"] == "running"
    assert first_id not in listed
    assert stats["runs_per_job"][first_id] == 1
    assert stats["faults_injected"]["lost"] == 1
    assert stats["faults_injected"]["jobs_forgotten"] == 1


@pytest.mark.asyncio
async def test_lost_job_resubmitted_is_new(tmp_path: Path) -> None:
    async with faulty_sandbox(tmp_path, "lost=1.0") as (server, http):
        first_id = (await submit(http, idempotency_key="again")).json()["job_id"]
        await wait_for(lambda: server.stats["faults_injected"]["lost"] == 1)
        server.faults.set_value("lost", 0.0)
        retry = await submit(http, idempotency_key="again")
        job = await wait_until_final(http, retry.json()["job_id"])
        stats = server.stats
    assert retry.status_code == 202
    assert job["job_id"] != first_id
    assert job["status"] == "completed"
    assert stats["jobs_created"] == 2
    assert stats["idempotent_replays"] == 0


@pytest.mark.asyncio
async def test_forget_all_jobs(tmp_path: Path) -> None:
    limits = PlanLimits(10_000, running=1, queued=10)
    async with faulty_sandbox(tmp_path, "", limits=limits) as (server, http):
        done = await submit(http, idempotency_key="done")
        await wait_until_final(http, done.json()["job_id"])
        # 500 steps keep the job running for about a second at speed 50.
        running = await submit(http, prompt=make_workflow(steps=500), idempotency_key="running")
        queued = await submit(http, idempotency_key="queued")
        forgotten = server.forget_all_jobs()
        lookups = [
            await http.get(f"/v1/jobs/{response.json()['job_id']}")
            for response in (done, running, queued)
        ]
        listed = (await http.get("/v1/jobs")).json()["jobs"]
        again = await submit(http, idempotency_key="running")
        stats = server.stats
    assert queued.json()["queue_position"] == 1
    assert forgotten == 3
    assert [lookup.status_code for lookup in lookups] == [404, 404, 404]
    assert listed == []
    assert again.status_code == 202
    assert again.json()["queue_position"] == 0
    assert again.json()["job_id"] != running.json()["job_id"]
    assert stats["jobs_created"] == 4
    assert stats["faults_injected"]["forget_all_jobs"] == 1
    assert stats["faults_injected"]["jobs_forgotten"] == 3
    assert stats["jobs_by_status"]["completed"] == 0


@pytest.mark.asyncio
async def test_forget_all_jobs_route(tmp_path: Path) -> None:
    async with faulty_sandbox(tmp_path, "") as (_server, http):
        job_id = (await submit(http)).json()["job_id"]
        response = await http.post("/sandbox/forget-all-jobs")
        lookup = await http.get(f"/v1/jobs/{job_id}")
    assert response.status_code == 200
    assert response.json() == {"jobs_forgotten": 1}
    assert lookup.status_code == 404


# -- webhook faults ---------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_webhook_duplicate_sent_twice(tmp_path: Path) -> None:
    async with (
        webhook_receiver() as (hook_url, received),
        faulty_sandbox(tmp_path, "webhook_duplicate=1.0") as (server, http),
    ):
        job_id = (await submit(http, webhook_url=f"{hook_url}/one")).json()["job_id"]
        await wait_for(lambda: len(received) == 2)
        await wait_for(lambda: server.stats["webhooks_sent"] == 2)
        stats = server.stats
    assert [body["job_id"] for body in received] == [job_id, job_id]
    assert received[0] == received[1]
    assert received[0]["status"] == "completed"
    assert stats["faults_injected"]["webhook_duplicate"] == 1


@pytest.mark.asyncio
async def test_webhook_late_sent_again(tmp_path: Path) -> None:
    faults = "webhook_late=1.0,webhook_late_seconds=0.1"
    async with (
        webhook_receiver() as (hook_url, received),
        faulty_sandbox(tmp_path, faults) as (server, http),
    ):
        job_id = (await submit(http, webhook_url=f"{hook_url}/one")).json()["job_id"]
        await wait_for(lambda: len(received) == 2)
        count = injected(server, "webhook_late")
    assert [body["job_id"] for body in received] == [job_id, job_id]
    assert received[0] == received[1]
    assert count == 1


@pytest.mark.asyncio
async def test_webhook_out_of_order(tmp_path: Path) -> None:
    faults = "webhook_out_of_order=1.0"
    seed = 7
    # The first job of this seed draws a delay above 1 s, far longer than the second job takes.
    preview = SandboxFaults.parse(faults)
    preview.seed(seed)
    assert preview.plan_job().webhook_delay_seconds > 1.0

    async with (
        webhook_receiver() as (hook_url, received),
        faulty_sandbox(tmp_path, faults, fault_seed=seed) as (server, http),
    ):
        first = await submit(http, webhook_url=f"{hook_url}/first")
        first_job = await wait_until_final(http, first.json()["job_id"])
        server.faults.set_value("webhook_out_of_order", 0.0)
        second = await submit(http, webhook_url=f"{hook_url}/second")
        second_job = await wait_until_final(http, second.json()["job_id"])
        await wait_for(lambda: len(received) == 2)
        count = injected(server, "webhook_out_of_order")
    assert first_job["completed_at"] < second_job["completed_at"]
    assert [body["job_id"] for body in received] == [second_job["job_id"], first_job["job_id"]]
    assert count == 1


# -- reproducibility --------------------------------------------------------------------------


async def fault_trace(tmp_path: Path, seed: int) -> tuple[list[int], list[str]]:
    """Return the status codes of 20 requests under 5xx faults and the ends of 8 jobs."""
    async with faulty_sandbox(tmp_path, "5xx=0.5,fail=0.5", fault_seed=seed) as (server, http):
        codes = [(await http.get("/v1/jobs")).status_code for _ in range(20)]
        # Polling makes a varying number of requests, so stop drawing 5xx faults first.
        server.faults.set_value("5xx", 0.0)
        ends = []
        for _ in range(8):
            job_id = (await submit(http)).json()["job_id"]
            ends.append((await wait_until_final(http, job_id))["status"])
    return codes, ends


@pytest.mark.asyncio
async def test_same_seed_same_faults(tmp_path: Path) -> None:
    first = await fault_trace(tmp_path / "a", seed=11)
    second = await fault_trace(tmp_path / "b", seed=11)
    other = await fault_trace(tmp_path / "c", seed=12)
    assert first == second
    assert first != other
    assert set(first[0]) == {200, 503}
    assert set(first[1]) == {"completed", "failed"}


# -- command ----------------------------------------------------------------------------------


def test_command_rejects_bad_faults(capsys: pytest.CaptureFixture[str]) -> None:
    from cmfy_desk.sandbox import run_sandbox_command

    code = run_sandbox_command("127.0.0.1", 0, "free", 1.0, "queue", faults="boom=1")
    assert code == 2
    assert "Unknown fault 'boom'" in capsys.readouterr().err


@pytest.mark.asyncio
@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM stops a process at once on Windows")
async def test_command_prints_faults() -> None:
    code = (
        "from cmfy_desk.sandbox import run_sandbox_command;"
        "raise SystemExit(run_sandbox_command('127.0.0.1', 0, 'free', 1.0, 'queue', "
        "faults='5xx=1,slow=0.5', fault_seed=3))"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        code,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    lines = [(await asyncio.wait_for(process.stdout.readline(), timeout=30)).decode()]
    while not lines[-1].startswith("Faults:"):
        lines.append((await asyncio.wait_for(process.stdout.readline(), timeout=30)).decode())
    base_url = next(word for word in lines[0].split() if word.startswith("http://"))
    key = next(word for word in lines[1].split() if word.startswith("sk_test_"))
    async with httpx.AsyncClient(trust_env=False) as http:
        response = await http.get(f"{base_url}/v1/jobs", headers={"Authorization": f"Bearer {key}"})
    process.send_signal(signal.SIGTERM)
    await asyncio.wait_for(process.communicate(), timeout=30)
    assert lines[-1].split() == ["Faults:", "5xx=1,slow=0.5,slow_seconds=2", "(seed", "3)"]
    assert response.status_code == 503
    assert process.returncode == 0
