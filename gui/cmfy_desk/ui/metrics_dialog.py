"""The metrics window: figures, charts, warnings and the production checklist of one connection,
one batch or everything, with CSV export.

The window opens with ``show()``, never ``exec()``, because a nested event loop would stall the
asyncio loop that qasync runs on Qt's. It reads the store on a worker thread (metrics_data).
After job changes it reads it at most once per REFRESH_DELAY_MS. The charts are in charts, the
wording of figures, warnings and checklist items in metrics_text.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QStyle,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from cmfy_desk.app import Engine, EngineError
from cmfy_desk.metrics import (
    Advice,
    ChecklistItem,
    CheckState,
    FixAction,
    Metrics,
    MetricsScope,
)
from cmfy_desk.store import Job, Store
from cmfy_desk.ui.charts import HistogramChart, LineChart
from cmfy_desk.ui.metrics_data import (
    FactsProvider,
    StoreWorker,
    engine_facts_provider,
    export_history_file,
    export_metrics_file,
    read_metrics,
)
from cmfy_desk.ui.metrics_panels import MessageRow, TextTableModel, read_only_table, remove_rows
from cmfy_desk.ui.metrics_text import WORDING, figure_rows, fix_button_text, timing_rows

if TYPE_CHECKING:
    from cmfy_desk.ui.main_window import MainWindow

log = logging.getLogger(__name__)

# Job changes arrive up to hundreds per second; the window reads the store at most this often.
REFRESH_DELAY_MS = 1000
# Choices of the time window, in seconds before now; 0 is all time.
WINDOWS_SECONDS = (0, 3600, 24 * 3600)
QUEUE_COLOR = QColor("#1f77b4")
RUN_COLOR = QColor("#ff7f0e")


class MetricsDialog(QDialog):
    """A non-modal window over the engine's store: figures, charts, warnings, the production
    checklist and CSV export for the chosen connection, batch or everything.

    ``engine()`` returns the engine in use (None while there is none). ``facts_for(label)``
    returns what the store does not record about a connection. ``actions`` maps each fix to
    the function that opens it; fixes without one get no button. Connect the window's job
    changes to ``job_changed``.

    The store is read on a worker thread with a connection of its own, so a large database
    does not stall the window. ``refreshed()`` is emitted after each read is shown, and
    ``exported(ok, message)`` after each CSV export.
    """

    refreshed = Signal()
    exported = Signal(bool, str)

    def __init__(
        self,
        engine: Callable[[], Engine | None],
        facts_for: FactsProvider | None = None,
        actions: Mapping[FixAction, Callable[[], None]] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Metrics"))
        self.setModal(False)
        self.resize(1100, 820)
        self._engine = engine
        self._facts_for = facts_for or engine_facts_provider(engine)
        self._actions = dict(actions or {})
        self._scopes: list[tuple[str | None, int | None]] = []
        self.file_dialog: QFileDialog | None = None
        self.metrics: Metrics | None = None
        self.checklist: tuple[ChecklistItem, ...] = ()
        self.warning_rows: list[MessageRow] = []
        self.checklist_rows: list[MessageRow] = []

        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(REFRESH_DELAY_MS)
        self._refresh_timer.timeout.connect(self.refresh)
        self._stale = False
        # Runs the reads of the store, at most one at a time, and the exports.
        self._worker = StoreWorker(self)
        self._worker.taskFinished.connect(self._task_finished)
        self._reading = False
        self._pending_refresh = False

        self._build()
        self.refresh()

    # Building -------------------------------------------------------------------------------

    def _build(self) -> None:
        self.scope_combo = QComboBox()
        self.scope_combo.setMinimumContentsLength(30)
        self.scope_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.scope_combo.currentIndexChanged.connect(lambda _index: self.refresh())
        self.window_combo = QComboBox()
        for seconds, label in zip(
            WINDOWS_SECONDS,
            (self.tr("All time"), self.tr("Last hour"), self.tr("Last 24 hours")),
            strict=True,
        ):
            self.window_combo.addItem(label, seconds)
        self.window_combo.currentIndexChanged.connect(lambda _index: self.refresh())
        self.refresh_button = QPushButton(self.tr("Refresh"))
        self.refresh_button.clicked.connect(self.refresh)
        selector = QHBoxLayout()
        selector.addWidget(QLabel(self.tr("Show:")))
        selector.addWidget(self.scope_combo, 1)
        selector.addWidget(QLabel(self.tr("Time:")))
        selector.addWidget(self.window_combo)
        selector.addWidget(self.refresh_button)

        self.timing_model = TextTableModel(WORDING.timing_headers(), self)
        self.figures_model = TextTableModel([self.tr("Figure"), self.tr("Value")], self)
        self.timing_table = read_only_table(self.timing_model)
        self.figures_table = read_only_table(self.figures_model)
        tables = QHBoxLayout()
        tables.addWidget(self.timing_table, 1, Qt.AlignmentFlag.AlignTop)
        tables.addWidget(self.figures_table, 1, Qt.AlignmentFlag.AlignTop)

        self.line_chart = LineChart(self.tr("Queue and run time per minute (mean)"))
        self.line_chart.format_value = WORDING.format_axis_seconds
        self.histogram = HistogramChart(self.tr("Total time of finished jobs"))
        self.histogram.format_edge = WORDING.format_axis_seconds
        charts = QHBoxLayout()
        charts.addWidget(self.line_chart)
        charts.addWidget(self.histogram)

        self.warnings_box = QGroupBox(self.tr("Warnings"))
        self.warnings_layout = QVBoxLayout(self.warnings_box)
        overview = QWidget()
        overview_layout = QVBoxLayout(overview)
        overview_layout.addLayout(tables)
        overview_layout.addLayout(charts, 1)
        overview_layout.addWidget(self.warnings_box)

        checklist_page = QWidget()
        self.checklist_layout = QVBoxLayout(checklist_page)
        checklist_scroll = QScrollArea()
        checklist_scroll.setWidgetResizable(True)
        checklist_scroll.setWidget(checklist_page)
        checklist_scroll.setFrameShape(QFrame.Shape.NoFrame)

        self.tabs = QTabWidget()
        self.tabs.addTab(overview, self.tr("Overview"))
        self.tabs.addTab(checklist_scroll, self.tr("Production checklist"))

        self.export_metrics_button = QPushButton(self.tr("Export metrics CSV…"))
        self.export_metrics_button.setToolTip(
            self.tr("One row per connection and per batch, over the chosen time")
        )
        self.export_metrics_button.clicked.connect(self.choose_metrics_file)
        self.export_history_button = QPushButton(self.tr("Export job history CSV…"))
        self.export_history_button.setToolTip(
            self.tr("One row per job shown, with every time in ISO 8601 (UTC)")
        )
        self.export_history_button.clicked.connect(self.choose_history_file)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        bottom = QHBoxLayout()
        bottom.addWidget(self.export_metrics_button)
        bottom.addWidget(self.export_history_button)
        bottom.addWidget(self.status_label, 1)
        bottom.addWidget(close)

        layout = QVBoxLayout(self)
        layout.addLayout(selector)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(bottom)

    # Scope ----------------------------------------------------------------------------------

    def current_scope(self) -> MetricsScope:
        index = self.scope_combo.currentIndex()
        connection, batch_id = (
            self._scopes[index] if 0 <= index < len(self._scopes) else (None, None)
        )
        seconds = int(self.window_combo.currentData() or 0)
        since = time.time() - seconds if seconds else None
        return MetricsScope(connection=connection, batch_id=batch_id, since=since)

    def select_scope(self, connection: str | None, batch_id: int | None = None) -> None:
        """Show the figures of one connection, one batch (give its connection too) or, with
        both None, of everything."""
        self._update_scopes()
        try:
            index = self._scopes.index((connection, batch_id))
        except ValueError as exc:
            raise ValueError(
                f"No view for connection {connection!r} and batch {batch_id!r} in the metrics."
            ) from exc
        self.scope_combo.setCurrentIndex(index)

    def _update_scopes(self) -> None:
        """Offer every connection with jobs (the default first), then every batch, newest
        first; keep the current choice."""
        engine = self._engine()
        entries: list[tuple[str, tuple[str | None, int | None]]] = [
            (self.tr("All connections"), (None, None))
        ]
        if engine is not None:
            store = engine.store
            default = engine.connection.label
            connections = {
                str(row[0])
                for row in store.connection.execute("SELECT DISTINCT connection FROM jobs")
            }
            for name in [default, *sorted(connections - {default})]:
                entries.append((self.tr("Connection: {name}").format(name=name), (name, None)))
            for batch in reversed(store.batches()):
                entries.append(
                    (
                        self.tr("Batch: {name} ({connection})").format(
                            name=batch.name, connection=batch.connection
                        ),
                        (batch.connection, batch.id),
                    )
                )
        scopes = [scope for _label, scope in entries]
        if scopes == self._scopes:
            return

        previous = self._scopes[self.scope_combo.currentIndex()] if self._scopes else None
        if previous is None and engine is not None:
            previous = (engine.connection.label, None)

        self.scope_combo.blockSignals(True)
        self.scope_combo.clear()
        for label, _scope in entries:
            self.scope_combo.addItem(label)
        self._scopes = scopes
        self.scope_combo.setCurrentIndex(scopes.index(previous) if previous in scopes else 0)
        self.scope_combo.blockSignals(False)

    # Refreshing -----------------------------------------------------------------------------

    def job_changed(self, job: Job | None = None) -> None:
        """Read the store again within REFRESH_DELAY_MS; more changes meanwhile are read by
        the same refresh."""
        if not self._refresh_timer.isActive():
            self._refresh_timer.start()

    def jobs_queued(self, _jobs: object) -> None:
        """Read the store again after new jobs were queued, as after a job's change."""
        self.job_changed()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self._stale:
            self.refresh()

    @property
    def busy(self) -> bool:
        """Whether a read of the store or an export is under way or waiting."""
        return self._worker.tasks > 0 or self._pending_refresh

    def refresh(self) -> None:
        """Read the figures and the checklist of the chosen view on a worker thread, then show
        them. A refresh requested meanwhile runs when the current one ends."""
        self._refresh_timer.stop()
        if not self.isVisible() and self.metrics is not None:
            # Read when shown again, not for a hidden window.
            self._stale = True
            return
        if self._reading:
            self._pending_refresh = True
            return

        self._stale = False
        self._pending_refresh = False
        engine = self._engine()
        try:
            if engine is None:
                raise EngineError("The engine is not started.")
            store = engine.store
            self._update_scopes()
        except EngineError:
            self._show_nothing(
                self.tr(
                    "Not connected: the figures come from the database, which opens with the "
                    "connection."
                )
            )
            return
        except sqlite3.Error as exc:
            self._read_failed(exc)
            return
        scope = self.current_scope()
        # The facts are read here, because the sandbox's counters live on the UI thread.
        facts = self._facts_for(scope.connection) if scope.connection is not None else None
        downloads = self._download_seconds() if scope.connection is None else None
        self._reading = True
        self._worker.run(
            partial(read_metrics, store.path, scope, facts, downloads),
            self._show_read,
            self._read_failed,
        )

    def _download_seconds(self) -> dict[str, float]:
        """Return the time of one model download on each connection offered, which the view of
        every connection needs to infer cache misses."""
        downloads: dict[str, float] = {}
        labels = {connection for connection, _batch_id in self._scopes if connection}
        for label in sorted(labels):
            facts = self._facts_for(label)
            if facts is not None:
                downloads[label] = facts.download_seconds
        return downloads

    def _show_read(self, result: tuple[Metrics, tuple[ChecklistItem, ...]]) -> None:
        self._reading = False
        metrics, checklist = result
        self.metrics = metrics
        self.checklist = checklist
        self._show_figures(metrics)
        self._show_charts(metrics)
        self._show_warnings(metrics.advice)
        self._show_checklist(checklist)
        self.refreshed.emit()

    def _read_failed(self, error: Exception) -> None:
        self._reading = False
        log.warning("Reading the metrics failed: %s", error)
        self._show_nothing(
            self.tr("Reading the database failed: {error}. Details are in the log file.").format(
                error=error
            )
        )

    def _task_finished(self) -> None:
        if self._pending_refresh and not self._reading:
            self.refresh()

    def done(self, result: int) -> None:
        """Close the window; a read under way finishes on its thread and is dropped."""
        self._refresh_timer.stop()
        self._worker.shutdown()
        self._pending_refresh = False
        super().done(result)

    def _show_nothing(self, message: str) -> None:
        self.metrics = None
        self.checklist = ()
        self.timing_model.set_rows([])
        self.figures_model.set_rows([])
        self.line_chart.set_data([], [])
        self.histogram.set_data([], [])
        self._show_warnings(())
        self._show_checklist(())
        self.status_label.setText(message)
        self.refreshed.emit()

    def _show_figures(self, metrics: Metrics) -> None:
        self.timing_model.set_rows(*timing_rows(metrics))
        self.figures_model.set_rows(*figure_rows(metrics))
        self.status_label.setText(
            WORDING.status_text(metrics.status_counts) or self.tr("No jobs in this view.")
        )

    def _show_charts(self, metrics: Metrics) -> None:
        times = [bucket.start + metrics.bucket_seconds / 2 for bucket in metrics.series]
        self.line_chart.set_data(
            times,
            [
                (self.tr("queue"), QUEUE_COLOR, [b.queue_mean for b in metrics.series]),
                (self.tr("run"), RUN_COLOR, [b.execution_mean for b in metrics.series]),
            ],
        )
        if metrics.bucket_seconds != 60:
            self.line_chart.title = self.tr("Queue and run time per {width} (mean)").format(
                width=WORDING.format_duration(metrics.bucket_seconds)
            )
        else:
            self.line_chart.title = self.tr("Queue and run time per minute (mean)")
        self.line_chart.empty_text = self.tr("No finished jobs in this view")
        histogram = metrics.total_histogram
        self.histogram.set_data(histogram.edges, histogram.counts)
        self.histogram.empty_text = self.tr("No finished jobs in this view")

    def _fix_button(self, action: FixAction | None) -> QPushButton | None:
        if action is None or action not in self._actions:
            return None
        button = QPushButton(fix_button_text(action))
        button.setProperty("fixAction", action.value)
        button.clicked.connect(lambda: self.open_fix(action))
        return button

    def open_fix(self, action: FixAction) -> None:
        """Open what fixes a warning or checklist item; raises KeyError for a fix that this
        window was given no function for."""
        self._actions[action]()

    def _show_warnings(self, advice: Sequence[Advice]) -> None:
        remove_rows(self.warnings_layout, self.warning_rows)
        for item in advice:
            message, fix = WORDING.advice_text(item)
            row = MessageRow(
                QStyle.StandardPixmap.SP_MessageBoxWarning,
                "",
                message,
                fix,
                self._fix_button(item.action),
            )
            self.warning_rows.append(row)
            self.warnings_layout.addWidget(row)
        if not advice:
            row = MessageRow(
                QStyle.StandardPixmap.SP_DialogApplyButton,
                "",
                WORDING.no_warnings_text(),
                "",
                None,
            )
            self.warning_rows.append(row)
            self.warnings_layout.addWidget(row)

    def _show_checklist(self, items: Sequence[ChecklistItem]) -> None:
        remove_rows(self.checklist_layout, self.checklist_rows)
        icons = {
            CheckState.OK: QStyle.StandardPixmap.SP_DialogApplyButton,
            CheckState.AMBER: QStyle.StandardPixmap.SP_MessageBoxWarning,
            CheckState.UNKNOWN: QStyle.StandardPixmap.SP_MessageBoxQuestion,
        }
        for item in items:
            message, fix = WORDING.check_text(item)
            row = MessageRow(
                icons[item.state],
                WORDING.check_title(item.code),
                message,
                fix if item.state is CheckState.AMBER else "",
                self._fix_button(item.action) if item.state is CheckState.AMBER else None,
            )
            row.setProperty("state", item.state.value)
            self.checklist_rows.append(row)
            self.checklist_layout.addWidget(row)
        self.checklist_layout.addStretch(1)

    # Export ---------------------------------------------------------------------------------

    def choose_metrics_file(self) -> None:
        self._choose_file(
            self.tr("Export metrics"),
            f"cmfy-desk-metrics-{time.strftime('%Y%m%d-%H%M')}.csv",
            self.export_metrics_to,
        )

    def choose_history_file(self) -> None:
        self._choose_file(
            self.tr("Export job history"),
            f"cmfy-desk-jobs-{time.strftime('%Y%m%d-%H%M')}.csv",
            self.export_history_to,
        )

    def _choose_file(self, title: str, name: str, export: Callable[[Path], None]) -> None:
        dialog = QFileDialog(self, title, str(Path.home() / name))
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilters([self.tr("CSV files (*.csv)"), self.tr("All files (*)")])
        dialog.setDefaultSuffix("csv")
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
        dialog.fileSelected.connect(lambda path: export(Path(path)))
        self.file_dialog = dialog
        dialog.open()

    def export_metrics_to(self, path: Path) -> None:
        """Write the figures of every connection and batch, over the chosen time, to ``path``
        on the worker thread. ``exported(ok, message)`` and the status line give the outcome."""
        store = self._current_store()
        if store is None:
            self._export_refused()
            return
        labels = [
            str(row[0]) for row in store.connection.execute("SELECT DISTINCT connection FROM jobs")
        ]
        # The facts are read here, because the sandbox's counters live on the UI thread.
        facts = {label: self._facts_for(label) for label in labels}
        since = self.current_scope().since
        work = partial(export_metrics_file, store.path, path, facts, since)

        def show(rows: int) -> None:
            log.info("Exported metrics of %d views to %s", rows, path)
            self._export_done(self.tr("Saved {rows} rows to {path}").format(rows=rows, path=path))

        self._worker.run(work, show, partial(self._export_failed, path))

    def export_history_to(self, path: Path) -> None:
        """Write every job of the chosen view and time to ``path`` on the worker thread."""
        store = self._current_store()
        if store is None:
            self._export_refused()
            return
        work = partial(export_history_file, store.path, path, self.current_scope())

        def show(rows: int) -> None:
            log.info("Exported %d jobs to %s", rows, path)
            self._export_done(self.tr("Saved {rows} jobs to {path}").format(rows=rows, path=path))

        self._worker.run(work, show, partial(self._export_failed, path))

    def _current_store(self) -> Store | None:
        engine = self._engine()
        try:
            return engine.store if engine is not None else None
        except EngineError:
            return None

    def _export_refused(self) -> None:
        message = self.tr("Not connected: nothing to export.")
        self.status_label.setText(message)
        self.exported.emit(False, message)

    def _export_done(self, message: str) -> None:
        self.status_label.setText(message)
        self.exported.emit(True, message)

    def _export_failed(self, path: Path, error: Exception) -> None:
        log.warning("Exporting to %s failed: %s", path, error)
        reason = error.strerror if isinstance(error, OSError) and error.strerror else error
        message = self.tr("Writing {path} failed: {error}. Choose another folder.").format(
            path=path, error=reason
        )
        self.status_label.setText(message)
        self.exported.emit(False, message)


