"""The client of a ComfyUI server: submit, status, cancel, image uploads and server facts.

A ComfyUI server has no idempotency keys, and it queues a repeated ``prompt_id`` a second
time. So each job's prompt_id is derived from its idempotency key (uuid5), and a
resubmission first looks that id up in the server's history and queue before sending.
``comfyui_protocol`` parses the server's responses.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import time
import uuid
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from cmfy_desk import __version__
from cmfy_desk.backends.base import RemoteJob, RequestCounts, SubmitResult
from cmfy_desk.backends.comfyui_protocol import (
    describe_node_errors,
    find_item,
    finished_job,
    iso_from_milliseconds,
    job_in_queue,
    output_urls,
    skipped_output_warnings,
)
from cmfy_desk.backends.errors import (
    AuthError,
    BackendError,
    NetworkError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    ValidationError,
)
from cmfy_desk.backends.limits import Limits, parse_retry_after
from cmfy_desk.tls import shared_ssl_context

log = logging.getLogger(__name__)

DEFAULT_COMFYUI_URL = "http://127.0.0.1:8188"
REQUEST_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
# GET /object_info builds the definition of every installed node, which takes a while with
# many custom node packs.
OBJECT_INFO_TIMEOUT = httpx.Timeout(120.0, connect=10.0)
# A ComfyUI server has no rate limit, so this value only keeps request pacing out of the way.
UNLIMITED_REQUESTS_PER_MINUTE = 60_000
# After POST /interrupt, how long cancel() waits for the run to reach the history.
INTERRUPT_WAIT_SECONDS = 2.0
INTERRUPT_POLL_SECONDS = 0.1
# The namespace of the uuid5 that turns an idempotency key into a prompt_id.
PROMPT_ID_NAMESPACE = uuid.UUID("81da803f-5618-4f6e-aad9-09880c1f87f6")


def prompt_id_for(idempotency_key: str) -> str:
    """Return the prompt_id a job with ``idempotency_key`` is always submitted under."""
    return str(uuid.uuid5(PROMPT_ID_NAMESPACE, idempotency_key))


def normalize_comfyui_url(base_url: str) -> str:
    """Return the server address without a trailing slash; raise ValueError when it is not
    an http(s) URL with a host."""
    url = base_url.strip().rstrip("/")
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(
            f"The ComfyUI server address {base_url!r} is not an http:// or https:// URL. "
            f"Use {DEFAULT_COMFYUI_URL} for a server on this computer."
        )
    return url


class ComfyUIClient:
    """One pooled HTTP connection to a ComfyUI server, with the server's websocket id.

    ``client_id`` is the id the websocket connects with: the server sends a run's events
    only to the client_id that submitted it. ``auth_header`` (name, value) is sent with
    every request, for a server behind an authenticating proxy, but never to another host.
    """

    kind = "comfyui"

    def __init__(
        self,
        base_url: str,
        *,
        client_id: str,
        auth_header: tuple[str, str] | None = None,
        queue_depth: int = 1,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = normalize_comfyui_url(base_url)
        self.client_id = client_id
        self.requests: RequestCounts = Counter()
        self._auth_header = auth_header
        # A server runs one prompt at a time; queue_depth more wait in its queue.
        self._limits = Limits(
            rate_limit=UNLIMITED_REQUESTS_PER_MINUTE,
            concurrent_limit=1,
            queue_limit=max(0, queue_depth),
        )
        # Whether the server has GET /api/jobs/{id}; None until the first status read.
        self._jobs_api: bool | None = None
        headers = {"User-Agent": f"cmfy-desk/{__version__}"}
        headers.update(self.auth_headers)
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            timeout=REQUEST_TIMEOUT,
            transport=transport,
            verify=shared_ssl_context(),
            follow_redirects=False,
        )

    @property
    def limits(self) -> Limits:
        return self._limits

    @property
    def auth_headers(self) -> dict[str, str]:
        """The auth header as a dict (empty without one), for the websocket's handshake."""
        return dict([self._auth_header]) if self._auth_header else {}

    @property
    def websocket_url(self) -> str:
        """``ws(s)://host:port/ws?clientId=...`` under the same path as the base URL."""
        scheme, rest = self.base_url.split("://", 1)
        socket_scheme = "wss" if scheme == "https" else "ws"
        return f"{socket_scheme}://{rest}/ws?{urlencode({'clientId': self.client_id})}"

    @property
    def supports_jobs_api(self) -> bool | None:
        """Whether the server has ``GET /api/jobs/{id}``; None before the first status read."""
        return self._jobs_api

    async def aclose(self) -> None:
        await self._http.aclose()

    # Submission ----------------------------------------------------------------------------

    async def submit(
        self,
        prompt: dict[str, Any],
        idempotency_key: str,
        webhook_url: str | None = None,
        *,
        resubmission: bool = False,
    ) -> SubmitResult:
        """Queue ``prompt`` under the prompt_id derived from ``idempotency_key``.

        ComfyUI has no webhooks, so ``webhook_url`` is ignored. With ``resubmission`` the
        prompt_id is looked up first and a job the server already has is returned unsent.
        """
        prompt_id = prompt_id_for(idempotency_key)
        if resubmission:
            existing = await self._find(prompt_id)
            if existing is not None:
                log.info("Prompt %s is already on the server (%s)", prompt_id, existing.status)
                return SubmitResult(
                    job_id=prompt_id,
                    status=existing.status,
                    queue_position=existing.queue_position,
                    estimated_wait_seconds=None,
                    replayed=True,
                )
        body = {"prompt": prompt, "client_id": self.client_id, "prompt_id": prompt_id}
        response = await self._send("submit", "POST", "/prompt", json=body)
        if response.status_code == 400:
            raise _validation_error(response)
        data = self._json_object(response, "POST", "/prompt")
        node_errors = data.get("node_errors")
        warnings = (
            skipped_output_warnings(node_errors, prompt) if isinstance(node_errors, dict) else ()
        )
        accepted_id = str(data.get("prompt_id") or prompt_id)
        if accepted_id != prompt_id:
            # NOTE: a server that ignores the requested prompt_id cannot be asked whether an
            # earlier attempt arrived, so a resubmission after a lost response may run twice.
            log.warning(
                "%s ignored the requested prompt_id %s and queued %s; update ComfyUI so that "
                "retries cannot queue a job twice",
                self.base_url,
                prompt_id,
                accepted_id,
            )
        return SubmitResult(
            job_id=accepted_id,
            status="queued",
            queue_position=None,
            estimated_wait_seconds=None,
            replayed=False,
            warnings=warnings,
        )

    # Status ----------------------------------------------------------------------------

    async def status(self, remote_id: str) -> RemoteJob:
        """Read a prompt's state; raises NotFoundError when the server does not know it,
        which after a restart of the server means the job is lost."""
        if self._jobs_api is not False:
            job = await self._status_from_jobs_api(remote_id)
            if job is not None:
                return job
        return await self._status_from_history(remote_id)

    async def _status_from_jobs_api(self, remote_id: str) -> RemoteJob | None:
        """Read ``GET /api/jobs/{id}``; return None when the route returns no job state, so
        the caller reads /history and /queue instead."""
        path = f"/api/jobs/{quote(remote_id, safe='')}"
        response = await self._send("status", "GET", path)
        if response.status_code in (404, 405):
            body = _json_body(response)
            # The route's own 404 is JSON ({"error": "Job not found"}), while a server without
            # the route returns aiohttp's plain-text 404 or a 405.
            if response.status_code == 405 or not isinstance(body, dict):
                log.info("%s has no /api/jobs; reading /history and /queue", self.base_url)
                self._jobs_api = False
            return None
        data = self._json_object(response, "GET", path)
        self._jobs_api = True
        created_at = iso_from_milliseconds(data.get("create_time"))
        match data.get("status"):
            case "pending":
                running, pending = await self._queue()
                queued = job_in_queue(remote_id, running, pending)
                return queued or RemoteJob(remote_id, "queued", created_at=created_at, raw=data)
            case "in_progress":
                started_at = iso_from_milliseconds(data.get("execution_start_time"))
                return RemoteJob(
                    remote_id, "running", created_at=created_at, started_at=started_at, raw=data
                )
            case "completed" | "failed":
                entry = await self._history_entry(remote_id)
                if entry is None:
                    # The history entry was deleted after the read above, so the job's own
                    # record is used.
                    workflow = data.get("workflow")
                    prompt = workflow.get("prompt") if isinstance(workflow, dict) else None
                    entry = {
                        "prompt": [None, remote_id, prompt, {}, None],
                        "outputs": data.get("outputs"),
                        "status": data.get("execution_status"),
                    }
                return self._finished_job(remote_id, entry)
            case other:
                raise ServerError(
                    f"GET {path} returned the unknown job status {other!r}.", url=path
                )

    async def _status_from_history(self, remote_id: str) -> RemoteJob:
        entry = await self._history_entry(remote_id)
        if entry is not None:
            return self._finished_job(remote_id, entry)
        running, pending = await self._queue()
        queued = job_in_queue(remote_id, running, pending)
        if queued is not None:
            return queued
        # A prompt is always in exactly one of pending, running and history, but it may have
        # finished between the two reads above.
        entry = await self._history_entry(remote_id)
        if entry is not None:
            return self._finished_job(remote_id, entry)
        raise NotFoundError(
            f"The ComfyUI server at {self.base_url} does not know prompt {remote_id}: it is "
            "in neither its queue nor its history (a restart of the server forgets both).",
            status=404,
            url=f"/history/{remote_id}",
        )

    async def _find(self, remote_id: str) -> RemoteJob | None:
        try:
            return await self.status(remote_id)
        except NotFoundError:
            return None

    async def _history_entry(self, remote_id: str) -> dict[str, Any] | None:
        path = f"/history/{quote(remote_id, safe='')}"
        data = self._json_object(await self._send("history", "GET", path), "GET", path)
        entry = data.get(remote_id)
        return entry if isinstance(entry, dict) else None

    async def _queue(self) -> tuple[list[Any], list[Any]]:
        """Return the running and pending queue items: ``[number, prompt_id, prompt,
        extra_data, outputs_to_execute]`` each."""
        data = self._json_object(await self._send("queue", "GET", "/queue"), "GET", "/queue")
        running = data.get("queue_running")
        pending = data.get("queue_pending")
        return (
            running if isinstance(running, list) else [],
            pending if isinstance(pending, list) else [],
        )

    def output_urls(self, outputs: Mapping[str, Any]) -> tuple[str, ...]:
        """Return the /view URL of every file of every node in ``outputs``."""
        return output_urls(outputs, self.view_url)

    def _finished_job(self, prompt_id: str, entry: Mapping[str, Any]) -> RemoteJob:
        return finished_job(prompt_id, entry, self.view_url)

    # Cancel ------------------------------------------------------------------------------

    async def cancel(self, remote_id: str) -> RemoteJob:
        """Remove a pending prompt from the queue, or interrupt it when it is running.

        Only the prompt ``remote_id`` is interrupted: POST /interrupt is sent only while the
        queue shows it running, and carries its prompt_id so newer servers check it too.
        Raises NotFoundError when the server does not know the prompt.
        """
        running, pending = await self._queue()
        if find_item(pending, remote_id) is not None:
            await self._checked("cancel", "POST", "/queue", json={"delete": [remote_id]})
            running, pending = await self._queue()
            still_queued = job_in_queue(remote_id, [], pending)
            if still_queued is not None:
                return still_queued
            if find_item(running, remote_id) is None:
                entry = await self._history_entry(remote_id)
                if entry is not None:
                    return self._finished_job(remote_id, entry)
                return RemoteJob(remote_id, "cancelled")
        if find_item(running, remote_id) is not None:
            # NOTE: servers older than the targeted interrupt ignore prompt_id and stop
            # whatever runs, so a prompt that ends between the queue read above and this
            # request could let the next one (maybe another user's) be interrupted.
            await self._checked("interrupt", "POST", "/interrupt", json={"prompt_id": remote_id})
            return await self._wait_for_history(remote_id)
        entry = await self._history_entry(remote_id)
        if entry is not None:
            return self._finished_job(remote_id, entry)
        raise NotFoundError(
            f"Cannot cancel prompt {remote_id}: the ComfyUI server at {self.base_url} does not "
            "know it.",
            status=404,
            url="/queue",
        )

    async def _wait_for_history(self, remote_id: str) -> RemoteJob:
        """Return the run's final state once it reaches the history, or "running" when the
        interrupted node has not stopped within INTERRUPT_WAIT_SECONDS (the websocket's
        execution_interrupted or a later status read reports the end)."""
        deadline = time.monotonic() + INTERRUPT_WAIT_SECONDS
        while time.monotonic() < deadline:
            await asyncio.sleep(INTERRUPT_POLL_SECONDS)
            entry = await self._history_entry(remote_id)
            if entry is not None:
                return self._finished_job(remote_id, entry)
        return RemoteJob(remote_id, "running")

    # Files and server facts ------------------------------------------------------------

    async def upload_image(self, path: Path | str, *, subfolder: str = "") -> str:
        """Upload an image to the server's input folder; return the name a LoadImage node
        takes (``subfolder/name`` when the server put it in a subfolder)."""
        path = Path(path)
        try:
            content = await asyncio.to_thread(path.read_bytes)
        except OSError as exc:
            raise ValidationError(
                f"Cannot read the image {path}: {exc.strerror or exc}. "
                "Choose an existing image file."
            ) from exc
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        fields = {"type": "input", "overwrite": "false"}
        if subfolder:
            fields["subfolder"] = subfolder
        response = await self._checked(
            "upload",
            "POST",
            "/upload/image",
            files={"image": (path.name, content, mime)},
            data=fields,
        )
        data = self._json_object(response, "POST", "/upload/image")
        name = data.get("name")
        if not isinstance(name, str) or not name:
            raise ServerError(f"Uploading {path.name} returned no file name.", url="/upload/image")
        folder = data.get("subfolder")
        return f"{folder}/{name}" if isinstance(folder, str) and folder else name

    async def object_info(self) -> dict[str, Any]:
        """Return ``GET /object_info``: the definition of every node class the server has."""
        response = await self._checked(
            "object_info", "GET", "/object_info", timeout=OBJECT_INFO_TIMEOUT
        )
        return self._json_object(response, "GET", "/object_info")

    async def system_stats(self) -> dict[str, Any]:
        """Return ``GET /system_stats``; ``summarize_system_stats`` makes a line of it."""
        response = await self._checked("system_stats", "GET", "/system_stats")
        return self._json_object(response, "GET", "/system_stats")

    def view_url(self, filename: str, subfolder: str = "", type: object = "output") -> str:
        """Return the ``/view`` URL of one output file, every value percent-encoded."""
        kind = type if isinstance(type, str) and type else "output"
        query = urlencode(
            {"filename": filename, "subfolder": subfolder, "type": kind}, quote_via=quote
        )
        return f"{self.base_url}/view?{query}"

    def download_headers(self, url: str) -> dict[str, str]:
        """Return the auth header for a URL on this server (same scheme, host and port), else
        no header."""
        if not self._auth_header:
            return {}
        try:
            target = httpx.URL(url)
        except httpx.InvalidURL:
            return {}
        if _origin(target) == _origin(httpx.URL(self.base_url)):
            return self.auth_headers
        return {}

    # Requests ----------------------------------------------------------------------------

    async def _send(self, kind: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send one request and count it; transport failures become NetworkError."""
        self.requests[kind] += 1
        started = time.monotonic()
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise NetworkError(f"{method} {self.base_url}{path} timed out.", url=path) from exc
        except httpx.TransportError as exc:
            raise NetworkError(
                f"{method} {self.base_url}{path} failed: {exc or type(exc).__name__}. "
                "Check that the ComfyUI server is running and reachable.",
                url=path,
            ) from exc
        log.debug(
            "%s %s -> %d in %.0f ms",
            method,
            path,
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        return response

    async def _checked(self, kind: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send one request; raise the matching BackendError unless the response is a 2xx."""
        response = await self._send(kind, method, path, **kwargs)
        if not response.is_success:
            raise _error_for(response, method, path)
        return response

    def _json_object(self, response: httpx.Response, method: str, path: str) -> dict[str, Any]:
        if not response.is_success:
            raise _error_for(response, method, path)
        data = _json_body(response)
        if not isinstance(data, dict):
            raise ServerError(
                f"{method} {path} returned a body that is not a JSON object.",
                status=response.status_code,
                url=path,
            )
        return data


# Parsing helpers --------------------------------------------------------------------------


def _json_body(response: httpx.Response) -> object:
    try:
        return response.json()
    except ValueError:
        return None


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    default_port = {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host.lower(), url.port or default_port


def _error_for(response: httpx.Response, method: str, path: str) -> BackendError:
    """Map a non-2xx response to the backend's exception family."""
    status = response.status_code
    body = _json_body(response)
    server_message = None
    if isinstance(body, dict):
        error = body.get("error")
        server_message = error.get("message") if isinstance(error, dict) else error
    elif response.text.strip() and len(response.text) <= 200:
        server_message = response.text.strip()
    message = f"{method} {path} returned HTTP {status}"
    message += f": {server_message}" if isinstance(server_message, str) else "."
    kwargs: dict[str, Any] = {"status": status, "url": path, "details": body}
    if status == 401:
        return AuthError(
            f"{message} The server (or the proxy in front of it) rejected the auth header; "
            "check its name and value in the connection's settings.",
            **kwargs,
        )
    if status == 403:
        return PermissionDeniedError(
            f"{message} The server (or its proxy) denied access; check the auth header in "
            "the connection's settings.",
            **kwargs,
        )
    if status == 404:
        return NotFoundError(message, **kwargs)
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"), time.time())
        return RateLimitError(message, retry_after=retry_after, **kwargs)
    if status in (408, 409) or status >= 500:
        return ServerError(message, **kwargs)
    return ValidationError(message, **kwargs)


def _validation_error(response: httpx.Response) -> ValidationError:
    """Describe a 400 from POST /prompt, naming each invalid node, its class and its inputs."""
    data = _json_body(response)
    data = data if isinstance(data, dict) else {}
    error = data.get("error")
    error = error if isinstance(error, dict) else {"message": str(error or "")}
    node_errors = data.get("node_errors")
    node_errors = node_errors if isinstance(node_errors, dict) else {}
    headline = str(error.get("message") or "the workflow is invalid").rstrip(".")
    lines = describe_node_errors(node_errors)
    details = error.get("details")
    if not lines and isinstance(details, str) and details.strip():
        # Errors before input validation (an unknown node class) name the node here only.
        lines = [details.strip()]
    message = f"The ComfyUI server rejected the workflow: {headline}."
    if lines:
        message += "\n" + "\n".join(lines)
    message += (
        "\nFix these nodes in the workflow (or install missing custom nodes on the server), "
        "then queue the job again."
    )
    code = error.get("type")
    return ValidationError(
        message,
        status=400,
        code=code if isinstance(code, str) else None,
        url="/prompt",
        details=node_errors,
    )
