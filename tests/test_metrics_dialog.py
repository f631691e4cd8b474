"""The metrics window over a real store (figures, charts, warnings, checklist, CSV export), its
menu action in a window on the built-in sandbox, and batch notifications."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QKeySequence
from PySide6.QtWidgets import QApplication, QMenu, QMessageBox
from pytestqt.qtbot import QtBot

from cmfy_desk.app import ConnectionConfig, Engine
from cmfy_desk.bridge.events import BridgeState, BridgeStatus
from cmfy_desk.keystore import ApiKeyStore
from cmfy_desk.metrics import (
    CacheSource,
    CheckCode,
    CheckState,
    ConnectionFacts,
    FixAction,
    connection_facts,
)
from cmfy_desk.paths import bundled_workflows
from cmfy_desk.scheduler.events import Notice, NoticeLevel
from cmfy_desk.settings import Settings
from cmfy_desk.store import JobStatus, Store
from cmfy_desk.ui.charts import nice_ceiling
from cmfy_desk.ui.main_window import MainWindow
from cmfy_desk.ui.metrics_dialog import QUEUE_COLOR, RUN_COLOR, MetricsDialog
from cmfy_desk.ui.metrics_panels import TextTableModel
from cmfy_desk.ui.metrics_text import WORDING
from cmfy_desk.ui.notifications import (
    NOTIFICATION_SETTINGS,
    Delivery,
    NotificationEvent,
    NotificationPreferences,
    NotificationSettingsGroup,
    Notifier,
    batch_outcome_text,
)
from tests.test_metrics import (
    SD15,
    SD15_DOWNLOAD,
    SDXL,
    T0,
    add_batch,
    quick_jobs,
    run_job,
    run_with_start_delay,
)


@dataclass
class StoreEngine:
    """The three parts of an engine the metrics window reads: store, connection, sandbox."""

    store: Store
    connection: ConnectionConfig
    sandbox: None = None


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "cmfy-desk.sqlite3")
    try:
        yield opened
    finally:
        opened.close()


def cloud_engine(store: Store) -> StoreEngine:
    return StoreEngine(store, ConnectionConfig(kind="cmfy", name="cloud", api_key="sk_test_x"))


def healthy_jobs(store: Store) -> None:
    """Four finished jobs on "cloud" (batch foxes) and two queued on "studio" (batch owls)."""
    for index, job_id in enumerate(add_batch(store, 4, connection="cloud", name="foxes")):
        start = T0 + 20 * index
        run_job(store, job_id, submitted=start, started=start + 2, completed=start + 8,
                finished=start + 9, execution_ms=5500)  # fmt: skip
    add_batch(store, 2, connection="studio", name="owls")


def slow_cold_jobs(store: Store) -> None:
    """Four jobs on "cloud" that each waited 60 s and downloaded their model for 40 s."""
    jobs = add_batch(store, 4, models=[SD15, SDXL, SD15, SDXL])
    for index, job_id in enumerate(jobs):
        start = T0 + 200 * index
        run_job(store, job_id, submitted=start, started=start + 60, completed=start + 105,
                finished=start + 106, execution_ms=5000)  # fmt: skip


def open_dialog(
    qtbot: QtBot,
    engine: Any,
    facts: Callable[[str], ConnectionFacts | None] | None = None,
    actions: dict[FixAction, Callable[[], None]] | None = None,
) -> MetricsDialog:
    dialog = MetricsDialog(lambda: engine, facts or (lambda _label: None), actions or {})
    qtbot.addWidget(dialog)
    dialog.show()
    settle(qtbot, dialog)
    return dialog


def settle(qtbot: QtBot, dialog: MetricsDialog) -> None:
    """Wait until the window has shown what its worker thread read."""
    qtbot.waitUntil(lambda: not dialog.busy, timeout=10_000)


def color_pixels(image: QImage, color: QColor) -> int:
    """Return how many pixels of ``image`` are close to ``color``."""
    found = 0
    for y in range(0, image.height(), 2):
        for x in range(0, image.width(), 2):
            pixel = image.pixelColor(x, y)
            if (
                abs(pixel.red() - color.red()) < 30
                and abs(pixel.green() - color.green()) < 30
                and abs(pixel.blue() - color.blue()) < 30
            ):
                found += 1
    return found


# Item model and helpers -------------------------------------------------------------------------


def test_text_table_model_passes_modeltester(qtmodeltester: Any) -> None:
    model = TextTableModel(["Figure", "Value"])
    model.set_rows([["Jobs", "4"], ["Throughput", "2 jobs/min"]], ["4 succeeded"])
    qtmodeltester.check(model)
    assert model.data(model.index(0, 1)) == "4"
    assert model.data(model.index(0, 0), Qt.ItemDataRole.ToolTipRole) == "4 succeeded"
    assert model.data(model.index(1, 0), Qt.ItemDataRole.ToolTipRole) is None


def test_text_table_model_empty_passes_modeltester(qtmodeltester: Any) -> None:
    qtmodeltester.check(TextTableModel(["Figure", "Value"]))


def test_text_table_model_rejects_ragged_rows() -> None:
    model = TextTableModel(["Figure", "Value"])
    with pytest.raises(ValueError, match="1 cells for 2 columns"):
        model.set_rows([["Jobs"]])


def test_text_table_model_updates_rows_in_place(qtbot: QtBot) -> None:
    model = TextTableModel(["Figure", "Value"])
    model.set_rows([["Jobs", "1"]])
    with qtbot.waitSignal(model.dataChanged, timeout=1000):
        model.set_rows([["Jobs", "2"]])
    with qtbot.waitSignal(model.modelReset, timeout=1000):
        model.set_rows([["Jobs", "2"], ["Throughput", "1 jobs/min"]])
    assert model.rows() == [["Jobs", "2"], ["Throughput", "1 jobs/min"]]


def test_duration_and_axis_formats() -> None:
    assert WORDING.format_duration(None) == "—"
    assert WORDING.format_duration(4.24) == "4.2 s"
    assert WORDING.format_duration(200) == "3 min 20 s"
    assert WORDING.format_duration(7500) == "2 h 5 min"
    assert nice_ceiling(0) == 1.0
    assert nice_ceiling(7.3) == 10.0
    assert nice_ceiling(23) == 25.0
    assert nice_ceiling(0.18) == pytest.approx(0.2)


# The window -------------------------------------------------------------------------------------


def test_dialog_shows_figures_of_default_connection(qtbot: QtBot, store: Store) -> None:
    healthy_jobs(store)
    dialog = open_dialog(qtbot, cloud_engine(store))

    entries = [dialog.scope_combo.itemText(i) for i in range(dialog.scope_combo.count())]
    timing = dialog.timing_model.rows()
    figures = {row[0]: row[1] for row in dialog.figures_model.rows()}

    assert not dialog.isModal()
    assert entries == [
        "All connections",
        "Connection: cloud",
        "Connection: studio",
        "Batch: owls (studio)",
        "Batch: foxes (cloud)",
    ]
    assert dialog.scope_combo.currentText() == "Connection: cloud"
    assert timing[0] == ["Queue time", "4", "2.0 s", "2.0 s", "2.0 s", "2.0 s"]
    assert timing[1] == ["Execution time", "4", "5.5 s", "5.5 s", "5.5 s", "5.5 s"]
    assert timing[2] == ["Total time", "4", "9.0 s", "9.0 s", "9.0 s", "9.0 s"]
    assert figures["Jobs"] == "4"
    # Four jobs from the first submission to the last finish 69 s later.
    assert figures["Throughput"] == "3.48 jobs/min"
    assert figures["429 responses"] == "0"
    assert dialog.status_label.text() == "4 succeeded"


def test_scope_choice_changes_figures(qtbot: QtBot, store: Store) -> None:
    healthy_jobs(store)
    dialog = open_dialog(qtbot, cloud_engine(store))
    owls = store.batches()[1]

    dialog.select_scope("studio", owls.id)
    settle(qtbot, dialog)
    batch_jobs = dialog.metrics.jobs if dialog.metrics else None
    dialog.select_scope(None)
    settle(qtbot, dialog)
    all_jobs = dialog.metrics.jobs if dialog.metrics else None

    assert batch_jobs == 2
    assert all_jobs == 6
    with pytest.raises(ValueError, match="No view for connection 'nowhere'"):
        dialog.select_scope("nowhere")


def test_warnings_offer_their_fixes(qtbot: QtBot, store: Store) -> None:
    slow_cold_jobs(store)
    opened: list[str] = []
    dialog = open_dialog(
        qtbot,
        cloud_engine(store),
        actions={FixAction.MODEL_LIBRARY: lambda: opened.append("library")},
    )

    messages = [row.message for row in dialog.warning_rows]
    buttons = [row.button for row in dialog.warning_rows]
    library_button = next(button for button in buttons if button is not None)
    qtbot.mouseClick(library_button, Qt.MouseButton.LeftButton)

    assert len(messages) == 2
    assert messages[0] == (
        "Jobs wait long to start: the 95th percentile of queue time is 1 min 0 s, above 30.0 s."
    )
    assert messages[1] == (
        "Only 0 % of model lookups hit the node cache (inferred from start delays), below 50 %."
    )
    assert dialog.warning_rows[0].fix.startswith("Spread load or lower concurrency")
    assert dialog.warning_rows[1].fix.startswith("Use one canonical URL per model")
    # No function opens the queue settings here, so that fix has no button.
    assert buttons[0] is None
    assert library_button.text() == "Check model URLs…"
    assert library_button.property("fixAction") == "model_library"
    assert opened == ["library"]


def test_quick_jobs_show_no_throughput(qtbot: QtBot, store: Store) -> None:
    quick_jobs(store)
    engine = StoreEngine(store, ConnectionConfig(kind="sandbox"))
    dialog = open_dialog(qtbot, engine)

    figures = {row[0]: row[1] for row in dialog.figures_model.rows()}
    names = [row[0] for row in dialog.figures_model.rows()]
    tip = dialog.figures_model.data(
        dialog.figures_model.index(names.index("Throughput"), 0), Qt.ItemDataRole.ToolTipRole
    )

    assert dialog.scope_combo.currentText() == "Connection: sandbox"
    assert figures["Throughput"] == "Not enough data"
    assert tip == "The jobs span 0.5 s. Throughput needs at least 60 s to be a rate."


def test_every_connection_uses_their_download_times(qtbot: QtBot, store: Store) -> None:
    # A sandbox at speed 20, where one download takes 0.4 s: two of five jobs downloaded.
    delays = [(0.81, 0.074), (0.012, 0.074), (0.02, 0.13), (0.42, 0.45), (0.09, 0.45)]
    jobs = add_batch(store, len(delays), connection="sandbox")
    for index, (job_id, (delay, gpu)) in enumerate(zip(jobs, delays, strict=True)):
        run_with_start_delay(store, job_id, start=T0 + 2 * index, delay=delay, gpu=gpu)
    config = ConnectionConfig(kind="sandbox", sandbox_speed=20.0)
    engine = StoreEngine(store, config)
    dialog = open_dialog(qtbot, engine, lambda label: connection_facts(config))

    dialog.select_scope(None)
    settle(qtbot, dialog)
    figures = {row[0]: row[1] for row in dialog.figures_model.rows()}
    names = [row[0] for row in dialog.figures_model.rows()]
    tip = dialog.figures_model.data(
        dialog.figures_model.index(names.index("Cache hit rate"), 0), Qt.ItemDataRole.ToolTipRole
    )

    assert dialog.scope_combo.currentText() == "All connections"
    assert figures["Cache hit rate"] == "60 % (3 hits, 2 misses, inferred)"
    assert "by more than 0.2 s, half a model download" in tip


def test_no_warnings_row_when_healthy(qtbot: QtBot, store: Store) -> None:
    healthy_jobs(store)
    dialog = open_dialog(qtbot, cloud_engine(store))
    assert [row.message for row in dialog.warning_rows] == [
        "No warnings: queue time, cache hits and 429 responses are within range."
    ]


def test_checklist_rows_with_state_and_fix(qtbot: QtBot, store: Store) -> None:
    healthy_jobs(store)
    settings_opened: list[bool] = []
    facts = ConnectionFacts(
        "cloud", kind="cmfy", webhooks_configured=False, running_limit=2, pooled_http=True
    )
    dialog = open_dialog(
        qtbot,
        cloud_engine(store),
        facts={"cloud": facts}.get,
        actions={FixAction.CONNECTION_SETTINGS: lambda: settings_opened.append(True)},
    )

    rows = dialog.checklist_rows
    states = [row.property("state") for row in rows]
    webhooks = rows[0]
    assert webhooks.button is not None
    qtbot.mouseClick(webhooks.button, Qt.MouseButton.LeftButton)

    assert [row.title for row in rows] == [
        "Webhooks in use rather than polling",
        "Model URLs canonical across queued work",
        "Concurrency limits respected",
        "Retries carry idempotency keys",
        "429 responses answered with backoff",
        "Pooled connections",
        "Metrics being recorded",
        "Workflows free of unused nodes",
    ]
    assert states == ["amber", "ok", "ok", "ok", "ok", "ok", "ok", "ok"]
    assert webhooks.message.startswith("This connection polls for job status")
    assert "tunnel" in webhooks.fix
    assert rows[2].message == "Most jobs running at once: 1, within the limit of 2."
    assert rows[6].message == "Finished jobs with every time the figures need: 4 of 4."
    assert all(row.button is None for row in rows[1:])
    assert settings_opened == [True]
    assert [item.code for item in dialog.checklist] == list(CheckCode)


def test_checklist_lists_model_url_problems(qtbot: QtBot, store: Store) -> None:
    add_batch(store, 2, models=[SD15, SD15_DOWNLOAD])
    dialog = open_dialog(qtbot, cloud_engine(store))

    row = dialog.checklist_rows[1]

    assert row.property("state") == "amber"
    assert row.message == (
        "Model URLs checked: 2. Not in canonical form: 1. Naming a file that another URL also "
        f"names: 2.\nFor example:\n{SD15_DOWNLOAD}\n{SD15}"
    )
    assert row.fix.startswith("Use one canonical URL per model")


def test_unreadable_database_shows_error(qtbot: QtBot, store: Store, tmp_path: Path) -> None:
    healthy_jobs(store)
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"this is not a database" * 100)
    store.path = garbage

    dialog = open_dialog(qtbot, cloud_engine(store))

    assert dialog.metrics is None
    assert dialog.status_label.text().startswith("Reading the database failed:")
    assert dialog.status_label.text().endswith("Details are in the log file.")
    assert dialog.timing_model.rows() == []


def test_charts_draw_series_and_histogram(qtbot: QtBot, store: Store) -> None:
    healthy_jobs(store)
    dialog = open_dialog(qtbot, cloud_engine(store))
    dialog.resize(1200, 900)

    line = dialog.line_chart.grab().toImage()
    histogram = dialog.histogram

    assert len(dialog.line_chart.times) == 2
    assert dialog.line_chart.has_data()
    assert color_pixels(line, QUEUE_COLOR) > 0
    assert color_pixels(line, RUN_COLOR) > 0
    assert sum(histogram.counts) == 4
    assert not histogram.grab().isNull()


def test_charts_empty_without_finished_jobs(qtbot: QtBot, store: Store) -> None:
    add_batch(store, 2)
    dialog = open_dialog(qtbot, cloud_engine(store))
    line = dialog.line_chart.grab().toImage()
    assert not dialog.line_chart.has_data()
    assert dialog.line_chart.empty_text == "No finished jobs in this view"
    assert color_pixels(line, QUEUE_COLOR) == 0
    assert dialog.histogram.counts == []


def test_job_changes_refresh_once(qtbot: QtBot, store: Store) -> None:
    healthy_jobs(store)
    dialog = open_dialog(qtbot, cloud_engine(store))
    refreshes: list[bool] = []
    dialog.refreshed.connect(lambda: refreshes.append(True))
    add_batch(store, 3, connection="cloud", name="badgers")

    for job in store.jobs():
        dialog.job_changed(job)
    qtbot.waitUntil(lambda: bool(refreshes), timeout=5000)
    qtbot.wait(1300)
    settle(qtbot, dialog)
    entries = [dialog.scope_combo.itemText(i) for i in range(dialog.scope_combo.count())]

    assert refreshes == [True]
    assert "Batch: badgers (cloud)" in entries
    assert dialog.metrics is not None
    assert dialog.metrics.jobs == 7


def test_hidden_dialog_refreshes_when_shown(qtbot: QtBot, store: Store) -> None:
    healthy_jobs(store)
    dialog = open_dialog(qtbot, cloud_engine(store))
    refreshes: list[bool] = []
    dialog.refreshed.connect(lambda: refreshes.append(True))
    dialog.hide()

    dialog.job_changed()
    qtbot.wait(1300)
    while_hidden = list(refreshes)
    dialog.show()
    settle(qtbot, dialog)

    assert while_hidden == []
    assert refreshes == [True]


def test_export_metrics_and_history(qtbot: QtBot, store: Store, tmp_path: Path) -> None:
    healthy_jobs(store)
    dialog = open_dialog(qtbot, cloud_engine(store))
    dialog.select_scope("cloud", store.batches()[0].id)
    settle(qtbot, dialog)
    metrics_path = tmp_path / "metrics.csv"
    history_path = tmp_path / "jobs.csv"

    with qtbot.waitSignal(dialog.exported, timeout=10_000) as metrics_export:
        dialog.export_metrics_to(metrics_path)
    metrics_status = dialog.status_label.text()
    with qtbot.waitSignal(dialog.exported, timeout=10_000) as history_export:
        dialog.export_history_to(history_path)
    with metrics_path.open(encoding="utf-8", newline="") as file:
        metrics_rows = list(csv.DictReader(file))
    with history_path.open(encoding="utf-8", newline="") as file:
        history_rows = list(csv.DictReader(file))

    assert metrics_export.args == [True, f"Saved 4 rows to {metrics_path}"]
    assert history_export.args is not None
    assert history_export.args[0] is True
    assert metrics_status == f"Saved 4 rows to {metrics_path}"
    assert dialog.status_label.text() == f"Saved 4 jobs to {history_path}"
    assert [row["scope"] for row in metrics_rows] == ["connection", "connection", "batch", "batch"]
    assert {row["batch_name"] for row in history_rows} == {"foxes"}


def test_export_failure_shows_message(qtbot: QtBot, store: Store, tmp_path: Path) -> None:
    healthy_jobs(store)
    dialog = open_dialog(qtbot, cloud_engine(store))
    target = tmp_path / "missing" / "metrics.csv"

    with qtbot.waitSignal(dialog.exported, timeout=10_000) as export:
        dialog.export_metrics_to(target)

    assert export.args is not None
    assert export.args[0] is False
    assert dialog.status_label.text().startswith(f"Writing {target} failed:")
    assert dialog.status_label.text().endswith("Choose another folder.")
    assert not target.exists()


def test_export_button_opens_file_dialog(qtbot: QtBot, store: Store, tmp_path: Path) -> None:
    healthy_jobs(store)
    dialog = open_dialog(qtbot, cloud_engine(store))
    target = tmp_path / "history.csv"

    qtbot.mouseClick(dialog.export_history_button, Qt.MouseButton.LeftButton)
    file_dialog = dialog.file_dialog
    assert file_dialog is not None
    shown = file_dialog.isVisible()
    with qtbot.waitSignal(dialog.exported, timeout=10_000):
        file_dialog.fileSelected.emit(str(target))
    file_dialog.reject()

    assert shown
    assert target.is_file()
    assert dialog.status_label.text() == f"Saved 4 jobs to {target}"


def test_dialog_without_engine(qtbot: QtBot, tmp_path: Path) -> None:
    dialog = open_dialog(qtbot, None)
    assert dialog.status_label.text().startswith("Not connected")
    assert dialog.timing_model.rows() == []
    assert dialog.checklist_rows == []
    with qtbot.waitSignal(dialog.exported, timeout=1000) as export:
        dialog.export_history_to(tmp_path / "jobs.csv")
    assert export.args == [False, "Not connected: nothing to export."]
    assert not (tmp_path / "jobs.csv").exists()


# In the main window, on the built-in sandbox ----------------------------------------------------


async def wait_for(predicate: Callable[[], object], timeout: float = 30.0, what: str = "") -> None:
    """Poll ``predicate`` while the qasync loop keeps running Qt and asyncio work."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"Timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.02)


