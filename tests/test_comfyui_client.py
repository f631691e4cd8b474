"""The ComfyUI client against a fake ComfyUI server on loopback that speaks the real protocol."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from PIL import Image

from cmfy_desk.backends.base import RemoteJob
from cmfy_desk.backends.comfyui import ComfyUIClient, prompt_id_for
from cmfy_desk.backends.comfyui_protocol import summarize_system_stats
from cmfy_desk.backends.errors import (
    AuthError,
    NetworkError,
    NotFoundError,
    PermissionDeniedError,
    ServerError,
    ValidationError,
)
from cmfy_desk.outputs.download import Downloader
from tests.fake_comfyui import FakeComfyUI, running_fake_comfyui, txt2img_prompt
from tests.helpers import wait_for


@pytest_asyncio.fixture
async def fake(tmp_path: Path) -> AsyncIterator[FakeComfyUI]:
    async with running_fake_comfyui(tmp_path / "comfyui") as server:
        yield server


@pytest_asyncio.fixture
async def client(fake: FakeComfyUI) -> AsyncIterator[ComfyUIClient]:
    client = ComfyUIClient(fake.base_url, client_id="desk-client")
    yield client
    await client.aclose()


async def _finished(client: ComfyUIClient, remote_id: str, timeout: float = 10.0) -> RemoteJob:
    """Read the job's status until it is final."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        job = await client.status(remote_id)
        if job.status in ("completed", "failed", "cancelled"):
            return job
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"job {remote_id} is not final after {timeout} s: {job}")
        await asyncio.sleep(0.05)


def _many_outputs_prompt() -> dict:
    prompt = txt2img_prompt(prefix="my run/fox")
    prompt["10"] = {
        "class_type": "VHS_VideoCombine",
        "inputs": {"images": ["8", 0], "frame_rate": 8.0, "filename_prefix": "clip"},
    }
    prompt["11"] = {
        "class_type": "SaveAnimatedWEBP",
        "inputs": {"images": ["8", 0], "filename_prefix": "anim", "fps": 6.0},
    }
    prompt["12"] = {"class_type": "PreviewImage", "inputs": {"images": ["8", 0]}}
    return prompt


@pytest.mark.asyncio
async def test_outputs_under_every_key_listed(
    fake: FakeComfyUI, client: ComfyUIClient, tmp_path: Path
) -> None:
    submitted = await client.submit(_many_outputs_prompt(), "job-key-1")
    job = await _finished(client, submitted.job_id)

    assert submitted.job_id == prompt_id_for("job-key-1")
    assert submitted.replayed is False
    assert job.status == "completed"
    assert job.missing_outputs == ()
    assert len(job.images) == 4
    assert any("subfolder=my%20run" in url and "fox_" in url for url in job.images)
    assert any(url.endswith("&type=temp") for url in job.images)
    assert any(".gif&" in url for url in job.images)
    assert any(".webp&" in url for url in job.images)
    assert job.started_at is not None
    assert job.completed_at is not None
    assert job.execution_time_ms is not None
    downloader = Downloader()
    try:
        for index, url in enumerate(job.images):
            saved = await downloader.download(url, tmp_path / "out", f"output{index}")
            with Image.open(saved.path) as image:
                assert image.size == (64, 48)
    finally:
        await downloader.aclose()


@pytest.mark.asyncio
async def test_rejected_workflow_names_nodes_and_inputs(
    fake: FakeComfyUI, client: ComfyUIClient
) -> None:
    prompt = txt2img_prompt()
    prompt["3"]["inputs"]["steps"] = 0
    del prompt["3"]["inputs"]["cfg"]
    prompt["10"] = {"class_type": "SaveImage", "inputs": {"images": ["99", 0]}}

    with pytest.raises(ValidationError) as caught:
        await client.submit(prompt, "bad-key")

    error = caught.value
    message = str(error)
    assert error.status == 400
    assert error.code == "prompt_outputs_failed_validation"
    assert "node 3 (KSampler), input steps: Value 0 smaller than min of 1" in message
    assert "node 3 (KSampler), input cfg: Required input is missing" in message
    assert "node 10 (SaveImage): Exception when validating node: '99'" in message
    assert "queue the job again" in message
    assert set(error.details) == {"3", "10"}
    assert error.details["3"]["class_type"] == "KSampler"
    assert fake.submissions == []


