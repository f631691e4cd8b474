"""Desktop integration: one instance per data folder, the tray, the crash dialog, the Help menu,
remembered window state and translations.

Async tests run on a qasync loop over the QApplication and poll with asyncio.sleep, because
pytest-qt's waiting helpers start a nested event loop that stalls the asyncio loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
import time
import tomllib
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QDir, QLocale, QObject, Qt, QTimer, QUrl, Slot
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication, QKeySequence
from PySide6.QtNetwork import QLocalSocket
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMessageBox,
    QSplitter,
    QSystemTrayIcon,
)

from cmfy_desk.app import ConnectionConfig, Engine
from cmfy_desk.cli import build_gui_parser
from cmfy_desk.keystore import ApiKeyStore
from cmfy_desk.logs import setup_logging
from cmfy_desk.paths import bundled_workflows
from cmfy_desk.settings import Settings
from cmfy_desk.store import Job, JobStatus
from cmfy_desk.ui.about_dialog import (
    LICENCE,
    AboutDialog,
    ShortcutsDialog,
    add_missing_shortcuts,
    component_versions,
    library_version,
    shortcut_entries,
)
from cmfy_desk.ui.crash_dialog import CrashDialog, CrashReporter, crash_report
from cmfy_desk.ui.main import WindowMemory, app_icon, install_translators, run_gui
from cmfy_desk.ui.main_window import MainWindow
from cmfy_desk.ui.notifications import Delivery, NotificationPreferences
from cmfy_desk.ui.quit_guard import KEEP_RUNNING_ROLE, RUNNING_STATUSES, quit_question
from cmfy_desk.ui.single_instance import (
    InstanceServer,
    _parse_request,
    claim_instance,
    server_name,
)
from cmfy_desk.ui.tray import Tray, install_tray, queue_progress

ROOT = Path(__file__).resolve().parent.parent
SHUTDOWN_TIMEOUT = 30.0  # seconds
SECRET = "sk_test_" + "Q7" * 21 + "x"  # the form of a cmfy.cloud key: prefix and 43 characters

# Helpers ------------------------------------------------------------------------------------


async def wait_for(
    predicate: Callable[[], object], timeout: float = 30.0, description: str = ""
) -> None:
    """Poll ``predicate`` while the loop keeps running Qt and asyncio work."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"Timed out after {timeout} s waiting for {description}")
        await asyncio.sleep(0.02)


def application() -> QApplication:
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    # As in run_gui: closing or hiding the last window must not stop the loop.
    app.setQuitOnLastWindowClosed(False)
    return app


def unique_name() -> str:
    return f"cmfy-desk-test-{uuid.uuid4().hex[:12]}"


def window_without_engine(tmp_path: Path) -> MainWindow:
    application()
    return MainWindow(
        None,
        Settings(tmp_path / "settings.json"),
        ApiKeyStore(),
        False,
        database=tmp_path / "cmfy-desk.sqlite3",
        default_output_dir=tmp_path / "outputs",
    )


@asynccontextmanager
async def sandbox_window(tmp_path: Path, *, speed: float = 100.0) -> AsyncIterator[MainWindow]:
    """A shown window over a started engine on the built-in sandbox. On exit it closes,
    clicking Quit if the quit question opens."""
    application()
    (tmp_path / "data").mkdir()
    engine = Engine(
        tmp_path / "data" / "cmfy-desk.sqlite3",
        tmp_path / "outputs",
        ConnectionConfig(kind="sandbox", sandbox_speed=speed),
    )
    await engine.start()
    window = MainWindow(engine, Settings(tmp_path / "data" / "settings.json"), ApiKeyStore(), True)
    window.show()
    try:
        yield window
    finally:
        window.quit_guard.keep_running = None
        window.close()
        if window.quit_guard.box is not None:
            click(window.quit_guard.box, "Quit")
        # A shutdown that never ends fails the test here instead of hanging the run.
        async with asyncio.timeout(SHUTDOWN_TIMEOUT):
            await window.shutdown()
        window.deleteLater()


def click(box: QMessageBox, text: str) -> None:
    buttons = [button for button in box.buttons() if button.text() == text]
    assert len(buttons) == 1, f"no single {text!r} button in {[b.text() for b in box.buttons()]}"
    buttons[0].click()


