"""The window with several connections: the batch picks one, the status bar shows how status
arrives on each, and the Connections dialog saves ComfyUI servers and tests them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from cmfy_desk.app import ConnectionConfig, Engine
from cmfy_desk.connections import COMFYUI, ConnectionList
from cmfy_desk.keystore import ApiKeyStore
from cmfy_desk.settings import Settings
from cmfy_desk.store import JobStatus
from cmfy_desk.ui.connections_dialog import ConnectionsDialog
from cmfy_desk.ui.main_window import MainWindow
from tests.fake_comfyui import FakeComfyUI, running_fake_comfyui, txt2img_prompt
from tests.test_window import click_button, keep_loop_on_close, wait_for

pytestmark = [pytest.mark.asyncio, pytest.mark.qt_loop]


@asynccontextmanager
async def two_connection_window(tmp_path: Path, server: FakeComfyUI) -> AsyncIterator[MainWindow]:
    keep_loop_on_close()
    (tmp_path / "data").mkdir()
    engine = Engine(
        tmp_path / "data" / "cmfy-desk.sqlite3",
        tmp_path / "outputs",
        ConnectionConfig(kind="sandbox", sandbox_speed=100),
        extra_connections=[ConnectionConfig(kind=COMFYUI, name="studio", base_url=server.base_url)],
    )
    await engine.start()
    window = MainWindow(engine, Settings(tmp_path / "data" / "settings.json"), ApiKeyStore(), False)
    window.show()
    try:
        yield window
    finally:
        window.close()
        if window.quit_guard.box is not None:
            click_button(window.quit_guard.box, "Quit")
        await window.shutdown()
        window.deleteLater()


async def test_batch_runs_on_chosen_connection(tmp_path: Path) -> None:
    workflow = tmp_path / "fox.json"
    workflow.write_text(json.dumps(txt2img_prompt()), encoding="utf-8")
    async with (
        running_fake_comfyui(tmp_path / "server") as server,
        two_connection_window(tmp_path, server) as window,
    ):
        window.add_workflow_files([workflow])
        await wait_for(lambda: window.batch_dialog is not None, description="the batch dialog")
        dialog = window.batch_dialog
        assert dialog is not None
        labels = [dialog.connection.itemData(i) for i in range(dialog.connection.count())]
        assert labels == ["sandbox", "studio"]
        assert dialog.connection.isVisibleTo(dialog)
        dialog.connection.setCurrentIndex(1)
        dialog.count.setValue(2)
        dialog.accept()
        await wait_for(lambda: window.job_model.rowCount() == 2, description="two rows")
        engine = window.engine
        assert engine is not None
        await wait_for(
            lambda: all(job.status is JobStatus.SUCCEEDED for job in engine.store.jobs()),
            description="both jobs to succeed on the ComfyUI server",
        )
        jobs = engine.store.jobs()
        assert {job.connection for job in jobs} == {"studio"}
        assert all(engine.store.outputs(job.id) for job in jobs)

        window.refresh_status()
        tooltip = window.status_bar.bridge_label.toolTip()
        assert "sandbox: Webhooks active" in tooltip
        assert "studio: Live (websocket)" in tooltip
        assert window.status_bar.bridge_label.text().startswith("Webhooks active")


async def test_connections_dialog_saves_and_tests_a_comfyui_server(tmp_path: Path) -> None:
    keep_loop_on_close()
    saved = ConnectionList.load(tmp_path / "connections.json")
    spawned: list[asyncio.Future[None]] = []

    def spawn(coroutine: Coroutine[Any, Any, None], _name: str) -> None:
        spawned.append(asyncio.ensure_future(coroutine))

    async with running_fake_comfyui(tmp_path / "server") as server:
        dialog = ConnectionsDialog(saved, ApiKeyStore(), spawn)
        dialog.show()
        dialog.add_button.click()
        dialog.name.setText("studio")
        dialog.url.setText(server.base_url)
        dialog.test_button.click()
        await wait_for(lambda: "ComfyUI" in dialog.test_result.text(), description="a test result")
        assert "devices" in dialog.test_result.text()

        dialog.url.setText("not a url")
        dialog.accept()
        assert dialog.isVisible()
        assert "not an http" in dialog.error.text()

        dialog.url.setText(server.base_url)
        dialog.accept()
        assert not dialog.isVisible()
    again = ConnectionList.load(tmp_path / "connections.json")
    studio = again.get("studio")
    assert studio is not None and studio.kind == COMFYUI
    assert studio.base_url == server.base_url