@asynccontextmanager
async def sandbox_window(tmp_path: Path) -> AsyncIterator[MainWindow]:
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)
    (tmp_path / "data").mkdir()
    engine = Engine(
        tmp_path / "data" / "cmfy-desk.sqlite3",
        tmp_path / "outputs",
        ConnectionConfig(kind="sandbox", sandbox_speed=50.0),
    )
    await engine.start()
    window = MainWindow(engine, Settings(tmp_path / "data" / "settings.json"), ApiKeyStore(), True)
    window.show()
    try:
        yield window
    finally:
        window.quit_guard.keep_running = None
        window.close()
        box = window.quit_guard.box
        if isinstance(box, QMessageBox):
            quit_button = next(b for b in box.buttons() if b.text() == "Quit")
            quit_button.click()
        await window.shutdown()
        window.deleteLater()


async def queue_sample(window: MainWindow, count: int) -> None:
    rows = window.job_model.rowCount() + count
    window.add_workflow_files([bundled_workflows()[0]])
    await wait_for(lambda: window.batch_dialog is not None, what="the batch dialog")
    assert window.batch_dialog is not None
    window.batch_dialog.count.setValue(count)
    window.batch_dialog.accept()
    await wait_for(lambda: window.job_model.rowCount() == rows, what=f"{rows} rows")