async def queue_sample(window: MainWindow, count: int) -> None:
    rows = window.job_model.rowCount() + count
    window.add_workflow_files([bundled_workflows()[0]])
    await wait_for(lambda: window.batch_dialog is not None, description="the batch dialog")
    assert window.batch_dialog is not None
    window.batch_dialog.count.setValue(count)
    window.batch_dialog.accept()
    await wait_for(lambda: window.job_model.rowCount() == rows, description=f"{rows} rows")


def statuses(window: MainWindow) -> list[JobStatus]:
    return [job.status for job in window.job_model.jobs()]


async def send_from_loop(name: str, payload: bytes) -> str:
    """Send ``payload`` to the server ``name`` as another instance would, without blocking the
    loop (the server replies from this same loop), and return its reply line."""
    client = QLocalSocket()
    client.connectToServer(name)
    await wait_for(
        lambda: client.state() is QLocalSocket.LocalSocketState.ConnectedState,
        description="the connection",
    )
    client.write(payload)
    reply = b""

    def replied() -> bool:
        nonlocal reply
        reply += bytes(client.readAll().data())
        return reply.endswith(b"\n")

    await wait_for(replied, description="the reply")
    client.abort()
    return reply.decode("utf-8").strip()


def request(files: list[Path]) -> bytes:
    return (json.dumps({"files": [str(path) for path in files]}) + "\n").encode("utf-8")


@contextmanager
def app_logging(log_dir: Path) -> Iterator[Path]:
    """Set up the app's logging into ``log_dir`` and remove its handlers afterwards."""
    path = setup_logging(log_dir, console_level=None)
    try:
        yield path
    finally:
        root = logging.getLogger()
        for handler in list(root.handlers):
            if getattr(handler, "_cmfy_desk", False):
                root.removeHandler(handler)
                handler.close()


