"""The webhook receiver over real HTTP on loopback, with a real store behind it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from aiohttp import web

from cmfy_desk.bridge.receiver import ReceiverError, WebhookReceiver
from cmfy_desk.bridge.tunnel import check_tunnel, hook_url, validate_public_base_url
from cmfy_desk.store import JobStatus, Store, WebhookDelivery

MAX_BODY = 1024
COMPLETED = {
    "job_id": "3f0c2a64-8d0e-4b7e-9a59-0d7f6f1c2b11",
    "status": "completed",
    "outputs": {"images": ["https://cdn.example/outputs/1/image_0.png"]},
}


@dataclass
class Setup:
    store: Store
    receiver: WebhookReceiver
    http: httpx.AsyncClient
    deliveries: list[WebhookDelivery]
    job_ids: list[int]
    tokens: list[str]
    # What the receiver hands each delivery to; tests may replace it.
    on_delivery: Callable[[WebhookDelivery], None] = field(init=False)

    def __post_init__(self) -> None:
        self.on_delivery = self.deliveries.append

    def hook(self, index: int = 0) -> str:
        return f"/hooks/{self.tokens[index]}"


@pytest_asyncio.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    store = Store.open(tmp_path / "db.sqlite3")
    _batch, jobs = store.add_batch(
        name="b",
        workflow_name="wf",
        workflow_path="wf.json",
        connection="sandbox",
        seed_mode="fixed",
        output_dir=str(tmp_path / "out"),
        jobs=[({"1": {"class_type": "X", "inputs": {}}}, "hash", seed) for seed in (1, 2)],
    )
    tokens = ["tok0-" + "a" * 38, "tok1-" + "b" * 38]
    for job, token in zip(jobs, tokens, strict=True):
        store.update_job(job.id, webhook_token=token)
    holder: list[Setup] = []
    receiver = WebhookReceiver(
        store, lambda delivery: holder[0].on_delivery(delivery), max_body_bytes=MAX_BODY
    )
    await receiver.start()
    http = httpx.AsyncClient(base_url=receiver.local_url, trust_env=False)
    holder.append(Setup(store, receiver, http, [], [job.id for job in jobs], tokens))
    try:
        yield holder[0]
    finally:
        await http.aclose()
        await receiver.stop()
        store.close()


async def _settle() -> None:
    """Let callbacks scheduled with call_soon run."""
    await asyncio.sleep(0)
    await asyncio.sleep(0)


# Accepted deliveries ---------------------------------------------------------------------


@pytest.mark.asyncio
async def test_delivery_recorded_before_ok(setup: Setup) -> None:
    seen_at_hand_over: list[int] = []

    def hand_over(delivery: WebhookDelivery) -> None:
        seen_at_hand_over.append(setup.store.count_webhooks(delivery.job_id))
        setup.deliveries.append(delivery)

    setup.on_delivery = hand_over
    response = await setup.http.post(setup.hook(), json=COMPLETED)
    # The row exists when the sender has its 200, whatever the bridge does next.
    pending = setup.store.pending_webhooks()
    await _settle()

    assert response.status_code == 200
    assert response.json() == {"ok": True}
    assert [(p.job_id, json.loads(p.body)) for p in pending] == [(setup.job_ids[0], COMPLETED)]
    assert seen_at_hand_over == [1]
    assert [d.id for d in setup.deliveries] == [pending[0].id]
    assert setup.deliveries[0].body == pending[0].body
    assert setup.receiver.received == 1
    assert setup.receiver.last_delivery_at is not None


@pytest.mark.asyncio
async def test_failing_handler_keeps_delivery_pending(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    def hand_over(delivery: WebhookDelivery) -> None:
        raise RuntimeError("the bridge failed")

    setup.on_delivery = hand_over
    with caplog.at_level(logging.ERROR, logger="cmfy_desk.bridge.receiver"):
        response = await setup.http.post(setup.hook(), json=COMPLETED)
        await _settle()

    assert response.status_code == 200
    assert len(setup.store.pending_webhooks()) == 1
    assert "Handling webhook" in caplog.text


@pytest.mark.asyncio
async def test_json_with_charset_is_accepted(setup: Setup) -> None:
    response = await setup.http.post(
        setup.hook(),
        content=json.dumps(COMPLETED).encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 200
    assert setup.store.count_webhooks() == 1


@pytest.mark.asyncio
async def test_duplicate_deliveries_each_recorded(setup: Setup) -> None:
    first = await setup.http.post(setup.hook(), json=COMPLETED)
    second = await setup.http.post(setup.hook(), json=COMPLETED)
    await _settle()

    assert (first.status_code, second.status_code) == (200, 200)
    assert setup.store.count_webhooks(setup.job_ids[0]) == 2
    # The receiver passes both on in arrival order; the bridge decides what a repeat means.
    assert [d.job_id for d in setup.deliveries] == [setup.job_ids[0]] * 2
    assert setup.deliveries[0].id < setup.deliveries[1].id


@pytest.mark.asyncio
async def test_reordered_deliveries_reach_their_jobs(setup: Setup) -> None:
    later = {**COMPLETED, "job_id": "second"}
    earlier = {**COMPLETED, "job_id": "first"}
    await setup.http.post(setup.hook(1), json=later)
    await setup.http.post(setup.hook(0), json=earlier)
    await _settle()

    assert [d.job_id for d in setup.deliveries] == [setup.job_ids[1], setup.job_ids[0]]
    assert [json.loads(d.body)["job_id"] for d in setup.deliveries] == ["second", "first"]


@pytest.mark.asyncio
async def test_delivery_for_cancelled_job_is_recorded(setup: Setup) -> None:
    job_id = setup.job_ids[0]
    setup.store.transition(job_id, JobStatus.CANCELLED)
    response = await setup.http.post(setup.hook(), json=COMPLETED)
    await _settle()

    # A 200 keeps the sender from retrying; the bridge finds the job cancelled and ignores it.
    assert response.status_code == 200
    assert setup.store.count_webhooks(job_id) == 1
    assert [d.job_id for d in setup.deliveries] == [job_id]
    assert setup.store.get_job(job_id).status is JobStatus.CANCELLED


# Rejected requests -----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_unknown_token_is_404(setup: Setup) -> None:
    response = await setup.http.post("/hooks/" + "z" * 43, json=COMPLETED)
    await _settle()

    assert response.status_code == 404
    assert response.json()["ok"] is False
    assert setup.store.count_webhooks() == 0
    assert setup.deliveries == []


@pytest.mark.asyncio
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "HEAD"])
async def test_other_method_is_404(setup: Setup, method: str) -> None:
    response = await setup.http.request(method, setup.hook(), json=COMPLETED)
    assert response.status_code == 404
    assert setup.store.count_webhooks() == 0


@pytest.mark.asyncio
@pytest.mark.parametrize("path", ["/", "/hooks", "/hooks/", "/v1/jobs", "/hooks/{token}/extra"])
async def test_other_path_is_404(setup: Setup, path: str) -> None:
    response = await setup.http.post(path.format(token=setup.tokens[0]), json=COMPLETED)
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("application/json")
    assert setup.store.count_webhooks() == 0


@pytest.mark.asyncio
async def test_oversized_body_is_413(setup: Setup) -> None:
    padding = "x" * MAX_BODY
    declared = await setup.http.post(setup.hook(), json={**COMPLETED, "padding": padding})

    async def chunks() -> AsyncIterator[bytes]:
        # No Content-Length: the receiver counts bytes as they arrive.
        yield b'{"padding": "'
        for _ in range(4):
            yield b"x" * 512
        yield b'"}'

    streamed = await setup.http.post(
        setup.hook(), content=chunks(), headers={"Content-Type": "application/json"}
    )
    exact = json.dumps({"p": "y" * (MAX_BODY - 9)}).encode()
    assert len(exact) == MAX_BODY
    at_limit = await setup.http.post(
        setup.hook(), content=exact, headers={"Content-Type": "application/json"}
    )

    assert declared.status_code == 413
    assert streamed.status_code == 413
    assert "1024 bytes" in declared.json()["error"]
    assert at_limit.status_code == 200
    assert setup.store.count_webhooks() == 1


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "body", [b"{not json", b"", b"[1, 2]", b'"completed"', b"\xff\xfe{}", b"null"]
)
async def test_invalid_json_is_400(setup: Setup, body: bytes) -> None:
    response = await setup.http.post(
        setup.hook(), content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert setup.store.count_webhooks() == 0


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", None]
)
async def test_wrong_content_type_is_415(setup: Setup, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = await setup.http.post(
        setup.hook(), content=json.dumps(COMPLETED).encode(), headers=headers
    )
    assert response.status_code == 415
    assert "application/json" in response.json()["error"]
    assert setup.store.count_webhooks() == 0


# Tokens, probes, ports -------------------------------------------------------------------


@pytest.mark.asyncio
async def test_token_logged_by_prefix_only(setup: Setup, caplog: pytest.LogCaptureFixture) -> None:
    unknown = "q" * 43
    with caplog.at_level(logging.DEBUG, logger="cmfy_desk"):
        await setup.http.post(setup.hook(), json=COMPLETED)
        await setup.http.post(f"/hooks/{unknown}", json=COMPLETED)
        await setup.http.post(setup.hook(1), content=b"{", headers={"Content-Type": "text/plain"})
    # Only the app's own log lines: the HTTP client of this test logs whole URLs.
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("cmfy_desk"))
    assert setup.tokens[0][:6] in ours
    assert unknown[:6] in ours
    for token in (*setup.tokens, unknown):
        assert token not in ours


@pytest.mark.asyncio
async def test_probe_resolves_and_is_not_stored(setup: Setup) -> None:
    token, arrival = setup.receiver.issue_probe()
    response = await setup.http.post(f"/hooks/{token}", json={"probe": True})
    again = await setup.http.post(f"/hooks/{token}", json={"probe": True})

    assert response.status_code == 200
    assert arrival.done()
    assert isinstance(arrival.result(), float)
    # A probe token works once.
    assert again.status_code == 404
    assert setup.store.count_webhooks() == 0
    assert setup.receiver.received == 0


@pytest.mark.asyncio
async def test_cancelled_probe_token_is_withdrawn(setup: Setup) -> None:
    token, arrival = setup.receiver.issue_probe()
    arrival.cancel()
    await _settle()
    response = await setup.http.post(f"/hooks/{token}", json={"probe": True})
    assert response.status_code == 404


@pytest.mark.asyncio
async def test_port_in_use_names_port_and_fix(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "db.sqlite3")
    blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        receiver = WebhookReceiver(store, lambda _delivery: None, port=port)
        with pytest.raises(ReceiverError) as caught:
            await receiver.start()
    finally:
        blocker.close()
        store.close()
    message = str(caught.value)
    assert f"Port {port} on 127.0.0.1 is already in use by another program" in message
    assert "Choose another port in Settings" in message


@pytest.mark.asyncio
async def test_binds_loopback_only(setup: Setup, tmp_path: Path) -> None:
    assert setup.receiver.addresses
    assert all(host == "127.0.0.1" for host, _port in setup.receiver.addresses)
    assert setup.receiver.local_url == f"http://127.0.0.1:{setup.receiver.port}"
    for host in ("0.0.0.0", "::", "192.168.1.20", "example.com"):
        with pytest.raises(ReceiverError, match="loopback only"):
            WebhookReceiver(setup.store, lambda _delivery: None, host=host)


@pytest.mark.asyncio
async def test_restart_on_same_port(setup: Setup) -> None:
    port = setup.receiver.port
    await setup.receiver.stop()
    receiver = WebhookReceiver(setup.store, setup.deliveries.append, port=port)
    await receiver.start()
    try:
        async with httpx.AsyncClient(trust_env=False) as http:
            response = await http.post(f"{receiver.local_url}{setup.hook()}", json=COMPLETED)
    finally:
        await receiver.stop()
    assert receiver.port == port
    assert response.status_code == 200


# The tunnel check ------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def answering_server(status: int) -> AsyncIterator[str]:
    """Serve ``status`` to every request on a free loopback port, like a misrouted tunnel."""

    async def answer(_request: web.Request) -> web.Response:
        return web.json_response({"ok": status < 400}, status=status)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@pytest.mark.parametrize(
    "url",
    [
        "https://example.trycloudflare.com",
        "https://abc.ngrok-free.app/",
        "https://host.tailnet.ts.net/cmfy",
        "http://127.0.0.1:8765",
        "http://localhost:8765",
        "http://[::1]:8765",
    ],
)
def test_tunnel_url_accepted(url: str) -> None:
    assert validate_public_base_url(url) is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("http://example.trycloudflare.com", "https"),
        ("ftp://example.com", "not a web address"),
        ("example.trycloudflare.com", "not a web address"),
        ("https://", "not a web address"),
        ("https://example.com/?key=1", "query or fragment"),
        ("https://example.com/#top", "query or fragment"),
        ("https://user:secret@example.com", "user name or password"),
        ("https://192.168.1.20", "private address"),
        ("https://10.0.0.5:8443", "private address"),
        ("https://127.0.0.1:8765", "private address"),
        ("https://example.com:99999", "invalid"),
    ],
)
def test_tunnel_url_rejected(url: str, expected: str) -> None:
    message = validate_public_base_url(url)
    assert message is not None
    assert expected in message


def test_hook_url_joins_base_and_token() -> None:
    assert hook_url("https://t.example/base/ ", "abc") == "https://t.example/base/hooks/abc"


@pytest.mark.asyncio
async def test_tunnel_check_reaches_receiver(setup: Setup) -> None:
    result = await check_tunnel(setup.receiver.local_url, setup.receiver, timeout=5)
    assert result.ok
    assert result.seconds is not None and 0 <= result.seconds < 5
    assert result.message.startswith("The tunnel answered in ")
    assert result.message.endswith(" s and the request reached Cmfy Desk.")
    assert setup.store.count_webhooks() == 0


@pytest.mark.asyncio
async def test_tunnel_check_misrouted_tunnel(setup: Setup) -> None:
    async with answering_server(200) as elsewhere:
        result = await check_tunnel(elsewhere, setup.receiver, timeout=0.5)
    assert not result.ok
    port = setup.receiver.port
    assert f"Nothing reached the receiver on port {port} within 0.5 s" in result.message
    assert f"forwards {elsewhere} to http://127.0.0.1:{port}" in result.message


@pytest.mark.asyncio
async def test_tunnel_check_reports_http_error(setup: Setup) -> None:
    async with answering_server(502) as broken:
        result = await check_tunnel(broken, setup.receiver, timeout=2)
    assert not result.ok
    assert "returned HTTP 502 Bad Gateway" in result.message


@pytest.mark.asyncio
async def test_tunnel_check_unreachable(setup: Setup) -> None:
    async with answering_server(200) as gone:
        pass
    result = await check_tunnel(gone, setup.receiver, timeout=2)
    assert not result.ok
    assert result.seconds is None
    assert f"The tunnel at {gone} did not answer" in result.message
    assert setup.receiver.local_url in result.message


@pytest.mark.asyncio
async def test_tunnel_check_invalid_url(setup: Setup) -> None:
    result = await check_tunnel("http://example.com", setup.receiver)
    assert not result.ok
    assert "https" in result.message


@pytest.mark.asyncio
async def test_tunnel_check_without_receiver(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "db.sqlite3")
    try:
        receiver = WebhookReceiver(store, lambda _delivery: None)
        result = await check_tunnel("https://example.trycloudflare.com", receiver)
    finally:
        store.close()
    assert not result.ok
    assert "receiver is not running" in result.message
