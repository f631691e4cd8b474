"""The main window over a real engine and the built-in sandbox, driven as a user would.

These tests run on a qasync loop over the QApplication, so Qt events are processed while a
test awaits. They poll with ``wait_for`` because pytest-qt's own waiting helpers start a
nested event loop, which stalls the asyncio loop.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from cmfy_desk.app import ConnectionConfig, Engine
from cmfy_desk.keystore import ApiKeyStore
from cmfy_desk.paths import bundled_workflows
from cmfy_desk.scheduler.events import NoticeLevel
from cmfy_desk.settings import Settings
from cmfy_desk.store import JobStatus
from cmfy_desk.ui.batch_dialog import BatchDialog
from cmfy_desk.ui.gallery import GalleryModel
from cmfy_desk.ui.main_window import MainWindow
from cmfy_desk.ui.metrics_dialog import MetricsDialog, open_metrics_dialog
from cmfy_desk.ui.quit_guard import RUNNING_STATUSES
from cmfy_desk.ui.viewer import ImageViewer
from cmfy_desk.workflows.formats import load_workflow_file

pytestmark = [pytest.mark.asyncio, pytest.mark.qt_loop]


async def wait_for(
    predicate: Callable[[], bool], timeout: float = 30.0, description: str = ""
) -> None:
    """Poll ``predicate`` while the loop keeps running Qt and asyncio work."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(
                f"Timed out after {timeout} s waiting for {description or predicate}"
            )
        await asyncio.sleep(0.05)


def keep_loop_on_close() -> None:
    # As in run_gui: closing the last window must not quit the application, which would stop
    # the qasync loop while the test still awaits the shutdown.
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)


@asynccontextmanager
async def open_window(
    tmp_path: Path, *, demo: bool = False, speed: float = 100.0, status_mode: str = "auto"
) -> AsyncIterator[MainWindow]:
    """Open the window over a started engine and the sandbox running ``speed`` times faster
    than real time. On exit it closes the window, clicking Quit if the quit question opens.

    The sandbox's webhooks report only final states, so a test that watches a job run uses
    ``status_mode="poll"``."""
    keep_loop_on_close()
    engine = Engine(
        tmp_path / "data" / "cmfy-desk.sqlite3",
        tmp_path / "outputs",
        ConnectionConfig(kind="sandbox", sandbox_speed=speed, status_mode=status_mode),
    )
    (tmp_path / "data").mkdir()
    await engine.start()
    settings = Settings(tmp_path / "data" / "settings.json")
    window = MainWindow(engine, settings, ApiKeyStore(), demo)
    window.show()
    try:
        yield window
    finally:
        window.close()
        if window.quit_guard.box is not None:
            click_button(window.quit_guard.box, "Quit")
        await window.shutdown()
        window.deleteLater()


def click_button(box: QMessageBox, text: str) -> None:
    buttons = [button for button in box.buttons() if button.text() == text]
    assert len(buttons) == 1, f"no single {text!r} button in {[b.text() for b in box.buttons()]}"
    buttons[0].click()


async def queue_sample(window: MainWindow, count: int) -> None:
    """Queue a batch of ``count`` jobs of the first sample workflow through the batch dialog."""
    rows = window.job_model.rowCount() + count
    window.add_workflow_files([bundled_workflows()[0]])
    await wait_for(lambda: window.batch_dialog is not None, description="the batch dialog")
    assert window.batch_dialog is not None
    window.batch_dialog.count.setValue(count)
    window.batch_dialog.accept()
    await wait_for(lambda: window.job_model.rowCount() == rows, description=f"{rows} rows")


