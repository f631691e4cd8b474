"""Webhook URL rules and delivery.

cmfy.cloud accepts only public HTTPS webhook URLs. The sandbox also accepts plain HTTP to a
loopback host, because that is how a desktop test receiver listens, and it delivers only to
loopback hosts so that it never sends anything off the machine. A job's fault plan can make
its webhook arrive twice, late again, or after a random delay that lets later jobs overtake it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from typing import Any
from urllib.parse import urlsplit

import httpx

from cmfy_desk.sandbox.errors import ApiError
from cmfy_desk.sandbox.faults import JobFaultPlan
from cmfy_desk.sandbox.stats import SandboxStats

logger = logging.getLogger(__name__)

# cmfy.cloud documents a 30 s limit for the receiver's response and one delivery per job.
WEBHOOK_TIMEOUT_SECONDS = 30.0
MAX_WEBHOOK_URL_LENGTH = 2048


def is_loopback_host(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_webhook_url(url: object) -> str:
    """Return ``url`` when the sandbox accepts it as a webhook URL, else raise ApiError (400)."""
    if not isinstance(url, str) or not url or len(url) > MAX_WEBHOOK_URL_LENGTH:
        raise _invalid(url, "expected an https URL of at most 2048 characters")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        _ = parts.port
    except ValueError as exc:
        raise _invalid(url, f"it cannot be parsed ({exc})") from exc
    if not host:
        raise _invalid(url, "it has no host")
    if parts.scheme == "https":
        return url
    if parts.scheme == "http" and is_loopback_host(host):
        return url
    raise _invalid(url, "use https, or http to a loopback host such as 127.0.0.1")


def _invalid(url: object, reason: str) -> ApiError:
    return ApiError(
        400,
        "invalid_webhook_url",
        f"Invalid webhook_url {url!r}: {reason}.",
        {"field": "webhook_url"},
    )


class WebhookSender:
    """Sends webhook bodies in background tasks it owns; ``close`` cancels and awaits them."""

    def __init__(self, stats: SandboxStats) -> None:
        self._stats = stats
        # trust_env=False keeps proxy variables from routing loopback deliveries elsewhere.
        self._client = httpx.AsyncClient(timeout=WEBHOOK_TIMEOUT_SECONDS, trust_env=False)
        self._tasks: set[asyncio.Task[None]] = set()

    def send(
        self,
        job_id: str,
        url: str,
        payload: dict[str, Any],
        faults: JobFaultPlan | None = None,
    ) -> None:
        host = urlsplit(url).hostname or ""
        if not is_loopback_host(host):
            self._stats.webhooks_skipped += 1
            logger.info("Job %s: webhook to non-loopback host %s skipped", job_id, host)
            return
        plan = faults if faults is not None else JobFaultPlan()
        injected = self._stats.faults_injected
        if plan.webhook_out_of_order:
            injected["webhook_out_of_order"] += 1
        if plan.webhook_duplicate:
            injected["webhook_duplicate"] += 1
        if plan.webhook_late_seconds is not None:
            injected["webhook_late"] += 1
        task = asyncio.create_task(self._deliver_with_faults(job_id, url, payload, plan))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver_with_faults(
        self, job_id: str, url: str, payload: dict[str, Any], plan: JobFaultPlan
    ) -> None:
        if plan.webhook_out_of_order:
            logger.info(
                "Job %s: webhook delayed by %.2f s (out-of-order fault)",
                job_id,
                plan.webhook_delay_seconds,
            )
            await asyncio.sleep(plan.webhook_delay_seconds)
        await self._deliver(job_id, url, payload)
        if plan.webhook_duplicate:
            logger.info("Job %s: webhook sent again at once (duplicate fault)", job_id)
            await self._deliver(job_id, url, payload)
        if plan.webhook_late_seconds is not None:
            await asyncio.sleep(plan.webhook_late_seconds)
            logger.info("Job %s: webhook sent again late (late fault)", job_id)
            await self._deliver(job_id, url, payload)

    async def _deliver(self, job_id: str, url: str, payload: dict[str, Any]) -> None:
        try:
            response = await self._client.post(url, json=payload)
        except httpx.HTTPError as exc:
            self._stats.webhooks_failed += 1
            logger.warning("Job %s: webhook delivery to %s failed: %s", job_id, _host(url), exc)
            return
        if response.is_success:
            self._stats.webhooks_sent += 1
            logger.info("Job %s: webhook delivered to %s", job_id, _host(url))
        else:
            self._stats.webhooks_failed += 1
            logger.warning(
                "Job %s: webhook delivery to %s failed with HTTP %s",
                job_id,
                _host(url),
                response.status_code,
            )

    async def close(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._client.aclose()


def _host(url: str) -> str:
    # Webhook paths often hold a per-job secret, so logs name the host and port only.
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)
