"""Integration tests of the sandbox server over real HTTP on loopback."""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiohttp import web
from PIL import Image

from cmfy_desk.sandbox import PLANS, PlanLimits, SandboxConfig, SandboxServer

MODEL_URL = "https://huggingface.co/org/repo/resolve/main/model.safetensors"
OTHER_MODEL_URL = "https://huggingface.co/org/other/resolve/main/model.safetensors"
RATE_HEADERS = (
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "X-Concurrent-Limit",
    "X-Concurrent-Current",
    "X-Queue-Limit",
    "X-Queue-Current",
)
FINAL_STATUSES = ("completed", "failed", "cancelled")
# Limits high enough that polling in tests never meets the request window.
ROOMY_LIMITS = PlanLimits(requests_per_minute=10_000, running=2, queued=100)


def make_workflow(
    seed: int = 42,
    prompt: str = "a lighthouse at dusk",
    width: int = 512,
    height: int = 512,
    batch_size: int = 1,
    steps: int = 4,
    model_url: str = MODEL_URL,
) -> dict[str, Any]:
    return {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": model_url}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": prompt, "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}},
        "5": {
            "class_type": "EmptyLatentImage",
            "inputs": {"width": width, "height": height, "batch_size": batch_size},
        },
        "3": {
            "class_type": "KSampler",
            "inputs": {
                "seed": seed,
                "steps": steps,
                "cfg": 7.0,
                "sampler_name": "euler",
                "scheduler": "normal",
                "denoise": 1.0,
                "model": ["4", 0],
                "positive": ["6", 0],
                "negative": ["7", 0],
                "latent_image": ["5", 0],
            },
        },
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {
            "class_type": "SaveImage",
            "inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]},
        },
    }


async def start_server(tmp_path: Path, **options: Any) -> SandboxServer:
    options.setdefault("speed", 50.0)
    options.setdefault("limits", ROOMY_LIMITS)
    server = SandboxServer(SandboxConfig(output_dir=tmp_path / "outputs", **options))
    await server.start()
    return server


def auth(server: SandboxServer) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.api_key}"}


@pytest_asyncio.fixture
async def server(tmp_path: Path) -> AsyncIterator[SandboxServer]:
    sandbox = await start_server(tmp_path)
    try:
        yield sandbox
    finally:
        await sandbox.stop()


@pytest_asyncio.fixture
async def client(server: SandboxServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=server.base_url, headers=auth(server), trust_env=False, timeout=10
    ) as http:
        yield http


async def submit(http: httpx.AsyncClient, **body: Any) -> httpx.Response:
    body.setdefault("prompt", make_workflow())
    return await http.post("/v1/jobs", json=body)


