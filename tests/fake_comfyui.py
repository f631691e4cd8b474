"""A fake ComfyUI server on loopback that speaks the real HTTP and websocket protocol.

It validates prompts the way ComfyUI's ``validate_prompt`` does and runs queued prompts one
at a time in short timed steps. Each run sends the events a real server sends to the websocket
of the client_id that submitted it: execution_start, execution_cached, executing, progress,
binary previews, executed, and execution_success, execution_error or execution_interrupted.
Queue changes send a status frame to every socket. Tests change its controls while it runs:
drop, reject or mute websockets, restart it, pause it, make a node fail or an output node
produce nothing, require an auth header, offer ``/api/jobs``.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import io
import json
import mimetypes
import struct
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web
from PIL import Image
from PIL.PngImagePlugin import PngInfo

PREVIEW_IMAGE = 1
PREVIEW_IMAGE_WITH_METADATA = 4
JPEG = 1
INT_MAX = 0xFFFFFFFFFFFFFFFF


@dataclass(frozen=True)
class NodeClass:
    """A node class of the fake: its required inputs (type, options) and how it runs."""

    inputs: dict[str, tuple[str, dict[str, Any]]]
    outputs: tuple[str, ...] = ()
    output_node: bool = False
    output_key: str = "images"  # the key its files appear under in `executed` and history
    output_type: str = "output"  # output or temp
    extension: str = ".png"
    sampler: bool = False  # runs `steps` steps with progress and previews
    category: str = "fake"


def _int(low: int, high: int = INT_MAX) -> tuple[str, dict[str, Any]]:
    return ("INT", {"default": low, "min": low, "max": high})


def _float(low: float, high: float) -> tuple[str, dict[str, Any]]:
    return ("FLOAT", {"default": low, "min": low, "max": high})


_STRING: tuple[str, dict[str, Any]] = ("STRING", {})


def _link(kind: str) -> tuple[str, dict[str, Any]]:
    return (kind, {})


NODE_CLASSES: dict[str, NodeClass] = {
    "CheckpointLoaderSimple": NodeClass(
        {"ckpt_name": _STRING}, ("MODEL", "CLIP", "VAE"), category="loaders"
    ),
    "CLIPTextEncode": NodeClass(
        {"text": _STRING, "clip": _link("CLIP")}, ("CONDITIONING",), category="conditioning"
    ),
    "EmptyLatentImage": NodeClass(
        {"width": _int(16, 16384), "height": _int(16, 16384), "batch_size": _int(1, 4096)},
        ("LATENT",),
        category="latent",
    ),
    "KSampler": NodeClass(
        {
            "model": _link("MODEL"),
            "seed": _int(0),
            "steps": _int(1, 10000),
            "cfg": _float(0.0, 100.0),
            "sampler_name": _STRING,
            "scheduler": _STRING,
            "positive": _link("CONDITIONING"),
            "negative": _link("CONDITIONING"),
            "latent_image": _link("LATENT"),
            "denoise": _float(0.0, 1.0),
        },
        ("LATENT",),
        sampler=True,
        category="sampling",
    ),
    "VAEDecode": NodeClass(
        {"samples": _link("LATENT"), "vae": _link("VAE")}, ("IMAGE",), category="latent"
    ),
    "EmptyImage": NodeClass(
        {
            "width": _int(1, 16384),
            "height": _int(1, 16384),
            "batch_size": _int(1, 4096),
            "color": _int(0, 0xFFFFFF),
        },
        ("IMAGE",),
        category="image",
    ),
    "ImageBlur": NodeClass(
        {"image": _link("IMAGE"), "blur_radius": _int(1, 31), "sigma": _float(0.1, 10.0)},
        ("IMAGE",),
        category="image/postprocessing",
    ),
    "LoadImage": NodeClass({"image": _STRING}, ("IMAGE", "MASK"), category="image"),
    "SaveImage": NodeClass(
        {"images": _link("IMAGE"), "filename_prefix": _STRING}, output_node=True, category="image"
    ),
    "PreviewImage": NodeClass(
        {"images": _link("IMAGE")}, output_node=True, output_type="temp", category="image"
    ),
    "SaveAnimatedWEBP": NodeClass(
        {"images": _link("IMAGE"), "filename_prefix": _STRING, "fps": _float(0.01, 1000.0)},
        output_node=True,
        extension=".webp",
        category="image/animation",
    ),
    # Video nodes of a popular custom node pack report their files under "gifs".
    "VHS_VideoCombine": NodeClass(
        {"images": _link("IMAGE"), "frame_rate": _float(1.0, 120.0), "filename_prefix": _STRING},
        output_node=True,
        output_key="gifs",
        extension=".gif",
        category="video",
    ),
}


@dataclass
class Failure:
    exception_type: str
    message: str


@dataclass
class FakeComfyUI:
    """The server's state and the controls tests use. Start it with ``running_fake_comfyui``."""

    root: Path
    step_seconds: float = 0.02
    # Controls, changeable while the server runs.
    jobs_api: bool = False  # serve GET /api/jobs/{id}, as newer servers do
    required_auth: tuple[str, str] | None = None
    legacy_previews: bool = False  # ignore feature flags: previews without metadata (type 1)
    muted: bool = False  # keep websockets open but send nothing
    reject_websockets: bool = False  # reject /ws with a 503
    failures: dict[str, Failure] = field(default_factory=dict)  # node id or class -> failure
    empty_outputs: set[str] = field(default_factory=set)  # node ids or classes that save nothing
    invalid_nodes: dict[str, str] = field(default_factory=dict)  # node id -> validation message
    record_history: bool = True  # false: runs leave no history entry, as if deleted at once
    # What happened, for assertions.
    submissions: list[tuple[str, str | None]] = field(default_factory=list)  # prompt_id, client
    runs: Counter[str] = field(default_factory=Counter)  # prompt_id -> executions started
    interrupt_requests: list[str | None] = field(default_factory=list)
    interrupted: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    websocket_connects: Counter[str] = field(default_factory=Counter)
    uploaded: set[str] = field(default_factory=set)
    port: int = 0

    def __post_init__(self) -> None:
        self._queue: list[list[Any]] = []
        self._running: list[Any] | None = None
        self._history: dict[str, dict[str, Any]] = {}
        self._number = 0
        self._counter = 0
        self._cache: dict[str, dict[str, Any] | None] = {}
        self._interrupt = False
        self._last_node: str | None = None
        self._sockets: dict[str, web.WebSocketResponse] = {}
        self._socket_flags: dict[str, dict[str, Any]] = {}
        self._work = asyncio.Event()
        self._resumed = asyncio.Event()
        self._resumed.set()
        self._runner_task: asyncio.Task[None] | None = None
        self._site_runner: web.AppRunner | None = None
        for folder in ("output", "temp", "input"):
            (self.root / folder).mkdir(parents=True, exist_ok=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # Lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(middlewares=[self._auth_middleware])
        app.add_routes(
            [
                web.get("/ws", self._websocket),
                web.post("/prompt", self._post_prompt),
                web.get("/queue", self._get_queue),
                web.post("/queue", self._post_queue),
                web.post("/interrupt", self._post_interrupt),
                web.get("/history", self._get_history),
                web.get("/history/{prompt_id}", self._get_history_entry),
                web.get("/api/jobs/{job_id}", self._get_job),
                web.get("/view", self._view),
                web.post("/upload/image", self._upload_image),
                web.get("/object_info", self._object_info),
                web.get("/system_stats", self._system_stats),
            ]
        )
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._site_runner = runner
        self.port = int(runner.addresses[0][1])
        self._runner_task = asyncio.create_task(self._run_queue(), name="fake-comfyui-queue")

    async def stop(self) -> None:
        await self._stop_runner()
        await self.drop_websockets()
        if self._site_runner is not None:
            await self._site_runner.cleanup()
            self._site_runner = None

    async def _stop_runner(self) -> None:
        if self._runner_task is not None:
            self._runner_task.cancel()
            await asyncio.gather(self._runner_task, return_exceptions=True)
            self._runner_task = None

    # Controls ----------------------------------------------------------------------------

    async def drop_websockets(self) -> None:
        """Close every websocket from the server's side, as a network drop would."""
        sockets = list(self._sockets.values())
        self._sockets.clear()
        await asyncio.gather(*(socket.close() for socket in sockets), return_exceptions=True)

    async def restart(self) -> None:
        """Forget the queue, the history and the cache, and close every websocket."""
        await self._stop_runner()
        self._queue.clear()
        self._history.clear()
        self._cache.clear()
        self._running = None
        self._number = 0
        await self.drop_websockets()
        self._runner_task = asyncio.create_task(self._run_queue(), name="fake-comfyui-queue")

    def pause(self) -> None:
        """Hold the running prompt at its next step and keep the queue waiting."""
        self._resumed.clear()

    def resume(self) -> None:
        self._resumed.set()

    def fail_node(
        self, node: str, exception_type: str = "RuntimeError", message: str = "boom"
    ) -> None:
        """Make the node (an id or a class) raise while it runs, in every later run."""
        self.failures[node] = Failure(exception_type, message)

    @property
    def running_prompt(self) -> str | None:
        return str(self._running[1]) if self._running else None

    def history_entry(self, prompt_id: str) -> dict[str, Any] | None:
        return self._history.get(prompt_id)

    def headers_of(self, path: str) -> list[dict[str, str]]:
        return [headers for _method, logged, headers in self.requests if logged == path]

    # HTTP --------------------------------------------------------------------------------

    @web.middleware
    async def _auth_middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        self.requests.append((request.method, request.path, dict(request.headers)))
        if self.required_auth is not None:
            name, value = self.required_auth
            if request.headers.get(name) != value:
                return web.Response(status=401, text="401: Unauthorized")
        return await handler(request)

    async def _post_prompt(self, request: web.Request) -> web.Response:
        body = await request.json()
        number = self._number
        self._number += 1
        if "prompt" not in body:
            error = {"type": "no_prompt", "message": "No prompt provided", "details": ""}
            return web.json_response({"error": error, "node_errors": {}}, status=400)
        prompt = body["prompt"]
        prompt_id = str(body.get("prompt_id") or uuid.uuid4())
        ok, error, good_outputs, node_errors = self._validate(prompt)
        if not ok:
            return web.json_response({"error": error, "node_errors": node_errors}, status=400)
        extra_data: dict[str, Any] = {"create_time": int(time.time() * 1000)}
        if "client_id" in body:
            extra_data["client_id"] = body["client_id"]
        # Like the real server, a repeated prompt_id is queued again.
        heapq.heappush(self._queue, [number, prompt_id, prompt, extra_data, good_outputs])
        self.submissions.append((prompt_id, body.get("client_id")))
        self._work.set()
        await self._broadcast_status()
        return web.json_response(
            {"prompt_id": prompt_id, "number": number, "node_errors": node_errors}
        )

    async def _get_queue(self, request: web.Request) -> web.Response:
        running = [self._running] if self._running else []
        return web.json_response({"queue_running": running, "queue_pending": list(self._queue)})

    async def _post_queue(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("clear"):
            self._queue.clear()
        for prompt_id in body.get("delete") or ():
            for item in list(self._queue):
                if item[1] == prompt_id:
                    self._queue.remove(item)
                    heapq.heapify(self._queue)
                    self.deleted.append(prompt_id)
                    break
        await self._broadcast_status()
        return web.Response(status=200)

    async def _post_interrupt(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            body = {}
        prompt_id = body.get("prompt_id") if isinstance(body, dict) else None
        self.interrupt_requests.append(prompt_id)
        if prompt_id is None or (self._running is not None and self._running[1] == prompt_id):
            self._interrupt = self._running is not None
        return web.Response(status=200)

    async def _get_history(self, request: web.Request) -> web.Response:
        return web.json_response(self._history)

    async def _get_history_entry(self, request: web.Request) -> web.Response:
        prompt_id = request.match_info["prompt_id"]
        entry = self._history.get(prompt_id)
        return web.json_response({prompt_id: entry} if entry is not None else {})

    async def _get_job(self, request: web.Request) -> web.Response:
        if not self.jobs_api:
            return web.Response(status=404, text="404: Not Found")
        job_id = request.match_info["job_id"]
        if job_id in self._history:
            return web.json_response(_history_job(job_id, self._history[job_id]))
        if self._running is not None and self._running[1] == job_id:
            return web.json_response(_queue_job(self._running, "in_progress"))
        for item in self._queue:
            if item[1] == job_id:
                return web.json_response(_queue_job(item, "pending"))
        return web.json_response({"error": "Job not found"}, status=404)

    async def _view(self, request: web.Request) -> web.StreamResponse:
        filename = request.query.get("filename", "")
        if not filename or filename.startswith("/") or ".." in filename:
            return web.Response(status=400)
        folder = self.root / request.query.get("type", "output")
        if request.query.get("type", "output") not in ("output", "temp", "input"):
            return web.Response(status=400)
        subfolder = request.query.get("subfolder", "")
        target = (folder / subfolder / filename).resolve()
        if not target.is_relative_to(folder.resolve()):
            return web.Response(status=403)
        if not target.is_file():
            return web.Response(status=404)
        content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        return web.FileResponse(target, headers={"Content-Type": content_type})

    async def _upload_image(self, request: web.Request) -> web.Response:
        post = await request.post()
        image = post.get("image")
        if not isinstance(image, web.FileField) or not image.filename:
            return web.Response(status=400)
        subfolder = str(post.get("subfolder") or "")
        folder = self.root / "input" / subfolder
        folder.mkdir(parents=True, exist_ok=True)
        content = image.file.read()
        name = image.filename
        stem, suffix = Path(name).stem, Path(name).suffix
        number = 1
        while (folder / name).exists() and (folder / name).read_bytes() != content:
            name = f"{stem} ({number}){suffix}"
            number += 1
        (folder / name).write_bytes(content)
        self.uploaded.add(f"{subfolder}/{name}" if subfolder else name)
        return web.json_response({"name": name, "subfolder": subfolder, "type": "input"})

    async def _object_info(self, request: web.Request) -> web.Response:
        return web.json_response(
            {name: _node_info(name, node_class) for name, node_class in NODE_CLASSES.items()}
        )

    async def _system_stats(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "system": {
                    "os": "linux",
                    "ram_total": 32 * 2**30,
                    "ram_free": 20 * 2**30,
                    "comfyui_version": "0.7.0",
                    "python_version": "3.11.9 (main, Apr  2 2024, 08:25:04) [GCC 12.2.0]",
                    "pytorch_version": "2.5.1+cu124",
                    "embedded_python": False,
                    "argv": ["main.py"],
                },
                "devices": [
                    {
                        "name": "cuda:0 NVIDIA GeForce RTX 4090 : cudaMallocAsync",
                        "type": "cuda",
                        "index": 0,
                        "vram_total": 24 * 2**30,
                        "vram_free": 20 * 2**30,
                        "torch_vram_total": 0,
                        "torch_vram_free": 0,
                    }
                ],
            }
        )

    # Websockets --------------------------------------------------------------------------

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        if self.reject_websockets:
            return web.Response(status=503, text="503: Service Unavailable")
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        client_id = request.query.get("clientId") or uuid.uuid4().hex
        self._sockets[client_id] = socket  # a reconnect with the same id replaces the old one
        self._socket_flags[client_id] = {}
        self.websocket_connects[client_id] += 1
        try:
            await self._send("status", {"status": self._queue_info(), "sid": client_id}, client_id)
            running_client = self._running[3].get("client_id") if self._running else None
            if running_client == client_id and self._last_node is not None:
                # The real server repeats the current node to a reconnecting client, without
                # the prompt_id.
                await self._send("executing", {"node": self._last_node}, client_id)
            first = True
            async for message in socket:
                if message.type is not WSMsgType.TEXT:
                    continue
                data = json.loads(message.data)
                if first and data.get("type") == "feature_flags":
                    self._socket_flags[client_id] = data.get("data") or {}
                    await self._send(
                        "feature_flags", {"supports_preview_metadata": True}, client_id
                    )
                first = False
        finally:
            if self._sockets.get(client_id) is socket:
                del self._sockets[client_id]
        return socket

    async def _send(self, event: str, data: dict[str, Any], client_id: str | None) -> None:
        """Send a JSON event to one client's socket, or to every socket when client_id is
        None (queue status)."""
        if self.muted:
            return
        targets = (
            list(self._sockets.values())
            if client_id is None
            else [self._sockets[client_id]]
            if client_id in self._sockets
            else []
        )
        for socket in targets:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await socket.send_json({"type": event, "data": data})

    async def _send_preview(self, prompt_id: str, node_id: str, client_id: str | None) -> None:
        if self.muted or client_id not in self._sockets:
            return
        image = io.BytesIO()
        Image.new("RGB", (16, 16), (200, 100, 50)).save(image, format="JPEG")
        flags = self._socket_flags.get(client_id, {})
        if flags.get("supports_preview_metadata") and not self.legacy_previews:
            metadata = json.dumps(
                {
                    "node_id": node_id,
                    "prompt_id": prompt_id,
                    "display_node_id": node_id,
                    "parent_node_id": None,
                    "real_node_id": node_id,
                    "image_type": "image/jpeg",
                }
            ).encode()
            frame = (
                struct.pack(">II", PREVIEW_IMAGE_WITH_METADATA, len(metadata))
                + metadata
                + image.getvalue()
            )
        else:
            frame = struct.pack(">II", PREVIEW_IMAGE, JPEG) + image.getvalue()
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self._sockets[client_id].send_bytes(frame)

    async def _broadcast_status(self) -> None:
        await self._send("status", {"status": self._queue_info()}, None)

    def _queue_info(self) -> dict[str, Any]:
        remaining = len(self._queue) + (1 if self._running else 0)
        return {"exec_info": {"queue_remaining": remaining}}

    # Validation --------------------------------------------------------------------------

    def _validate(
        self, prompt: dict[str, Any]
    ) -> tuple[bool, dict[str, Any] | None, list[str], dict[str, Any]]:
        """Validate like ComfyUI. An unknown class fails the whole prompt with no
        node_errors. Invalid inputs fail the outputs that depend on them, but the prompt is
        accepted (listing node_errors) while one output is valid."""
        for node_id, node in prompt.items():
            class_type = node.get("class_type") if isinstance(node, dict) else None
            if class_type is None:
                return False, _prompt_error("missing class_type", node_id), [], {}
            if class_type not in NODE_CLASSES:
                return False, _prompt_error(f"node {class_type} does not exist", node_id), [], {}
        outputs = [
            node_id
            for node_id, node in prompt.items()
            if NODE_CLASSES[node["class_type"]].output_node
        ]
        if not outputs:
            error = {"type": "prompt_no_outputs", "message": "Prompt has no outputs"}
            return False, {**error, "details": "", "extra_info": {}}, [], {}
        validated: dict[str, tuple[bool, list[dict[str, Any]]]] = {}
        good_outputs: list[str] = []
        node_errors: dict[str, Any] = {}
        for output in outputs:
            try:
                valid = self._validate_node(prompt, output, validated)
            except KeyError as exc:
                validated[output] = (False, [_exception_reason("during_validation", exc)])
                valid = False
            if valid:
                good_outputs.append(output)
                continue
            for node_id, (valid, reasons) in validated.items():
                if not valid and reasons:
                    entry = node_errors.setdefault(
                        node_id,
                        {
                            "errors": reasons,
                            "dependent_outputs": [],
                            "class_type": prompt[node_id]["class_type"],
                        },
                    )
                    entry["dependent_outputs"].append(output)
        if not good_outputs:
            details = "\n".join(
                f"{reason['message']}: {reason['details']}"
                for entry in node_errors.values()
                for reason in entry["errors"]
            )
            error = {
                "type": "prompt_outputs_failed_validation",
                "message": "Prompt outputs failed validation",
                "details": details,
                "extra_info": {},
            }
            return False, error, [], node_errors
        return True, None, good_outputs, node_errors

    def _validate_node(
        self,
        prompt: dict[str, Any],
        node_id: str,
        validated: dict[str, tuple[bool, list[dict[str, Any]]]],
    ) -> bool:
        if node_id in validated:
            return validated[node_id][0]
        validated[node_id] = (True, [])  # a cycle is not this fake's concern
        node = prompt[node_id]
        inputs = node.get("inputs") or {}
        errors: list[dict[str, Any]] = []
        valid = True
        for name, (kind, options) in NODE_CLASSES[node["class_type"]].inputs.items():
            if name not in inputs:
                errors.append(_reason("required_input_missing", "Required input is missing", name))
                continue
            value = inputs[name]
            if isinstance(value, list):
                if len(value) != 2:
                    errors.append(_reason("bad_linked_input", "Bad linked input", name))
                    continue
                source = str(value[0])
                if source not in prompt:
                    # Like the real server: the lookup of a missing node raises a KeyError,
                    # which the caller reports on this node.
                    raise KeyError(source)
                try:
                    if not self._validate_node(prompt, source, validated):
                        valid = False
                except KeyError as exc:
                    reason = _exception_reason("during_inner_validation", exc)
                    reason["extra_info"]["input_name"] = name
                    validated[source] = (False, [reason])
                    valid = False
                continue
            error = _check_value(name, kind, options, value)
            if error is not None:
                errors.append(error)
        if node["class_type"] == "LoadImage" and inputs.get("image") not in self.uploaded:
            errors.append(
                _reason(
                    "custom_validation_failed",
                    "Custom validation failed for node",
                    "image",
                    details=f"image - Invalid image file: {inputs.get('image')}",
                )
            )
        if node_id in self.invalid_nodes:
            errors.append(
                _reason(
                    "custom_validation_failed",
                    "Custom validation failed for node",
                    next(iter(inputs), "inputs"),
                    details=self.invalid_nodes[node_id],
                )
            )
        validated[node_id] = (valid and not errors, errors)
        return valid and not errors

    # Execution ---------------------------------------------------------------------------

    async def _run_queue(self) -> None:
        while True:
            await self._resumed.wait()
            if not self._queue:
                self._work.clear()
                await self._work.wait()
                continue
            item = heapq.heappop(self._queue)
            self._running = item
            try:
                await self._execute(item)
            finally:
                self._running = None
                self._last_node = None
            await self._broadcast_status()

    async def _execute(self, item: list[Any]) -> None:
        _number, prompt_id, prompt, extra_data, outputs_to_execute = item
        client_id = extra_data.get("client_id")
        self.runs[prompt_id] += 1
        self._interrupt = False
        messages: list[list[Any]] = []

        async def message(event: str, data: dict[str, Any]) -> None:
            data = {**data, "prompt_id": prompt_id, "timestamp": int(time.time() * 1000)}
            messages.append([event, data])
            await self._send(event, data, client_id)

        await message("execution_start", {})
        order = _execution_order(prompt, outputs_to_execute)
        signatures = {node_id: _signature(prompt, node_id) for node_id in order}
        cached = [node_id for node_id in order if signatures[node_id] in self._cache]
        await message("execution_cached", {"nodes": cached})
        ui_outputs: dict[str, Any] = {}
        new_cache: dict[str, dict[str, Any] | None] = {}
        executed: list[str] = []
        ended = False
        for node_id in order:
            node = prompt[node_id]
            if node_id in cached:
                ui = self._cache[signatures[node_id]]
                new_cache[signatures[node_id]] = ui
                if ui is not None:
                    ui_outputs[node_id] = ui
                await self._send(
                    "executed",
                    {
                        "node": node_id,
                        "display_node": node_id,
                        "output": ui,
                        "prompt_id": prompt_id,
                    },
                    client_id,
                )
                continue
            self._last_node = node_id
            await self._send(
                "executing",
                {"node": node_id, "display_node": node_id, "prompt_id": prompt_id},
                client_id,
            )
            await self._run_node(node_id, node, prompt_id, client_id)
            base = {"node_id": node_id, "node_type": node["class_type"], "executed": executed}
            if self._interrupt:
                self.interrupted.append(prompt_id)
                await message("execution_interrupted", base)
                ended = True
                break
            failure = self.failures.get(node_id) or self.failures.get(node["class_type"])
            if failure is not None:
                await message("execution_error", {**base, **_error_fields(node, failure)})
                ended = True
                break
            ui = self._outputs_of(node_id, node, prompt)
            new_cache[signatures[node_id]] = ui
            executed.append(node_id)
            if ui is not None:
                ui_outputs[node_id] = ui
                await self._send(
                    "executed",
                    {
                        "node": node_id,
                        "display_node": node_id,
                        "output": ui,
                        "prompt_id": prompt_id,
                    },
                    client_id,
                )
        if not ended:
            await message("execution_success", {})
        self._cache = new_cache
        success = not ended
        history = self._history if self.record_history else {}
        history[prompt_id] = {
            "prompt": item,
            "outputs": ui_outputs,
            "status": {
                "status_str": "success" if success else "error",
                "completed": success,
                "messages": messages,
            },
            "meta": {
                node_id: {"node_id": node_id, "display_node": node_id, "real_node_id": node_id}
                for node_id in ui_outputs
            },
        }
        # Sent once the run is in the history.
        await self._send("executing", {"node": None, "prompt_id": prompt_id}, client_id)

    async def _run_node(
        self, node_id: str, node: dict[str, Any], prompt_id: str, client_id: str | None
    ) -> None:
        if not NODE_CLASSES[node["class_type"]].sampler:
            await self._step()
            return
        steps = int(node["inputs"].get("steps", 1))
        for step in range(1, steps + 1):
            await self._step()
            if self._interrupt:
                return
            await self._send(
                "progress",
                {"value": step, "max": steps, "prompt_id": prompt_id, "node": node_id},
                client_id,
            )
            await self._send_preview(prompt_id, node_id, client_id)

    async def _step(self) -> None:
        await asyncio.sleep(self.step_seconds)
        await self._resumed.wait()

    def _outputs_of(
        self, node_id: str, node: dict[str, Any], prompt: dict[str, Any]
    ) -> dict[str, Any] | None:
        """Write an output node's files and return its UI output (None for other nodes)."""
        node_class = NODE_CLASSES[node["class_type"]]
        if not node_class.output_node:
            return None
        if node_id in self.empty_outputs or node["class_type"] in self.empty_outputs:
            return None
        width, height, count = _image_size(prompt)
        files = []
        for _ in range(count):
            self._counter += 1
            if node_class.output_type == "temp":
                subfolder, name = "", f"ComfyUI_temp_fake_{self._counter:05}_{node_class.extension}"
            else:
                prefix = str(node["inputs"].get("filename_prefix") or "ComfyUI")
                subfolder, _, base = prefix.rpartition("/")
                name = f"{base}_{self._counter:05}_{node_class.extension}"
            target = self.root / node_class.output_type / subfolder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            _write_image(target, width, height, _seed(prompt) + self._counter, prompt)
            entry: dict[str, Any] = {
                "filename": name,
                "subfolder": subfolder,
                "type": node_class.output_type,
            }
            if node_class.output_key == "gifs":
                entry.update({"format": "image/gif", "frame_rate": 8.0})
            files.append(entry)
        ui: dict[str, Any] = {node_class.output_key: files}
        if node_class.extension == ".webp":
            ui["animated"] = [True]
        return ui


@contextlib.asynccontextmanager
async def running_fake_comfyui(root: Path, **options: Any) -> AsyncIterator[FakeComfyUI]:
    """Run a fake ComfyUI server on a free loopback port, its files under ``root``."""
    server = FakeComfyUI(root, **options)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


# Helpers -------------------------------------------------------------------------------------


def _prompt_error(problem: str, node_id: str) -> dict[str, Any]:
    return {
        "type": "invalid_prompt",
        "message": f"Cannot execute because {problem}.",
        "details": f"Node ID '#{node_id}'",
        "extra_info": {},
    }


def _reason(kind: str, message: str, input_name: str, details: str | None = None) -> dict[str, Any]:
    return {
        "type": kind,
        "message": message,
        "details": details if details is not None else input_name,
        "extra_info": {"input_name": input_name},
    }


def _exception_reason(stage: str, exc: KeyError) -> dict[str, Any]:
    """Return the reason the real server gives for an exception while validating a node."""
    message = {
        "during_validation": "Exception when validating node",
        "during_inner_validation": "Exception when validating inner node",
    }[stage]
    return {
        "type": f"exception_{stage}",
        "message": message,
        "details": str(exc),
        "extra_info": {
            "exception_type": "KeyError",
            "traceback": ['  File "/srv/ComfyUI/execution.py", line 818, in validate_inputs\n'],
        },
    }


def _check_value(
    name: str, kind: str, options: dict[str, Any], value: Any
) -> dict[str, Any] | None:
    if kind not in ("INT", "FLOAT"):
        return None
    try:
        number = int(value) if kind == "INT" else float(value)
    except (TypeError, ValueError) as exc:
        return _reason(
            "invalid_input_type",
            f"Failed to convert an input value to a {kind} value",
            name,
            details=f"{name}, {value}, {exc}",
        )
    if "min" in options and number < options["min"]:
        return _reason(
            "value_smaller_than_min", f"Value {number} smaller than min of {options['min']}", name
        )
    if "max" in options and number > options["max"]:
        return _reason(
            "value_bigger_than_max", f"Value {number} bigger than max of {options['max']}", name
        )
    return None


def _execution_order(prompt: dict[str, Any], outputs: list[str]) -> list[str]:
    """Return the nodes the outputs need, each after the nodes it links to."""
    order: list[str] = []

    def visit(node_id: str) -> None:
        if node_id in order:
            return
        for value in (prompt[node_id].get("inputs") or {}).values():
            if isinstance(value, list) and len(value) == 2 and str(value[0]) in prompt:
                visit(str(value[0]))
        order.append(node_id)

    for output in outputs:
        visit(output)
    return order


def _signature(prompt: dict[str, Any], node_id: str) -> str:
    """Return a key that is equal for nodes that would compute the same result."""
    node = prompt[node_id]
    inputs = {
        name: _signature(prompt, str(value[0])) + f"#{value[1]}"
        if isinstance(value, list) and len(value) == 2 and str(value[0]) in prompt
        else value
        for name, value in (node.get("inputs") or {}).items()
    }
    return json.dumps([node["class_type"], inputs], sort_keys=True, default=str)


def _error_fields(node: dict[str, Any], failure: Failure) -> dict[str, Any]:
    return {
        "exception_message": f"{failure.message}\n",
        "exception_type": failure.exception_type,
        "traceback": [
            '  File "/srv/ComfyUI/execution.py", line 496, in execute\n'
            "    output_data, output_ui, has_subgraph, has_pending_tasks = "
            "await get_output_data(...)\n",
            f'  File "/srv/ComfyUI/nodes.py", line 1500, in {node["class_type"].lower()}\n'
            f"    raise {failure.exception_type}({failure.message!r})\n",
        ],
        "current_inputs": {},
        "current_outputs": [],
    }


def _image_size(prompt: dict[str, Any]) -> tuple[int, int, int]:
    for node in prompt.values():
        if node.get("class_type") in ("EmptyLatentImage", "EmptyImage"):
            inputs = node.get("inputs") or {}
            width = min(512, int(inputs.get("width", 64)))
            height = min(512, int(inputs.get("height", 64)))
            return width, height, min(4, int(inputs.get("batch_size", 1)))
    return 64, 64, 1


def _seed(prompt: dict[str, Any]) -> int:
    for node in prompt.values():
        seed = (node.get("inputs") or {}).get("seed")
        if isinstance(seed, int):
            return seed
    return 0


def _write_image(target: Path, width: int, height: int, seed: int, prompt: dict[str, Any]) -> None:
    color = (seed * 37 % 256, seed * 71 % 256, seed * 113 % 256)
    image = Image.new("RGB", (width, height), color)
    if target.suffix == ".png":
        info = PngInfo()
        info.add_text("prompt", json.dumps(prompt))
        image.save(target, format="PNG", pnginfo=info)
    elif target.suffix == ".gif":
        frames = [image, Image.new("RGB", (width, height), color[::-1])]
        frames[0].save(target, format="GIF", save_all=True, append_images=frames[1:])
    else:
        image.save(target, format="WEBP")


def _node_info(name: str, node_class: NodeClass) -> dict[str, Any]:
    required = {
        input_name: [kind, options] for input_name, (kind, options) in node_class.inputs.items()
    }
    return {
        "input": {"required": required},
        "input_order": {"required": list(required)},
        "output": list(node_class.outputs),
        "output_is_list": [False] * len(node_class.outputs),
        "output_name": list(node_class.outputs),
        "name": name,
        "display_name": name,
        "description": "",
        "python_module": "nodes",
        "category": node_class.category,
        "output_node": node_class.output_node,
    }


def _queue_job(item: list[Any], status: str) -> dict[str, Any]:
    return {
        "id": item[1],
        "status": status,
        "priority": item[0],
        "create_time": item[3].get("create_time"),
        "outputs_count": 0,
    }


def _history_job(prompt_id: str, entry: dict[str, Any]) -> dict[str, Any]:
    """The body of GET /api/jobs/{id} for a finished prompt, as ComfyUI's jobs.py builds it."""
    number, _, prompt, extra_data, _ = entry["prompt"]
    status_info = entry["status"]
    job: dict[str, Any] = {
        "id": prompt_id,
        "status": "completed" if status_info["status_str"] == "success" else "failed",
        "priority": number,
        "create_time": extra_data.get("create_time"),
        "outputs_count": sum(
            len(items)
            for outputs in entry["outputs"].values()
            for key, items in outputs.items()
            if key != "animated"
        ),
        "outputs": entry["outputs"],
        "execution_status": status_info,
        "workflow": {"prompt": prompt, "extra_data": extra_data},
    }
    for event, data in status_info["messages"]:
        if event == "execution_start":
            job["execution_start_time"] = data["timestamp"]
        elif event in ("execution_success", "execution_error", "execution_interrupted"):
            job["execution_end_time"] = data["timestamp"]
            if event == "execution_error":
                job["execution_error"] = data
    return job


# Prompts the fake runs ---------------------------------------------------------------------


def txt2img_prompt(seed: int = 1, steps: int = 3, prefix: str = "cmfy/run") -> dict[str, Any]:
    """Return a text-to-image prompt of seven nodes whose output node 9 is a SaveImage."""
    return {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sd15.safetensors"}},
        "5": {
            "class_type": "EmptyLatentImage",
            "inputs": {"width": 64, "height": 48, "batch_size": 1},
        },
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a red fox", "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}},
        "3": {
            "class_type": "KSampler",
            "inputs": {
                "model": ["4", 0],
                "seed": seed,
                "steps": steps,
                "cfg": 7.0,
                "sampler_name": "euler",
                "scheduler": "normal",
                "positive": ["6", 0],
                "negative": ["7", 0],
                "latent_image": ["5", 0],
                "denoise": 1.0,
            },
        },
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {"class_type": "SaveImage", "inputs": {"images": ["8", 0], "filename_prefix": prefix}},
    }