@pytest.mark.asyncio
async def test_unknown_node_class_is_named(fake: FakeComfyUI, client: ComfyUIClient) -> None:
    prompt = txt2img_prompt()
    prompt["12"] = {"class_type": "UpscaleWithMagic", "inputs": {}}

    with pytest.raises(ValidationError) as caught:
        await client.submit(prompt, "unknown-class")

    assert "Cannot execute because node UpscaleWithMagic does not exist" in str(caught.value)
    assert "Node ID '#12'" in str(caught.value)
    assert caught.value.code == "invalid_prompt"


@pytest.mark.asyncio
async def test_node_errors_accepted_as_warnings(fake: FakeComfyUI, client: ComfyUIClient) -> None:
    prompt = txt2img_prompt()
    prompt["10"] = {
        "class_type": "ImageBlur",
        "inputs": {"image": ["8", 0], "blur_radius": 0, "sigma": 1.0},
    }
    prompt["11"] = {"class_type": "PreviewImage", "inputs": {"images": ["10", 0]}}

    submitted = await client.submit(prompt, "warn-key")
    job = await _finished(client, submitted.job_id)

    assert submitted.warnings == (
        "The server will skip node 11 (PreviewImage): node 10 (ImageBlur) is invalid "
        "(input blur_radius: Value 0 smaller than min of 1).",
    )
    assert job.status == "completed"
    assert job.missing_outputs == ()
    assert len(job.images) == 1
    assert "type=output" in job.images[0]


@pytest.mark.asyncio
async def test_configured_invalid_node_warns(fake: FakeComfyUI, client: ComfyUIClient) -> None:
    prompt = txt2img_prompt()
    prompt["12"] = {"class_type": "PreviewImage", "inputs": {"images": ["8", 0]}}
    fake.invalid_nodes["12"] = "images - preview disabled on this server"

    submitted = await client.submit(prompt, "warn-configured")

    assert len(submitted.warnings) == 1
    assert "node 12 (PreviewImage)" in submitted.warnings[0]
    assert "preview disabled on this server" in submitted.warnings[0]


@pytest.mark.asyncio
async def test_resubmission_finds_existing_prompt(fake: FakeComfyUI, client: ComfyUIClient) -> None:
    fake.pause()
    first = await client.submit(txt2img_prompt(), "same-key")
    queued_again = await client.submit(txt2img_prompt(), "same-key", resubmission=True)
    fake.resume()
    await _finished(client, first.job_id)
    finished_again = await client.submit(txt2img_prompt(), "same-key", resubmission=True)

    assert queued_again.job_id == first.job_id
    assert queued_again.replayed is True
    assert queued_again.status == "queued"
    assert queued_again.queue_position == 1
    assert finished_again.replayed is True
    assert finished_again.status == "completed"
    assert fake.submissions == [(first.job_id, "desk-client")]
    assert fake.runs[first.job_id] == 1


@pytest.mark.asyncio
async def test_resubmission_sends_unknown_prompt(fake: FakeComfyUI, client: ComfyUIClient) -> None:
    submitted = await client.submit(txt2img_prompt(), "never-arrived", resubmission=True)

    assert submitted.replayed is False
    assert fake.submissions == [(prompt_id_for("never-arrived"), "desk-client")]


