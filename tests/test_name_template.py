"""Output folder and file name templates: tokens, safety, defaults and a batch on the sandbox."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from cmfy_desk.app import ConnectionConfig, Engine
from cmfy_desk.outputs.name_template import (
    DEFAULT_FILE_TEMPLATE,
    DEFAULT_FOLDER_TEMPLATE,
    NameValues,
    check_template,
    render_folder,
    render_name,
    unique_folder,
    values_for_job,
)
from cmfy_desk.outputs.naming import (
    MAX_NAME_LENGTH,
    UnsafePathError,
    batch_folder_name,
    output_file_name,
)
from cmfy_desk.scheduler import SchedulerOptions
from cmfy_desk.settings import Settings
from cmfy_desk.store import JobStatus
from cmfy_desk.workflows.batch import SeedMode
from cmfy_desk.workflows.formats import load_workflow_file
from tests.helpers import running_sandbox, wait_for

CREATED_AT = time.mktime((2025, 1, 31, 14, 5, 9, 0, 0, -1))
VALUES = NameValues(
    created_at=CREATED_AT,
    workflow="sdxl_txt2img",
    batch="foxes",
    job=42,
    index=3,
    seed=1234,
    model="sdxl_base",
    width=1024,
    height=768,
    prompt="a red fox\nin   snow, at dawn",
)
GRAPH: dict[str, Any] = {
    "1": {
        "class_type": "CheckpointLoaderSimple",
        "inputs": {"ckpt_name": "https://example.org/models/sdxl_base_1.0.safetensors"},
    },
    "2": {"class_type": "LoraLoader", "inputs": {"lora_name": "fur.safetensors"}},
    "3": {
        "class_type": "CLIPTextEncode",
        "inputs": {"text": "a red fox in snow", "clip": ["1", 1]},
    },
    "4": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["1", 1]}},
    "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 1024, "height": 832}},
    "6": {
        "class_type": "KSampler",
        "inputs": {
            "seed": 7,
            "model": ["1", 0],
            "positive": ["3", 0],
            "negative": ["4", 0],
            "latent_image": ["5", 0],
        },
    },
}


def test_each_token_renders() -> None:
    cases = {
        "{date}": "2025-01-31",
        "{time}": "14-05-09",
        "{batch}": "foxes",
        "{workflow}": "sdxl_txt2img",
        "{job}": "00042",
        "{index}": "03",
        "{seed}": "1234",
        "{model}": "sdxl_base",
        "{width}x{height}": "1024x768",
        "{prompt}": "a red fox in snow, at dawn",
    }
    for template, expected in cases.items():
        assert render_name(template, VALUES) == expected, template


def test_prompt_with_length() -> None:
    long_prompt = NameValues(created_at=CREATED_AT, prompt="word " * 30)
    assert render_name("{prompt:40}", long_prompt) == ("word " * 8).strip()
    assert render_name("{prompt:9}", VALUES) == "a red fox"
    assert render_name("{prompt:500}", VALUES) == "a red fox in snow, at dawn"


def test_unknown_values_render_empty() -> None:
    values = NameValues(created_at=CREATED_AT, workflow="wf")
    assert render_name("{workflow} {seed}{model} {width}x{height}", values) == "wf  x"
    assert render_name("{job}", values) == "job_"


def test_unsafe_characters_replaced() -> None:
    values = NameValues(created_at=CREATED_AT, prompt='a/b\\c:d*e?"f<g>h|i')
    name = render_name("{prompt}", values)
    assert name == "a_b_c_d_e__f_g_h_i"


def test_reserved_names_prefixed() -> None:
    for reserved in ("CON", "nul", "COM1", "lpt9.txt"):
        values = NameValues(created_at=CREATED_AT, prompt=reserved)
        assert render_name("{prompt}", values) == f"_{reserved}"


def test_names_cut_to_max_length() -> None:
    values = NameValues(created_at=CREATED_AT, prompt="x" * 500)
    assert len(render_name("{prompt} tail", values)) == MAX_NAME_LENGTH
    parts = render_folder("{prompt}/{prompt}", values)
    assert [len(part) for part in parts] == [MAX_NAME_LENGTH, MAX_NAME_LENGTH]


def test_empty_result_uses_default() -> None:
    empty = NameValues(created_at=CREATED_AT, workflow="wf", job=5, index=1)
    assert render_name("{seed}", empty) == "job00005_01"
    assert render_name("{prompt}", empty, default_template="{job}") == "00005"
    assert render_folder("{model}/{seed}", empty) == ["wf 2025-01-31 14-05-09"]
    assert render_folder("", empty) == ["wf 2025-01-31 14-05-09"]


def test_folder_template_makes_subfolders() -> None:
    assert render_folder("{model}/{date}/{batch} {seed}", VALUES) == [
        "sdxl_base",
        "2025-01-31",
        "foxes 1234",
    ]
    # A value's slash stays inside its folder's name.
    slashed = NameValues(created_at=CREATED_AT, workflow="a/b")
    assert render_folder("{workflow}", slashed) == ["a_b"]


def test_subfolders_cannot_escape(tmp_path: Path) -> None:
    values = NameValues(created_at=CREATED_AT, workflow="..", prompt="../../etc")
    for template in ("../{workflow}", "../../x", "{workflow}/{prompt}", "/abs/{prompt}", ".."):
        parts = render_folder(template, values)
        folder = unique_folder(tmp_path, parts, [])
        assert folder.resolve().is_relative_to(tmp_path.resolve()), template
        assert folder.resolve() != tmp_path.resolve(), template
    with pytest.raises(UnsafePathError):
        unique_folder(tmp_path, ["..", "outside"], [])


def test_unique_folder_adds_number(tmp_path: Path) -> None:
    (tmp_path / "sdxl_base" / "foxes").mkdir(parents=True)
    earlier = tmp_path / "sdxl_base" / "foxes (2)"
    folder = unique_folder(tmp_path, ["sdxl_base", "foxes"], [str(earlier)])
    assert folder == tmp_path / "sdxl_base" / "foxes (3)"
    assert unique_folder(tmp_path, ["other", "foxes"], [str(earlier)]) == (
        tmp_path / "other" / "foxes"
    )


def test_bad_token_message() -> None:
    problem = check_template("{workflow} {sed}")
    assert problem is not None
    assert "{sed}" in problem
    for token in ("{date}", "{time}", "{batch}", "{seed}", "{model}", "{prompt:N}"):
        assert token in problem
    assert check_template("{prompt:0}") is not None
    assert check_template("{prompt:x}") is not None
    assert check_template("{workflow") is not None
    assert check_template("job}") is not None
    assert check_template("{prompt:40} {width}x{height}") is None
    assert check_template("") is None
    with pytest.raises(ValueError, match=r"\{sed\}"):
        render_name("{sed}", VALUES)


def test_defaults_reproduce_names(tmp_path: Path) -> None:
    values = NameValues(created_at=CREATED_AT, workflow="sd:xl", job=42, index=0)
    url = "http://127.0.0.1/view?filename=a.webp"
    assert render_name(DEFAULT_FILE_TEMPLATE, values) + ".webp" == output_file_name(42, 0, url)
    expected = batch_folder_name("sd:xl", CREATED_AT, set())
    assert render_folder(DEFAULT_FOLDER_TEMPLATE, values) == [expected]
    (tmp_path / expected).mkdir()
    taken = {expected, f"{expected} (2)"}
    folder = unique_folder(tmp_path, [expected], [str(tmp_path / f"{expected} (2)")])
    assert folder.name == batch_folder_name("sd:xl", CREATED_AT, taken)


def test_values_from_graph() -> None:
    values = values_for_job(
        created_at=CREATED_AT,
        workflow="wf",
        batch="b",
        job=1,
        index=0,
        seed=7,
        graph=GRAPH,
        parameters={},
    )
    assert values.model == "sdxl_base_1.0"
    assert (values.width, values.height) == (1024, 832)
    assert values.prompt == "a red fox in snow"
    from_parameters = values_for_job(
        created_at=CREATED_AT,
        workflow="wf",
        batch="b",
        job=1,
        index=0,
        seed=7,
        graph=GRAPH,
        parameters={"prompt": "an owl"},
    )
    assert from_parameters.prompt == "an owl"


def test_settings_reject_bad_template(tmp_path: Path) -> None:
    settings = Settings(tmp_path / "settings.json")
    assert settings.get("output.folder_template") == DEFAULT_FOLDER_TEMPLATE
    assert settings.get("output.file_template") == DEFAULT_FILE_TEMPLATE
    with pytest.raises(ValueError, match=r"\{colour\}"):
        settings.set("output.file_template", "{colour}")
    settings.set("output.file_template", "{seed}_{index}")
    assert settings.get("output.file_template") == "{seed}_{index}"

    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"output.folder_template": "{nope}"}), encoding="utf-8")
    assert Settings(path).get("output.folder_template") == DEFAULT_FOLDER_TEMPLATE


def test_scheduler_options_reject_bad_template() -> None:
    with pytest.raises(ValueError, match=r"\{nope\}"):
        SchedulerOptions(file_template="{nope}")
    with pytest.raises(ValueError, match=r"\{nope\}"):
        SchedulerOptions(folder_template="{nope}/{date}")


@pytest.mark.asyncio
async def test_sandbox_batch_uses_templates(
    tmp_path: Path, bundled_workflow_paths: list[Path]
) -> None:
    workflow = load_workflow_file(
        next(p for p in bundled_workflow_paths if p.stem == "sd15_txt2img")
    )
    options = SchedulerOptions(
        retry_base_delay=0.01,
        retry_max_delay=0.05,
        file_template="{seed} {model} {width}x{height} {prompt:9} {index}",
        folder_template="{workflow}/{seed}",
    )
    async with running_sandbox(tmp_path, speed=50) as sandbox:
        engine = Engine(
            tmp_path / "data" / "cmfy-desk.sqlite3",
            tmp_path / "out",
            ConnectionConfig(kind="cmfy", base_url=sandbox.base_url, api_key=sandbox.api_key),
            options=options,
        )
        await engine.start()
        try:
            batch, _jobs = engine.add_batch(workflow, 3, SeedMode.INCREMENT, base_seed=500)
            await wait_for(lambda: not engine.unfinished_jobs({batch.id}), 60.0)
            finished = engine.store.jobs_of_batch(batch.id)
            outputs = engine.store.outputs()
        finally:
            await engine.stop()

    folder = tmp_path / "out" / "sd15_txt2img" / "500"
    assert batch.output_dir == str(folder.absolute())
    assert batch.name == "sd15_txt2img/500"
    assert [job.status for job in finished] == [JobStatus.SUCCEEDED] * 3
    expected = {f"{seed} v1-5-pruned-emaonly 512x512 a red fox 00.png" for seed in (500, 501, 502)}
    assert {Path(output.local_path).name for output in outputs} == expected
    assert {path.name for path in folder.iterdir()} == expected
    for output in outputs:
        assert Path(output.local_path).parent == folder.absolute()


class _MemoryKeys:
    """Stands in for the OS keyring: the dialog only reads whether a key is stored."""

    def get(self, account: str) -> str | None:
        return None

    def set(self, account: str, key: str) -> None:
        raise AssertionError("the sandbox connection stores no key")

    def take_notice(self) -> str | None:
        return None


def test_settings_dialog_previews_and_rejects(qtbot: Any, tmp_path: Path) -> None:
    from cmfy_desk.ui.dialogs import SettingsDialog

    settings = Settings(tmp_path / "settings.json")
    dialog = SettingsDialog(settings, _MemoryKeys(), tmp_path / "out")  # type: ignore[arg-type]
    qtbot.addWidget(dialog)
    assert "sdxl_txt2img 2025-01-31 14-05-09/job00042_00.png" in dialog.template_preview.text()

    dialog.folder_template.setText("{model}/{batch}")
    dialog.file_template.setText("{seed} {width}x{height} {prompt:9}")
    assert "sdxl_base/foxes/1234 1024x1024 a red fox.png" in dialog.template_preview.text()
    assert dialog.template_error.isHidden()

    dialog.file_template.setText("{seed} {colour}")
    assert not dialog.template_error.isHidden()
    assert "{colour}" in dialog.template_error.text()
    dialog.accept()
    assert dialog.result() != dialog.DialogCode.Accepted
    assert settings.get("output.file_template") == DEFAULT_FILE_TEMPLATE
    assert not (tmp_path / "settings.json").exists()

    dialog.file_template.setText("{seed}_{index}")
    dialog.accept()
    assert Settings(tmp_path / "settings.json").get("output.file_template") == "{seed}_{index}"
    assert Settings(tmp_path / "settings.json").get("output.folder_template") == ("{model}/{batch}")
