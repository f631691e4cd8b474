"""Workflows in the main window over a real engine and the built-in sandbox: every file format
dropped, pictures run again from the gallery and the viewer, and the model library window."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QInputDialog, QSpinBox

from cmfy_desk.paths import bundled_workflows
from cmfy_desk.store import JobStatus, Output
from cmfy_desk.ui.main_window import MainWindow
from cmfy_desk.ui.rerun import RerunAction
from tests.test_window import drop_files, open_window, queue_sample, statuses, wait_for

pytestmark = [pytest.mark.asyncio, pytest.mark.qt_loop]

DATA = Path(__file__).parent / "data"


async def finished_output(window: MainWindow) -> None:
    """Queue one job of the first sample and wait for its picture in the gallery."""
    await queue_sample(window, 1)
    await wait_for(lambda: window.gallery_model.rowCount() == 1, description="an image")


def without_seeds(graph: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of ``graph`` without its seed inputs, to compare what else it sets."""
    copy = json.loads(json.dumps(graph))
    for node in copy.values():
        node["inputs"].pop("seed", None)
    return copy


def menu_texts(window: MainWindow) -> list[str]:
    window.gallery.setCurrentIndex(window.gallery_model.index(0, 0))
    menu = window.gallery_panel.image_actions.menu()
    texts = [action.text() for action in menu.actions() if not action.isSeparator()]
    menu.deleteLater()
    return texts


def first_output(window: MainWindow) -> Output:
    output = window.gallery_model.output_at(0)
    assert output is not None
    return output


async def test_drop_editor_workflow_runs(tmp_path: Path) -> None:
    async with open_window(tmp_path) as window:
        drop_files(window, [DATA / "flux_schnell.json"])
        await wait_for(lambda: window.batch_dialog is not None, description="the batch dialog")
        dialog = window.batch_dialog
        assert dialog is not None
        source_format = dialog.workflows[0].source_format
        report = dialog.preflight_panel.report
        dialog.count.setValue(1)
        dialog.accept()
        await wait_for(lambda: statuses(window) == [JobStatus.SUCCEEDED], description="1 job")

    assert source_format == "editor"
    assert report is not None
    assert [finding.code for finding in report.infos] == ["local_model_name"]


async def test_drop_sandbox_picture_requeues_graph(tmp_path: Path) -> None:
    async with open_window(tmp_path) as window:
        await finished_output(window)
        assert window.engine is not None
        output = first_output(window)
        original = window.engine.store.get_job(output.job_id).prompt

        drop_files(window, [Path(output.local_path)])
        await wait_for(lambda: window.batch_dialog is not None, description="the batch dialog")
        dialog = window.batch_dialog
        assert dialog is not None
        source_format = dialog.workflows[0].source_format
        dialog.count.setValue(1)
        dialog.batch_inputs.seed_mode.setCurrentIndex(
            dialog.batch_inputs.seed_mode.findData("fixed")
        )
        dialog.accept()
        await wait_for(lambda: window.job_model.rowCount() == 2, description="a second job")
        jobs = window.engine.store.jobs()
        requeued = next(job for job in jobs if job.id != output.job_id)

    assert source_format == "png"
    assert requeued.prompt == original
    assert len({job.batch_id for job in jobs}) == 2


async def test_drop_folder_of_pictures_and_json(tmp_path: Path) -> None:
    async with open_window(tmp_path) as window:
        await finished_output(window)
        folder = tmp_path / "mixed"
        folder.mkdir()
        picture = Path(first_output(window).local_path)
        (folder / "picture.png").write_bytes(picture.read_bytes())
        (folder / "flux.json").write_bytes((DATA / "flux_schnell.json").read_bytes())
        (folder / "notes.txt").write_text("not a workflow", encoding="utf-8")

        drop_files(window, [folder])
        await wait_for(lambda: window.batch_dialog is not None, description="the batch dialog")
        dialog = window.batch_dialog
        assert dialog is not None
        formats = [(workflow.path.name, workflow.source_format) for workflow in dialog.workflows]
        dialog.reject()

    assert formats == [("flux.json", "editor"), ("picture.png", "png")]


async def test_drop_picture_without_workflow_notice(tmp_path: Path) -> None:
    plain = tmp_path / "plain.png"
    # A valid 1×1 PNG without text chunks.
    plain.write_bytes(
        bytes.fromhex(
            "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
            "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
        )
    )
    async with open_window(tmp_path) as window:
        drop_files(window, [plain])
        await wait_for(lambda: len(window.notices.messages()) == 1, description="a notice")
        message = window.notices.messages()[0][1]
        dialog = window.batch_dialog

    assert dialog is None
    assert message.startswith("plain.png: is a PNG image that contains no ComfyUI workflow")


async def test_gallery_run_again_same_graph(tmp_path: Path) -> None:
    async with open_window(tmp_path) as window:
        await finished_output(window)
        assert window.engine is not None
        texts = menu_texts(window)
        output = first_output(window)
        original = window.engine.store.get_job(output.job_id)

        run_again = window.gallery_panel.image_actions.rerun_actions[RerunAction.RUN_AGAIN]

        def image_selected() -> bool:
            # A search that finishes later resets the grid and its selection, so the first
            # image is selected again until the action is enabled.
            if not run_again.isEnabled():
                window.gallery.setCurrentIndex(window.gallery_model.index(0, 0))
            return run_again.isEnabled()

        await wait_for(image_selected, description="Run again enabled")
        run_again.trigger()
        await wait_for(lambda: window.job_model.rowCount() == 2, description="a second job")
        jobs = window.engine.store.jobs()
        again = next(job for job in jobs if job.id != original.id)

    start = texts.index("Run again")
    assert texts[start : start + 3] == ["Run again", "Vary seed…", "Edit and run…"]
    assert again.prompt == original.prompt
    assert again.seed == original.seed
    assert again.batch_id != original.batch_id


