"""Invalid values in settings.json: ``cmfy-desk run`` warns on stderr and uses the defaults."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cmfy_desk.outputs.name_template import DEFAULT_FILE_TEMPLATE, DEFAULT_FOLDER_TEMPLATE
from cmfy_desk.settings import InvalidSetting, Settings

TIMEOUT = 120


def run_one_job(
    tmp_path: Path, workflow: Path, settings: dict[str, object]
) -> subprocess.CompletedProcess[str]:
    """Run one sandbox job with ``settings`` in the data folder's settings.json."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "settings.json").write_text(json.dumps(settings), encoding="utf-8")
    environment = {k: v for k, v in os.environ.items() if k != "CMFY_API_KEY"}
    command = [
        sys.executable,
        "-m",
        "cmfy_desk",
        "run",
        "--sandbox",
        "--speed",
        "50",
        "--count",
        "1",
        "--seed",
        "1234",
        "--out",
        str(tmp_path / "out"),
        str(workflow),
        "--data-dir",
        str(data_dir),
    ]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=TIMEOUT, env=environment, check=False
    )


def saved_images(tmp_path: Path) -> list[Path]:
    return sorted(path.relative_to(tmp_path / "out") for path in (tmp_path / "out").rglob("*.png"))


def warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("warning: ")]


def test_run_warns_about_bad_file_template(
    tmp_path: Path, bundled_workflow_paths: list[Path]
) -> None:
    result = run_one_job(
        tmp_path, bundled_workflow_paths[0], {"output.file_template": "{seed}_{foo}"}
    )

    assert result.returncode == 0, result.stderr
    [warning] = warnings(result.stderr)
    assert str(tmp_path / "data" / "settings.json") in warning
    assert "output.file_template" in warning
    assert "Unknown token {foo}" in warning
    assert f"Using the default {DEFAULT_FILE_TEMPLATE!r} instead." in warning
    [image] = saved_images(tmp_path)
    assert image.name == "job00001_00.png"


def test_run_warns_about_bad_folder_template(
    tmp_path: Path, bundled_workflow_paths: list[Path]
) -> None:
    result = run_one_job(
        tmp_path, bundled_workflow_paths[0], {"output.folder_template": "{workflow}/{seed"}
    )

    assert result.returncode == 0, result.stderr
    [warning] = warnings(result.stderr)
    assert "output.folder_template" in warning
    assert "Unmatched brace in the name template '{workflow}/{seed'" in warning
    assert f"Using the default {DEFAULT_FOLDER_TEMPLATE!r} instead." in warning
    [image] = saved_images(tmp_path)
    assert len(image.parts) == 2
    assert image.parts[0].startswith(bundled_workflow_paths[0].stem + " ")


def test_run_uses_valid_templates_silently(
    tmp_path: Path, bundled_workflow_paths: list[Path]
) -> None:
    result = run_one_job(
        tmp_path,
        bundled_workflow_paths[0],
        {"output.folder_template": "renders/{workflow}", "output.file_template": "{seed}_{index}"},
    )

    assert result.returncode == 0, result.stderr
    assert warnings(result.stderr) == []
    assert saved_images(tmp_path) == [
        Path("renders") / bundled_workflow_paths[0].stem / "1234_00.png"
    ]


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        (
            "output.file_template",
            "{seed}_{foo}",
            "Invalid setting output.file_template: Unknown token {foo} in the name template "
            "'{seed}_{foo}'. Accepted tokens: {date}, {time}, {batch}, {workflow}, {job}, "
            "{index}, {seed}, {model}, {width}, {height}, {prompt}, {prompt:N}. Using the "
            "default 'job{job}_{index}' instead.",
        ),
        (
            "batch.count",
            0,
            "Invalid setting batch.count: expected at least 1, got 0. Using the default 4 instead.",
        ),
    ],
)
def test_settings_list_invalid_values(
    tmp_path: Path, key: str, value: object, expected: str
) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({key: value, "sandbox.plan": "pro"}), encoding="utf-8")

    settings = Settings(path)

    assert [invalid.key for invalid in settings.invalid] == [key]
    assert isinstance(settings.invalid[0], InvalidSetting)
    assert settings.invalid[0].message() == expected
    assert settings.get("sandbox.plan") == "pro"