@pytest.mark.asyncio
async def test_cancel_pending_then_running(fake: FakeComfyUI, client: ComfyUIClient) -> None:
    running = await client.submit(txt2img_prompt(steps=200), "long-job")
    await wait_for(lambda: fake.running_prompt == running.job_id, 5.0)
    pending = await client.submit(txt2img_prompt(seed=2), "waiting-job")
    assert (await client.status(pending.job_id)).queue_position == 1

    removed = await client.cancel(pending.job_id)
    interrupts_after_removal = list(fake.interrupt_requests)
    stopped = await client.cancel(running.job_id)

    assert removed.status == "cancelled"
    assert fake.deleted == [pending.job_id]
    assert interrupts_after_removal == []
    assert stopped.status == "cancelled"
    assert fake.interrupt_requests == [running.job_id]
    assert fake.interrupted == [running.job_id]
    assert fake.runs[pending.job_id] == 0
    with pytest.raises(NotFoundError):
        await client.status(pending.job_id)


@pytest.mark.asyncio
async def test_cancel_never_interrupts_another_prompt(
    fake: FakeComfyUI, client: ComfyUIClient
) -> None:
    other = ComfyUIClient(fake.base_url, client_id="someone-else")
    try:
        theirs = await other.submit(txt2img_prompt(steps=40, prefix="theirs"), "their-job")
        await wait_for(lambda: fake.running_prompt == theirs.job_id, 5.0)
        ours = await client.submit(txt2img_prompt(seed=5), "our-job")
        await client.cancel(ours.job_id)
        with pytest.raises(NotFoundError):
            await client.cancel(ours.job_id)
        their_job = await _finished(other, theirs.job_id)
    finally:
        await other.aclose()

    assert fake.interrupt_requests == []
    assert fake.interrupted == []
    assert their_job.status == "completed"


@pytest.mark.asyncio
async def test_cancel_of_finished_job_returns_result(
    fake: FakeComfyUI, client: ComfyUIClient
) -> None:
    submitted = await client.submit(txt2img_prompt(), "done-job")
    await _finished(client, submitted.job_id)

    job = await client.cancel(submitted.job_id)

    assert job.status == "completed"
    assert fake.interrupt_requests == []


@pytest.mark.asyncio
async def test_restarted_server_forgets_job(fake: FakeComfyUI, client: ComfyUIClient) -> None:
    fake.pause()
    submitted = await client.submit(txt2img_prompt(), "forgotten")
    await fake.restart()
    fake.resume()

    with pytest.raises(NotFoundError) as caught:
        await client.status(submitted.job_id)
    assert "restart" in str(caught.value)


@pytest.mark.asyncio
async def test_failed_run_names_node_and_traceback(
    fake: FakeComfyUI, client: ComfyUIClient
) -> None:
    fake.fail_node("KSampler", "TypeError", "expected Tensor as element 0")
    submitted = await client.submit(txt2img_prompt(), "failing")

    job = await _finished(client, submitted.job_id)

    assert job.status == "failed"
    assert job.error_code == "execution_error"
    assert job.error_message == "node 3 (KSampler) raised TypeError: expected Tensor as element 0"
    assert job.error_details is not None
    assert 'File "/srv/ComfyUI/nodes.py"' in job.error_details


@pytest.mark.asyncio
async def test_output_node_without_files_is_missing(
    fake: FakeComfyUI, client: ComfyUIClient
) -> None:
    prompt = txt2img_prompt()
    prompt["12"] = {"class_type": "PreviewImage", "inputs": {"images": ["8", 0]}}
    fake.empty_outputs.add("9")

    job = await _finished(client, (await client.submit(prompt, "partial")).job_id)

    assert job.status == "completed"
    assert job.missing_outputs == ("node 9 (SaveImage)",)
    assert len(job.images) == 1
    assert "type=temp" in job.images[0]