async def test_gallery_vary_seed_makes_jobs(tmp_path: Path) -> None:
    async with open_window(tmp_path) as window:
        await finished_output(window)
        assert window.engine is not None
        output = first_output(window)
        original = window.engine.store.get_job(output.job_id)
        window.gallery_panel.rerunRequested.emit(output, RerunAction.VARY_SEED)
        question = next(
            widget for widget in window.findChildren(QInputDialog) if widget.isVisible()
        )
        default = question.intValue()
        question.setIntValue(3)
        question.accept()
        await wait_for(lambda: window.job_model.rowCount() == 4, description="3 new jobs")
        new_jobs = [job for job in window.engine.store.jobs() if job.id != original.id]

    assert default == 4
    assert len(new_jobs) == 3
    assert len({job.seed for job in new_jobs}) == 3
    assert [without_seeds(job.prompt) for job in new_jobs] == [without_seeds(original.prompt)] * 3


async def test_viewer_edit_and_run_prefills(tmp_path: Path) -> None:
    async with open_window(tmp_path) as window:
        await finished_output(window)
        assert window.engine is not None
        output = first_output(window)
        original = window.engine.store.get_job(output.job_id)
        window.open_viewer(output)
        viewer = window.viewers()[0]
        viewer.rerun_buttons[RerunAction.EDIT].click()
        await wait_for(lambda: window.batch_dialog is not None, description="the batch dialog")
        dialog = window.batch_dialog
        assert dialog is not None
        graph = dialog.workflows[0].graph
        name = dialog.workflows[0].name
        heading = dialog.heading.text()
        seed_mode = dialog.selected_seed_mode()
        count = dialog.count.value()
        steps = next(
            editor
            for editor in dialog.parameter_form.editors()
            if editor.parameter.input_name == "steps"
        )
        assert isinstance(steps.widget, QSpinBox)
        steps.widget.setValue(7)
        dialog.accept()
        await wait_for(lambda: window.job_model.rowCount() == 2, description="the edited job")
        edited = next(job for job in window.engine.store.jobs() if job.id != original.id)
        viewer.close()

    assert graph == original.prompt
    assert name == original.workflow_name
    assert heading.startswith(
        f"{original.workflow_name} (the job of {Path(output.local_path).name})"
    )
    assert seed_mode.value == "fixed"
    assert count == 1
    assert edited.seed == original.seed
    assert edited.prompt[steps.parameter.node_id]["inputs"]["steps"] == 7


async def test_model_library_from_tools_menu(tmp_path: Path) -> None:
    async with open_window(tmp_path) as window:
        window.model_library_action.trigger()
        dialog = window.workflow_actions.model_library_dialog
        assert dialog is not None
        rows = dialog.model.rowCount()
        visible = dialog.isVisible()
        modal = dialog.isModal()
        window.model_library_action.trigger()
        same = window.workflow_actions.model_library_dialog is dialog
        dialog.reject()

    assert rows > 0
    assert visible
    assert not modal
    assert same


async def test_sample_batch_uses_bundled_sample(tmp_path: Path) -> None:
    async with open_window(tmp_path) as window:
        window.add_workflow_files([bundled_workflows()[0]])
        await wait_for(lambda: window.batch_dialog is not None, description="the batch dialog")
        dialog = window.batch_dialog
        assert dialog is not None
        kinds = {editor.parameter.kind.value for editor in dialog.parameter_form.editors()}
        dialog.reject()

    assert {"seed", "positive_prompt", "negative_prompt", "steps", "cfg", "model"} <= kinds


async def test_missing_model_url_fixed_in_library(tmp_path: Path) -> None:
    graph = json.loads(bundled_workflows()[1].read_text(encoding="utf-8"))
    graph["1"]["inputs"]["ckpt_name"] = "my-model.safetensors"
    workflow_file = tmp_path / "local-model.json"
    workflow_file.write_text(json.dumps(graph), encoding="utf-8")
    async with open_window(tmp_path) as window:
        window.add_workflow_files([workflow_file])
        await wait_for(lambda: window.batch_dialog is not None, description="the batch dialog")
        dialog = window.batch_dialog
        assert dialog is not None
        blocked = not dialog.queue_button.isEnabled()
        panel = dialog.preflight_panel
        button_shown = panel.model_library_button.isVisibleTo(panel)
        panel.model_library_button.click()
        library = window.workflow_actions.model_library_dialog
        assert library is not None
        library.add_button.click()
        editor = library.entry_dialog
        assert editor is not None
        editor.url.setText("https://example.invalid/models/my-model.safetensors")
        editor.accept()
        enabled_after = dialog.queue_button.isEnabled()
        codes = panel.report.codes() if panel.report else []
        library.reject()
        dialog.reject()

    assert blocked
    assert button_shown
    assert enabled_after
    assert "local_model_name" in codes
