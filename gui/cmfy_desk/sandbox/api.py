"""HTTP routes of the sandbox: the cmfy.cloud /v1 API, output files and the stats page.

Injected request faults apply to authenticated /v1 requests only. A 429 storm comes first,
then a 5xx response, then a slow response. After those, a job submission may drop its
connection before or after it creates the job. Output files and /sandbox routes get no faults.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from cmfy_desk.sandbox.accounts import Account
from cmfy_desk.sandbox.config import MAX_BATCH_PIXELS, MAX_IMAGE_SIDE, SandboxConfig
from cmfy_desk.sandbox.engine import JobEngine
from cmfy_desk.sandbox.errors import ApiError, new_request_id
from cmfy_desk.sandbox.faults import SandboxFaults
from cmfy_desk.sandbox.jobs import SandboxJob
from cmfy_desk.sandbox.stats import SandboxStats
from cmfy_desk.sandbox.webhooks import check_webhook_url
from cmfy_desk.workflows.graph import (
    LATENT_CLASSES,
    Graph,
    GraphError,
    image_size,
    validate_graph,
)

logger = logging.getLogger(__name__)

API_KEY_PATTERN = re.compile(r"^sk_(live|test)_[A-Za-z0-9]{43}$")
OUTPUT_FILE_PATTERN = re.compile(r"^image_[0-9]{1,4}\.png$")
MAX_IDEMPOTENCY_KEY_LENGTH = 255
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
# Large API-format workflows with embedded data stay well under this.
MAX_BODY_BYTES = 32 * 1024 * 1024

ACCOUNT_KEY = web.RequestKey("account", Account)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class SandboxApi:
    """Builds the aiohttp application and handles its requests."""

    def __init__(
        self,
        config: SandboxConfig,
        engine: JobEngine,
        stats: SandboxStats,
        faults: SandboxFaults,
        output_dir: Path,
        base_url: Callable[[], str],
    ) -> None:
        self._config = config
        self._limits = config.plan_limits
        self._engine = engine
        self._stats = stats
        self._faults = faults
        self._output_dir = output_dir
        self._base_url = base_url
        # Set by close(), so slow requests stop waiting and the server can stop at once.
        self._closing = asyncio.Event()

    def close(self) -> None:
        """Wake every request held by the ``slow`` fault; call before the runner's cleanup."""
        self._closing.set()

    def build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._v1_middleware], client_max_size=MAX_BODY_BYTES)
        app.router.add_post("/v1/jobs", self._submit_job)
        app.router.add_get("/v1/jobs", self._list_jobs)
        app.router.add_get("/v1/jobs/{job_id}", self._get_job)
        app.router.add_post("/v1/jobs/{job_id}/cancel", self._cancel_job)
        app.router.add_get("/outputs/{job_id}/{file_name}", self._get_output)
        app.router.add_get("/sandbox/stats", self._get_stats)
        app.router.add_post("/sandbox/forget-all-jobs", self._forget_all_jobs)
        return app

    # -- /v1 envelope: auth, request window, faults, headers ----------------------------------

    @web.middleware
    async def _v1_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path != "/v1" and not request.path.startswith("/v1/"):
            return await handler(request)
        self._stats.requests_total += 1
        request_id = new_request_id()
        account: Account | None = None
        try:
            account = self._engine.account(self._authenticate(request))
            self._count_request(account)
            await self._inject_request_faults(account)
            request[ACCOUNT_KEY] = account
            response = await handler(request)
        except ApiError as exc:
            response = self._error_response(exc, request_id)
        except web.HTTPException as exc:
            response = self._error_response(_from_http_exception(exc), request_id)
        except Exception:
            # The API boundary: log the traceback and respond with the error envelope.
            logger.exception("Request %s %s failed", request.method, request.path)
            error = ApiError(500, "server_error", "The sandbox failed to handle the request.")
            response = self._error_response(error, request_id)
        headers = account.rate_headers() if account is not None else self._anonymous_headers()
        response.headers.update(headers)
        response.headers["X-Request-Id"] = request_id
        return response

    def _authenticate(self, request: web.Request) -> str:
        header = request.headers.get("Authorization", "").strip()
        if not header:
            raise ApiError(401, "missing_auth", "Missing Authorization header: send Bearer <key>.")
        scheme, _, api_key = header.partition(" ")
        api_key = api_key.strip()
        if scheme.lower() != "bearer" or not api_key or " " in api_key:
            raise ApiError(
                401,
                "invalid_auth_format",
                "Invalid Authorization header: expected 'Bearer <api key>'.",
            )
        if not API_KEY_PATTERN.fullmatch(api_key):
            raise ApiError(
                401,
                "invalid_api_key",
                "Invalid API key: expected sk_live_ or sk_test_ followed by 43 letters or digits.",
            )
        if api_key in self._faults.revoked_keys:
            raise ApiError(401, "revoked_api_key", "This API key has been revoked.")
        return api_key

    def _count_request(self, account: Account) -> None:
        now = time.time()
        if account.window.take(now):
            return
        self._stats.rate_limited["rate_limit_exceeded"] += 1
        limit = account.window.limit
        raise ApiError(
            429,
            "rate_limit_exceeded",
            f"Rate limit of {limit} requests per minute exceeded for this API key.",
            {"limit": limit, "window_seconds": round(account.window.length_seconds)},
            retry_after=account.window.retry_after(now),
        )

    async def _inject_request_faults(self, account: Account) -> None:
        """Raise ApiError for a 429 storm or an injected 5xx, or hold a slow request."""
        faults = self._faults
        injected = self._stats.faults_injected
        now = time.monotonic()
        storming = now < account.storm_until
        if not storming and faults.chance("429_storm"):
            account.storm_until = now + faults.storm_seconds
            storming = True
            injected["429_storm"] += 1
            logger.info("429 storm of %.1f s started (429_storm fault)", faults.storm_seconds)
        if storming:
            injected["429_storm_requests"] += 1
            self._stats.rate_limited["rate_limit_exceeded"] += 1
            raise ApiError(
                429,
                "rate_limit_exceeded",
                "Rate limit exceeded for this API key (the sandbox injected a 429 storm).",
                {"limit": account.window.limit, "storm": True},
                retry_after=max(1, math.ceil(account.storm_until - now)),
            )

        if faults.take_error_5xx() or faults.chance("5xx"):
            injected["5xx"] += 1
            raise ApiError(503, "server_error", "The sandbox injected a server error.")

        if faults.chance("slow"):
            injected["slow"] += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), timeout=faults.slow_seconds)

    def _drop_connection(self, request: web.Request, fault: str) -> web.Response:
        """Close the connection without a response; return a response aiohttp cannot send."""
        self._stats.faults_injected[fault] += 1
        if request.transport is not None:
            request.transport.close()
        return web.Response(status=500)

    def _anonymous_headers(self) -> dict[str, str]:
        # A request without a valid key has no window of its own: report a full, fresh one.
        limits = self._limits
        reset = math.ceil(time.time() + self._config.timings.rate_window_seconds)
        return {
            "X-RateLimit-Limit": str(limits.requests_per_minute),
            "X-RateLimit-Remaining": str(limits.requests_per_minute),
            "X-RateLimit-Reset": str(reset),
            "X-Concurrent-Limit": str(limits.running),
            "X-Concurrent-Current": "0",
            "X-Queue-Limit": str(limits.queued),
            "X-Queue-Current": "0",
        }

    def _error_response(self, error: ApiError, request_id: str) -> web.Response:
        response = web.json_response(error.envelope(request_id), status=error.status)
        if error.retry_after is not None:
            response.headers["Retry-After"] = str(error.retry_after)
        if error.status >= 500:
            logger.warning("Request %s failed with %s %s", request_id, error.status, error.code)
        return response

    # -- /v1 routes ---------------------------------------------------------------------------

    async def _submit_job(self, request: web.Request) -> web.Response:
        account = request[ACCOUNT_KEY]
        # Read the whole body first: closing a socket with unread input makes the kernel reset
        # the connection, and the client should see a plain close with no response.
        await request.read()
        if self._faults.chance("drop_before_accept"):
            logger.info("POST /v1/jobs: connection dropped before creating a job (fault)")
            return self._drop_connection(request, "drop_before_accept")
        body = await _read_json_object(request)
        if "prompt" not in body:
            raise ApiError(
                400, "invalid_request", "Missing field 'prompt': send the API-format workflow."
            )
        graph = _validate_prompt(body["prompt"])
        webhook_url = body.get("webhook_url")
        if webhook_url is not None:
            webhook_url = check_webhook_url(webhook_url)
        idempotency_key = _idempotency_key(body.get("idempotency_key"))

        # A replay returns 200 with the job's current state, because the job already exists and
        # 202 would claim that a new one was accepted. The lookup comes before the limits so
        # that a retry of an accepted job always finds it.
        existing = self._engine.replay(account, idempotency_key)
        if existing is not None:
            return web.json_response(self._resource(account, existing), status=200)

        self._engine.check_capacity(account)
        job = self._engine.submit(account, graph, webhook_url, idempotency_key)
        if self._faults.take_drop_after_accept():
            self._stats.faults_injected["drop_after_accept"] += 1
            logger.info("Job %s: response replaced by a 500 after accept (fault)", job.job_id)
            raise ApiError(
                500, "server_error", "The sandbox dropped the response after accepting the job."
            )
        if self._faults.chance("drop_after_accept"):
            logger.info("Job %s: connection dropped after accept (fault)", job.job_id)
            return self._drop_connection(request, "drop_after_accept")
        # queue_position is the 1-based place in this key's queue, or 0 when a node took the
        # job at once. The status stays "queued", as in cmfy.cloud's documented response.
        return web.json_response(
            {
                "job_id": job.job_id,
                "status": "queued",
                "queue_position": account.queue_position(job),
                "estimated_wait_seconds": self._engine.estimated_wait_seconds(account, job),
            },
            status=202,
        )

    async def _get_job(self, request: web.Request) -> web.Response:
        account = request[ACCOUNT_KEY]
        job = _find_job(account, request.match_info["job_id"])
        return web.json_response(self._resource(account, job))

    async def _cancel_job(self, request: web.Request) -> web.Response:
        account = request[ACCOUNT_KEY]
        job = _find_job(account, request.match_info["job_id"])
        self._engine.cancel(account, job)
        return web.json_response(self._resource(account, job))

    async def _list_jobs(self, request: web.Request) -> web.Response:
        account = request[ACCOUNT_KEY]
        limit = _page_size(request.query.get("limit"))
        newest_first = list(reversed(account.order))
        start = 0
        cursor = request.query.get("cursor")
        if cursor:
            if cursor not in account.jobs:
                raise ApiError(400, "invalid_request", f"Invalid cursor {cursor!r}.")
            start = newest_first.index(cursor) + 1
        page = newest_first[start : start + limit]
        more = start + limit < len(newest_first)
        return web.json_response(
            {
                "jobs": [self._resource(account, account.jobs[job_id]) for job_id in page],
                "next_cursor": page[-1] if more and page else None,
            }
        )

    def _resource(self, account: Account, job: SandboxJob) -> dict[str, Any]:
        return job.resource(self._base_url(), account.queue_position(job))

    # -- routes without auth ------------------------------------------------------------------

    async def _get_output(self, request: web.Request) -> web.StreamResponse:
        job_id = request.match_info["job_id"]
        file_name = request.match_info["file_name"]
        # Both parts must have their exact expected shape, so no path can leave the job folder.
        if not _is_uuid(job_id) or not OUTPUT_FILE_PATTERN.fullmatch(file_name):
            raise web.HTTPNotFound()
        if self._engine.find_job(job_id) is None:
            raise web.HTTPNotFound()
        path = self._output_dir / job_id / file_name
        if not path.is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(path, headers={"Content-Type": "image/png"})

    async def _get_stats(self, request: web.Request) -> web.Response:
        return web.json_response(self._stats.as_dict(self._engine.jobs_by_status()))

    async def _forget_all_jobs(self, request: web.Request) -> web.Response:
        forgotten = self._engine.forget_all_jobs()
        return web.json_response({"jobs_forgotten": forgotten})