async def wait_until_final(http: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    """Poll the job until it ends; the pytest timeout bounds a job that never does."""
    while True:
        response = await http.get(f"/v1/jobs/{job_id}")
        assert response.status_code == 200
        job: dict[str, Any] = response.json()
        if job["status"] in FINAL_STATUSES:
            return job
        await asyncio.sleep(0.02)


async def run_job(http: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await submit(http, **body)
    assert response.status_code == 202
    return await wait_until_final(http, response.json()["job_id"])


async def download_image(http: httpx.AsyncClient, url: str) -> Image.Image:
    response = await http.get(url, headers={"Authorization": ""})
    assert response.status_code == 200
    image = Image.open(io.BytesIO(response.content))
    image.load()
    return image


# -- auth -------------------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("header", "code"),
    [
        (None, "missing_auth"),
        ("Token abc", "invalid_auth_format"),
        ("Bearer", "invalid_auth_format"),
        ("Bearer sk_test_short", "invalid_api_key"),
        ("Bearer sk_prod_" + "a" * 43, "invalid_api_key"),
    ],
)
async def test_auth_rejected(server: SandboxServer, header: str | None, code: str) -> None:
    headers = {} if header is None else {"Authorization": header}
    async with httpx.AsyncClient(base_url=server.base_url, trust_env=False) as http:
        response = await http.get("/v1/jobs", headers=headers)
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == code
    assert error["request_id"] == response.headers["X-Request-Id"]
    assert set(error) == {"code", "message", "details", "retry_after", "request_id"}
    for name in RATE_HEADERS:
        assert name in response.headers


@pytest.mark.asyncio
async def test_auth_revoked_key(server: SandboxServer, client: httpx.AsyncClient) -> None:
    server.faults.revoked_keys.add(server.api_key)
    response = await client.get("/v1/jobs")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "revoked_api_key"


@pytest.mark.asyncio
async def test_auth_accepts_any_live_key(server: SandboxServer) -> None:
    headers = {"Authorization": "Bearer sk_live_" + "Z9" * 21 + "x"}
    async with httpx.AsyncClient(base_url=server.base_url, trust_env=False) as http:
        response = await http.get("/v1/jobs", headers=headers)
    assert response.status_code == 200


def test_api_key_shape(tmp_path: Path) -> None:
    key = SandboxServer(SandboxConfig(output_dir=tmp_path)).api_key
    assert len(key) == 51
    assert re.fullmatch(r"sk_test_[A-Za-z0-9]{43}", key)


# -- submission -------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_submit_response_shape(client: httpx.AsyncClient) -> None:
    response = await submit(client)
    assert response.status_code == 202
    body = response.json()
    assert set(body) == {"job_id", "status", "queue_position", "estimated_wait_seconds"}
    assert re.fullmatch(r"[0-9a-f-]{36}", body["job_id"])
    assert body["status"] == "queued"
    assert body["queue_position"] == 0
    assert isinstance(body["estimated_wait_seconds"], int)
    for name in RATE_HEADERS:
        assert response.headers[name].isdigit()
    assert response.headers["X-RateLimit-Limit"] == "10000"
    assert response.headers["X-RateLimit-Remaining"] == "9999"
    assert response.headers["X-Concurrent-Current"] == "1"
    assert int(response.headers["X-RateLimit-Reset"]) > 1_700_000_000
    assert response.headers["X-Request-Id"].startswith("req_")


@pytest.mark.asyncio
async def test_submit_invalid_json(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/jobs", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"


@pytest.mark.asyncio
async def test_submit_missing_prompt(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/jobs", json={"webhook_url": "https://example.com/hook"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"


@pytest.mark.asyncio
async def test_submit_dangling_link(client: httpx.AsyncClient) -> None:
    workflow = make_workflow()
    workflow["8"]["inputs"]["samples"] = ["99", 0]
    response = await submit(client, prompt=workflow)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"] == {"node_id": "8"}
    assert "99" in error["message"]


@pytest.mark.asyncio
async def test_submit_no_output_node(client: httpx.AsyncClient) -> None:
    workflow = make_workflow()
    del workflow["9"]
    response = await submit(client, prompt=workflow)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert "output node" in error["message"]


@pytest.mark.asyncio
async def test_submit_oversized_image(client: httpx.AsyncClient) -> None:
    response = await submit(client, prompt=make_workflow(width=100_000))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"] == {"node_id": "5"}


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hook",
        "ftp://127.0.0.1/hook",
        "not a url",
        "https://",
        12,
    ],
)
async def test_submit_invalid_webhook_url(client: httpx.AsyncClient, url: object) -> None:
    response = await submit(client, webhook_url=url)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_webhook_url"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:9/hook", "http://localhost:9/hook", "http://[::1]:9/h", "https://x.test/h"],
)
async def test_submit_accepted_webhook_url(client: httpx.AsyncClient, url: str) -> None:
    response = await submit(client, webhook_url=url)
    assert response.status_code == 202


