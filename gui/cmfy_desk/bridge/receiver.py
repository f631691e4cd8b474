"""The webhook receiver: an HTTP server on loopback that the user's tunnel forwards to.

cmfy.cloud signs nothing and documents no delivery id, so the receiver accepts a body only at
a URL it handed out: ``POST /hooks/{token}`` where the token is stored on one job. It writes
the body to the store before it responds 200, so a delivery that was acknowledged survives a
crash, and only then hands it to the bridge. Everything else gets a small JSON error.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import json
import logging
import secrets
import sqlite3
import time
from collections.abc import Callable

from aiohttp import web

from cmfy_desk.store import Store, WebhookDelivery

log = logging.getLogger(__name__)

HOOK_PATH_PREFIX = "/hooks/"
DEFAULT_MAX_BODY_BYTES = 1_048_576
# Tokens are logged by their first characters only: enough to match log lines, too few to use.
LOGGED_TOKEN_CHARS = 6
# Requests still in flight at stop get this long to finish.
SHUTDOWN_TIMEOUT_SECONDS = 2.0
_READ_CHUNK_BYTES = 65_536


class ReceiverError(RuntimeError):
    """The receiver cannot listen: the port is taken, or the host is not a loopback address."""


def short_token(token: str) -> str:
    """Return the part of a token that may appear in a log line."""
    return token[:LOGGED_TOKEN_CHARS] + "…"


class WebhookReceiver:
    """Accepts webhook deliveries at the per-job URLs the bridge handed out.

    ``on_delivery`` gets each recorded WebhookDelivery on the event loop, after the sender has
    its 200 response. ``issue_probe`` hands out one-use tokens for the tunnel check: a POST to
    one resolves its future with the arrival time (``time.monotonic``) and is not stored.
    """

    def __init__(
        self,
        store: Store,
        on_delivery: Callable[[WebhookDelivery], None],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        if not _is_loopback(host):
            raise ReceiverError(
                f"The webhook receiver listens on loopback only, not on {host!r}. "
                "Use 127.0.0.1 and let your tunnel forward to it."
            )
        if not 0 <= port <= 65535:
            raise ReceiverError(f"Invalid receiver port {port}: expected 0 to 65535.")
        if max_body_bytes < 1:
            raise ValueError(f"Invalid max_body_bytes {max_body_bytes}: expected 1 or more.")
        self._store = store
        self._on_delivery = on_delivery
        self._host = host
        self._requested_port = port
        self._max_body_bytes = max_body_bytes
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._probes: dict[str, asyncio.Future[float]] = {}
        self._received = 0
        self._last_delivery_at: float | None = None

    # Lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on the configured loopback port; raise ReceiverError when it is taken."""
        if self._runner is not None:
            raise RuntimeError("The webhook receiver is already started.")
        app = web.Application()
        app.router.add_route("*", HOOK_PATH_PREFIX + "{token}", self._handle_hook)
        app.router.add_route("*", "/{tail:.*}", self._handle_other)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_SECONDS)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._requested_port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise ReceiverError(self._listen_error(exc)) from exc
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        log.info("Webhook receiver listening on %s", self.local_url)

    async def stop(self) -> None:
        runner = self._runner
        if runner is None:
            return
        self._runner = None
        for future in list(self._probes.values()):
            future.cancel()
        self._probes.clear()
        await runner.cleanup()
        log.info("Webhook receiver on port %s stopped", self._port)

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("The webhook receiver is not started.")
        return self._port

    @property
    def local_url(self) -> str:
        """The receiver's own base URL, which the tunnel forwards to."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    @property
    def addresses(self) -> list[tuple[str, int]]:
        """The (host, port) pairs the listening sockets are bound to."""
        if self._runner is None:
            return []
        return [(str(address[0]), int(address[1])) for address in self._runner.addresses]

    @property
    def received(self) -> int:
        """Deliveries recorded since start (tunnel probes not counted)."""
        return self._received

    @property
    def last_delivery_at(self) -> float | None:
        """Unix seconds of the last recorded delivery."""
        return self._last_delivery_at

    def issue_probe(self) -> tuple[str, asyncio.Future[float]]:
        """Return a one-use token and a future that a POST to ``/hooks/<token>`` resolves.

        Cancelling the future withdraws the token.
        """
        token = secrets.token_urlsafe(32)
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._probes[token] = future
        future.add_done_callback(lambda _future: self._probes.pop(token, None))
        return token, future

    # Requests ----------------------------------------------------------------------------

    async def _handle_other(self, request: web.Request) -> web.Response:
        return _error(404, "not found")

    async def _handle_hook(self, request: web.Request) -> web.Response:
        if request.method != "POST":
            return _error(404, "not found")
        token = request.match_info["token"]
        probe = self._probes.get(token)
        job_id = None if probe is not None else self._store.job_for_webhook_token(token)
        if probe is None and job_id is None:
            log.info("Webhook to unknown token %s rejected", short_token(token))
            return _error(404, "not found")

        if request.content_type != "application/json":
            log.info(
                "Webhook to token %s rejected: content type %r, expected application/json",
                short_token(token),
                request.content_type,
            )
            return _error(415, "expected Content-Type: application/json")
        body = await self._read_body(request)
        if body is None:
            log.warning(
                "Webhook to token %s rejected: body over %d bytes",
                short_token(token),
                self._max_body_bytes,
            )
            return _error(413, f"body over {self._max_body_bytes} bytes")
        try:
            text = body.decode("utf-8")
            data = json.loads(text)
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError
            log.info("Webhook to token %s rejected: invalid JSON (%s)", short_token(token), exc)
            return _error(400, "invalid JSON body")
        if not isinstance(data, dict):
            log.info("Webhook to token %s rejected: not a JSON object", short_token(token))
            return _error(400, "expected a JSON object")

        if probe is not None:
            self._probes.pop(token, None)
            if not probe.done():
                probe.set_result(time.monotonic())
            return web.json_response({"ok": True})
        assert job_id is not None
        return self._record(job_id, token, text)

    def _record(self, job_id: int, token: str, text: str) -> web.Response:
        received_at = time.time()
        try:
            delivery_id = self._store.record_webhook(job_id, text)
        except sqlite3.Error as exc:
            # A 5xx lets a sender that retries try again; nothing was acknowledged.
            log.error("Recording a webhook of job %d failed: %s", job_id, exc)
            return _error(500, "the delivery could not be recorded")
        self._received += 1
        self._last_delivery_at = received_at
        log.info(
            "Webhook %d of job %d received (token %s)", delivery_id, job_id, short_token(token)
        )
        delivery = WebhookDelivery(
            id=delivery_id, job_id=job_id, received_at=received_at, body=text
        )
        asyncio.get_running_loop().call_soon(self._hand_over, delivery)
        return web.json_response({"ok": True})

    def _hand_over(self, delivery: WebhookDelivery) -> None:
        try:
            self._on_delivery(delivery)
        except Exception:
            # The delivery stays pending in the store, so the next start applies it.
            log.exception("Handling webhook %d of job %d failed", delivery.id, delivery.job_id)

    async def _read_body(self, request: web.Request) -> bytes | None:
        """Return the body, or None when it is larger than the limit (read no further)."""
        limit = self._max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            return None
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = await request.content.read(_READ_CHUNK_BYTES)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)

    def _listen_error(self, exc: OSError) -> str:
        where = f"Port {self._requested_port} on {self._host}"
        if exc.errno == errno.EADDRINUSE:
            return (
                f"{where} is already in use by another program. Choose another port in "
                "Settings, or close that program."
            )
        return f"The webhook receiver cannot listen on {where.lower()}: {exc.strerror or exc}."


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"ok": False, "error": message}, status=status)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