@pytest.mark.asyncio
@pytest.mark.qt_loop
async def test_metrics_window_follows_sandbox_batch(tmp_path: Path) -> None:
    async with sandbox_window(tmp_path) as window:
        notices: list[tuple[NoticeLevel, str]] = []
        notifier = Notifier(
            lambda: window.engine.store if window.engine else None,
            lambda level, text: notices.append((level, text)),
            parent=window,
        )
        notifier.attach(window.signals)
        view_menu = next(
            action.menu()
            for action in window.menuBar().actions()
            if action.text() == "&View" and isinstance(action.menu(), QMenu)
        )
        view_texts = [action.text() for action in view_menu.actions()]
        window.metrics_action.trigger()
        dialogs = window.findChildren(MetricsDialog)
        assert len(dialogs) == 1
        dialog = dialogs[0]

        await queue_sample(window, 3)
        await wait_for(
            lambda: [job.status for job in window.job_model.jobs()] == [JobStatus.SUCCEEDED] * 3,
            what="3 succeeded jobs",
        )
        await wait_for(
            lambda: dialog.metrics is not None and dialog.metrics.total.count == 3,
            what="the metrics of 3 finished jobs",
        )
        window.metrics_action.trigger()
        after_second_trigger = window.findChildren(MetricsDialog)
        dialog.open_fix(FixAction.MODEL_LIBRARY)
        library = window.workflow_actions.model_library_dialog
        library_shown = library is not None and library.isVisible()
        conflicts_only = library is not None and library.conflicts_only.isChecked()
        if library is not None:
            library.reject()
        metrics = dialog.metrics
        checklist = {item.code: item.state for item in dialog.checklist}
        await wait_for(lambda: notices, what="the batch notification")
        await asyncio.sleep(0.3)
        dialog.reject()

    assert window.metrics_action.shortcut() == QKeySequence("Ctrl+M")
    assert "Metrics…" in view_texts
    assert after_second_trigger == [dialog]
    assert library_shown
    assert conflicts_only
    assert metrics is not None
    assert metrics.scope.connection == "sandbox"
    assert metrics.cache.source is CacheSource.SANDBOX
    assert metrics.status_counts == {JobStatus.SUCCEEDED: 3}
    assert checklist[CheckCode.IDEMPOTENCY] is CheckState.OK
    assert checklist[CheckCode.CONCURRENCY] is CheckState.OK
    assert len(notices) == 1
    assert notices[0][0] is NoticeLevel.INFO
    assert notices[0][1].startswith("Batch '")
    assert notices[0][1].endswith("done: 3 succeeded, 0 failed")