class UrlRecorder(QObject):
    """Receives the URLs QDesktopServices.openUrl() would hand to the desktop."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def record(self, url: QUrl) -> None:
        self.urls.append(url)


@contextmanager
def recorded_file_urls() -> Iterator[list[QUrl]]:
    recorder = UrlRecorder()
    QDesktopServices.setUrlHandler("file", recorder, "record")
    try:
        yield recorder.urls
    finally:
        QDesktopServices.unsetUrlHandler("file")


# Single instance ----------------------------------------------------------------------------


def test_server_name_per_user_and_folder(tmp_path: Path) -> None:
    first = server_name(tmp_path / "a")
    again = server_name(tmp_path / "b" / ".." / "a")
    other = server_name(tmp_path / "b")

    assert first == again
    assert first != other
    assert first.startswith("cmfy-desk-")
    assert str(tmp_path) not in first


def test_request_parsing_rejects_bad_input() -> None:
    assert _parse_request(b'{"files": ["/a/b.json"]}') == [Path("/a/b.json")]
    assert _parse_request(b'{"files": []}') == []
    with pytest.raises(ValueError, match="not UTF-8 JSON"):
        _parse_request(b"hello")
    with pytest.raises(ValueError, match="expected a JSON object"):
        _parse_request(b'["/a.json"]')
    with pytest.raises(ValueError, match=r"absolute file paths, got 'relative\.json'"):
        _parse_request(b'{"files": ["relative.json"]}')
    with pytest.raises(ValueError, match="absolute file paths, got 3"):
        _parse_request(b'{"files": [3]}')


@pytest.mark.asyncio
@pytest.mark.qt_loop
async def test_requests_in_quick_succession_make_one_list(tmp_path: Path) -> None:
    application()
    server = InstanceServer(unique_name())
    assert server.listen()
    received: list[list[Path]] = []
    activations: list[bool] = []
    server.filesReceived.connect(received.append)
    server.activationRequested.connect(lambda: activations.append(True))
    try:
        first = await send_from_loop(server.name, request([tmp_path / "a.json"]))
        second = await send_from_loop(
            server.name, request([tmp_path / "b.png", tmp_path / "c.json"])
        )
        only_raise = await send_from_loop(server.name, request([]))
        await wait_for(lambda: received, description="the files")
        await asyncio.sleep(0.5)
        bad = await send_from_loop(server.name, b'{"files": ["relative.json"]}\n')
        await asyncio.sleep(0.5)
    finally:
        server.close()

    assert (first, second, only_raise) == ("ok", "ok", "ok")
    assert received == [[tmp_path / "a.json", tmp_path / "b.png", tmp_path / "c.json"]]
    assert len(activations) == 3
    assert bad == "error: expected absolute file paths, got 'relative.json'"


@pytest.mark.skipif(sys.platform == "win32", reason="named pipes leave no file behind")
def test_stale_socket_file_does_not_block_start() -> None:
    application()
    name = unique_name()
    path = Path(QDir.tempPath()) / name
    # A socket file whose process is gone, as after a crash: bound, never listened on.
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(path))
    stale.close()
    assert path.exists()

    server = claim_instance(name, [Path("/tmp/a.json")])
    try:
        listening = server is not None and server.is_listening()
    finally:
        if server is not None:
            server.close()

    assert listening
    assert not path.exists()


def test_running_instance_is_not_replaced() -> None:
    application()
    first = InstanceServer(unique_name())
    assert first.listen()
    second = InstanceServer(first.name)
    try:
        second_listens = second.listen()
        first_listens = first.is_listening()
    finally:
        second.close()
        first.close()

    assert not second_listens
    assert first_listens


def test_second_instance_hands_files_to_window(tmp_path: Path) -> None:
    """Run the real start-up (run_gui, demo mode) in this process and a second
    ``python -m cmfy_desk FILE FILE`` with relative paths in a subprocess."""
    application()
    data_dir = tmp_path / "data"
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    samples = bundled_workflows()[:2]
    for index, sample in enumerate(samples):
        shutil.copy(sample, inputs / f"workflow-{index}.json")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("CMFY_DESK_DATA_DIR", None)
    second: dict[str, subprocess.CompletedProcess[str]] = {}

    def run_second_instance() -> None:
        second["result"] = subprocess.run(
            [
                sys.executable,
                "-m",
                "cmfy_desk",
                "--data-dir",
                str(data_dir),
                "workflow-0.json",
                "workflow-1.json",
            ],
            cwd=inputs,
            env=env,
            capture_output=True,
            text=True,
            timeout=90,
        )

    thread = threading.Thread(target=run_second_instance)
    seen: dict[str, object] = {}
    deadline = time.monotonic() + 100

    def poll() -> None:
        try:
            windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
            window = next((w for w in windows if w.isVisible()), None)
            if window is None:
                return
            if not thread.is_alive() and "result" not in second and "started" not in seen:
                seen["started"] = True
                thread.start()
                return
            dialog = window.batch_dialog
            timed_out = time.monotonic() > deadline
            if not timed_out and (thread.is_alive() or dialog is None):
                return
            seen["workflows"] = [w.path for w in dialog.workflows] if dialog else None
            seen["timed_out"] = timed_out
            timer.stop()
            if dialog is not None:
                dialog.reject()
            window.close()
        except Exception as exc:  # reported by the asserts below; the window must close
            seen["error"] = repr(exc)
            timer.stop()
            for widget in QApplication.topLevelWidgets():
                if isinstance(widget, MainWindow):
                    widget.close()

    timer = QTimer()
    timer.timeout.connect(poll)
    timer.start(100)
    try:
        status = run_gui(build_gui_parser().parse_args(["--demo", "--data-dir", str(data_dir)]))
    finally:
        timer.stop()
        root = logging.getLogger()
        for handler in list(root.handlers):
            if getattr(handler, "_cmfy_desk", False):
                root.removeHandler(handler)
                handler.close()
    thread.join(timeout=100)

    result = second["result"]
    assert "error" not in seen, seen.get("error")
    assert status == 0
    assert result.returncode == 0, result.stderr
    assert "already running; sent 2 file(s)" in result.stdout
    assert seen["timed_out"] is False
    assert seen["workflows"] == [inputs / "workflow-0.json", inputs / "workflow-1.json"]
    assert (data_dir / "window-state.ini").is_file()


# Tray -----------------------------------------------------------------------------------------


def test_queue_progress_counts_unfinished_batches() -> None:
    def job(job_id: int, batch_id: int, status: JobStatus) -> Job:
        return Job(
            id=job_id,
            batch_id=batch_id,
            position=job_id,
            connection="sandbox",
            workflow_name="foxes",
            prompt={},
            prompt_hash="",
            seed=job_id,
            status=status,
            idempotency_key=f"key-{job_id}",
            remote_id=None,
            queue_position=None,
            attempts=0,
            error_code=None,
            error_message=None,
            error_request_id=None,
            created_at=0.0,
            submitted_at=None,
            started_at=None,
            finished_at=None,
            remote_created_at=None,
            remote_started_at=None,
            remote_completed_at=None,
            execution_time_ms=None,
            updated_at=0.0,
            parameters={},
        )

    jobs = [
        job(1, 1, JobStatus.SUCCEEDED),
        job(2, 1, JobStatus.SUCCEEDED),
        job(3, 2, JobStatus.SUCCEEDED),
        job(4, 2, JobStatus.FAILED),
        job(5, 2, JobStatus.RUNNING),
        job(6, 2, JobStatus.QUEUED),
    ]

    assert queue_progress(jobs) == (2, 4)
    assert queue_progress(jobs[:2]) == (0, 0)
    assert queue_progress([]) == (0, 0)


def test_no_tray_where_desktop_has_none(tmp_path: Path) -> None:
    window = window_without_engine(tmp_path)
    try:
        available = QSystemTrayIcon.isSystemTrayAvailable()
        tray = install_tray(window)
        keep_running = window.quit_guard.keep_running
    finally:
        window.deleteLater()

    assert not available  # the offscreen platform has no tray
    assert tray is None
    assert keep_running is None


@pytest.mark.asyncio
@pytest.mark.qt_loop
async def test_tray_tooltip_and_one_notification_per_batch(tmp_path: Path) -> None:
    async with sandbox_window(tmp_path) as window:
        tray = Tray(window, QSystemTrayIcon(app_icon(), window))
        tray.install()
        window.notifier.tray = tray
        window.notifier.preferences = NotificationPreferences(batch_done=Delivery.DESKTOP)
        messages: list[tuple[str, str]] = []
        tray.icon.showMessage = lambda title, text, *rest: messages.append((title, text))  # type: ignore[method-assign]
        tray.icon.isVisible = lambda: True  # type: ignore[method-assign]
        tray.icon.supportsMessages = lambda: True  # type: ignore[method-assign]
        idle = tray.tooltip_text()

        window.pause_action.trigger()
        await queue_sample(window, 3)
        tray.refresh_tooltip()
        paused = tray.icon.toolTip()
        # As when the window is hidden in the tray.
        window.hide()
        window.pause_action.trigger()
        await wait_for(
            lambda: statuses(window) == [JobStatus.SUCCEEDED] * 3, description="3 succeeded jobs"
        )
        await wait_for(lambda: messages, description="the notification")
        await wait_for(
            lambda: "No jobs waiting" in tray.icon.toolTip(), description="the idle tooltip"
        )
        finished = tray.icon.toolTip()

        window.job_table.selectRow(0)
        window.retry_action.trigger()
        await wait_for(
            lambda: statuses(window) == [JobStatus.SUCCEEDED] * 3, description="the retry"
        )
        await asyncio.sleep(0.3)
        after_retry = list(messages)

        tray.icon.messageClicked.emit()
        shown = window.isVisible()

    assert idle == "Cmfy Desk\nNo jobs waiting"
    assert paused == "Cmfy Desk\n0 of 3 jobs done\nQueue paused"
    assert finished == "Cmfy Desk\nNo jobs waiting"
    assert len(messages) == 1
    assert messages[0][0] == "Batch done"
    assert messages[0][1].endswith("done: 3 succeeded, 0 failed")
    assert after_retry == messages
    assert shown


@pytest.mark.asyncio
@pytest.mark.qt_loop
async def test_quit_question_offers_keeping_in_tray(tmp_path: Path) -> None:
    # At 0.01 times real time a sandbox job runs for minutes, so jobs stay in flight.
    async with sandbox_window(tmp_path, speed=0.01) as window:
        tray = Tray(window, QSystemTrayIcon(app_icon(), window))
        tray.install()
        closed: list[bool] = []
        window.closed.connect(lambda: closed.append(True))
        await queue_sample(window, 2)
        await wait_for(
            lambda: any(status in RUNNING_STATUSES for status in statuses(window)),
            description="a running job",
        )

        window.close()
        box = window.quit_guard.box
        assert box is not None
        buttons = [button.text() for button in box.buttons()]
        default = box.defaultButton().text()
        details = box.informativeText()
        click(box, "Keep running in the tray")
        hidden = (window.isVisible(), list(closed))

        tray.quit_action.trigger()
        shown_again = window.isVisible()
        second = window.quit_guard.box
        assert second is not None
        second_buttons = [button.text() for button in second.buttons()]
        click(second, "Quit")
        after_quit = (window.isVisible(), list(closed))

    assert sorted(buttons) == ["Cancel", "Keep running in the tray", "Quit"]
    assert default == "Keep running in the tray"
    assert "tray icon shows the window again" in details
    assert hidden == (False, [])
    assert shown_again
    assert sorted(second_buttons) == ["Cancel", "Quit"]
    assert after_quit == (False, [True])


def test_quit_question_without_tray_keeps_quit_default(tmp_path: Path) -> None:
    window = window_without_engine(tmp_path)
    try:
        box = quit_question(window, 2, 0, sandbox=False)
        buttons = sorted(button.text() for button in box.buttons())
        roles = {box.buttonRole(button) for button in box.buttons()}
        default = box.defaultButton().text()
        box.deleteLater()
    finally:
        window.deleteLater()

    assert buttons == ["Cancel", "Quit"]
    assert KEEP_RUNNING_ROLE not in roles
    assert default == "Quit"


# Crash dialog ---------------------------------------------------------------------------------


def test_crash_report_contains_no_secret(tmp_path: Path) -> None:
    log_file = tmp_path / "cmfy-desk.log"
    lines = [f"2026-01-01 INFO cmfy_desk.test: line {number}" for number in range(80)]
    lines.append(f"2026-01-01 DEBUG cmfy_desk.backends: POST /v1/jobs Authorization: {SECRET}")
    log_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    try:
        raise RuntimeError(f"submitting failed with header Bearer {SECRET}")
    except RuntimeError as exc:
        error = exc

    report = crash_report(error, "a test", log_file)

    assert SECRET not in report
    assert SECRET[8:] not in report
    assert "sk_test_[redacted]" in report
    assert "Bearer [redacted]" in report
    assert "RuntimeError: submitting failed" in report
    assert "test_crash_report_contains_no_secret" in report
    assert "Last 50 lines of cmfy-desk.log:" in report
    assert "line 30" not in report
    assert "line 31" in report
    for name in ("Cmfy Desk", "OS:", "Qt:", "PySide6:", "Python:", "httpx:"):
        assert name in report


@pytest.mark.asyncio
@pytest.mark.qt_loop
async def test_error_in_slot_opens_crash_dialog(tmp_path: Path) -> None:
    application()
    quits: list[bool] = []
    with app_logging(tmp_path / "logs") as log_file:
        logging.getLogger("cmfy_desk.test").info("using key %s", SECRET)
        reporter = CrashReporter(log_file, lambda: quits.append(True))
        reporter.install(asyncio.get_running_loop())
        try:

            def failing_slot() -> None:
                raise ValueError(f"the service rejected {SECRET}")

            QTimer.singleShot(0, failing_slot)
            await wait_for(lambda: reporter.dialog is not None, description="the crash dialog")
            dialog = reporter.dialog
            assert isinstance(dialog, CrashDialog)
            report = dialog.text.toPlainText()
            buttons = [
                dialog.copy_button.text(),
                dialog.log_button.text(),
                dialog.quit_button.text(),
                dialog.continue_button.text(),
            ]
            dialog.copy_button.click()
            clipboard = QGuiApplication.clipboard().text()
            with recorded_file_urls() as urls:
                dialog.log_button.click()
            dialog.quit_button.click()
            closed = not dialog.isVisible()
        finally:
            reporter.uninstall()
        log_text = log_file.read_text(encoding="utf-8")

    assert SECRET not in report
    assert "ValueError: the service rejected sk_test_[redacted]" in report
    assert "using key sk_test_[redacted]" in report
    assert buttons == ["Copy report", "Open log folder", "Quit", "Continue"]
    assert clipboard == report
    assert [url.toLocalFile() for url in urls] == [str(log_file.parent)]
    assert quits == [True]
    assert closed
    assert "Unhandled error (unhandled exception)" in log_text
    assert "ValueError: the service rejected sk_test_[redacted]" in log_text
    assert SECRET not in log_text
    assert sys.excepthook is not reporter.handle_exception


@pytest.mark.asyncio
@pytest.mark.qt_loop
async def test_loop_and_thread_errors_share_one_dialog(tmp_path: Path) -> None:
    application()
    loop = asyncio.get_running_loop()
    reporter = CrashReporter(None, lambda: None)
    reporter.install(loop)
    try:

        def failing_callback() -> None:
            raise KeyError("missing")

        loop.call_soon(failing_callback)
        await wait_for(lambda: reporter.dialog is not None, description="the crash dialog")
        dialog = reporter.dialog
        assert dialog is not None
        report = dialog.report

        def failing_thread() -> None:
            raise RuntimeError("in a worker thread")

        worker = threading.Thread(target=failing_thread, name="worker-1")
        worker.start()
        worker.join()
        await wait_for(lambda: dialog.later_errors == 1, description="the second error")
        # A network error of a transport is logged, not shown.
        loop.call_exception_handler(
            {"message": "Fatal read error", "exception": ConnectionResetError("reset")}
        )
        loop.call_exception_handler({"message": "Unclosed client session"})
        await asyncio.sleep(0.1)
        later = dialog.later_errors
        status = dialog.status.text()
        log_enabled = dialog.log_button.isEnabled()
        dialog.continue_button.click()
        await wait_for(lambda: reporter.dialog is None, description="the dialog to close")
    finally:
        reporter.uninstall()

    assert "KeyError: 'missing'" in report
    assert "No log file." in report
    assert later == 1
    assert status == "1 more error occurred since; the log file records it."
    assert not log_enabled
    assert loop.get_exception_handler() is None


# About and shortcuts --------------------------------------------------------------------------


def test_licence_matches_pyproject() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["license"] == LICENCE


def test_about_lists_versions(tmp_path: Path) -> None:
    import importlib.metadata

    from PySide6 import __version__ as pyside

    window = window_without_engine(tmp_path)
    try:
        dialog = AboutDialog(window)
        versions = dict(dialog.versions)
        texts = " ".join(label.text() for label in dialog.findChildren(QLabel))
        dialog.copy_button.click()
        copied = QGuiApplication.clipboard().text()
        dialog.deleteLater()
    finally:
        window.deleteLater()

    assert list(versions) == [
        "Qt",
        "PySide6",
        "Python",
        "httpx",
        "aiohttp",
        "qasync",
        "Pillow",
        "keyring",
    ]
    assert versions["PySide6"] == pyside
    assert versions["Pillow"] == importlib.metadata.version("Pillow")
    assert versions["keyring"] == importlib.metadata.version("keyring")
    assert versions["qasync"] == importlib.metadata.version("qasync")
    assert "Cmfy Desk 0.1.0" in texts
    assert "GPL-3.0-or-later" in texts
    for name, version in versions.items():
        assert f"{name}: {version}" in copied
    assert library_version("no-such-distribution", "no_such_module") is None
    assert len(component_versions()) == 8


def test_help_menu_has_its_actions(tmp_path: Path) -> None:
    window = window_without_engine(tmp_path)
    try:
        help_menu = window.menuBar().actions()[-1].menu()
        assert help_menu is not None
        entries = [action.text() for action in help_menu.actions() if not action.isSeparator()]
        with app_logging(tmp_path / "logs") as log_file, recorded_file_urls() as urls:
            window.log_folder_action.trigger()
            opened = [url.toLocalFile() for url in urls]
    finally:
        window.deleteLater()

    assert entries == ["Keyboard shortcuts", "Open log folder", "About Cmfy Desk"]
    assert opened == [str(log_file.parent)]


def test_shortcuts_dialog_lists_every_shortcut(tmp_path: Path) -> None:
    window = window_without_engine(tmp_path)
    try:
        # An action added after the window was built is listed too.
        later = QAction("Compare outputs", window)
        later.setShortcut(QKeySequence("Ctrl+Shift+K"))
        window.menuBar().actions()[2].menu().addAction(later)  # type: ignore[union-attr]
        dialog = ShortcutsDialog(window)
        rows = dialog.rows()
        with_shortcuts = {
            action.text().replace("&", "").rstrip("…")
            for action in window.findChildren(QAction)
            if not action.shortcut().isEmpty() and action.text()
        }
        dialog.deleteLater()
    finally:
        window.deleteLater()

    native = QKeySequence.SequenceFormat.NativeText

    def key(text: str) -> str:
        return QKeySequence(text).toString(native)

    assert (
        "File",
        "Add workflows",
        QKeySequence(QKeySequence.StandardKey.Open).toString(native),
    ) in rows
    assert ("File", "Add folder", key("Ctrl+Shift+O")) in rows
    assert ("File", "Quit", key("Ctrl+Q")) in rows
    assert ("Queue", "Pause queue", key("Ctrl+P")) in rows
    assert ("Queue", "Retry selected", key("Ctrl+R")) in rows
    assert ("Queue", "Move to top", key("Ctrl+Home")) in rows
    assert ("Tools", "Model library", key("Ctrl+Shift+M")) in rows
    assert ("Help", "Keyboard shortcuts", key("Ctrl+/")) in rows
    assert ("View", "Compare outputs", key("Ctrl+Shift+K")) in rows
    assert {action for _menu, action, _key in rows} >= with_shortcuts - {"Close"}
    assert len(rows) == len({(menu, action) for menu, action, _key in rows})


def test_missing_shortcuts_never_replace_or_clash(tmp_path: Path) -> None:
    window = window_without_engine(tmp_path)
    try:
        window.add_folder_action.setShortcut(QKeySequence())
        window.pause_action.setShortcut(QKeySequence("F9"))
        window.open_folder_action.setShortcut(QKeySequence())
        window.model_library_action.setShortcut(QKeySequence())
        # Another action now uses the key that Add folder would get.
        window.samples_action.setShortcut(QKeySequence("Ctrl+Shift+O"))
        add_missing_shortcuts(window)
        result = {
            "add_folder": window.add_folder_action.shortcut().toString(),
            "pause": window.pause_action.shortcut().toString(),
            "open_folder": window.open_folder_action.shortcut().toString(),
            "model_library": window.model_library_action.shortcut().toString(),
        }
        entries = shortcut_entries(window)
    finally:
        window.deleteLater()

    assert result == {
        "add_folder": "",
        "pause": "F9",
        "open_folder": "Ctrl+E",
        "model_library": "Ctrl+Shift+M",
    }
    assert len(entries) == len(set(entries))


# Window memory --------------------------------------------------------------------------------


def test_splitter_positions_are_remembered(tmp_path: Path) -> None:
    state_file = tmp_path / "window-state.ini"

    def open_window() -> tuple[MainWindow, QSplitter]:
        window = window_without_engine(tmp_path)
        # A named splitter elsewhere in the window, as a panel with a splitter of its own.
        named = QSplitter()
        named.setObjectName("details_splitter")
        named.addWidget(QLabel("left"))
        named.addWidget(QLabel("right"))
        dock = QDockWidget("Details", window)
        dock.setObjectName("details")
        dock.setWidget(named)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        window.resize(1000, 800)
        window.show()
        return window, named

    first, first_named = open_window()
    try:
        WindowMemory(state_file).restore(first)
        total = sum(first.splitter.sizes())
        first.splitter.setSizes([total // 4, total - total // 4])
        named_total = sum(first_named.sizes())
        first_named.setSizes([named_total // 3, named_total - named_total // 3])
        saved = (first.splitter.sizes(), first_named.sizes())
        WindowMemory(state_file).save(first)
    finally:
        first.close()
        first.deleteLater()

    second, second_named = open_window()
    try:
        WindowMemory(state_file).restore(second)
        restored = (second.splitter.sizes(), second_named.sizes())
    finally:
        second.close()
        second.deleteLater()

    assert saved[0][0] < saved[0][1]
    assert saved[1][0] < saved[1][1]
    assert restored == saved


def test_last_folder_is_remembered_across_sessions(tmp_path: Path) -> None:
    """Qt's file dialog remembers the last folder only within one process, so each session
    is a process of its own here."""
    data = tmp_path / "data"
    data.mkdir()
    chosen = tmp_path / "my workflows"
    chosen.mkdir()
    script = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from PySide6.QtWidgets import QApplication, QDialog
        from cmfy_desk.keystore import ApiKeyStore
        from cmfy_desk.settings import Settings
        from cmfy_desk.ui.main import WindowMemory
        from cmfy_desk.ui.main_window import MainWindow

        app = QApplication([])
        data = Path(sys.argv[1])
        window = MainWindow(
            None, Settings(data / "settings.json"), ApiKeyStore(), False,
            database=data / "db.sqlite3", default_output_dir=data / "outputs",
        )
        WindowMemory(data / "window-state.ini").restore(window)
        window.show()
        window.choose_files()
        dialog = window._file_dialog
        print("start:" + dialog.directory().absolutePath())
        if len(sys.argv) > 2:
            dialog.setDirectory(sys.argv[2])
            dialog.done(QDialog.DialogCode.Accepted)
        window.deleteLater()
        """
    )
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }

    def session(*args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-c", script, str(data), *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return next(line for line in result.stdout.splitlines() if line.startswith("start:"))

    first = session(str(chosen))
    second = session()

    assert first == f"start:{tmp_path}"
    assert second == f"start:{chosen}"


# Translations ---------------------------------------------------------------------------------


def compile_translation(folder: Path, name: str, messages: dict[str, dict[str, str]]) -> Path:
    """Write a .ts file of ``messages`` ({context: {source: translation}}) and compile it."""
    lrelease = Path(sys.executable).parent / "pyside6-lrelease"
    if not lrelease.is_file():
        found = shutil.which("pyside6-lrelease")
        if found is None:
            pytest.skip("pyside6-lrelease is not installed")
        lrelease = Path(found)
    contexts = []
    for context, entries in messages.items():
        body = "".join(
            f"<message><source>{source}</source><translation>{target}</translation></message>"
            for source, target in entries.items()
        )
        contexts.append(f"<context><name>{context}</name>{body}</context>")
    ts_file = folder / f"{name}.ts"
    ts_file.write_text(
        '<?xml version="1.0" encoding="utf-8"?><!DOCTYPE TS>'
        f'<TS version="2.1" language="de_DE">{"".join(contexts)}</TS>',
        encoding="utf-8",
    )
    qm_file = folder / f"{name}.qm"
    subprocess.run(
        [str(lrelease), "-silent", str(ts_file), "-qm", str(qm_file)], check=True, timeout=60
    )
    return qm_file


def test_translation_matching_locale_is_loaded(tmp_path: Path) -> None:
    app = application()
    compile_translation(
        tmp_path,
        "cmfy_desk_de",
        {
            "QuitQuestion": {"Quit": "Beenden", "Keep running in the tray": "Im Tray weiterlaufen"},
            "Tray": {"Show window": "Fenster zeigen"},
        },
    )
    installed = install_translators(app, QLocale("de_DE"), tmp_path)
    try:
        box = quit_question(None, 1, 0, sandbox=False, offer_keep_running=True)  # type: ignore[arg-type]
        buttons = sorted(button.text() for button in box.buttons())
        box.deleteLater()
        tray_text = QCoreApplication.translate("Tray", "Show window")
    finally:
        for translator in installed:
            app.removeTranslator(translator)
    after = QCoreApplication.translate("Tray", "Show window")

    assert installed
    assert installed[0].filePath() == str(tmp_path / "cmfy_desk_de.qm")
    assert "Beenden" in buttons
    assert "Im Tray weiterlaufen" in buttons
    assert tray_text == "Fenster zeigen"
    assert after == "Show window"


def test_no_translation_for_other_locale(tmp_path: Path) -> None:
    app = application()
    compile_translation(tmp_path, "cmfy_desk_de", {"Tray": {"Show window": "Fenster zeigen"}})

    french = install_translators(app, QLocale("fr_FR"), tmp_path)
    missing_folder = install_translators(app, QLocale("de_DE"), tmp_path / "missing")

    assert french == []
    assert missing_folder == []
    assert QCoreApplication.translate("Tray", "Show window") == "Show window"


def test_translation_template_lists_tr_strings(tmp_path: Path) -> None:
    template = tmp_path / "cmfy_desk.ts"
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "packaging" / "update_translations.py"),
            "--template",
            str(template),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    sys.path.insert(0, str(ROOT / "packaging"))
    try:
        from update_translations import messages
    finally:
        sys.path.remove(str(ROOT / "packaging"))
    found = messages(template)

    assert ("QuitQuestion", "Keep running in the tray") in found
    assert ("Tray", "{done} of {total} jobs done") in found
    assert ("MainWindow", "Keyboard shortcuts") in found
    assert ("CrashDialog", "Copy report") in found
    assert ("AboutDialog", "Copy versions") in found
    assert ("Shortcuts", "Ctrl+Shift+O") in found
    assert (ROOT / "resources" / "translations" / "cmfy_desk.ts").is_file()
