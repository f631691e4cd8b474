"""The workflow commands and batch options of the command line, as subprocesses."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from PIL import Image

DATA = Path(__file__).parent / "data"


def _cmfy_desk(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "CMFY_API_KEY"}
    return subprocess.run(
        [sys.executable, "-m", "cmfy_desk", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=180,
        env=environment,
        check=False,
    )


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return _cmfy_desk(
        "run",
        "--sandbox",
        "--speed",
        "50",
        "--out",
        str(tmp_path / "out"),
        *args,
        data_dir=tmp_path / "data",
    )


def _job_parameters(tmp_path: Path) -> list[dict]:
    connection = sqlite3.connect(tmp_path / "data" / "cmfy-desk.sqlite3")
    rows = connection.execute("SELECT parameters_json FROM jobs ORDER BY id").fetchall()
    connection.close()
    return [json.loads(row[0]) for row in rows]


def test_convert_writes_api_graph(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cmfy_desk",
            "convert",
            str(DATA / "flux_schnell.json"),
            "-o",
            str(tmp_path / "api.json"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    graph = json.loads((tmp_path / "api.json").read_text())
    assert {node["class_type"] for node in graph.values()} >= {"KSampler", "SaveImage"}
    assert all("inputs" in node for node in graph.values())


def test_check_json_reports_each_file(tmp_path: Path, bundled_workflow_paths: list[Path]) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text(
        json.dumps(
            {
                "1": {"class_type": "KSampler", "inputs": {"steps": 20}},
                "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0]}},
            }
        )
    )
    result = _cmfy_desk(
        "check", "--json", str(bundled_workflow_paths[0]), str(broken), data_dir=tmp_path / "data"
    )
    reports = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.returncode == 1
    assert [Path(report["file"]).name for report in reports] == [
        bundled_workflow_paths[0].name,
        "broken.json",
    ]
    assert reports[0]["errors"] == []
    assert reports[0]["format"] == "api"
    assert reports[1]["errors"]
    assert any("model" in error for error in reports[1]["errors"])


def test_run_converts_editor_workflow(tmp_path: Path) -> None:
    result = _run(tmp_path, "--count", "2", str(DATA / "flux_schnell.json"))
    assert result.returncode == 0, result.stdout[-1500:] + result.stderr[-1500:]
    images = sorted((tmp_path / "out").rglob("*.png"))
    assert len(images) == 2
    with Image.open(images[0]) as image:
        graph = json.loads(image.text["prompt"])
    loaders = [node for node in graph.values() if "Loader" in node["class_type"]]
    assert loaders
    for node in loaders:
        for name, value in node["inputs"].items():
            if name.endswith("_name") and isinstance(value, str):
                assert value.startswith("https://"), (name, value)


def test_run_prompt_list_records_parameters(
    tmp_path: Path, bundled_workflow_paths: list[Path]
) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("# two subjects\na red fox in snow\n\na lighthouse at dusk\n")
    workflow = next(p for p in bundled_workflow_paths if p.stem == "sd15_txt2img")
    result = _run(tmp_path, "--prompts", str(prompts), "--steps", "12", str(workflow))
    assert result.returncode == 0, result.stderr
    parameters = _job_parameters(tmp_path)
    assert [p["prompt"] for p in parameters] == ["a red fox in snow", "a lighthouse at dusk"]
    images = sorted((tmp_path / "out").rglob("*.png"))
    texts = []
    for path in images:
        with Image.open(path) as image:
            graph = json.loads(image.text["prompt"])
        sampler = next(n for n in graph.values() if n["class_type"] == "KSampler")
        assert sampler["inputs"]["steps"] == 12
        texts.extend(
            n["inputs"]["text"] for n in graph.values() if n["class_type"] == "CLIPTextEncode"
        )
    assert "a red fox in snow" in texts
    assert "a lighthouse at dusk" in texts


def test_run_xy_grid_writes_grid_image(tmp_path: Path, bundled_workflow_paths: list[Path]) -> None:
    workflow = next(p for p in bundled_workflow_paths if p.stem == "sd15_txt2img")
    result = _run(tmp_path, "--x", "steps=10,20", "--y", "cfg=5,7", str(workflow))
    assert result.returncode == 0, result.stderr
    grids = list((tmp_path / "out").rglob("grid.png"))
    assert len(grids) == 1
    with Image.open(grids[0]) as grid:
        assert grid.width > 2 * 256
    assert len(_job_parameters(tmp_path)) == 4


def test_image_made_by_sandbox_runs_again(
    tmp_path: Path, bundled_workflow_paths: list[Path]
) -> None:
    first = _run(tmp_path, str(bundled_workflow_paths[0]))
    assert first.returncode == 0, first.stderr
    image = next((tmp_path / "out").rglob("*.png"))
    second = _cmfy_desk(
        "run",
        "--sandbox",
        "--speed",
        "50",
        "--seed-mode",
        "fixed",
        "--out",
        str(tmp_path / "again"),
        str(image),
        data_dir=tmp_path / "data2",
    )
    assert second.returncode == 0, second.stderr
    again = next((tmp_path / "again").rglob("*.png"))
    with Image.open(image) as original, Image.open(again) as copy:
        assert json.loads(copy.text["prompt"]) == json.loads(original.text["prompt"])


def test_large_batch_needs_yes(tmp_path: Path, bundled_workflow_paths: list[Path]) -> None:
    result = _run(tmp_path, "--count", "501", str(bundled_workflow_paths[0]))
    assert result.returncode == 2
    assert "--yes" in result.stderr
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").rglob("*.png"))


def test_bad_set_value_exits_2(tmp_path: Path, bundled_workflow_paths: list[Path]) -> None:
    result = _run(tmp_path, "--set", "99.steps=5", str(bundled_workflow_paths[0]))
    assert result.returncode == 2
    assert "99" in result.stderr


def test_image_folder_is_refused_for_cloud(
    tmp_path: Path, bundled_workflow_paths: list[Path]
) -> None:
    folder = tmp_path / "inputs"
    folder.mkdir()
    Image.new("RGB", (8, 8)).save(folder / "a.png")
    graph = json.loads(bundled_workflow_paths[0].read_text())
    graph["90"] = {"class_type": "LoadImage", "inputs": {"image": "example.png"}}
    workflow = tmp_path / "img2img.json"
    workflow.write_text(json.dumps(graph))
    result = _run(tmp_path, "--images", str(folder), str(workflow))
    assert result.returncode == 2
    assert "uploads" in result.stderr
    assert "No job was submitted" in result.stderr