# Notifications ----------------------------------------------------------------------------------


@dataclass
class FakeTrayIcon:
    """The parts of QSystemTrayIcon a notifier uses, recording each message."""

    visible: bool = True
    messages: list[tuple[str, str]] = field(default_factory=list)

    def isVisible(self) -> bool:
        return self.visible

    def supportsMessages(self) -> bool:
        return True

    def showMessage(self, title: str, text: str, *rest: object) -> None:
        self.messages.append((title, text))


@dataclass
class FakeTray:
    icon: FakeTrayIcon = field(default_factory=FakeTrayIcon)


@dataclass
class NotifierRecord:
    notifier: Notifier
    notices: list[tuple[NoticeLevel, str]]
    beeps: list[bool]
    tray: FakeTray


def make_notifier(store: Store, preferences: NotificationPreferences) -> NotifierRecord:
    notices: list[tuple[NoticeLevel, str]] = []
    beeps: list[bool] = []
    tray = FakeTray()
    notifier = Notifier(
        lambda: store,
        lambda level, text: notices.append((level, text)),
        preferences,
        tray=tray,  # type: ignore[arg-type]
        beep=lambda: beeps.append(True),
    )
    return NotifierRecord(notifier, notices, beeps, tray)


def finish_all(store: Store, record: NotifierRecord, job_ids: list[int], fail: int = 0) -> None:
    for index, job_id in enumerate(job_ids):
        status = JobStatus.FAILED if index < fail else JobStatus.SUCCEEDED
        run_job(store, job_id, submitted=T0, started=T0, completed=T0 + 1, finished=T0 + 2,
                status=status)  # fmt: skip
        record.notifier.job_changed(store.get_job(job_id))


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([JobStatus.SUCCEEDED, JobStatus.FAILED], "Batch 'foxes' done: 1 succeeded, 1 failed"),
        ([JobStatus.LOST, JobStatus.FAILED], "Batch 'foxes' failed: 0 succeeded, 2 failed"),
        (
            [JobStatus.PARTIAL, JobStatus.CANCELLED],
            "Batch 'foxes' done: 0 succeeded, 0 failed, 1 partial, 1 cancelled",
        ),
        ([JobStatus.CANCELLED], "Batch 'foxes' done: 0 succeeded, 0 failed, 1 cancelled"),
    ],
)
def test_batch_outcome_text(store: Store, statuses: list[JobStatus], expected: str) -> None:
    jobs = [store.get_job(job_id) for job_id in add_batch(store, len(statuses))]
    ended = [
        dataclasses.replace(job, status=status) for job, status in zip(jobs, statuses, strict=True)
    ]

    outcome = batch_outcome_text("foxes", ended)

    assert outcome is not None
    assert outcome[1] == expected
    assert batch_outcome_text("foxes", jobs) is None
    assert batch_outcome_text("foxes", []) is None


