"""The batch dialog over a real engine and the built-in sandbox: the parameter form, the batch
settings, the live summary, the large-batch question and planning on accept."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDoubleSpinBox, QLineEdit, QPlainTextEdit, QSpinBox

from cmfy_desk.app import ConnectionConfig, Engine
from cmfy_desk.paths import bundled_workflows
from cmfy_desk.settings import Settings
from cmfy_desk.store import FINAL_STATUSES, JobStatus
from cmfy_desk.ui.batch_dialog import BatchDialog
from cmfy_desk.ui.batch_inputs import BatchInputs, parse_seed_list
from cmfy_desk.workflows.batch import SeedMode
from cmfy_desk.workflows.formats import LoadedWorkflow, load_workflow_file
from tests.test_window import click_button, keep_loop_on_close, wait_for

pytestmark = [pytest.mark.asyncio, pytest.mark.qt_loop]

DATA = Path(__file__).parent / "data"


def sd15_path() -> Path:
    return next(path for path in bundled_workflows() if path.name == "sd15_txt2img.json")


@asynccontextmanager
async def sandbox_engine(tmp_path: Path, speed: float = 100.0) -> AsyncIterator[Engine]:
    (tmp_path / "data").mkdir(exist_ok=True)
    engine = Engine(
        tmp_path / "data" / "cmfy-desk.sqlite3",
        tmp_path / "outputs",
        ConnectionConfig(kind="sandbox", sandbox_speed=speed),
    )
    await engine.start()
    try:
        yield engine
    finally:
        await engine.stop()


def open_dialog(
    tmp_path: Path,
    workflows: list[LoadedWorkflow],
    engine: Engine | None,
    inputs: BatchInputs | None = None,
) -> BatchDialog:
    keep_loop_on_close()
    settings = Settings(tmp_path / "settings.json")
    dialog = BatchDialog(workflows, settings, engine=engine, initial_inputs=inputs)
    dialog.show()
    return dialog


async def accept_and_queue(dialog: BatchDialog, engine: Engine) -> list[int]:
    """Accept the dialog, wait for its plans and queue them as the window does."""
    finished: list[int] = []
    dialog.finished.connect(finished.append)
    dialog.accept()
    await wait_for(lambda: finished != [], description="the dialog to close")
    job_ids: list[int] = []
    for queued in dialog.planned:
        _batch, jobs = engine.queue_planned(queued.workflow, queued.plan, queued.planned)
        job_ids.extend(job.id for job in jobs)
    return job_ids


async def test_parameter_form_editor_types(tmp_path: Path) -> None:
    dialog = open_dialog(tmp_path, [load_workflow_file(sd15_path())], None)
    form = dialog.parameter_form
    seed = form.editor("5.seed")
    positive = form.editor("2.text")
    negative = form.editor("3.text")
    steps = form.editor("5.steps")
    cfg = form.editor("5.cfg")
    width = form.editor("4.width")
    model = form.editor("1.ckpt_name")
    dialog.reject()

    assert seed is not None
    assert isinstance(seed.widget, QLineEdit)
    assert seed.read() == 156680208700286
    assert seed.label.toolTip() == "node 5 KSampler.seed"
    assert positive is not None
    assert isinstance(positive.widget, QPlainTextEdit)
    assert positive.label.text() == "Positive prompt"
    assert positive.read().startswith("a red fox")
    assert negative is not None
    assert negative.label.text() == "Negative prompt"
    assert negative.read().startswith("blurry")
    assert steps is not None
    assert isinstance(steps.widget, QSpinBox)
    assert (steps.widget.minimum(), steps.widget.maximum(), steps.read()) == (1, 10000, 20)
    assert cfg is not None
    assert isinstance(cfg.widget, QDoubleSpinBox)
    assert (cfg.widget.minimum(), cfg.widget.maximum(), cfg.read()) == (0.0, 100.0, 7.0)
    assert width is not None
    assert isinstance(width.widget, QSpinBox)
    assert (width.widget.minimum(), width.widget.maximum()) == (16, 16384)
    assert width.widget.singleStep() == 8
    assert model is not None
    assert isinstance(model.widget, QLineEdit)
    assert model.read().startswith("https://huggingface.co/")


async def test_seed_editor_takes_64_bit_values(tmp_path: Path) -> None:
    dialog = open_dialog(tmp_path, [load_workflow_file(sd15_path())], None)
    seed = dialog.parameter_form.editor("5.seed")
    assert seed is not None
    assert isinstance(seed.widget, QLineEdit)
    seed.widget.setText(str(2**64 - 1))
    largest = dialog.parameter_form.values()
    seed.widget.setText(str(2**64))
    with pytest.raises(ValueError, match="between 0 and"):
        dialog.parameter_form.values()
    dialog.reject()

    assert largest == {"5.seed": 2**64 - 1}


async def test_untouched_form_sets_no_values(tmp_path: Path) -> None:
    dialog = open_dialog(tmp_path, [load_workflow_file(sd15_path())], None)
    values = dialog.parameter_form.values()
    dialog.reject()

    assert values == {}


async def test_add_input_by_title_reference(tmp_path: Path) -> None:
    dialog = open_dialog(tmp_path, [load_workflow_file(sd15_path())], None)
    form = dialog.parameter_form
    completions = form.completions()
    added = form.add_reference("4.batch_size")
    missing = form.add_reference("KSampler.nonexistent")
    error = form.add_error.text()
    dialog.reject()

    assert "KSampler.steps" in completions
    assert "5.steps" in completions
    assert added is not None
    assert added.key == "4.batch_size"
    assert missing is None
    assert "has no input 'nonexistent'" in error


async def test_edited_steps_reach_jobs(tmp_path: Path) -> None:
    async with sandbox_engine(tmp_path) as engine:
        engine.scheduler.pause()
        workflow = load_workflow_file(sd15_path(), engine.definitions)
        dialog = open_dialog(tmp_path, [workflow], engine, BatchInputs(count=2))
        steps = dialog.parameter_form.editor("5.steps")
        assert steps is not None
        assert isinstance(steps.widget, QSpinBox)
        steps.widget.setValue(33)
        job_ids = await accept_and_queue(dialog, engine)
        jobs = [engine.store.get_job(job_id) for job_id in job_ids]

    assert len(jobs) == 2
    assert [job.prompt["5"]["inputs"]["steps"] for job in jobs] == [33, 33]
    assert [job.parameters["5.steps"] for job in jobs] == [33, 33]


async def test_summary_counts_prompts_times_count(tmp_path: Path) -> None:
    async with sandbox_engine(tmp_path) as engine:
        engine.scheduler.pause()
        workflow = load_workflow_file(sd15_path(), engine.definitions)
        dialog = open_dialog(tmp_path, [workflow], engine, BatchInputs(count=2))
        dialog.batch_inputs.prompts.setPlainText("a fox\na cat\n\n# a comment\na heron")
        await wait_for(lambda: "estimated cost" in dialog.summary.text(), description="the summary")
        summary = dialog.summary.text()
        job_ids = await accept_and_queue(dialog, engine)
        prompts = [engine.store.get_job(job_id).prompt["2"]["inputs"]["text"] for job_id in job_ids]

    assert summary.startswith("6 jobs · estimated cost 6.0×")
    assert len(job_ids) == 6
    assert sorted(set(prompts)) == ["a cat", "a fox", "a heron"]


async def test_xy_grid_writes_grid_image(tmp_path: Path) -> None:
    async with sandbox_engine(tmp_path) as engine:
        workflow = load_workflow_file(sd15_path(), engine.definitions)
        dialog = open_dialog(tmp_path, [workflow], engine, BatchInputs(count=1))
        inputs = dialog.batch_inputs
        inputs.x_key.setEditText("5.steps")
        inputs.x_values.setText("10, 20")
        inputs.y_key.setEditText("cfg")
        inputs.y_values.setText("5, 7.5")
        job_ids = await accept_and_queue(dialog, engine)
        await wait_for(
            lambda: all(engine.store.get_job(i).status in FINAL_STATUSES for i in job_ids),
            description="4 finished jobs",
        )
        batch = engine.store.get_batch(engine.store.get_job(job_ids[0]).batch_id)
        grid = Path(batch.output_dir) / "grid.png"
        await wait_for(grid.is_file, description="grid.png")
        statuses = [engine.store.get_job(job_id).status for job_id in job_ids]

    assert len(job_ids) == 4
    assert statuses == [JobStatus.SUCCEEDED] * 4
    assert grid.read_bytes().startswith(b"\x89PNG")


async def test_large_batch_cancel_queues_nothing(tmp_path: Path) -> None:
    async with sandbox_engine(tmp_path) as engine:
        engine.scheduler.pause()
        workflow = load_workflow_file(sd15_path(), engine.definitions)
        dialog = open_dialog(tmp_path, [workflow], engine, BatchInputs(count=501))
        dialog.accept()
        box = dialog.confirmation
        assert box is not None
        text = box.text()
        click_button(box, "Cancel")
        still_open = dialog.isVisible()
        dialog.reject()
        jobs = engine.store.jobs()

    assert text == "Queue 501 jobs?"
    assert still_open
    assert dialog.planned == []
    assert jobs == []


async def test_large_batch_confirmed_queues(tmp_path: Path) -> None:
    async with sandbox_engine(tmp_path) as engine:
        engine.scheduler.pause()
        workflow = load_workflow_file(sd15_path(), engine.definitions)
        dialog = open_dialog(tmp_path, [workflow], engine, BatchInputs(count=501))
        finished: list[int] = []
        dialog.finished.connect(finished.append)
        dialog.accept()
        box = dialog.confirmation
        assert box is not None
        click_button(box, "Queue")
        await wait_for(lambda: finished != [], description="the dialog to close")
        planned = [len(queued.planned.graphs) for queued in dialog.planned]

    assert planned == [501]


async def test_summary_skips_planning_huge_batch(tmp_path: Path) -> None:
    dialog = open_dialog(tmp_path, [load_workflow_file(sd15_path())], None, BatchInputs(count=3000))
    dialog.refresh_summary()
    summary = dialog.summary.text()
    dialog.reject()

    assert summary.startswith("3,000 jobs")
    assert "about 3000× cost" in summary


async def test_invalid_seed_list_blocks_queue(tmp_path: Path) -> None:
    dialog = open_dialog(
        tmp_path,
        [load_workflow_file(sd15_path())],
        None,
        BatchInputs(seed_mode=SeedMode.LIST, seed_list="1, two"),
    )
    dialog.refresh_summary()
    error = dialog.error.text()
    enabled = dialog.queue_button.isEnabled()
    dialog.reject()

    assert "Seed 'two'" in error
    assert not enabled


async def test_plan_error_from_planner_shown(tmp_path: Path) -> None:
    dialog = open_dialog(tmp_path, [load_workflow_file(sd15_path())], None)
    dialog.batch_inputs.x_key.setEditText("5.steps")
    dialog.batch_inputs.x_values.setText("10, many")
    dialog.refresh_summary()
    await wait_for(lambda: dialog.error.isVisibleTo(dialog), description="an error")
    error = dialog.error.text()
    enabled = dialog.queue_button.isEnabled()
    dialog.reject()

    assert "many" in error
    assert not enabled


async def test_editor_workflow_notes_and_runs(tmp_path: Path) -> None:
    async with sandbox_engine(tmp_path) as engine:
        workflow = load_workflow_file(DATA / "flux_schnell.json", engine.definitions)
        dialog = open_dialog(tmp_path, [workflow], engine, BatchInputs(count=1))
        report = dialog.preflight_panel.report
        rows = dialog.preflight_panel.rows()
        heading = dialog.heading.text()
        job_ids = await accept_and_queue(dialog, engine)
        await wait_for(
            lambda: engine.store.get_job(job_ids[0]).status in FINAL_STATUSES,
            description="the job to finish",
        )
        job = engine.store.get_job(job_ids[0])

    assert workflow.source_format == "editor"
    assert "editor format, converted" in heading
    assert report is not None
    assert "local_model_name" in report.codes()
    assert any("flux1-schnell-fp8.safetensors" in row.finding.message for row in rows)
    assert job.status is JobStatus.SUCCEEDED
    assert job.prompt["30"]["inputs"]["ckpt_name"].startswith("https://")


async def test_canonical_urls_rewrite_graph(tmp_path: Path) -> None:
    async with sandbox_engine(tmp_path) as engine:
        workflow = load_workflow_file(DATA / "flux_schnell.json", engine.definitions)
        dialog = open_dialog(tmp_path, [workflow], engine)
        button_shown = dialog.preflight_panel.canonical_urls_button.isVisibleTo(dialog)
        dialog.preflight_panel.canonical_urls_button.click()
        graph = dialog.workflows[0].graph
        model = dialog.parameter_form.editor("30.ckpt_name")
        dialog.reject()

    assert button_shown
    assert graph["30"]["inputs"]["ckpt_name"].startswith("https://huggingface.co/")
    assert model is not None
    assert model.read() == graph["30"]["inputs"]["ckpt_name"]


async def test_preflight_error_disables_queue(tmp_path: Path) -> None:
    # Without an engine the model library is empty, so the local model name is an error.
    workflow = load_workflow_file(DATA / "flux_schnell.json")
    dialog = open_dialog(tmp_path, [workflow], None)
    enabled = dialog.queue_button.isEnabled()
    error = dialog.error.text()
    dialog.reject()

    assert not enabled
    assert error.startswith("Cannot queue: flux_schnell.json: Node 30")


async def test_workflows_keep_own_settings(tmp_path: Path) -> None:
    workflows = [load_workflow_file(path) for path in bundled_workflows()[:2]]
    dialog = open_dialog(tmp_path, workflows, None, BatchInputs(count=1))
    shared_at_start = dialog.apply_to_all.isChecked()
    dialog.apply_to_all.setChecked(False)
    dialog.count.setValue(3)
    dialog.select_workflow(1)
    second_count = dialog.count.value()
    dialog.count.setValue(5)
    dialog.select_workflow(0)
    first_count = dialog.count.value()
    dialog.apply_to_all.setChecked(True)
    dialog.count.setValue(7)
    dialog.select_workflow(1)
    shared_count = dialog.count.value()
    list_shown = dialog.workflow_list.isVisibleTo(dialog)
    dialog.reject()

    assert shared_at_start
    assert second_count == 1
    assert first_count == 3
    assert shared_count == 7
    assert list_shown


async def test_prompt_file_and_csv_load(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("# animals\na fox\na cat\n", encoding="utf-8")
    table = tmp_path / "rows.csv"
    table.write_text("steps;cfg\n10;5\n20;6\n30;7\n", encoding="utf-8")
    dialog = open_dialog(tmp_path, [load_workflow_file(sd15_path())], None, BatchInputs(count=1))
    loaded_prompts = dialog.batch_inputs.load_prompt_file(prompts)
    loaded_csv = dialog.batch_inputs.load_csv_file(table)
    label = dialog.batch_inputs.csv_label.text()
    dialog.refresh_summary()
    summary = dialog.summary.text()
    missing = dialog.batch_inputs.load_csv_file(tmp_path / "missing.csv")
    file_error = dialog.batch_inputs.file_error.text()
    dialog.reject()

    assert loaded_prompts
    assert dialog.batch_inputs.prompts.toPlainText() == "a fox\na cat"
    assert loaded_csv
    assert label == "rows.csv: 3 rows · columns steps, cfg"
    assert summary.startswith("6 jobs")
    assert not missing
    assert "missing.csv" in file_error


async def test_seed_list_parsing() -> None:
    assert parse_seed_list("1, 2;3  4") == (1, 2, 3, 4)
    with pytest.raises(ValueError, match="empty"):
        parse_seed_list(" , ")
    with pytest.raises(ValueError, match="Seed '-1'"):
        parse_seed_list("-1")
