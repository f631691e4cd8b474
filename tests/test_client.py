"""The cmfy.cloud client against the sandbox as a real HTTP server on loopback."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import httpcore._synchronization as synchronization
import httpx
import pytest

from cmfy_desk.backends.cmfy_cloud import CmfyCloudClient
from cmfy_desk.backends.errors import (
    AuthError,
    ConcurrencyLimitError,
    NotFoundError,
    QueueFullError,
    RateLimitError,
    ServerError,
    ValidationError,
)
from cmfy_desk.backends.limits import PLANS
from cmfy_desk.outputs.download import Downloader
from cmfy_desk.sandbox import PlanLimits
from cmfy_desk.tls import shared_ssl_context
from tests.helpers import running_sandbox

pytestmark = pytest.mark.asyncio

WORKFLOW = Path(__file__).parent.parent / "resources" / "workflows" / "sd15_txt2img.json"


def _graph() -> dict:
    return json.loads(WORKFLOW.read_text())


async def test_submit_returns_job_and_limit_headers(tmp_path: Path) -> None:
    async with running_sandbox(tmp_path) as sandbox:
        client = CmfyCloudClient(sandbox.base_url, sandbox.api_key, PLANS["free"])
        try:
            result = await client.submit(_graph(), "key-1")
        finally:
            await client.aclose()
    assert result.job_id
    assert result.status in ("queued", "running")
    assert result.replayed is False
    limits = client.limits
    assert limits.rate_limit == 60
    assert limits.rate_remaining == 59
    assert limits.rate_reset_at is not None
    assert limits.concurrent_limit == 2
    assert limits.queue_limit == 100
    assert limits.concurrent_current is not None
    assert limits.queue_current is not None


async def test_idempotent_replay_returns_same_job(tmp_path: Path) -> None:
    async with running_sandbox(tmp_path) as sandbox:
        client = CmfyCloudClient(sandbox.base_url, sandbox.api_key, PLANS["free"])
        try:
            first = await client.submit(_graph(), "same-key")
            second = await client.submit(_graph(), "same-key")
        finally:
            await client.aclose()
        stats = sandbox.stats
    assert second.job_id == first.job_id
    assert second.replayed is True
    assert stats["jobs_created"] == 1
    assert stats["idempotent_replays"] == 1


@pytest.mark.parametrize(
    ("api_key", "code"),
    [
        ("", "missing_auth"),
        ("sk_live_short", "invalid_api_key"),
        ("not-a-key-at-all", "invalid_api_key"),
    ],
)
async def test_auth_errors_are_typed(tmp_path: Path, api_key: str, code: str) -> None:
    async with running_sandbox(tmp_path) as sandbox:
        client = CmfyCloudClient(sandbox.base_url, api_key, PLANS["free"])
        try:
            with pytest.raises(AuthError) as caught:
                await client.submit(_graph(), "k")
        finally:
            await client.aclose()
    assert caught.value.status == 401
    assert caught.value.code == code
    assert caught.value.request_id


async def test_revoked_key_is_auth_error(tmp_path: Path) -> None:
    async with running_sandbox(tmp_path) as sandbox:
        sandbox.faults.revoked_keys.add(sandbox.api_key)
        client = CmfyCloudClient(sandbox.base_url, sandbox.api_key, PLANS["free"])
        try:
            with pytest.raises(AuthError) as caught:
                await client.status("anything")
        finally:
            await client.aclose()
    assert caught.value.code == "revoked_api_key"


async def test_rate_limit_is_typed_with_retry_after(tmp_path: Path) -> None:
    limits = PlanLimits(requests_per_minute=3, running=2, queued=100)
    async with running_sandbox(tmp_path, limits=limits) as sandbox:
        first = CmfyCloudClient(sandbox.base_url, sandbox.api_key, PLANS["free"])
        # A second client with the same key has not seen the headers yet, so its pacer lets
        # the request through and the server answers 429.
        second = CmfyCloudClient(sandbox.base_url, sandbox.api_key, PLANS["free"])
        try:
            for index in range(3):
                await first.submit(_graph(), f"k{index}")
            with pytest.raises(RateLimitError) as caught:
                await second.submit(_graph(), "k3")
        finally:
            await first.aclose()
            await second.aclose()
        stats = sandbox.stats
    assert first.limits.rate_remaining == 0
    assert caught.value.status == 429
    assert caught.value.code == "rate_limit_exceeded"
    assert caught.value.retry_after is not None
    assert caught.value.retry_after >= 1
    assert second.pacer.delay_needed() >= 1
    assert stats["rate_limited"]["rate_limit_exceeded"] == 1


async def test_concurrency_and_queue_limits_are_typed(tmp_path: Path) -> None:
    limits = PlanLimits(requests_per_minute=100, running=1, queued=1)
    async with running_sandbox(tmp_path, speed=0.01, limits=limits) as sandbox:
        client = CmfyCloudClient(sandbox.base_url, sandbox.api_key, PLANS["pro"])
        try:
            await client.submit(_graph(), "a")
            await client.submit(_graph(), "b")
            with pytest.raises(QueueFullError):
                await client.submit(_graph(), "c")
        finally:
            await client.aclose()
    async with running_sandbox(tmp_path, speed=0.01, limits=limits, limit_mode="reject") as sandbox:
        client = CmfyCloudClient(sandbox.base_url, sandbox.api_key, PLANS["pro"])
        try:
            await client.submit(_graph(), "a")
            with pytest.raises(ConcurrencyLimitError) as caught:
                await client.submit(_graph(), "b")
        finally:
            await client.aclose()
    assert caught.value.retry_after is not None


async def test_invalid_graph_is_validation_error(tmp_path: Path) -> None:
    graph = _graph()
    graph["3"]["inputs"]["model"] = ["99", 0]
    async with running_sandbox(tmp_path) as sandbox:
        client = CmfyCloudClient(sandbox.base_url, sandbox.api_key, PLANS["free"])
        try:
            with pytest.raises(ValidationError) as caught:
                await client.submit(graph, "bad")
        finally:
            await client.aclose()
    assert caught.value.status == 400
    assert "99" in caught.value.message
    assert caught.value.retryable is False


async def test_status_and_cancel(tmp_path: Path) -> None:
    async with running_sandbox(tmp_path, speed=0.01) as sandbox:
        client = CmfyCloudClient(sandbox.base_url, sandbox.api_key, PLANS["free"])
        try:
            submitted = await client.submit(_graph(), "c1")
            status = await client.status(submitted.job_id)
            cancelled = await client.cancel(submitted.job_id)
            with pytest.raises(NotFoundError):
                await client.status("00000000-0000-0000-0000-000000000000")
        finally:
            await client.aclose()
    assert status.job_id == submitted.job_id
    assert status.status in ("queued", "running")
    assert cancelled.status == "cancelled"


async def test_server_error_is_retryable(tmp_path: Path) -> None:
    async with running_sandbox(tmp_path) as sandbox:
        sandbox.faults.error_5xx = 1
        client = CmfyCloudClient(sandbox.base_url, sandbox.api_key, PLANS["free"])
        try:
            with pytest.raises(ServerError) as caught:
                await client.submit(_graph(), "r")
        finally:
            await client.aclose()
    assert caught.value.retryable is True
    assert caught.value.status == 503


async def test_api_key_is_not_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    async with running_sandbox(tmp_path) as sandbox:
        client = CmfyCloudClient(sandbox.base_url, sandbox.api_key, PLANS["free"])
        try:
            await client.submit(_graph(), "log")
        finally:
            await client.aclose()
        key = sandbox.api_key
    assert "POST /v1/jobs -> 202" in caplog.text
    assert key not in caplog.text


async def test_mock_transport_maps_envelope() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == "Bearer sk_test_x"
        return httpx.Response(
            403,
            json={
                "error": {"code": "account_suspended", "message": "Suspended", "request_id": "r1"}
            },
            headers={"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "10"},
        )

    client = CmfyCloudClient(
        "https://api.example.invalid",
        "sk_test_x",
        PLANS["free"],
        transport=httpx.MockTransport(handler),
    )
    try:
        with pytest.raises(Exception) as caught:
            await client.status("j")
    finally:
        await client.aclose()
    assert type(caught.value).__name__ == "PermissionDeniedError"
    assert caught.value.code == "account_suspended"  # type: ignore[attr-defined]
    assert client.limits.rate_remaining == 10


async def test_requests_import_nothing() -> None:
    """httpcore calls sniffio to find the async library at every request. With sniffio
    missing, each request searched the module path for it on the UI thread."""
    searched: list[str] = []

    class Recorder:
        @staticmethod
        def find_spec(name: str, path: object = None, target: object = None) -> None:
            searched.append(name)

    sys.meta_path.insert(0, Recorder)  # type: ignore[arg-type]
    try:
        for _ in range(3):
            assert synchronization.current_async_library() == "asyncio"
    finally:
        sys.meta_path.remove(Recorder)  # type: ignore[arg-type]
    assert searched == []


async def test_clients_share_one_tls_context() -> None:
    client = CmfyCloudClient("https://cmfy.invalid", "key", PLANS["free"])
    downloader = Downloader()
    try:
        contexts = {
            id(pool._ssl_context)
            for pool in (client._http._transport._pool, downloader._http._transport._pool)  # type: ignore[attr-defined]
        }
    finally:
        await client.aclose()
        await downloader.aclose()
    assert contexts == {id(shared_ssl_context())}
