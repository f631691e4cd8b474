"""Every workflow template that ComfyUI ships is editor format and must be rejected clearly.

The templates come from the ``comfyui-workflow-templates-json`` package. Its ``templates/``
folder also contains the template browser's own data: ``index*.json`` (the template catalogue per
language and its JSON schema), ``index_logo.json`` (logo per provider) and ``fuse_options.json``
(search options). None of those is a workflow, so they are skipped by name. The test then
checks that it still found hundreds of workflows, so that a package change that moves them
fails here instead of passing with nothing checked.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pytest

from cmfy_desk.workflows.formats import WorkflowLoadError, load_workflow_file

EDITOR_REASON = "is an editor-format workflow (the format ComfyUI's Save writes)."
NOT_WORKFLOWS = {"index_logo.json", "fuse_options.json"}


def template_files() -> list[Path]:
    pytest.importorskip("comfyui_workflow_templates_json")
    folder = Path(str(files("comfyui_workflow_templates_json").joinpath("templates")))
    return [
        path
        for path in sorted(folder.glob("*.json"))
        if not path.name.startswith("index.") and path.name not in NOT_WORKFLOWS
    ]


def test_templates_found() -> None:
    assert len(template_files()) > 500


def test_templates_rejected_as_editor_format() -> None:
    accepted: list[str] = []
    wrong_reason: list[str] = []
    for path in template_files():
        try:
            load_workflow_file(path)
        except WorkflowLoadError as error:
            if error.reason != EDITOR_REASON:
                wrong_reason.append(f"{path.name}: {error.reason}")
        else:
            accepted.append(path.name)
    assert accepted == []
    assert wrong_reason == []
