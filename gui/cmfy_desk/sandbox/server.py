"""The sandbox server's lifecycle: bind, serve on the current asyncio loop, stop cleanly."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import secrets
import shutil
import string
import tempfile
from pathlib import Path
from typing import Any

from aiohttp import web

from cmfy_desk.sandbox.api import SandboxApi
from cmfy_desk.sandbox.config import SandboxConfig
from cmfy_desk.sandbox.engine import JobEngine
from cmfy_desk.sandbox.faults import SandboxFaults
from cmfy_desk.sandbox.stats import SandboxStats
from cmfy_desk.sandbox.webhooks import WebhookSender

logger = logging.getLogger(__name__)

API_KEY_ALPHABET = string.ascii_letters + string.digits
API_KEY_RANDOM_LENGTH = 43
# Requests still in flight at stop get this long to finish.
SHUTDOWN_TIMEOUT_SECONDS = 2.0


def generate_test_key() -> str:
    """Return a new random ``sk_test_`` key of 51 characters."""
    suffix = "".join(secrets.choice(API_KEY_ALPHABET) for _ in range(API_KEY_RANDOM_LENGTH))
    return f"sk_test_{suffix}"


class SandboxServer:
    """A local HTTP server speaking the cmfy.cloud API, on whatever asyncio loop is running.

    ``start`` binds and returns once requests are served; ``stop`` cancels running
    simulations and webhook deliveries, closes the sockets and awaits everything it started.
    The server accepts any well-formed API key; ``api_key`` is one generated for convenience.
    ``faults`` contains the faults to inject. Tests may change its fields while the server
    runs, but not replace the object. Its random draws are seeded from ``config.fault_seed``.
    """

    def __init__(self, config: SandboxConfig, faults: SandboxFaults | None = None) -> None:
        self.config = config
        self.faults = faults if faults is not None else SandboxFaults()
        self.faults.seed(config.fault_seed)
        self._stats = SandboxStats()
        self._api_key = generate_test_key()
        self._runner: web.AppRunner | None = None
        self._engine: JobEngine | None = None
        self._webhooks: WebhookSender | None = None
        self._api: SandboxApi | None = None
        self._output_dir: Path | None = None
        self._temporary_dir: Path | None = None
        self._port: int | None = None

    @property
    def api_key(self) -> str:
        return self._api_key

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("The sandbox server is not started.")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{_url_host(self.config.host)}:{self.port}"

    @property
    def output_dir(self) -> Path:
        if self._output_dir is None:
            raise RuntimeError("The sandbox server is not started.")
        return self._output_dir

    @property
    def stats(self) -> dict[str, Any]:
        """Return the counters of ``GET /sandbox/stats`` as a dict."""
        jobs_by_status = self._engine.jobs_by_status() if self._engine is not None else {}
        return self._stats.as_dict(jobs_by_status)

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("The sandbox server is already started.")
        if self.config.output_dir is None:
            self._temporary_dir = Path(tempfile.mkdtemp(prefix="cmfy-sandbox-"))
            self._output_dir = self._temporary_dir
        else:
            self._output_dir = self.config.output_dir
            self._output_dir.mkdir(parents=True, exist_ok=True)

        self._webhooks = WebhookSender(self._stats)
        self._engine = JobEngine(
            self.config, self._output_dir, self._stats, self.faults, self._webhooks, self._base_url
        )
        api = SandboxApi(
            self.config, self._engine, self._stats, self.faults, self._output_dir, self._base_url
        )
        self._api = api
        runner = web.AppRunner(
            api.build_app(), access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_SECONDS
        )
        await runner.setup()
        site = web.TCPSite(runner, self.config.host, self.config.port)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            await self._close_parts()
            raise
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        limits = self.config.plan_limits
        logger.info(
            "Sandbox listening on %s (plan %s: %s requests/min, %s running, %s queued; "
            "speed %s; limit mode %s; faults %s; outputs in %s)",
            self.base_url,
            self.config.plan if self.config.limits is None else "custom",
            limits.requests_per_minute,
            limits.running,
            limits.queued,
            self.config.speed,
            self.config.limit_mode,
            self.faults.describe(),
            self._output_dir,
        )

    async def stop(self) -> None:
        runner = self._runner
        if runner is None:
            return
        self._runner = None
        if self._api is not None:
            self._api.close()
        await runner.cleanup()
        await self._close_parts()
        logger.info("Sandbox on port %s stopped", self._port)

    def forget_all_jobs(self) -> int:
        """Forget every job and idempotency key, as a restart of the service would.

        Returns the number of jobs forgotten. ``POST /sandbox/forget-all-jobs`` does the same.
        """
        if self._engine is None:
            raise RuntimeError("The sandbox server is not started.")
        return self._engine.forget_all_jobs()

    async def _close_parts(self) -> None:
        if self._engine is not None:
            await self._engine.close()
        if self._webhooks is not None:
            await self._webhooks.close()
        if self._temporary_dir is not None:
            await asyncio.to_thread(shutil.rmtree, self._temporary_dir, True)
            self._temporary_dir = None

    def _base_url(self) -> str:
        return self.base_url


def _url_host(host: str) -> str:
    """Return the host to put in URLs: a wildcard bind address becomes its loopback address."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    return f"[{host}]" if address.version == 6 else host