def open_metrics_dialog(window: MainWindow) -> MetricsDialog:
    """Show the metrics window of ``window``, raising the one already open.

    Its fixes open the model library with only the conflicting URLs shown, or the Settings
    window. It reads the store again after job changes and when the window attaches an engine.
    """
    for dialog in window.findChildren(MetricsDialog):
        if dialog.isVisible():
            dialog.raise_()
            dialog.activateWindow()
            return dialog

    def check_model_urls() -> None:
        window.workflow_actions.open_model_library()
        library = window.workflow_actions.model_library_dialog
        if library is not None:
            library.conflicts_only.setChecked(True)

    dialog = MetricsDialog(
        lambda: window.engine,
        engine_facts_provider(lambda: window.engine, window.settings),
        {
            FixAction.MODEL_LIBRARY: check_model_urls,
            FixAction.QUEUE_SETTINGS: window.open_settings,
            FixAction.CONNECTION_SETTINGS: window.open_settings,
        },
        window,
    )
    # Bound methods, not lambdas: each one is disconnected when the dialog closes, and Qt
    # drops them with the dialog, so no signal reaches a deleted dialog.
    window.signals.jobChanged.connect(dialog.job_changed)
    window.signals.jobsQueued.connect(dialog.jobs_queued)
    # The job model reloads when the window attaches another engine.
    window.job_model.modelReset.connect(dialog.job_changed)

    def forget(_result: int) -> None:
        window.signals.jobChanged.disconnect(dialog.job_changed)
        window.signals.jobsQueued.disconnect(dialog.jobs_queued)
        window.job_model.modelReset.disconnect(dialog.job_changed)
        dialog.deleteLater()

    dialog.finished.connect(forget)
    dialog.show()
    return dialog