@pytest.mark.asyncio
async def test_jobs_api_reads_every_state(fake: FakeComfyUI, client: ComfyUIClient) -> None:
    fake.jobs_api = True
    fake.pause()
    first = await client.submit(txt2img_prompt(steps=2), "api-1")
    second = await client.submit(txt2img_prompt(seed=9), "api-2")
    queued = await client.status(second.job_id)
    fake.resume()
    await wait_for(lambda: fake.running_prompt == first.job_id, 5.0)
    fake.pause()
    running = await client.status(first.job_id)
    fake.resume()
    completed = await _finished(client, second.job_id)

    assert client.supports_jobs_api is True
    assert queued.status == "queued"
    assert queued.queue_position == 2
    assert running.status == "running"
    assert completed.status == "completed"
    assert len(completed.images) == 1
    assert client.requests["status"] >= 3


@pytest.mark.asyncio
async def test_jobs_api_missing_is_tried_once(fake: FakeComfyUI, client: ComfyUIClient) -> None:
    submitted = await client.submit(txt2img_prompt(), "no-api")
    await _finished(client, submitted.job_id)
    await client.status(submitted.job_id)

    assert client.supports_jobs_api is False
    assert client.requests["status"] == 1
    assert client.requests["history"] >= 2


@pytest.mark.asyncio
async def test_jobs_api_failure_matches_history(fake: FakeComfyUI, client: ComfyUIClient) -> None:
    fake.jobs_api = True
    fake.fail_node("8", "RuntimeError", "VAE decode ran out of memory")
    submitted = await client.submit(txt2img_prompt(), "api-failure")
    job = await _finished(client, submitted.job_id)

    assert client.supports_jobs_api is True
    assert job.status == "failed"
    assert (
        job.error_message == "node 8 (VAEDecode) raised RuntimeError: VAE decode ran out of memory"
    )


@pytest.mark.asyncio
async def test_auth_header_goes_only_to_the_server(fake: FakeComfyUI, tmp_path: Path) -> None:
    fake.required_auth = ("X-Api-Key", "s3cret")
    client = ComfyUIClient(fake.base_url, client_id="desk", auth_header=("X-Api-Key", "s3cret"))
    anonymous = ComfyUIClient(fake.base_url, client_id="desk")
    downloader = Downloader()
    try:
        job = await _finished(client, (await client.submit(txt2img_prompt(), "auth")).job_id)
        with pytest.raises(AuthError) as caught:
            await anonymous.submit(txt2img_prompt(), "anonymous")
        own_url = job.images[0]
        await downloader.download(
            own_url, tmp_path / "out", "own.png", headers=client.download_headers(own_url)
        )
        async with running_fake_comfyui(tmp_path / "other") as other_host:
            image_path = other_host.root / "output" / "elsewhere.png"
            Image.new("RGB", (8, 8)).save(image_path)
            other_url = f"{other_host.base_url}/view?filename=elsewhere.png&type=output"
            await downloader.download(
                other_url, tmp_path / "out", "other.png", headers=client.download_headers(other_url)
            )
            other_headers = other_host.headers_of("/view")
    finally:
        await downloader.aclose()
        await client.aclose()
        await anonymous.aclose()

    assert "auth header" in str(caught.value)
    assert fake.headers_of("/prompt")[0].get("X-Api-Key") == "s3cret"
    assert "X-Api-Key" not in fake.headers_of("/prompt")[1]
    assert fake.headers_of("/view")[0].get("X-Api-Key") == "s3cret"
    assert len(other_headers) == 1
    assert "X-Api-Key" not in other_headers[0]
    assert client.download_headers(own_url.replace("http://", "https://")) == {}
    assert client.download_headers("http://localhost:1/view?filename=a.png") == {}


@pytest.mark.asyncio
async def test_uploaded_image_feeds_load_image(
    fake: FakeComfyUI, client: ComfyUIClient, tmp_path: Path
) -> None:
    source = tmp_path / "input photo.png"
    Image.new("RGB", (20, 10), (10, 200, 30)).save(source)

    name = await client.upload_image(source)
    again = await client.upload_image(source)
    prompt = {
        "1": {"class_type": "LoadImage", "inputs": {"image": name}},
        "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "up"}},
    }
    job = await _finished(client, (await client.submit(prompt, "upload")).job_id)

    assert name == "input photo.png"
    assert again == name
    assert (fake.root / "input" / name).read_bytes() == source.read_bytes()
    assert job.status == "completed"
    assert client.requests["upload"] == 2