def _from_http_exception(exc: web.HTTPException) -> ApiError:
    codes = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}
    return ApiError(exc.status, codes.get(exc.status, "invalid_request"), exc.reason)


async def _read_json_object(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    try:
        body = json.loads(raw)
    except ValueError as exc:  # JSONDecodeError, or UnicodeDecodeError for bytes that are not text
        raise ApiError(400, "invalid_request", f"Invalid JSON body: {exc}.") from exc
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_request", "Invalid body: expected a JSON object.")
    return body


def _validate_prompt(prompt: object) -> Graph:
    try:
        graph = validate_graph(prompt)
    except GraphError as exc:
        raise ApiError(400, "validation_error", exc.message, {"node_id": exc.node_id}) from exc
    size = image_size(graph)
    too_large = size.width > MAX_IMAGE_SIDE or size.height > MAX_IMAGE_SIDE
    if size.width < 1 or size.height < 1 or too_large:
        raise _size_error(
            graph,
            f"Invalid image size {size.width}x{size.height}: "
            f"expected 1 to {MAX_IMAGE_SIDE} pixels per side.",
        )
    if size.width * size.height * size.batch_size > MAX_BATCH_PIXELS:
        raise _size_error(
            graph,
            f"Batch of {size.batch_size} images of {size.width}x{size.height} "
            "is too large for the sandbox to render; lower batch_size.",
        )
    return graph


def _size_error(graph: Graph, message: str) -> ApiError:
    node_id = next(
        (node_id for node_id, node in graph.items() if node.get("class_type") in LATENT_CLASSES),
        None,
    )
    return ApiError(400, "validation_error", message, {"node_id": node_id})


def _idempotency_key(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > MAX_IDEMPOTENCY_KEY_LENGTH:
        raise ApiError(
            400,
            "invalid_request",
            "Invalid idempotency_key: expected a string of 1 to "
            f"{MAX_IDEMPOTENCY_KEY_LENGTH} characters.",
        )
    return value


def _page_size(value: str | None) -> int:
    if value is None:
        return DEFAULT_PAGE_SIZE
    try:
        limit = int(value)
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ApiError(
            400, "invalid_request", f"Invalid limit {value!r}: expected 1 to {MAX_PAGE_SIZE}."
        )
    return limit


def _find_job(account: Account, job_id: str) -> SandboxJob:
    job = account.jobs.get(job_id)
    if job is None:
        raise ApiError(404, "job_not_found", f"Job {job_id} not found for this API key.")
    return job


def _is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False
