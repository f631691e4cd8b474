"""The pre-flight panel: the summary, one row per finding, and the fix buttons, alone and
inside the batch dialog."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from cmfy_desk.paths import bundled_workflows
from cmfy_desk.settings import Settings
from cmfy_desk.ui.batch_dialog import BatchDialog
from cmfy_desk.ui.preflight_panel import PreflightPanel
from cmfy_desk.workflows.formats import LoadedWorkflow
from cmfy_desk.workflows.preflight import Finding, PreflightReport, Severity
from tests.test_window import keep_loop_on_close


def sd15_path() -> Path:
    return next(path for path in bundled_workflows() if path.name == "sd15_txt2img.json")


def report(*findings: Finding, unused: tuple[str, ...] = ()) -> PreflightReport:
    return PreflightReport(
        node_count=7, unused_nodes=unused, relative_cost=2.5, findings=tuple(findings)
    )


def test_panel_summary_without_findings(qtbot: QtBot) -> None:
    panel = PreflightPanel()
    qtbot.addWidget(panel)
    panel.show_report(report())

    assert panel.summary.text() == "7 nodes · relative cost 2.5× per job · no problems found"
    assert panel.rows() == []
    assert not panel.remove_unused_button.isVisibleTo(panel)
    assert not panel.canonical_urls_button.isVisibleTo(panel)


def test_panel_lists_findings_with_fix(qtbot: QtBot) -> None:
    panel = PreflightPanel()
    qtbot.addWidget(panel)
    error = Finding(Severity.ERROR, "no_output_node", "No output node.", fix="add SaveImage")
    note = Finding(
        Severity.INFO,
        "local_model_name",
        "A local file name.",
        fix="use the library URL",
        replacement={"a.safetensors": "https://example.invalid/a.safetensors"},
    )
    panel.show_report(report(error, note))
    rows = panel.rows()

    assert panel.summary.text().endswith("· 1 error")
    assert [row.finding.code for row in rows] == ["no_output_node", "local_model_name"]
    assert rows[0].message.text() == "No output node."
    assert rows[0].fix is not None
    assert rows[0].fix.text() == "Fix: add SaveImage"
    assert panel.canonical_urls_button.isVisibleTo(panel)


def test_panel_replaces_rows_on_new_report(qtbot: QtBot) -> None:
    panel = PreflightPanel()
    qtbot.addWidget(panel)
    finding = Finding(Severity.WARNING, "many_steps", "Many steps.")
    panel.show_report(report(finding, finding))
    panel.show_report(report(finding))
    panel.show_report(None)

    assert panel.rows() == []
    assert panel.summary.text() == "No workflow selected."


def test_panel_fix_buttons_emit(qtbot: QtBot) -> None:
    panel = PreflightPanel()
    qtbot.addWidget(panel)
    panel.show_report(
        report(
            Finding(Severity.WARNING, "unused_nodes", "1 node(s) lead nowhere.", ("9",)),
            unused=("9",),
        )
    )
    removals: list[bool] = []
    panel.removeUnusedRequested.connect(lambda: removals.append(True))
    panel.remove_unused_button.click()

    assert removals == [True]


@pytest.mark.asyncio
@pytest.mark.qt_loop
async def test_remove_unused_nodes_button(tmp_path: Path) -> None:
    graph = json.loads(sd15_path().read_text(encoding="utf-8"))
    graph["99"] = {
        "class_type": "CLIPTextEncode",
        "inputs": {"text": "left over", "clip": ["1", 1]},
        "_meta": {"title": "Forgotten prompt"},
    }
    workflow = LoadedWorkflow(tmp_path / "unused.json", "unused", graph)
    keep_loop_on_close()
    dialog = BatchDialog([workflow], Settings(tmp_path / "settings.json"))
    dialog.show()
    panel = dialog.preflight_panel
    before = panel.report
    shown = panel.remove_unused_button.isVisibleTo(dialog)
    messages = [row.finding.message for row in panel.rows()]
    panel.remove_unused_button.click()
    after = panel.report
    graph_after = dialog.workflows[0].graph
    shown_after = panel.remove_unused_button.isVisibleTo(dialog)
    dialog.reject()

    assert before is not None
    assert before.unused_nodes == ("99",)
    assert shown
    assert any("Node 99 (CLIPTextEncode)" in message for message in messages)
    assert after is not None
    assert after.unused_nodes == ()
    assert "99" not in graph_after
    assert not shown_after