def drop_files(window: MainWindow, paths: list[Path]) -> None:
    """Send a drag-enter and a drop of ``paths`` to the window, as a file manager would."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path)) for path in paths])
    center = QPointF(window.rect().center())
    enter = QDragEnterEvent(
        center.toPoint(),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        center,
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window, drop)


def statuses(window: MainWindow) -> list[JobStatus]:
    return [window.job_model.job_at(row).status for row in range(window.job_model.rowCount())]


async def test_drop_two_workflows_runs_batch(tmp_path: Path) -> None:
    workflows = bundled_workflows()[:2]
    async with open_window(tmp_path) as window:
        drop_files(window, workflows)
        await wait_for(lambda: window.batch_dialog is not None, description="the batch dialog")
        dialog = window.batch_dialog
        assert dialog is not None
        assert [workflow.path for workflow in dialog.workflows] == workflows
        dialog.count.setValue(2)
        dialog.accept()

        await wait_for(lambda: window.job_model.rowCount() == 4, description="4 job rows")
        await wait_for(
            lambda: statuses(window) == [JobStatus.SUCCEEDED] * 4, description="4 succeeded jobs"
        )
        model = window.gallery_model
        await wait_for(lambda: model.rowCount() == 4, description="4 gallery items")
        for row in range(4):
            model.data(model.index(row, 0), Qt.ItemDataRole.DecorationRole)
        await wait_for(
            lambda: all(model.thumbnail_ready(row) for row in range(4)), description="thumbnails"
        )
        paths = [Path(model.output_at(row).local_path) for row in range(4)]
        thumbnail = model.data(model.index(0, 0), Qt.ItemDataRole.DecorationRole)
        settings = window.settings

    assert window.batch_dialog is None
    assert all(path.is_file() for path in paths)
    assert all(path.read_bytes().startswith(b"\x89PNG") for path in paths)
    assert all(path.is_relative_to(tmp_path / "outputs") for path in paths)
    assert max(thumbnail.width(), thumbnail.height()) == 160
    assert settings.get("batch.count") == 2
    assert settings.get("window.geometry") != ""


async def test_bad_files_only_add_notices(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("remember to buy milk\n", encoding="utf-8")
    editor = tmp_path / "saved-from-editor.json"
    editor.write_text(json.dumps({"nodes": [], "links": [], "version": 0.4}), encoding="utf-8")
    async with open_window(tmp_path) as window:
        drop_files(window, [notes, editor])
        await wait_for(lambda: len(window.notices.messages()) == 2, description="2 notices")
        messages = window.notices.messages()
        rows = window.job_model.rowCount()
        dialog = window.batch_dialog

    assert rows == 0
    assert dialog is None
    assert messages[1][0] is NoticeLevel.ERROR
    assert messages[1][1].startswith("notes.txt: is not valid JSON")
    assert messages[0][0] is NoticeLevel.ERROR
    assert messages[0][1].startswith("saved-from-editor.json: is an editor-format workflow")
    assert "Export (API)" in messages[0][1]


async def test_folder_drop_loads_its_json_files(tmp_path: Path) -> None:
    folder = tmp_path / "workflows"
    folder.mkdir()
    sample = bundled_workflows()[0]
    (folder / "first.json").write_bytes(sample.read_bytes())
    (folder / "readme.txt").write_text("not a workflow", encoding="utf-8")
    (folder / "nested").mkdir()
    (folder / "nested" / "deeper.json").write_bytes(sample.read_bytes())
    async with open_window(tmp_path) as window:
        drop_files(window, [folder])
        await wait_for(lambda: window.batch_dialog is not None, description="the batch dialog")
        dialog = window.batch_dialog
        assert dialog is not None
        names = [workflow.name for workflow in dialog.workflows]
        dialog.reject()
        notices = window.notices.messages()

    assert names == ["first"]
    assert notices == []


async def test_status_bar_shows_sandbox_limits(tmp_path: Path) -> None:
    async with open_window(tmp_path) as window:
        window.refresh_status()
        connection = window.connection_label.text()
        limits = window.limits_label.text()
        window.pause_action.trigger()
        paused = window.limits_label.text()
        paused_engine = window.engine is not None and window.engine.status().paused
        window.pause_action.trigger()
        resumed = window.limits_label.text()

    assert connection == "Sandbox (built-in)"
    assert limits == "0/2 running · 0/60 req/min"
    assert paused.startswith("Paused · ")
    assert paused_engine
    assert not resumed.startswith("Paused")


async def test_demo_empty_state_offers_samples(tmp_path: Path) -> None:
    async with open_window(tmp_path, demo=True) as window:
        area = window.queue_area
        empty_shown = area.currentWidget() is area.empty_page
        button_shown = area.samples_button.isVisible()
        area.samples_button.click()
        await wait_for(lambda: window.batch_dialog is not None, description="the batch dialog")
        dialog = window.batch_dialog
        assert dialog is not None
        count = len(dialog.workflows)
        dialog.count.setValue(1)
        dialog.accept()
        await wait_for(lambda: window.job_model.rowCount() == count, description="sample jobs")
        table_shown = area.currentWidget() is window.job_table

    assert empty_shown
    assert button_shown
    assert count == len(bundled_workflows())
    assert table_shown


async def test_window_without_engine_asks_for_key(tmp_path: Path) -> None:
    keep_loop_on_close()
    settings = Settings(tmp_path / "settings.json")
    window = MainWindow(
        None,
        settings,
        ApiKeyStore(),
        False,
        database=tmp_path / "cmfy-desk.sqlite3",
        default_output_dir=tmp_path / "outputs",
    )
    window.show()
    try:
        messages = window.notices.messages()
        connection = window.connection_label.text()
        window.add_workflow_files([bundled_workflows()[0]])
        await wait_for(lambda: window.batch_dialog is not None, description="the batch dialog")
        assert window.batch_dialog is not None
        window.batch_dialog.accept()
        after = window.notices.messages()
    finally:
        window.close()
        await window.shutdown()
        window.deleteLater()

    assert connection == "Not connected"
    assert len(messages) == 1
    assert "Settings" in messages[0][1]
    assert after[0][0] is NoticeLevel.ERROR
    assert "not connected" in after[0][1]


async def test_cancel_and_retry_selected(tmp_path: Path) -> None:
    async with open_window(tmp_path) as window:
        window.pause_action.trigger()
        window.add_workflow_files([bundled_workflows()[0]])
        await wait_for(lambda: window.batch_dialog is not None, description="the batch dialog")
        assert window.batch_dialog is not None
        window.batch_dialog.count.setValue(3)
        window.batch_dialog.accept()
        await wait_for(lambda: window.job_model.rowCount() == 3, description="3 job rows")

        window.job_table.selectRow(1)
        window.cancel_action.trigger()
        await wait_for(lambda: JobStatus.CANCELLED in statuses(window), description="a cancel")
        after_cancel = statuses(window)
        window.retry_action.trigger()
        after_retry = statuses(window)

    # A cancelled job goes below the queue, and back to its place when retried.
    assert after_cancel == [JobStatus.QUEUED, JobStatus.QUEUED, JobStatus.CANCELLED]
    assert after_retry == [JobStatus.QUEUED] * 3


async def test_settings_change_restarts_engine(tmp_path: Path) -> None:
    async with open_window(tmp_path) as window:
        old_engine = window.engine
        window.add_workflow_files([bundled_workflows()[0]])
        await wait_for(lambda: window.batch_dialog is not None, description="the batch dialog")
        assert window.batch_dialog is not None
        window.batch_dialog.count.setValue(1)
        window.batch_dialog.accept()
        await wait_for(lambda: statuses(window) == [JobStatus.SUCCEEDED], description="1 job")

        window.open_settings()
        dialog = window.settings_dialog
        assert dialog is not None
        dialog.sandbox_plan.setCurrentIndex(dialog.sandbox_plan.findData("pro"))
        dialog.accept()
        await wait_for(
            lambda: window.engine is not None and window.engine is not old_engine,
            description="a new engine",
        )
        assert window.engine is not None
        plan = window.engine.connection.plan
        rows = window.job_model.rowCount()
        images = window.gallery_model.rowCount()
        limits = window.limits_label.text()

    assert plan == "pro"
    assert rows == 1
    assert images == 1
    assert limits.startswith("0/10 running")


async def test_settings_reject_malformed_key(tmp_path: Path) -> None:
    async with open_window(tmp_path) as window:
        window.open_settings()
        dialog = window.settings_dialog
        assert dialog is not None
        dialog.connection.setCurrentIndex(dialog.connection.findData("cmfy"))
        dialog.api_key.setText("sk_live_short")
        dialog.accept()
        still_open = dialog.isVisible()
        kind = window.settings.get("connection.kind")
        dialog.reject()

    assert still_open
    assert kind == "sandbox"


def double_click(widget: QWidget, position: QPoint) -> None:
    """Send the events of a left-button double-click to ``widget``, in the order Qt 6
    delivers them. QTest.mouseDClick delivers only the first press on the offscreen platform."""
    local = QPointF(position)
    global_position = QPointF(widget.mapToGlobal(position))
    for kind in (
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseButtonRelease,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseButtonDblClick,
        QEvent.Type.MouseButtonRelease,
    ):
        pressed = kind is not QEvent.Type.MouseButtonRelease
        event = QMouseEvent(
            kind,
            local,
            global_position,
            Qt.MouseButton.LeftButton,
            Qt.MouseButton.LeftButton if pressed else Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier,
        )
        QApplication.sendEvent(widget, event)


def shown_viewers() -> list[ImageViewer]:
    return [
        widget
        for widget in QApplication.topLevelWidgets()
        if isinstance(widget, ImageViewer) and widget.isVisible()
    ]


async def test_double_click_opens_one_viewer(tmp_path: Path) -> None:
    async with open_window(tmp_path) as window:
        await queue_sample(window, 1)
        gallery = window.gallery
        await wait_for(lambda: window.gallery_model.rowCount() == 1, description="an image")
        index = window.gallery_model.index(0, 0)
        await wait_for(lambda: gallery.visualRect(index).isValid(), description="the layout")
        center = gallery.visualRect(index).center()
        requests: list[object] = []
        gallery.openRequested.connect(requests.append)

        double_click(gallery.viewport(), center)
        first = shown_viewers()
        requests_after_first = len(requests)
        double_click(gallery.viewport(), center)
        second = shown_viewers()
        tracked = window.viewers()

    assert requests_after_first == 1
    assert len(first) == 1
    assert second == first
    assert tracked == first


async def test_viewer_closes_on_escape_and_close_key(tmp_path: Path) -> None:
    async with open_window(tmp_path) as window:
        await queue_sample(window, 1)
        await wait_for(lambda: window.gallery_model.rowCount() == 1, description="an image")
        output = window.gallery_model.output_at(0)
        results: dict[str, bool] = {}
        for name, key, modifier in (
            ("escape", Qt.Key.Key_Escape, Qt.KeyboardModifier.NoModifier),
            ("ctrl+w", Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier),
        ):
            window.open_viewer(output)
            viewer = window.viewers()[0]
            title = viewer.windowTitle()
            await wait_for(viewer.isActiveWindow, description="an active viewer")
            QTest.keyClick(viewer, key, modifier)
            results[name] = viewer.isVisible()
            await wait_for(lambda: window.viewers() == [], description="the viewer deleted")

    assert results == {"escape": False, "ctrl+w": False}
    assert title == f"{Path(output.local_path).name} — Cmfy Desk"


async def test_titles_end_with_app_name(tmp_path: Path) -> None:
    async with open_window(tmp_path, demo=True) as window:
        demo_title = window.windowTitle()
    assert demo_title == "Demo — Cmfy Desk"


async def test_quit_asks_while_jobs_run(tmp_path: Path) -> None:
    # At 0.01 times real time, a sandbox job runs for minutes, so jobs stay in flight.
    async with open_window(tmp_path, demo=True, speed=0.01) as window:
        closed: list[bool] = []
        window.closed.connect(lambda: closed.append(True))
        await queue_sample(window, 6)
        await wait_for(
            lambda: any(
                window.job_model.job_at(row).status in RUNNING_STATUSES
                for row in range(window.job_model.rowCount())
            ),
            description="a running job",
        )
        running = sum(
            window.job_model.job_at(row).status in RUNNING_STATUSES
            for row in range(window.job_model.rowCount())
        )

        window.quit_action.trigger()
        box = window.quit_guard.box
        assert box is not None
        text = box.text()
        details = box.informativeText()
        modal = box.isModal()
        click_button(box, "Cancel")
        after_cancel = (window.isVisible(), list(closed), window.quit_guard.box)

        window.close()
        second_box = window.quit_guard.box
        assert second_box is not None
        click_button(second_box, "Quit")
        after_quit = (window.isVisible(), list(closed))

    assert text == f"{running} jobs are still running. Quit anyway?"
    assert "built-in sandbox" in details
    assert "lost" in details
    assert "queued jobs stay in the queue and continue on the next start" in details
    assert modal
    assert after_cancel == (True, [], None)
    assert after_quit == (False, [True])


async def test_quit_without_running_jobs_closes(tmp_path: Path) -> None:
    async with open_window(tmp_path) as window:
        closed: list[bool] = []
        window.closed.connect(lambda: closed.append(True))
        window.pause_action.trigger()
        await queue_sample(window, 2)
        window.quit_action.trigger()
        box = window.quit_guard.box
        visible = window.isVisible()

    assert box is None
    assert not visible
    assert closed == [True]


async def test_finished_batch_announced_once(tmp_path: Path) -> None:
    async with open_window(tmp_path) as window:
        await queue_sample(window, 2)
        await wait_for(
            lambda: statuses(window) == [JobStatus.SUCCEEDED] * 2, description="2 succeeded jobs"
        )
        assert window.engine is not None
        batch = window.engine.store.get_batch(window.job_model.job_at(0).batch_id).name

        def announcements() -> list[str]:
            return [text for _level, text in window.notices.messages() if " done: " in text]

        await wait_for(lambda: len(announcements()) == 1, description="the announcement")
        first = announcements()
        status_message = window.statusBar().currentMessage()
        dock_shown = not window.notice_dock.isHidden()

        window.job_table.selectRow(0)
        window.retry_action.trigger()
        await wait_for(
            lambda: statuses(window) == [JobStatus.SUCCEEDED] * 2, description="the retry"
        )
        after_retry = announcements()

    assert first == [f"Batch '{batch}' done: 2 succeeded, 0 failed"]
    assert status_message == first[0]
    assert dock_shown
    assert after_retry == first


async def test_job_table_shows_batch_names(tmp_path: Path) -> None:
    async with open_window(tmp_path) as window:
        window.pause_action.trigger()
        await queue_sample(window, 1)
        await queue_sample(window, 2)
        assert window.engine is not None
        names = {batch.id: batch.name for batch in window.engine.store.batches()}
        model = window.job_model
        shown = [model.data(model.index(row, 1)) for row in range(model.rowCount())]
        header = model.headerData(1, Qt.Orientation.Horizontal)

    assert header == "Batch"
    assert len(set(names.values())) == 2
    first, second = sorted(names)
    assert shown == [
        f"#{first} {names[first]}",
        f"#{second} {names[second]}",
        f"#{second} {names[second]}",
    ]


async def test_gallery_shows_newest_batch_first(tmp_path: Path) -> None:
    async with open_window(tmp_path) as window:
        await queue_sample(window, 2)
        await wait_for(lambda: window.gallery_model.rowCount() == 2, description="2 images")
        await queue_sample(window, 2)
        await wait_for(lambda: window.gallery_model.rowCount() == 4, description="4 images")
        model = window.gallery_model
        order = [_job_of_row(model, row) for row in range(4)]
        jobs = sorted(job.id for job in window.job_model.jobs())

        model.search()
        await wait_for(lambda: not model.searching, description="the search")
        searched = [_job_of_row(model, row) for row in range(4)]

    # Newest output first: the second batch's two images, then the first batch's.
    assert set(order[:2]) == {jobs[2], jobs[3]}
    assert set(order[2:]) == {jobs[0], jobs[1]}
    assert set(searched[:2]) == {jobs[2], jobs[3]}
    assert set(searched[2:]) == {jobs[0], jobs[1]}


def _job_of_row(model: GalleryModel, row: int) -> int:
    output = model.output_at(row)
    assert output is not None
    return output.job_id


async def test_batch_dialog_lists_file_names(tmp_path: Path) -> None:
    settings = Settings(tmp_path / "settings.json")
    path = bundled_workflows()[0]
    dialog = BatchDialog([load_workflow_file(path)], settings)
    item = dialog.workflow_list.item(0)
    text = item.text()
    tooltip = item.toolTip()
    dialog.deleteLater()

    assert text == path.name
    assert tooltip == str(path)


async def test_notice_dock_hidden_until_notice(tmp_path: Path) -> None:
    async with open_window(tmp_path) as window:
        hidden_at_start = window.notice_dock.isHidden()
        window.notify(NoticeLevel.INFO, "first notice")
        shown_by_notice = not window.notice_dock.isHidden()
        window.notices.clear_button.click()
        hidden_after_clear = window.notice_dock.isHidden()
        view_action = window.notice_dock.toggleViewAction()
        view_action.trigger()
        shown_by_menu = not window.notice_dock.isHidden()

    assert hidden_at_start
    assert shown_by_notice
    assert hidden_after_clear
    assert shown_by_menu


async def test_long_status_message_elided(tmp_path: Path) -> None:
    async with open_window(tmp_path) as window:
        text = "Downloading failed: " + "a very long reason " * 40
        bar = window.status_bar
        window.status_bar.show_message(text, 10_000)
        shown = bar.currentMessage()
        shown_width = bar.fontMetrics().horizontalAdvance(shown)
        # QStatusBar draws the message from 6 px to 2 px before the first permanent label.
        room = bar.connection_label.x() - 8
        tooltip = bar.toolTip()
        window.status_bar.show_message("Short message", 10_000)
        short = bar.currentMessage()
        short_tooltip = bar.toolTip()

    assert shown.endswith("…")
    assert shown_width <= room
    assert tooltip == text
    assert short == "Short message"
    assert short_tooltip == "Short message"


async def test_closed_metrics_window_ignores_new_jobs(tmp_path: Path) -> None:
    async with open_window(tmp_path) as window:
        dialog = open_metrics_dialog(window)
        dialog.close()
        await wait_for(lambda: not window.findChildren(MetricsDialog), description="deletion")
        errors: list[BaseException] = []
        previous = sys.excepthook
        sys.excepthook = lambda _type, value, _traceback: errors.append(value)
        try:
            await queue_sample(window, 1)
            await asyncio.sleep(0.2)
        finally:
            sys.excepthook = previous
    assert errors == []