def test_batch_done_in_app_once(store: Store) -> None:
    jobs = add_batch(store, 4, name="foxes")
    record = make_notifier(store, NotificationPreferences(batch_done=Delivery.IN_APP))

    finish_all(store, record, jobs, fail=1)
    record.notifier.job_changed(store.get_job(jobs[0]))

    assert record.notices == [(NoticeLevel.INFO, "Batch 'foxes' done: 3 succeeded, 1 failed")]
    assert record.tray.icon.messages == []
    assert record.beeps == []


def test_retried_batch_is_announced_again(store: Store) -> None:
    jobs = add_batch(store, 2, name="foxes")
    record = make_notifier(store, NotificationPreferences())
    finish_all(store, record, jobs, fail=1)

    store.transition(jobs[0], JobStatus.QUEUED)
    record.notifier.job_changed(store.get_job(jobs[0]))
    finish_all(store, record, [jobs[0]])

    assert [text for _level, text in record.notices] == [
        "Batch 'foxes' done: 1 succeeded, 1 failed",
        "Batch 'foxes' done: 2 succeeded, 0 failed",
    ]


def test_batch_failed_on_desktop_with_beep(store: Store) -> None:
    jobs = add_batch(store, 2, name="owls")
    store.transition(jobs[1], JobStatus.CANCELLED, finished_at=T0)
    record = make_notifier(
        store, NotificationPreferences(batch_failed=Delivery.DESKTOP, sound=True)
    )
    delivered: list[tuple[str, str, str]] = []
    record.notifier.notified.connect(lambda *args: delivered.append(args))

    finish_all(store, record, [jobs[0]], fail=1)

    text = "Batch 'owls' failed: 0 succeeded, 1 failed, 1 cancelled"
    assert record.tray.icon.messages == [("Batch failed", text)]
    assert record.notices == []
    assert record.beeps == [True]
    assert delivered == [("batch_failed", "desktop", text)]


