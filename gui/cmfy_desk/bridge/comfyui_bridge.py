"""The websocket bridge of a ComfyUI server: job states, progress and previews as they happen.

A ComfyUI server sends the events of a run only to the websocket whose clientId submitted
it, so the bridge keeps one socket per connection under the client's id. Status reads cover
what the socket misses, such as a run that ended while it was down or a server that restarted
and forgot its queue. Every (re)connect reads each watched job once. While the socket is down,
or silent while jobs are watched, the jobs are read every ``poll_interval`` seconds.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import struct
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from cmfy_desk.backends.base import RemoteJob
from cmfy_desk.backends.comfyui import ComfyUIClient
from cmfy_desk.backends.comfyui_protocol import (
    FINAL_REMOTE_STATUSES,
    iso_from_milliseconds,
    remote_job_from_error,
)
from cmfy_desk.backends.errors import BackendError, NotFoundError
from cmfy_desk.bridge.events import (
    BridgeChanged,
    BridgeState,
    BridgeStatus,
    EmitBridgeEvent,
    JobPreview,
    JobProgress,
    StatusSink,
)
from cmfy_desk.store import Job, JobStatus, Store

log = logging.getLogger(__name__)

# Binary frames start with a 4-byte big-endian event type (ComfyUI's protocol.py).
PREVIEW_IMAGE = 1  # then a 4-byte image type and the image
PREVIEW_IMAGE_WITH_METADATA = 4  # then a 4-byte length, that much JSON, and the image
IMAGE_TYPES = {1: "image/jpeg", 2: "image/png"}
# Sent as the first message: the server then sends previews with their prompt_id (type 4).
FEATURE_FLAGS = {"type": "feature_flags", "data": {"supports_preview_metadata": True}}

HEARTBEAT_SECONDS = 10.0  # websocket ping interval; a socket without pongs is closed
CONNECT_TIMEOUT_SECONDS = 15.0
FIRST_RECONNECT_DELAY = 0.5  # seconds; doubles per failed attempt up to reconnect_max_delay
STABLE_CONNECTION_SECONDS = 10.0
MAX_MESSAGE_BYTES = 64 * 2**20
# After execution_success the run reaches the history a moment later; reads wait this long
# (seconds) between tries before leaving the job to the periodic reads.
CONFIRM_DELAYS = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6)
# Events of prompts not watched yet are kept a little: a run can start before the submission's
# response has made the job watched. Bounded per prompt and in prompts.
BUFFERED_PROMPTS = 32
BUFFERED_EVENTS_PER_PROMPT = 500
_END_TYPES = frozenset({"execution_success", "execution_error", "execution_interrupted"})
_BUFFERED_TYPES = frozenset(
    {
        "execution_start",
        "execution_cached",
        "executing",
        "executed",
        "execution_success",
        "execution_error",
        "execution_interrupted",
    }
)


@dataclass
class _Watch:
    job_id: int
    remote_id: str
    prompt: dict[str, Any]
    done_nodes: set[str] = field(default_factory=set)
    current_node: str | None = None
    # What `executed` messages reported, by node: the record of a run whose history entry
    # was deleted before it could be read.
    outputs: dict[str, Any] = field(default_factory=dict)
    succeeded: bool = False

    def node_class(self, node_id: str | None) -> str:
        node = self.prompt.get(node_id) if node_id else None
        class_type = node.get("class_type") if isinstance(node, dict) else None
        return class_type if isinstance(class_type, str) else ""


class ComfyUIBridge:
    """Turns one ComfyUI server's websocket into job states, JobProgress and JobPreview.

    ``apply(job_id, remote)`` receives every state, or None when the server has no record of
    the job. ``emit`` receives progress, previews, and BridgeChanged whenever the socket's
    state or message changes. Start it after the scheduler, whose recovery must run before
    this bridge applies the states it reads on connect.
    """

    def __init__(
        self,
        client: ComfyUIClient,
        store: Store,
        apply: StatusSink,
        emit: EmitBridgeEvent,
        *,
        connection: str,
        silence_timeout: float = 15.0,
        reconnect_max_delay: float = 30.0,
        poll_interval: float = 2.0,
    ) -> None:
        self._client = client
        self._store = store
        self._apply_sink = apply
        self._emit = emit
        self._connection = connection
        self._silence_timeout = silence_timeout
        self._reconnect_max_delay = reconnect_max_delay
        self._poll_interval = poll_interval
        self._watches: dict[int, _Watch] = {}
        self._by_remote: dict[str, _Watch] = {}
        self._buffered: OrderedDict[str, list[tuple[str, dict[str, Any]]]] = OrderedDict()
        self._needs_read: set[int] = set()
        self._executing_prompt: str | None = None
        self._state = BridgeState.SOCKET_DOWN
        self._message = "Not connected yet."
        self._connected = False
        self._last_frame_at = 0.0  # time.monotonic() of the last frame
        self._last_delivery_at: float | None = None  # Unix time of the last frame
        self._status_reads = 0
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._reads: dict[int, asyncio.Task[None]] = {}
        self._rng = random.Random()
        self._handlers: dict[str, Callable[[_Watch, dict[str, Any]], None]] = {
            "execution_start": self._on_execution_start,
            "execution_cached": self._on_execution_cached,
            "executing": self._on_executing,
            "progress": self._on_progress,
            "executed": self._on_executed,
            "execution_success": self._on_execution_success,
            "execution_error": self._on_execution_error,
            "execution_interrupted": self._on_execution_interrupted,
        }

    # Lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Watch the connection's submitted and running jobs, then connect; each connect
        reads every watched job's status once."""
        for job in self._store.jobs(statuses=[JobStatus.SUBMITTED, JobStatus.RUNNING]):
            if job.connection == self._connection:
                self.watch(job)
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=CONNECT_TIMEOUT_SECONDS)
        )
        self._spawn(self._run_socket(), f"comfyui-socket {self._connection}")
        self._spawn(self._run_reads(), f"comfyui-reads {self._connection}")

    async def stop(self) -> None:
        tasks = [*self._tasks, *self._reads.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        self._reads.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None
        self._connected = False
        self._set_state(BridgeState.STOPPED, "Stopped.")

    def webhook_url_for(self, job: Job) -> str | None:
        return None  # ComfyUI servers send no webhooks

    def watch(self, job: Job) -> None:
        if job.remote_id is None:
            return
        existing = self._watches.get(job.id)
        if existing is not None and existing.remote_id == job.remote_id:
            return
        if existing is not None:
            self.unwatch(job.id)
        watch = _Watch(job.id, job.remote_id, job.prompt)
        self._watches[job.id] = watch
        self._by_remote[job.remote_id] = watch
        if job.remote_id in self._buffered:
            # Replayed on the next turn of the loop, not inside the caller, which may be in
            # the middle of a state change of this job.
            asyncio.get_running_loop().call_soon(self._replay, job.remote_id)

    def unwatch(self, job_id: int) -> None:
        watch = self._watches.pop(job_id, None)
        if watch is None:
            return
        self._by_remote.pop(watch.remote_id, None)
        self._needs_read.discard(job_id)
        read = self._reads.pop(job_id, None)
        if read is not None and read is not asyncio.current_task():
            read.cancel()

    @property
    def status(self) -> BridgeStatus:
        return BridgeStatus(
            connection=self._connection,
            state=self._state,
            message=self._message,
            last_delivery_at=self._last_delivery_at,
            status_reads=self._status_reads,
        )

    @property
    def watched(self) -> int:
        return len(self._watches)

    # The socket ------------------------------------------------------------------------

    async def _run_socket(self) -> None:
        delay = FIRST_RECONNECT_DELAY
        url = self._client.websocket_url
        while True:
            assert self._session is not None
            try:
                socket = await asyncio.wait_for(self._connect(url), CONNECT_TIMEOUT_SECONDS)
            except aiohttp.WSServerHandshakeError as exc:
                message = self._handshake_message(exc)
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                message = (
                    f"Cannot reach the ComfyUI server at {self._client.base_url} "
                    f"({exc or type(exc).__name__})."
                )
            else:
                connected_at = time.monotonic()
                try:
                    await self._listen(socket)
                    ending = "closed"
                except (aiohttp.ClientError, OSError) as exc:
                    ending = f"failed ({exc or type(exc).__name__})"
                finally:
                    self._connected = False
                    await socket.close()
                if time.monotonic() - connected_at > STABLE_CONNECTION_SECONDS:
                    # A socket that stayed up was a working connection, so the next attempt
                    # starts quickly; one closed right away keeps backing off.
                    delay = FIRST_RECONNECT_DELAY
                message = (
                    f"The websocket of {self._client.base_url} {ending} "
                    f"(close code {socket.close_code})."
                )
            self._set_state(
                BridgeState.SOCKET_DOWN,
                f"{message} Reconnecting; job status is read from the server's history.",
            )
            await asyncio.sleep(delay * self._rng.uniform(0.5, 1.0))
            delay = min(self._reconnect_max_delay, delay * 2)

    async def _connect(self, url: str) -> aiohttp.ClientWebSocketResponse:
        assert self._session is not None
        return await self._session.ws_connect(
            url,
            headers=self._client.auth_headers,
            heartbeat=HEARTBEAT_SECONDS,
            max_msg_size=MAX_MESSAGE_BYTES,
        )

    def _handshake_message(self, exc: aiohttp.WSServerHandshakeError) -> str:
        if exc.status in (401, 403):
            return (
                f"The ComfyUI server at {self._client.base_url} (or its proxy) rejected the "
                f"websocket with HTTP {exc.status}; check the auth header in the settings."
            )
        return (
            f"The ComfyUI server at {self._client.base_url} rejected the websocket "
            f"(HTTP {exc.status} {exc.message})."
        )

    async def _listen(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        await socket.send_json(FEATURE_FLAGS)
        self._connected = True
        self._last_frame_at = time.monotonic()
        self._set_state(BridgeState.SOCKET, f"Connected to {self._client.base_url}.")
        # Frames that arrive meanwhile wait in the socket's buffer and are handled after.
        await self._reconcile()
        async for frame in socket:
            self._last_frame_at = time.monotonic()
            self._last_delivery_at = time.time()
            if frame.type is aiohttp.WSMsgType.TEXT:
                self._on_text(frame.data)
            elif frame.type is aiohttp.WSMsgType.BINARY:
                self._on_binary(frame.data)
            elif frame.type is aiohttp.WSMsgType.ERROR:
                log.info("Websocket of %s failed: %s", self._client.base_url, socket.exception())
                break

    async def _reconcile(self) -> None:
        """Read every watched job once: runs may have ended while the socket was down."""
        for watch in list(self._watches.values()):
            await self._read(watch)

    # Status reads ----------------------------------------------------------------------

    async def _run_reads(self) -> None:
        """Read watched jobs every poll_interval while the socket is down or silent, and
        jobs whose end the socket announced but a read could not yet confirm."""
        silent = False
        while True:
            await asyncio.sleep(self._poll_interval)
            quiet_for = time.monotonic() - self._last_frame_at
            now_silent = (
                self._connected and bool(self._watches) and quiet_for > self._silence_timeout
            )
            if now_silent != silent:
                silent = now_silent
                self._on_silence_changed(silent, quiet_for)
            if not self._connected or silent:
                watches = list(self._watches.values())
            else:
                watches = [self._watches[i] for i in list(self._needs_read) if i in self._watches]
            for watch in watches:
                if watch.job_id in self._watches and watch.job_id not in self._reads:
                    await self._read(watch)

    def _on_silence_changed(self, silent: bool, quiet_for: float) -> None:
        if silent:
            log.info(
                "No websocket frame from %s for %.0f s while jobs are watched; reading their "
                "status every %.1f s",
                self._client.base_url,
                quiet_for,
                self._poll_interval,
            )
            self._set_state(
                BridgeState.SOCKET,
                f"Connected to {self._client.base_url}, but no event for "
                f"{self._silence_timeout:.0f} s; reading job status from the server's history.",
            )
        elif self._connected:
            self._set_state(BridgeState.SOCKET, f"Connected to {self._client.base_url}.")

    async def _read(self, watch: _Watch) -> None:
        """Read one job's status and apply it; NotFoundError marks the job lost."""
        self._status_reads += 1
        try:
            remote = await self._client.status(watch.remote_id)
        except NotFoundError:
            self._apply(watch, None)
            return
        except BackendError as exc:
            log.info("Status of job %d failed (%s); reading it again later", watch.job_id, exc)
            self._needs_read.add(watch.job_id)
            return
        self._needs_read.discard(watch.job_id)
        if remote.status == "running" and self._executing_prompt is None:
            self._executing_prompt = watch.remote_id
        self._apply(watch, remote)

    async def _confirm_success(self, watch: _Watch) -> None:
        """Read a run that reported execution_success until its history entry is there, and
        apply the completed job with every output the history lists."""
        for delay in CONFIRM_DELAYS:
            self._status_reads += 1
            try:
                remote = await self._client.status(watch.remote_id)
            except NotFoundError:
                # The history entry was deleted right after the run: the outputs the
                # `executed` messages reported are the only record left.
                remote = RemoteJob(
                    watch.remote_id, "completed", images=self._client.output_urls(watch.outputs)
                )
            except BackendError as exc:
                log.info("Reading finished job %d failed (%s)", watch.job_id, exc)
                break
            if remote.status in FINAL_REMOTE_STATUSES:
                self._apply(watch, remote)
                return
            await asyncio.sleep(delay)
        self._needs_read.add(watch.job_id)

    def _read_soon(self, watch: _Watch) -> None:
        if watch.job_id in self._reads:
            return
        job_id = watch.job_id
        task = asyncio.create_task(self._confirm_success(watch), name=f"confirm-{job_id}")
        self._reads[job_id] = task

        def forget(done: asyncio.Task[None]) -> None:
            if self._reads.get(job_id) is done:
                del self._reads[job_id]

        task.add_done_callback(forget)

    # Messages --------------------------------------------------------------------------

    def _on_text(self, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            log.warning("Ignoring a websocket message that is not JSON: %.200r", text)
            return
        if not isinstance(message, dict):
            return
        kind = message.get("type")
        data = message.get("data")
        if not isinstance(kind, str) or not isinstance(data, dict):
            return
        prompt_id = data.get("prompt_id")
        if not isinstance(prompt_id, str):
            # After a reconnect the server repeats the current `executing` without prompt_id.
            prompt_id = self._executing_prompt
        self._follow_execution(kind, data, prompt_id)
        handler = self._handlers.get(kind)
        if handler is None or prompt_id is None:
            return
        watch = self._by_remote.get(prompt_id)
        if watch is not None:
            handler(watch, data)
        elif kind in _BUFFERED_TYPES:
            self._buffer(prompt_id, kind, data)

    def _follow_execution(self, kind: str, data: dict[str, Any], prompt_id: str | None) -> None:
        """Track which prompt runs, for previews that do not name their prompt."""
        if kind == "execution_start":
            self._executing_prompt = prompt_id
            return
        ended = kind in _END_TYPES or (kind == "executing" and data.get("node") is None)
        if ended and self._executing_prompt == prompt_id:
            self._executing_prompt = None

    def _on_binary(self, frame: bytes) -> None:
        if len(frame) < 8:
            return
        (event,) = struct.unpack(">I", frame[:4])
        if event == PREVIEW_IMAGE:
            (image_type,) = struct.unpack(">I", frame[4:8])
            prompt_id = self._executing_prompt
            mime = IMAGE_TYPES.get(image_type, "image/jpeg")
            image = frame[8:]
        elif event == PREVIEW_IMAGE_WITH_METADATA:
            (length,) = struct.unpack(">I", frame[4:8])
            try:
                metadata = json.loads(frame[8 : 8 + length])
            except ValueError:
                log.warning("Ignoring a preview whose metadata is not JSON")
                return
            if not isinstance(metadata, dict):
                return
            prompt_id = metadata.get("prompt_id")
            mime = str(metadata.get("image_type") or "image/jpeg")
            image = frame[8 + length :]
        else:
            return  # progress text and newer frame types
        watch = self._by_remote.get(prompt_id) if isinstance(prompt_id, str) else None
        if watch is not None and image:
            self._emit(JobPreview(watch.job_id, bytes(image), mime))

    def _on_execution_start(self, watch: _Watch, data: dict[str, Any]) -> None:
        started_at = iso_from_milliseconds(data.get("timestamp"))
        self._apply(watch, RemoteJob(watch.remote_id, "running", started_at=started_at))

    def _on_execution_cached(self, watch: _Watch, data: dict[str, Any]) -> None:
        nodes = data.get("nodes")
        if isinstance(nodes, list):
            watch.done_nodes.update(str(node) for node in nodes)
        self._emit_progress(watch, watch.current_node, 0, 0)

    def _on_executing(self, watch: _Watch, data: dict[str, Any]) -> None:
        node = data.get("node")
        if node is None:
            # Sent after the run reached the history: confirm an end not yet applied.
            if watch.succeeded:
                self._read_soon(watch)
            return
        node = str(node)
        if watch.current_node is not None and watch.current_node != node:
            watch.done_nodes.add(watch.current_node)
        watch.current_node = node
        self._emit_progress(watch, node, 0, 0)

    def _on_progress(self, watch: _Watch, data: dict[str, Any]) -> None:
        node = data.get("node")
        node_id = str(node) if node is not None else watch.current_node
        value = data.get("value")
        maximum = data.get("max")
        self._emit_progress(
            watch,
            node_id,
            int(value) if isinstance(value, int | float) else 0,
            int(maximum) if isinstance(maximum, int | float) else 0,
        )

    def _on_executed(self, watch: _Watch, data: dict[str, Any]) -> None:
        node = data.get("node")
        if node is None:
            return
        watch.done_nodes.add(str(node))
        output = data.get("output")
        if isinstance(output, dict):
            watch.outputs[str(node)] = output

    def _on_execution_success(self, watch: _Watch, data: dict[str, Any]) -> None:
        watch.succeeded = True
        if watch.current_node is not None:
            watch.done_nodes.add(watch.current_node)
        self._read_soon(watch)

    def _on_execution_error(self, watch: _Watch, data: dict[str, Any]) -> None:
        self._apply(
            watch,
            remote_job_from_error(
                watch.remote_id, data, completed_at=iso_from_milliseconds(data.get("timestamp"))
            ),
        )

    def _on_execution_interrupted(self, watch: _Watch, data: dict[str, Any]) -> None:
        completed_at = iso_from_milliseconds(data.get("timestamp"))
        self._apply(watch, RemoteJob(watch.remote_id, "cancelled", completed_at=completed_at))

    def _emit_progress(self, watch: _Watch, node_id: str | None, value: int, maximum: int) -> None:
        self._emit(
            JobProgress(
                job_id=watch.job_id,
                node_id=node_id or "",
                node_class=watch.node_class(node_id),
                value=value,
                maximum=maximum,
                nodes_done=len(watch.done_nodes),
                nodes_total=len(watch.prompt),
            )
        )

    def _buffer(self, prompt_id: str, kind: str, data: dict[str, Any]) -> None:
        events = self._buffered.get(prompt_id)
        if events is None:
            events = self._buffered[prompt_id] = []
            while len(self._buffered) > BUFFERED_PROMPTS:
                self._buffered.popitem(last=False)
        if len(events) < BUFFERED_EVENTS_PER_PROMPT:
            events.append((kind, data))

    def _replay(self, prompt_id: str) -> None:
        events = self._buffered.pop(prompt_id, [])
        for kind, data in events:
            watch = self._by_remote.get(prompt_id)
            if watch is None:
                return
            self._handlers[kind](watch, data)

    # Helpers ---------------------------------------------------------------------------

    def _apply(self, watch: _Watch, remote: RemoteJob | None) -> None:
        """Pass a state to the sink; a final state (or None) ends the watch."""
        if self._watches.get(watch.job_id) is not watch:
            return  # a late report of a job that already ended or was unwatched
        if remote is None or remote.status in FINAL_REMOTE_STATUSES:
            self.unwatch(watch.job_id)
            if self._executing_prompt == watch.remote_id:
                self._executing_prompt = None
        try:
            self._apply_sink(watch.job_id, remote)
        except Exception:
            # A failure of the sink must not stop the socket that serves every other job.
            log.exception("Applying the status of job %d failed", watch.job_id)

    def _set_state(self, state: BridgeState, message: str) -> None:
        if (state, message) == (self._state, self._message):
            return
        log.info("Bridge of %s: %s: %s", self._connection, state, message)
        self._state = state
        self._message = message
        self._emit(BridgeChanged(self.status))

    def _spawn(self, coroutine: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("Task %s failed", task.get_name(), exc_info=task.exception())