@pytest.mark.asyncio
async def test_upload_of_missing_file_names_it(client: ComfyUIClient, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"Cannot read the image .*absent\.png"):
        await client.upload_image(tmp_path / "absent.png")


@pytest.mark.asyncio
async def test_object_info_and_system_summary(client: ComfyUIClient) -> None:
    definitions = await client.object_info()
    stats = await client.system_stats()

    assert definitions["SaveImage"]["output_node"] is True
    assert definitions["KSampler"]["input"]["required"]["steps"][0] == "INT"
    assert summarize_system_stats(stats) == (
        "ComfyUI 0.7.0, Python 3.11.9, PyTorch 2.5.1+cu124, "
        "devices: cuda:0 NVIDIA GeForce RTX 4090 (24.0 GiB VRAM)"
    )
    assert client.requests["object_info"] == 1
    assert client.requests["system_stats"] == 1


def test_view_url_quotes_every_value() -> None:
    client = ComfyUIClient("http://127.0.0.1:8188/", client_id="x")

    url = client.view_url("a b&c=d.png", "sub/dir #1", "temp")

    assert url == (
        "http://127.0.0.1:8188/view?filename=a%20b%26c%3Dd.png&subfolder=sub%2Fdir%20%231&type=temp"
    )
    assert client.websocket_url == "ws://127.0.0.1:8188/ws?clientId=x"


def test_limits_follow_queue_depth() -> None:
    client = ComfyUIClient("https://gpu.example.test/comfy", client_id="x", queue_depth=3)

    assert client.limits.concurrent_limit == 1
    assert client.limits.queue_limit == 3
    assert client.limits.rate_limit >= 10_000
    assert client.websocket_url == "wss://gpu.example.test/comfy/ws?clientId=x"
    assert client.kind == "comfyui"


def test_invalid_base_url_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"'ftp://host' is not an http:// or https:// URL"):
        ComfyUIClient("ftp://host", client_id="x")


def test_prompt_id_is_stable_per_key() -> None:
    assert prompt_id_for("key-a") == prompt_id_for("key-a")
    assert prompt_id_for("key-a") != prompt_id_for("key-b")


@pytest.mark.asyncio
async def test_unreachable_server_is_network_error(tmp_path: Path) -> None:
    async with running_fake_comfyui(tmp_path / "gone") as fake:
        base_url = fake.base_url
    client = ComfyUIClient(base_url, client_id="x")
    try:
        with pytest.raises(NetworkError, match="Check that the ComfyUI server is running"):
            await client.submit(txt2img_prompt(), "offline")
    finally:
        await client.aclose()


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("status", "error_class"),
    [(500, ServerError), (502, ServerError), (403, PermissionDeniedError), (401, AuthError)],
)
async def test_http_errors_map_to_backend_errors(status: int, error_class: type) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, text="proxy says no")

    client = ComfyUIClient(
        "http://127.0.0.1:8188", client_id="x", transport=httpx.MockTransport(handler)
    )
    try:
        with pytest.raises(error_class) as caught:
            await client.status("prompt-1")
    finally:
        await client.aclose()
    assert caught.value.status == status
    assert "proxy says no" in str(caught.value)


@pytest.mark.asyncio
async def test_request_kinds_are_counted(fake: FakeComfyUI, client: ComfyUIClient) -> None:
    submitted = await client.submit(txt2img_prompt(), "counted")
    await _finished(client, submitted.job_id)

    assert client.requests["submit"] == 1
    assert client.requests["history"] >= 1
    assert set(client.requests) <= {"submit", "status", "history", "queue"}