def test_desktop_falls_back_to_notice(store: Store) -> None:
    jobs = add_batch(store, 1, name="foxes")
    record = make_notifier(store, NotificationPreferences(batch_done=Delivery.DESKTOP))
    record.tray.icon.visible = False

    finish_all(store, record, jobs)

    assert record.notices == [(NoticeLevel.INFO, "Batch 'foxes' done: 1 succeeded, 0 failed")]
    assert record.tray.icon.messages == []


def test_event_set_to_none_is_silent(store: Store) -> None:
    jobs = add_batch(store, 1)
    record = make_notifier(store, NotificationPreferences(batch_done=Delivery.NONE, sound=True))
    finish_all(store, record, jobs)
    assert record.notices == []
    assert record.tray.icon.messages == []
    assert record.beeps == []


def test_paused_batch_notice_is_batch_failed(store: Store) -> None:
    jobs = add_batch(store, 3, name="foxes")
    record = make_notifier(store, NotificationPreferences(batch_failed=Delivery.IN_APP))
    run_job(store, jobs[0], submitted=T0, started=T0, completed=T0, finished=T0 + 1,
            status=JobStatus.FAILED)  # fmt: skip
    message = "Batch foxes is paused: 3 of its jobs failed in a row."
    record.notifier.notice(Notice(NoticeLevel.WARNING, message, jobs[0]))
    store.set_batch_paused(store.batches()[0].id, True)

    record.notifier.notice(Notice(NoticeLevel.WARNING, message, jobs[0]))
    record.notifier.notice(Notice(NoticeLevel.INFO, "Grid saved", jobs[0]))

    assert record.notices == [(NoticeLevel.WARNING, message)]