@pytest.mark.asyncio
async def test_submit_unknown_route(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert "X-RateLimit-Limit" in response.headers


# -- idempotency and injected faults ----------------------------------------------------------


@pytest.mark.asyncio
async def test_idempotent_replay(server: SandboxServer, client: httpx.AsyncClient) -> None:
    first = await submit(client, idempotency_key="batch-1-job-1")
    second = await submit(client, idempotency_key="batch-1-job-1")
    assert first.status_code == 202
    assert second.status_code == 200
    assert second.json()["job_id"] == first.json()["job_id"]
    assert server.stats["jobs_created"] == 1
    assert server.stats["idempotent_replays"] == 1


@pytest.mark.asyncio
async def test_idempotency_scoped_per_key(server: SandboxServer, client: httpx.AsyncClient) -> None:
    first = await submit(client, idempotency_key="shared")
    other_key = {"Authorization": "Bearer sk_test_" + "b" * 43}
    second = await client.post(
        "/v1/jobs", json={"prompt": make_workflow(), "idempotency_key": "shared"}, headers=other_key
    )
    assert second.status_code == 202
    assert second.json()["job_id"] != first.json()["job_id"]
    assert server.stats["jobs_created"] == 2


@pytest.mark.asyncio
async def test_drop_after_accept_retry(server: SandboxServer, client: httpx.AsyncClient) -> None:
    server.faults.drop_after_accept = 1
    lost = await submit(client, idempotency_key="retry-me")
    retry = await submit(client, idempotency_key="retry-me")
    assert lost.status_code == 500
    assert lost.json()["error"]["code"] == "server_error"
    assert retry.status_code == 200
    job = await wait_until_final(client, retry.json()["job_id"])
    stats = server.stats
    assert job["status"] == "completed"
    assert stats["jobs_created"] == 1
    assert stats["runs_per_job"] == {job["job_id"]: 1}
    assert server.faults.drop_after_accept == 0


@pytest.mark.asyncio
async def test_error_5xx_fault(server: SandboxServer, client: httpx.AsyncClient) -> None:
    server.faults.error_5xx = 2
    first = await client.get("/v1/jobs")
    second = await client.get("/v1/jobs")
    third = await client.get("/v1/jobs")
    assert first.status_code == 503
    assert first.json()["error"]["code"] == "server_error"
    assert second.status_code == 503
    assert third.status_code == 200


# -- limits -----------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_rate_limit_exceeded(tmp_path: Path) -> None:
    sandbox = await start_server(tmp_path, limits=PlanLimits(3, running=2, queued=10))
    try:
        async with httpx.AsyncClient(
            base_url=sandbox.base_url, headers=auth(sandbox), trust_env=False
        ) as http:
            answers = [await http.get("/v1/jobs") for _ in range(4)]
    finally:
        await sandbox.stop()
    limited = answers[3]
    assert [answer.status_code for answer in answers[:3]] == [200, 200, 200]
    assert answers[2].headers["X-RateLimit-Remaining"] == "0"
    assert limited.status_code == 429
    error = limited.json()["error"]
    assert error["code"] == "rate_limit_exceeded"
    assert error["retry_after"] >= 1
    assert int(limited.headers["Retry-After"]) == error["retry_after"]
    assert sandbox.stats["rate_limited"]["rate_limit_exceeded"] == 1


@pytest.mark.asyncio
async def test_queue_full(tmp_path: Path) -> None:
    # Speed 0.01 makes each job last minutes, so none ends while the test submits.
    sandbox = await start_server(tmp_path, speed=0.01, limits=PlanLimits(1000, running=1, queued=2))
    try:
        async with httpx.AsyncClient(
            base_url=sandbox.base_url, headers=auth(sandbox), trust_env=False
        ) as http:
            answers = [await submit(http) for _ in range(4)]
    finally:
        await sandbox.stop()
    assert [answer.status_code for answer in answers[:3]] == [202, 202, 202]
    assert [answer.json()["queue_position"] for answer in answers[:3]] == [0, 1, 2]
    assert answers[2].headers["X-Queue-Current"] == "2"
    assert answers[3].status_code == 429
    assert answers[3].json()["error"]["code"] == "queue_full"
    assert answers[3].json()["error"]["retry_after"] >= 1
    assert "Retry-After" in answers[3].headers
    assert sandbox.stats["rate_limited"]["queue_full"] == 1


@pytest.mark.asyncio
async def test_concurrent_limit_reached(tmp_path: Path) -> None:
    sandbox = await start_server(
        tmp_path, speed=0.01, limit_mode="reject", limits=PlanLimits(1000, running=2, queued=100)
    )
    try:
        async with httpx.AsyncClient(
            base_url=sandbox.base_url, headers=auth(sandbox), trust_env=False
        ) as http:
            answers = [await submit(http) for _ in range(3)]
    finally:
        await sandbox.stop()
    assert [answer.status_code for answer in answers[:2]] == [202, 202]
    assert answers[2].status_code == 429
    assert answers[2].json()["error"]["code"] == "concurrent_limit_reached"
    assert "Retry-After" in answers[2].headers
    assert sandbox.stats["rate_limited"]["concurrent_limit_reached"] == 1


@pytest.mark.asyncio
async def test_queued_jobs_run_fifo(client: httpx.AsyncClient) -> None:
    ids = [(await submit(client, prompt=make_workflow(seed=i))).json()["job_id"] for i in range(5)]
    jobs = [await wait_until_final(client, job_id) for job_id in ids]
    starts = [job["started_at"] for job in jobs]
    assert [job["status"] for job in jobs] == ["completed"] * 5
    assert starts == sorted(starts)


def test_plans_table() -> None:
    assert PLANS["free"] == PlanLimits(60, 2, 100)
    assert PLANS["pro"] == PlanLimits(300, 10, 100)
    assert PLANS["enterprise"] == PlanLimits(1000, 50, 100)


def test_config_rejects_unknown_plan() -> None:
    with pytest.raises(ValueError, match="plan"):
        SandboxConfig(plan="gold")


# -- running, outputs, cancel -----------------------------------------------------------------


@pytest.mark.asyncio
async def test_job_completes_with_pngs(server: SandboxServer, client: httpx.AsyncClient) -> None:
    workflow = make_workflow(width=320, height=192, batch_size=2)
    job = await run_job(client, prompt=workflow)
    images = [await download_image(client, url) for url in job["outputs"]["images"]]
    assert job["status"] == "completed"
    assert job["started_at"].endswith("Z")
    assert job["completed_at"].endswith("Z")
    assert isinstance(job["execution_time_ms"], int)
    assert "queue_position" not in job
    assert len(images) == 2
    assert all(url.startswith(server.base_url + "/outputs/") for url in job["outputs"]["images"])
    for image in images:
        assert image.format == "PNG"
        assert image.size == (320, 192)
        assert json.loads(image.info["prompt"]) == workflow
        assert image.info["prompt"] == json.dumps(workflow)
    assert images[0].tobytes() != images[1].tobytes()


@pytest.mark.asyncio
async def test_job_images_depend_on_seed(client: httpx.AsyncClient) -> None:
    first = await run_job(client, prompt=make_workflow(seed=1))
    second = await run_job(client, prompt=make_workflow(seed=2))
    again = await run_job(client, prompt=make_workflow(seed=1))
    pixels = [
        (await download_image(client, job["outputs"]["images"][0])).tobytes()
        for job in (first, second, again)
    ]
    assert pixels[0] != pixels[1]
    assert pixels[0] == pixels[2]


@pytest.mark.asyncio
async def test_job_fails_on_marker(client: httpx.AsyncClient) -> None:
    job = await run_job(client, prompt=make_workflow(prompt="SANDBOX_FAIL please"))
    assert job["status"] == "failed"
    assert job["error"]["code"] == "execution_error"
    assert job["error"]["message"]
    assert job["outputs"]["images"] == []


@pytest.mark.asyncio
async def test_job_fails_on_fault(server: SandboxServer, client: httpx.AsyncClient) -> None:
    server.faults.fail_jobs = 1
    failed = await run_job(client)
    completed = await run_job(client)
    assert failed["status"] == "failed"
    assert completed["status"] == "completed"
    assert server.faults.fail_jobs == 0


@pytest.mark.asyncio
async def test_cancel_running_and_queued(tmp_path: Path) -> None:
    sandbox = await start_server(
        tmp_path, speed=0.01, limits=PlanLimits(1000, running=1, queued=10)
    )
    try:
        async with httpx.AsyncClient(
            base_url=sandbox.base_url, headers=auth(sandbox), trust_env=False
        ) as http:
            running = (await submit(http)).json()["job_id"]
            queued = (await submit(http)).json()["job_id"]
            cancel_queued = await http.post(f"/v1/jobs/{queued}/cancel")
            cancel_running = await http.post(f"/v1/jobs/{running}/cancel")
            again = await http.post(f"/v1/jobs/{running}/cancel")
            third = await submit(http)
            stats = sandbox.stats
    finally:
        await sandbox.stop()
    assert cancel_queued.status_code == 200
    assert cancel_queued.json()["status"] == "cancelled"
    assert cancel_running.json()["status"] == "cancelled"
    assert again.json()["status"] == "cancelled"
    assert third.json()["queue_position"] == 0
    assert stats["jobs_by_status"]["cancelled"] == 2
    assert stats["jobs_by_status"]["running"] == 1
    assert stats["runs_per_job"].get(queued) is None


@pytest.mark.asyncio
async def test_cancel_finished_job_keeps_state(client: httpx.AsyncClient) -> None:
    job = await run_job(client)
    response = await client.post(f"/v1/jobs/{job['job_id']}/cancel")
    assert response.json()["status"] == "completed"


@pytest.mark.asyncio
async def test_job_of_other_key_not_found(client: httpx.AsyncClient) -> None:
    job_id = (await submit(client)).json()["job_id"]
    other_key = {"Authorization": "Bearer sk_test_" + "c" * 43}
    response = await client.get(f"/v1/jobs/{job_id}", headers=other_key)
    unknown = await client.get("/v1/jobs/00000000-0000-4000-8000-000000000000")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "job_not_found"
    assert unknown.status_code == 404


@pytest.mark.asyncio
async def test_list_jobs_pages(client: httpx.AsyncClient) -> None:
    ids = [(await submit(client)).json()["job_id"] for _ in range(3)]
    first = (await client.get("/v1/jobs", params={"limit": 2})).json()
    second = await client.get("/v1/jobs", params={"limit": 2, "cursor": first["next_cursor"]})
    listed = [job["job_id"] for job in first["jobs"] + second.json()["jobs"]]
    assert listed == list(reversed(ids))
    assert second.json()["next_cursor"] is None
    assert (await client.get("/v1/jobs", params={"limit": 0})).status_code == 400


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "path",
    [
        "/outputs/{job_id}/..%2F..%2Fsecret.txt",
        "/outputs/{job_id}/%2e%2e",
        "/outputs/..%2F{job_id}/image_0.png",
        "/outputs/{job_id}/image_0.png%00.txt",
        "/outputs/{job_id}/image_9.png",
        "/outputs/not-a-uuid/image_0.png",
        "/outputs/%2e%2e/%2e%2e/secret.txt",
    ],
)
async def test_outputs_path_traversal(
    server: SandboxServer, client: httpx.AsyncClient, path: str
) -> None:
    (server.output_dir.parent / "secret.txt").write_text("secret")
    job = await run_job(client)
    response = await client.get(path.format(job_id=job["job_id"]))
    assert response.status_code == 404
    assert b"secret" not in response.content


