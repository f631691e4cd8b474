"""The cmfy.cloud API client: submit, status, cancel and list jobs.

Paths outside the documented ``POST /v1/jobs`` are assumptions kept in ``ApiPaths`` so a
setting can change them. Every request passes through one RequestPacer, so submissions and
status reads share the account's requests-per-minute budget.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx

from cmfy_desk import __version__
from cmfy_desk.backends.base import RemoteJob, RequestCounts, SubmitResult, int_or_none
from cmfy_desk.backends.errors import (
    AuthError,
    BackendError,
    ConcurrencyLimitError,
    NetworkError,
    NotFoundError,
    PermissionDeniedError,
    QueueFullError,
    RateLimitError,
    ServerError,
    ValidationError,
)
from cmfy_desk.backends.limits import Limits, PlanLimits, RequestPacer, parse_retry_after
from cmfy_desk.tls import shared_ssl_context

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.cmfy.cloud"
REQUEST_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


@dataclass(frozen=True)
class ApiPaths:
    """Endpoint paths under the base URL; only ``submit`` is documented by the service."""

    submit: str = "/v1/jobs"
    status: str = "/v1/jobs/{job_id}"
    cancel: str = "/v1/jobs/{job_id}/cancel"
    list: str = "/v1/jobs"


def normalize_base_url(base_url: str) -> str:
    """Return the base URL without a trailing slash or ``/v1``, which every path adds."""
    url = base_url.strip().rstrip("/")
    if url.endswith("/v1"):
        url = url[: -len("/v1")]
    return url


def check_base_url(base_url: str) -> str | None:
    """Return None for an http(s) URL with a host, else a message saying what is wrong."""
    parts = httpx.URL(normalize_base_url(base_url)) if base_url.strip() else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.host:
        return (
            f"The base URL {base_url!r} is not an http:// or https:// address. "
            f"Use {DEFAULT_BASE_URL} for cmfy.cloud."
        )
    return None


class CmfyCloudClient:
    """One pooled connection to the cmfy.cloud API (or the sandbox, which speaks the same)."""

    kind = "cmfy"

    def __init__(
        self,
        base_url: str,
        api_key: str,
        plan: PlanLimits,
        *,
        paths: ApiPaths | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = normalize_base_url(base_url)
        self.paths = paths or ApiPaths()
        self.pacer = RequestPacer(Limits.from_plan(plan))
        self.requests: RequestCounts = Counter()
        headers = {"User-Agent": f"cmfy-desk/{__version__}"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            timeout=REQUEST_TIMEOUT,
            http2=transport is None,
            transport=transport,
            verify=shared_ssl_context(),
            follow_redirects=False,
        )

    @property
    def limits(self) -> Limits:
        return self.pacer.limits

    async def aclose(self) -> None:
        await self._http.aclose()

    async def submit(
        self,
        prompt: dict[str, Any],
        idempotency_key: str,
        webhook_url: str | None = None,
        *,
        resubmission: bool = False,
    ) -> SubmitResult:
        # The service de-duplicates by idempotency key, so a resubmission needs no lookup.
        body: dict[str, Any] = {"prompt": prompt, "idempotency_key": idempotency_key}
        if webhook_url:
            body["webhook_url"] = webhook_url
        response, data = await self._request("submit", "POST", self.paths.submit, json=body)
        return SubmitResult(
            job_id=str(data["job_id"]),
            status=str(data.get("status", "queued")),
            queue_position=int_or_none(data.get("queue_position")),
            estimated_wait_seconds=data.get("estimated_wait_seconds"),
            # The service documents no status code for a replay; the sandbox returns 200.
            replayed=response.status_code == 200,
        )

    async def status(self, job_id: str) -> RemoteJob:
        _response, data = await self._request(
            "status", "GET", self.paths.status.format(job_id=job_id)
        )
        return RemoteJob.from_json(data)

    async def cancel(self, job_id: str) -> RemoteJob:
        _response, data = await self._request(
            "cancel", "POST", self.paths.cancel.format(job_id=job_id)
        )
        return RemoteJob.from_json(data)

    def download_headers(self, url: str) -> dict[str, str]:
        # Outputs live on a CDN; the API key is never sent there.
        return {}

    async def _request(
        self, kind: str, method: str, path: str, json: dict[str, Any] | None = None
    ) -> tuple[httpx.Response, dict[str, Any]]:
        # Status reads and cancels go first: they end jobs, which frees the slots that waiting
        # submissions need, and a webhook waits for its confirming read.
        await self.pacer.acquire(urgent=kind != "submit")
        self.requests[kind] += 1
        started = time.monotonic()
        try:
            response = await self._http.request(method, path, json=json)
        except httpx.TimeoutException as exc:
            raise NetworkError(f"{method} {path} timed out.", url=path) from exc
        except httpx.TransportError as exc:
            raise NetworkError(f"{method} {path} failed: {exc}", url=path) from exc
        log.debug(
            "%s %s -> %d in %.0f ms",
            method,
            path,
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        now = time.time()
        self.pacer.observe(self.pacer.limits.updated_from_headers(response.headers, now))
        data = _json_body(response)
        if response.is_success:
            if not isinstance(data, dict):
                raise ServerError(
                    f"{method} {path} returned a body that is not a JSON object.",
                    status=response.status_code,
                    url=path,
                )
            return response, data
        raise self._error_for(response, data, method, path, now)

    def _error_for(
        self, response: httpx.Response, data: object, method: str, path: str, now: float
    ) -> BackendError:
        envelope = data.get("error") if isinstance(data, dict) else None
        envelope = envelope if isinstance(envelope, dict) else {}
        status = response.status_code
        code = envelope.get("code")
        retry_after = parse_retry_after(response.headers.get("Retry-After"), now)
        if retry_after is None and isinstance(envelope.get("retry_after"), int | float):
            retry_after = float(envelope["retry_after"])
        message = envelope.get("message") or f"{method} {path} returned HTTP {status}."
        kwargs: dict[str, Any] = {
            "status": status,
            "code": code,
            "request_id": envelope.get("request_id") or response.headers.get("X-Request-Id"),
            "url": path,
            "details": envelope.get("details"),
            "retry_after": retry_after,
        }
        error_class: type[BackendError]
        if status == 401:
            error_class = AuthError
        elif status == 403:
            error_class = PermissionDeniedError
        elif status == 429:
            error_class = {
                "concurrent_limit_reached": ConcurrencyLimitError,
                "queue_full": QueueFullError,
            }.get(code or "", RateLimitError)
            if error_class is RateLimitError:
                self.pacer.block_for(retry_after or 1.0)
        elif status == 404:
            error_class = NotFoundError
        elif status in (408, 409) or status >= 500:
            error_class = ServerError
        else:
            error_class = ValidationError
        return error_class(message, **kwargs)


def _json_body(response: httpx.Response) -> object:
    try:
        return response.json()
    except ValueError:
        return None