def test_connection_problem_once_until_back(store: Store) -> None:
    record = make_notifier(store, NotificationPreferences(connection_problem=Delivery.IN_APP))
    down = BridgeStatus("cloud", BridgeState.TUNNEL_DOWN, "The tunnel returned HTTP 502.")

    record.notifier.bridge_changed(down)
    record.notifier.bridge_changed(down)
    record.notifier.bridge_changed(BridgeStatus("cloud", BridgeState.WEBHOOKS))
    record.notifier.bridge_changed(BridgeStatus("studio", BridgeState.SOCKET_DOWN))
    record.notifier.connection_problem("Cannot connect: the API key was rejected.")

    assert record.notices == [
        (
            NoticeLevel.ERROR,
            "Connection cloud: the webhook tunnel does not answer; polling instead. "
            "The tunnel returned HTTP 502.",
        ),
        (NoticeLevel.ERROR, "Connection studio: the server's websocket is down; reconnecting."),
        (NoticeLevel.ERROR, "Cannot connect: the API key was rejected."),
    ]


def test_preferences_default_to_the_declared_settings(tmp_path: Path) -> None:
    settings = Settings(tmp_path / "settings.json")
    preferences = NotificationPreferences.from_settings(settings)
    assert preferences == NotificationPreferences()
    assert len(NOTIFICATION_SETTINGS) == 4
    for setting in NOTIFICATION_SETTINGS[:3]:
        event = NotificationEvent(setting.key.removeprefix("notifications."))
        assert preferences.delivery(event).value == setting.default


def test_preferences_saved_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    chosen = NotificationPreferences(
        batch_done=Delivery.NONE,
        batch_failed=Delivery.IN_APP,
        connection_problem=Delivery.DESKTOP,
        sound=True,
    )

    settings = Settings(path)
    chosen.save_to(settings)
    settings.save()
    read_back = NotificationPreferences.from_settings(Settings(path))

    assert read_back == chosen
    with pytest.raises(ValueError, match="expected one of none, in_app, desktop"):
        settings.set("notifications.batch_done", "email")


def test_settings_group_round_trip(qtbot: QtBot) -> None:
    chosen = NotificationPreferences(batch_done=Delivery.DESKTOP, sound=True)
    group = NotificationSettingsGroup(chosen)
    qtbot.addWidget(group)
    assert group.preferences() == chosen

    combo = group.combos[NotificationEvent.CONNECTION_PROBLEM]
    combo.setCurrentIndex(combo.findData("none"))
    group.sound.setChecked(False)

    assert group.preferences() == NotificationPreferences(
        batch_done=Delivery.DESKTOP, connection_problem=Delivery.NONE
    )
    assert [combo.itemText(i) for i in range(combo.count())] == [
        "None",
        "In the window",
        "Desktop notification",
    ]