# -- webhooks and cache -----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_webhook_delivered(server: SandboxServer, client: httpx.AsyncClient) -> None:
    received: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

    async def receive(request: web.Request) -> web.Response:
        received.set_result(await request.json())
        return web.Response(status=204)

    receiver = web.Application()
    receiver.router.add_post("/hooks/job-1", receive)
    runner = web.AppRunner(receiver)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        response = await submit(client, webhook_url=f"http://127.0.0.1:{port}/hooks/job-1")
        payload = await asyncio.wait_for(received, timeout=30)
        job = await wait_until_final(client, response.json()["job_id"])
    finally:
        await runner.cleanup()
    assert payload["job_id"] == response.json()["job_id"]
    assert payload["status"] == "completed"
    assert payload["outputs"] == job["outputs"]
    assert payload["completed_at"] == job["completed_at"]
    assert set(payload) == {
        "job_id",
        "status",
        "created_at",
        "started_at",
        "completed_at",
        "execution_time_ms",
        "outputs",
    }
    while server.stats["webhooks_sent"] == 0:
        await asyncio.sleep(0.01)
    assert server.stats["webhooks_sent"] == 1


@pytest.mark.asyncio
async def test_webhook_non_loopback_skipped(
    server: SandboxServer, client: httpx.AsyncClient
) -> None:
    await run_job(client, webhook_url="https://hooks.invalid/job")
    assert server.stats["webhooks_skipped"] == 1
    assert server.stats["webhooks_sent"] == 0


