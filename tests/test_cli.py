"""The ``cmfy-desk`` command as a subprocess: exit codes, files, JSON events."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

TIMEOUT = 120


def _cmfy_desk(
    *args: str, data_dir: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "CMFY_API_KEY"}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "cmfy_desk", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=environment,
        check=False,
    )


def test_run_sandbox_writes_images(tmp_path: Path, bundled_workflow_paths: list[Path]) -> None:
    out = tmp_path / "out"
    result = _cmfy_desk(
        "run",
        "--sandbox",
        "--speed",
        "50",
        "--count",
        "3",
        "--out",
        str(out),
        *map(str, bundled_workflow_paths),
        data_dir=tmp_path / "data",
    )
    assert result.returncode == 0, result.stderr
    assert f"9 of 9 jobs succeeded, 9 images in {out}" in result.stdout
    for workflow in bundled_workflow_paths:
        folders = [p for p in out.iterdir() if p.name.startswith(workflow.stem + " ")]
        assert len(folders) == 1
        images = sorted(folders[0].glob("*.png"))
        assert len(images) == 3
        for image_path in images:
            with Image.open(image_path) as image:
                graph = json.loads(image.text["prompt"])
            assert any(node["class_type"] == "SaveImage" for node in graph.values())
    assert (tmp_path / "data" / "cmfy-desk.sqlite3").is_file()
    assert (tmp_path / "data" / "logs").is_dir()


def test_run_json_ends_with_summary(tmp_path: Path, bundled_workflow_paths: list[Path]) -> None:
    result = _cmfy_desk(
        "run",
        "--sandbox",
        "--speed",
        "50",
        "--json",
        "--count",
        "2",
        "--out",
        str(tmp_path / "out"),
        str(bundled_workflow_paths[0]),
        data_dir=tmp_path / "data",
    )
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    summary = events[-1]
    assert summary["event"] == "summary"
    assert summary["succeeded"] == 2
    assert summary["failed"] == 0
    assert summary["outputs"] == 2
    assert {event["event"] for event in events[:-1]} == {"job", "output"}
    final = [e for e in events if e["event"] == "job" and e["status"] == "succeeded"]
    assert len(final) == 2


def test_run_exits_1_when_a_job_fails(tmp_path: Path, bundled_workflow_paths: list[Path]) -> None:
    graph = json.loads(bundled_workflow_paths[0].read_text())
    text_node = next(n for n in graph.values() if n["class_type"] == "CLIPTextEncode")
    text_node["inputs"]["text"] = "SANDBOX_FAIL please"
    failing = tmp_path / "failing.json"
    failing.write_text(json.dumps(graph))
    result = _cmfy_desk(
        "run",
        "--sandbox",
        "--speed",
        "50",
        "--json",
        "--out",
        str(tmp_path / "out"),
        str(bundled_workflow_paths[0]),
        str(failing),
        data_dir=tmp_path / "data",
    )
    assert result.returncode == 1, result.stderr
    summary = json.loads(result.stdout.splitlines()[-1])
    assert summary["succeeded"] == 1
    assert summary["failed"] == 1


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("notes.json", b"this is not json", "not valid JSON"),
        ("list.json", b"[1, 2, 3]", "list.json"),
        ("empty.json", b"", "empty"),
        (
            "editor.json",
            json.dumps({"nodes": [], "links": [], "version": 0.4}).encode(),
            "Export (API)",
        ),
        (
            "dangling.json",
            json.dumps(
                {
                    "1": {"class_type": "VAEDecode", "inputs": {"samples": ["9", 0]}},
                    "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0]}},
                }
            ).encode(),
            "9",
        ),
    ],
)
def test_bad_input_exits_2_before_any_job(
    tmp_path: Path, bundled_workflow_paths: list[Path], name: str, content: bytes, expected: str
) -> None:
    bad = tmp_path / name
    bad.write_bytes(content)
    result = _cmfy_desk(
        "run",
        "--sandbox",
        "--out",
        str(tmp_path / "out"),
        str(bundled_workflow_paths[0]),
        str(bad),
        data_dir=tmp_path / "data",
    )
    assert result.returncode == 2
    assert name in result.stderr
    assert expected in result.stderr
    assert "No job was submitted" in result.stderr
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "data" / "cmfy-desk.sqlite3").exists()


def test_huge_file_is_refused(tmp_path: Path) -> None:
    huge = tmp_path / "huge.json"
    with huge.open("wb") as file:
        file.truncate(50 * 1024 * 1024)
    result = _cmfy_desk("run", "--sandbox", str(huge), data_dir=tmp_path / "data")
    assert result.returncode == 2
    assert "huge.json" in result.stderr
    assert "MB" in result.stderr


def test_missing_api_key_exits_2(tmp_path: Path, bundled_workflow_paths: list[Path]) -> None:
    result = _cmfy_desk(
        "run",
        "--base-url",
        "http://127.0.0.1:9",
        str(bundled_workflow_paths[0]),
        data_dir=tmp_path / "data",
        env={"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"},
    )
    assert result.returncode == 2
    assert "CMFY_API_KEY" in result.stderr


def test_bad_usage_exits_2(tmp_path: Path) -> None:
    result = _cmfy_desk("run", "--count", "zero", "x.json", data_dir=tmp_path / "data")
    assert result.returncode == 2
    assert "--count" in result.stderr


def test_version(tmp_path: Path) -> None:
    result = _cmfy_desk("--version", data_dir=tmp_path / "data")
    assert result.returncode == 0
    assert result.stdout.startswith("cmfy-desk ")


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["--base-url", "http://127.0.0.1:9"], {"CMFY_API_KEY": "hello"}, "sk_live_"),
        (["--base-url", "ftp://127.0.0.1:9"], {"CMFY_API_KEY": "sk_test_" + "a" * 43}, "ftp://"),
        (["--speed", "5"], {"CMFY_API_KEY": "sk_test_" + "a" * 43}, "--sandbox"),
    ],
)
def test_bad_connection_exits_2(
    tmp_path: Path,
    bundled_workflow_paths: list[Path],
    args: list[str],
    env: dict[str, str],
    expected: str,
) -> None:
    result = _cmfy_desk(
        "run", *args, str(bundled_workflow_paths[0]), data_dir=tmp_path / "data", env=env
    )
    assert result.returncode == 2
    assert expected in result.stderr
    assert "hello" not in result.stderr
