"""'cmfy-desk run' choosing how status arrives, and running on ComfyUI servers and saved
connections; each run's summary counts its requests and webhooks."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from cmfy_desk.connections import COMFYUI, ConnectionConfig, ConnectionList
from tests.fake_comfyui import running_fake_comfyui, txt2img_prompt

TIMEOUT = 240


async def _run(*args: str, data_dir: Path) -> tuple[int, list[dict[str, Any]], str]:
    """Run the command line in a subprocess while this loop keeps serving test servers."""
    environment = {k: v for k, v in os.environ.items() if k != "CMFY_API_KEY"}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cmfy_desk",
        *args,
        "--json",
        "--data-dir",
        str(data_dir),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=environment,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), TIMEOUT)
    events = [json.loads(line) for line in stdout.decode().splitlines() if line.startswith("{")]
    assert process.returncode is not None
    return process.returncode, events, stderr.decode()


def _summary(events: list[dict[str, Any]]) -> dict[str, Any]:
    summaries = [event for event in events if event.get("event") == "summary"]
    assert summaries, events
    return summaries[-1]


def _workflow(tmp_path: Path) -> Path:
    path = tmp_path / "fox.json"
    path.write_text(json.dumps(txt2img_prompt()), encoding="utf-8")
    return path


@pytest.mark.asyncio
async def test_run_on_a_comfyui_server_downloads_every_output(tmp_path: Path) -> None:
    async with running_fake_comfyui(tmp_path / "server") as server:
        code, events, stderr = await _run(
            "run",
            "--comfyui",
            server.base_url,
            "--count",
            "3",
            "--out",
            str(tmp_path / "out"),
            str(_workflow(tmp_path)),
            data_dir=tmp_path / "data",
        )
    assert code == 0, stderr
    summary = _summary(events)
    assert summary["succeeded"] == 3
    assert summary["status_source"] == "socket"
    assert summary["requests"]["submit"] == 3
    assert summary["webhooks_received"] == 0
    saved = [event for event in events if event.get("event") == "output"]
    assert len(saved) == 3
    assert all(Path(event["path"]).is_file() for event in saved)


@pytest.mark.asyncio
async def test_webhook_mode_reads_status_only_to_confirm_deliveries(
    tmp_path: Path, bundled_workflow_paths: list[Path]
) -> None:
    workflow = next(path for path in bundled_workflow_paths if path.name == "sd15_txt2img.json")
    code, events, stderr = await _run(
        "run",
        "--sandbox",
        "--speed",
        "50",
        "--status",
        "webhook",
        "--count",
        "6",
        "--out",
        str(tmp_path / "out"),
        str(workflow),
        data_dir=tmp_path / "data",
    )
    assert code == 0, stderr
    summary = _summary(events)
    assert summary["succeeded"] == 6
    assert summary["status_source"] == "webhooks"
    assert summary["webhooks_received"] == 6
    # Each delivery is confirmed by one status read; nothing else polls.
    assert summary["requests"]["submit"] == 6
    assert summary["requests"]["status"] <= 6


@pytest.mark.asyncio
async def test_poll_mode_receives_no_webhooks(
    tmp_path: Path, bundled_workflow_paths: list[Path]
) -> None:
    workflow = next(path for path in bundled_workflow_paths if path.name == "sd15_txt2img.json")
    code, events, stderr = await _run(
        "run",
        "--sandbox",
        "--speed",
        "50",
        "--status",
        "poll",
        "--count",
        "4",
        "--out",
        str(tmp_path / "out"),
        str(workflow),
        data_dir=tmp_path / "data",
    )
    assert code == 0, stderr
    summary = _summary(events)
    assert summary["succeeded"] == 4
    assert summary["status_source"] == "polling"
    assert summary["webhooks_received"] == 0
    assert summary["requests"]["status"] >= 4


@pytest.mark.asyncio
async def test_saved_connection_runs_by_name(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with running_fake_comfyui(tmp_path / "server") as server:
        saved = ConnectionList.load(data / "connections.json")
        saved.put(ConnectionConfig(kind=COMFYUI, name="studio", base_url=server.base_url))
        saved.save()
        code, events, stderr = await _run(
            "run",
            "--connection",
            "Studio",
            "--out",
            str(tmp_path / "out"),
            str(_workflow(tmp_path)),
            data_dir=data,
        )
        assert code == 0, stderr
        assert _summary(events)["succeeded"] == 1

        code, _events, stderr = await _run(
            "run", "--connection", "elsewhere", str(_workflow(tmp_path)), data_dir=data
        )
    assert code == 2
    assert "no saved connection named 'elsewhere'" in stderr
    assert "studio" in stderr


@pytest.mark.asyncio
async def test_webhooks_are_refused_for_a_comfyui_server(tmp_path: Path) -> None:
    code, _events, stderr = await _run(
        "run",
        "--comfyui",
        "http://127.0.0.1:9",
        "--status",
        "webhook",
        str(_workflow(tmp_path)),
        data_dir=tmp_path / "data",
    )
    assert code == 2
    assert "websocket" in stderr


@pytest.mark.asyncio
async def test_unreachable_comfyui_queues_nothing(tmp_path: Path) -> None:
    code, events, stderr = await _run(
        "run",
        "--comfyui",
        "http://127.0.0.1:9",
        str(_workflow(tmp_path)),
        data_dir=tmp_path / "data",
    )
    assert code == 2
    assert "cannot reach the ComfyUI server at http://127.0.0.1:9" in stderr
    assert "No job was submitted." in stderr
    assert not [event for event in events if event.get("event") == "job"]


@pytest.mark.asyncio
async def test_saved_comfyui_rejects_status_modes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    saved = ConnectionList.load(data / "connections.json")
    saved.put(ConnectionConfig(kind=COMFYUI, name="studio", base_url="http://127.0.0.1:9"))
    saved.save()
    code, _events, stderr = await _run(
        "run", "--connection", "studio", "--status", "poll", str(_workflow(tmp_path)), data_dir=data
    )
    assert code == 2
    assert "studio is a ComfyUI server" in stderr


@pytest.mark.asyncio
async def test_no_saved_connections_says_how_to_add_one(tmp_path: Path) -> None:
    code, _events, stderr = await _run(
        "run", "--connection", "studio", str(_workflow(tmp_path)), data_dir=tmp_path / "data"
    )
    assert code == 2
    assert "File → Connections…" in stderr