@pytest.mark.asyncio
async def test_cache_hit_for_shared_model(server: SandboxServer, client: httpx.AsyncClient) -> None:
    await run_job(client, prompt=make_workflow(seed=1))
    await run_job(client, prompt=make_workflow(seed=2))
    await run_job(client, prompt=make_workflow(model_url=OTHER_MODEL_URL))
    assert server.stats["cache"] == {"hits": 1, "misses": 2}


@pytest.mark.asyncio
async def test_stats_page(server: SandboxServer, client: httpx.AsyncClient) -> None:
    job = await run_job(client)
    response = await client.get("/sandbox/stats", headers={"Authorization": ""})
    stats = response.json()
    assert response.status_code == 200
    assert stats == server.stats
    assert stats["jobs_started"] == 1
    assert stats["runs_per_job"] == {job["job_id"]: 1}
    assert stats["jobs_by_status"]["completed"] == 1
    assert stats["requests_total"] >= 2


# -- lifecycle --------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_stop_removes_temporary_outputs() -> None:
    sandbox = SandboxServer(SandboxConfig(speed=50, limits=ROOMY_LIMITS))
    await sandbox.start()
    async with httpx.AsyncClient(
        base_url=sandbox.base_url, headers=auth(sandbox), trust_env=False
    ) as http:
        await run_job(http)
    output_dir = sandbox.output_dir
    await sandbox.stop()
    assert not output_dir.exists()


@pytest.mark.asyncio
@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM stops a process at once on Windows")
async def test_command_starts_and_stops() -> None:
    code = (
        "from cmfy_desk.sandbox import run_sandbox_command;"
        "raise SystemExit(run_sandbox_command('127.0.0.1', 0, 'free', 1.0, 'queue'))"
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
    url_line = (await asyncio.wait_for(process.stdout.readline(), timeout=30)).decode()
    key_line = (await asyncio.wait_for(process.stdout.readline(), timeout=30)).decode()
    base_url = next(word for word in url_line.split() if word.startswith("http://"))
    async with httpx.AsyncClient(trust_env=False) as http:
        stats = await http.get(f"{base_url}/sandbox/stats")
    process.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert stats.status_code == 200
    assert re.search(r"sk_test_[A-Za-z0-9]{43}", key_line)
    assert process.returncode == 0
    assert stderr == b""
