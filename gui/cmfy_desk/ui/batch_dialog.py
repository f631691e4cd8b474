"""The batch dialog: turn dropped workflows into batches, check them, and queue them.

For each workflow it shows the parameter form, the batch settings (count, seeds, prompt list,
CSV rows, XY grid) and the pre-flight check. A live summary below them shows the job count,
the estimated cost, and why the plan is invalid when it is. Planning runs on a worker thread
(see batch_planner). The dialog is opened with ``open()``, never ``exec()``, because a nested
event loop would stall the asyncio loop that qasync runs on Qt's.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractButton,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from cmfy_desk.app import Engine
from cmfy_desk.planning import PlannedBatch
from cmfy_desk.settings import Settings
from cmfy_desk.ui.batch_inputs import BatchInputs, BatchInputsWidget
from cmfy_desk.ui.batch_planner import BatchPlanner, PlanOutcome
from cmfy_desk.ui.parameter_form import ParameterForm
from cmfy_desk.ui.preflight_panel import PreflightPanel
from cmfy_desk.ui.theme import error_style
from cmfy_desk.workflows.batch import SeedMode
from cmfy_desk.workflows.definitions import NodeDefinitions
from cmfy_desk.workflows.expansion import LARGE_BATCH, BatchPlan, count_jobs, estimate
from cmfy_desk.workflows.formats import LoadedWorkflow
from cmfy_desk.workflows.parameters import Parameter, find_parameters
from cmfy_desk.workflows.preflight import (
    PreflightReport,
    check_graph,
    remove_unused_nodes,
    rewrite_model_urls,
)

log = logging.getLogger(__name__)

# Inputs settle this long (milliseconds) before the summary plans the batch again.
SUMMARY_DELAY_MS = 300
# Above this many jobs the summary shows the count and a cost from the pre-flight estimate
# without planning every job. Queueing still plans the batch in full.
MAX_SUMMARY_JOBS = 2000


@dataclass
class WorkflowEntry:
    """One workflow of the dialog, with what was set for it."""

    workflow: LoadedWorkflow
    parameters: list[Parameter]
    report: PreflightReport
    inputs: BatchInputs
    values: dict[str, Any] = field(default_factory=dict)
    extra_keys: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class QueuedPlan:
    """A workflow whose batch was planned when the dialog was accepted, ready to queue."""

    workflow: LoadedWorkflow
    plan: BatchPlan
    planned: PlannedBatch


class BatchDialog(QDialog):
    """Asks how to batch each dropped workflow, checks it, and plans it.

    ``modelLibraryRequested()`` asks the window to open the model library, where the URL of
    a model file the check reports can be added. ``reload_library()`` then checks again.

    ``engine`` supplies the node definitions, the model library and the pre-flight check.
    Without one (not connected), the dialog uses the bundled definitions and an empty library,
    and accepting plans nothing. ``accept()`` plans every workflow on a worker thread and closes
    the dialog only when all of them planned; ``planned`` then holds them for the window to
    queue. A batch of more than LARGE_BATCH jobs first asks for confirmation
    (``confirmation`` is that box while it is open).
    """

    modelLibraryRequested = Signal()

    def __init__(
        self,
        workflows: list[LoadedWorkflow],
        settings: Settings,
        parent: QWidget | None = None,
        *,
        engine: Engine | None = None,
        initial_inputs: BatchInputs | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("New batch"))
        self.setMinimumSize(900, 560)
        self.resize(1180, 760)
        self._engine = engine
        self._definitions = engine.definitions if engine else NodeDefinitions.bundled()
        self._library = engine.model_library.canonical_urls() if engine else {}
        self._entries: list[WorkflowEntry] = []
        self._current: int = -1
        self._generation = 0
        self._accepting = False
        self._closed = False
        self._queue_outcomes: dict[int, PlanOutcome] = {}
        self._queue_plans: dict[int, BatchPlan] = {}
        self.planned: list[QueuedPlan] = []
        self.confirmation: QMessageBox | None = None
        self._confirmed_jobs: int | None = None
        self._plan_error: str | None = None
        if initial_inputs is None:
            mode = str(settings.get("batch.seed_mode"))
            initial_inputs = BatchInputs(
                count=int(settings.get("batch.count")),
                seed_mode=SeedMode(mode) if mode in tuple(SeedMode) else SeedMode.RANDOM,
            )
        self._initial_inputs = initial_inputs

        self._planner = BatchPlanner(self)
        self._planner.finished.connect(self._on_outcome)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SUMMARY_DELAY_MS)
        self._timer.timeout.connect(self.refresh_summary)

        self._build()
        self.add_workflows(workflows)

    # Building ---------------------------------------------------------------------------------

    def _build(self) -> None:
        self.heading = QLabel()
        self.heading.setTextFormat(Qt.TextFormat.PlainText)
        font = self.heading.font()
        font.setBold(True)
        self.heading.setFont(font)

        self.workflow_list = QListWidget()
        self.workflow_list.setIconSize(QSize(16, 16))
        self.workflow_list.currentRowChanged.connect(self._select)
        self.apply_to_all = QCheckBox(self.tr("Same batch settings for all"))
        self.apply_to_all.setToolTip(
            self.tr(
                "Count, seeds, prompts, CSV rows and grid apply to every workflow. Each "
                "workflow keeps its own parameter values."
            )
        )
        # Several dropped workflows are usually run alike, so sharing is where a batch starts.
        self.apply_to_all.setChecked(True)
        self.apply_to_all.toggled.connect(self._on_apply_to_all)
        self._list_panel = QWidget()
        list_layout = QVBoxLayout(self._list_panel)
        list_layout.setContentsMargins(0, 0, 0, 0)
        self._list_heading = QLabel()
        # Wrapped, so a long heading never runs into the Parameters panel beside the list.
        self._list_heading.setWordWrap(True)
        list_layout.addWidget(self._list_heading)
        list_layout.addWidget(self.workflow_list, 1)
        list_layout.addWidget(self.apply_to_all)

        self.parameter_form = ParameterForm()
        self.parameter_form.changed.connect(self.schedule_summary)
        form_scroll = QScrollArea()
        form_scroll.setWidgetResizable(True)
        form_scroll.setFrameShape(QFrame.Shape.NoFrame)
        form_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        form_scroll.setWidget(self.parameter_form)
        parameters_box = QGroupBox(self.tr("Parameters"))
        parameters_layout = QVBoxLayout(parameters_box)
        parameters_layout.addWidget(form_scroll)

        self.batch_inputs = BatchInputsWidget()
        self.batch_inputs.changed.connect(self.schedule_summary)
        self.count = self.batch_inputs.count
        batch_box = QGroupBox(self.tr("Batch"))
        batch_layout = QVBoxLayout(batch_box)
        batch_layout.addWidget(self.batch_inputs)

        self.preflight_panel = PreflightPanel()
        self.preflight_panel.removeUnusedRequested.connect(self.remove_unused_nodes)
        self.preflight_panel.canonicalUrlsRequested.connect(self.use_canonical_urls)
        self.preflight_panel.modelLibraryRequested.connect(self.modelLibraryRequested)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(batch_box)
        right_layout.addWidget(self.preflight_panel, 1)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self._list_panel)
        self.splitter.addWidget(parameters_box)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setStretchFactor(2, 3)
        self.splitter.setChildrenCollapsible(False)

        self.connection = QComboBox()
        self.connection.setToolTip(self.tr("The connection this batch runs on"))
        labels = self._engine.connection_labels if self._engine else []
        for label in labels:
            self.connection.addItem(label, label)
        self.connection.currentIndexChanged.connect(self._connection_changed)
        connection_row = QHBoxLayout()
        connection_row.addWidget(QLabel(self.tr("Run on:")))
        connection_row.addWidget(self.connection, 1)
        self._connection_row = QWidget()
        self._connection_row.setLayout(connection_row)
        connection_row.setContentsMargins(0, 0, 0, 0)
        # One connection needs no choice.
        self._connection_row.setVisible(len(labels) > 1)

        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        summary_font = self.summary.font()
        summary_font.setBold(True)
        self.summary.setFont(summary_font)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.setStyleSheet(error_style())
        self.error.hide()

        self._buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.queue_button = self._buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.queue_button.setText(self.tr("Queue"))
        self._buttons.accepted.connect(self.accept)
        self._buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self._connection_row)
        layout.addWidget(self.summary)
        layout.addWidget(self.error)
        layout.addWidget(self._buttons)

    @property
    def selected_connection(self) -> str | None:
        """The connection the batch goes to; None means the engine's default."""
        data = self.connection.currentData()
        return str(data) if data else None

    def _for_cloud(self) -> bool:
        if self._engine is None:
            return True
        return self._engine.for_cloud(self.selected_connection)

    def _connection_changed(self) -> None:
        # Models by URL and uploads depend on the connection, so the check runs again.
        for entry in self._entries:
            entry.report = self._check(entry.workflow)
        if 0 <= self._current < len(self._entries):
            self._show_entry(self._entries[self._current])
        self.schedule_summary()

    # Workflows --------------------------------------------------------------------------------

    @property
    def engine(self) -> Engine | None:
        return self._engine

    @property
    def workflows(self) -> list[LoadedWorkflow]:
        return [entry.workflow for entry in self._entries]

    def entries(self) -> list[WorkflowEntry]:
        return list(self._entries)

    def current_entry(self) -> WorkflowEntry | None:
        return self._entries[self._current] if 0 <= self._current < len(self._entries) else None

    def add_workflows(self, workflows: list[LoadedWorkflow]) -> None:
        """Add workflows, as when more files are dropped while the dialog is open."""
        self._store_current()
        shared = self.apply_to_all.isChecked() and self._entries
        for workflow in workflows:
            inputs = self._entries[0].inputs if shared else self._initial_inputs
            self._entries.append(self._make_entry(workflow, inputs))
            # Full paths (often deep in site-packages) would be cut off, so the list shows
            # the file name and the tooltip the path.
            item = QListWidgetItem(workflow.path.name)
            item.setToolTip(str(workflow.path))
            self.workflow_list.addItem(item)
        several = len(self._entries) > 1
        self._list_panel.setVisible(several)
        self._list_heading.setText(
            self.tr("Workflows, one batch each ({count}):").format(count=len(self._entries))
        )
        if self._current < 0 and self._entries:
            self.workflow_list.setCurrentRow(0)
        self._update_item_marks()
        self._update_queue_button()
        self.schedule_summary()

    def _make_entry(self, workflow: LoadedWorkflow, inputs: BatchInputs) -> WorkflowEntry:
        return WorkflowEntry(
            workflow=workflow,
            parameters=find_parameters(workflow.graph, self._definitions),
            report=self._check(workflow),
            inputs=inputs,
        )

    def _check(self, workflow: LoadedWorkflow) -> PreflightReport:
        if self._engine is not None:
            return self._engine.preflight(workflow, self.selected_connection)
        return check_graph(workflow.graph, self._definitions, self._library, for_cloud=True)

    def select_workflow(self, row: int) -> None:
        self.workflow_list.setCurrentRow(row)

    def _select(self, row: int) -> None:
        if row == self._current or not 0 <= row < len(self._entries):
            return
        self._store_current()
        self._current = row
        self._show_entry(self._entries[row])
        self.schedule_summary()

    def _show_entry(self, entry: WorkflowEntry) -> None:
        workflow = entry.workflow
        name = workflow.path.name
        if workflow.name != workflow.path.stem:
            # A job run again is named after its workflow, and its path is the output's.
            name = self.tr("{workflow} (the job of {file})").format(
                workflow=workflow.name, file=workflow.path.name
            )
        self.heading.setText(
            self.tr("{name} · {format} · {nodes} nodes").format(
                name=name,
                format=self._format_name(workflow.source_format),
                nodes=len(workflow.graph),
            )
        )
        self.heading.setToolTip(str(workflow.path))
        self.parameter_form.set_workflow(
            workflow.graph, entry.parameters, self._definitions, entry.values, entry.extra_keys
        )
        self.batch_inputs.set_parameters(entry.parameters)
        self.batch_inputs.set_inputs(entry.inputs)
        self.preflight_panel.show_report(entry.report)

    def _format_name(self, source_format: str) -> str:
        names = {
            "api": self.tr("API format"),
            "editor": self.tr("editor format, converted"),
            "png": self.tr("from PNG metadata"),
            "webp": self.tr("from WEBP metadata"),
            "jpeg": self.tr("from JPEG metadata"),
            "sidecar": self.tr("from a sidecar file"),
        }
        return names.get(source_format, source_format)

    def _store_current(self) -> None:
        """Keep what the widgets show in the current entry (and all, when shared)."""
        entry = self.current_entry()
        if entry is None:
            return
        entry.values = self.parameter_form.draft_values()
        entry.extra_keys = self.parameter_form.extra_keys()
        inputs = self.batch_inputs.inputs()
        targets = self._entries if self.apply_to_all.isChecked() else [entry]
        for target in targets:
            target.inputs = inputs

    def _on_apply_to_all(self, checked: bool) -> None:
        if checked:
            self._store_current()
        self.schedule_summary()

    def _update_item_marks(self) -> None:
        style = self.style()
        for row, entry in enumerate(self._entries):
            item = self.workflow_list.item(row)
            if entry.report.errors:
                item.setIcon(style.standardIcon(style.StandardPixmap.SP_MessageBoxCritical))
            else:
                item.setIcon(style.standardIcon(style.StandardPixmap.SP_DialogApplyButton))

    # Fixes ------------------------------------------------------------------------------------

    def remove_unused_nodes(self) -> None:
        """Remove the current workflow's unused nodes and check it again."""
        entry = self.current_entry()
        if entry is None:
            return
        graph = remove_unused_nodes(entry.workflow.graph, self._definitions)
        self._replace_graph(entry, graph)

    def use_canonical_urls(self) -> None:
        """Write the pre-flight check's model URL replacements into the current workflow."""
        entry = self.current_entry()
        if entry is None or not entry.report.replacements:
            return
        graph = rewrite_model_urls(entry.workflow.graph, entry.report.replacements)
        self._replace_graph(entry, graph)

    def reload_library(self) -> None:
        """Check every workflow again with the model library as it is now."""
        if self._engine is None or self._closed:
            return
        self._store_current()
        self._library = self._engine.model_library.canonical_urls()
        for entry in self._entries:
            entry.report = self._check(entry.workflow)
        current = self.current_entry()
        if current is not None:
            self.preflight_panel.show_report(current.report)
        self.error.hide()
        self._update_item_marks()
        self._update_queue_button()
        self.schedule_summary()

    def _replace_graph(self, entry: WorkflowEntry, graph: dict[str, Any]) -> None:
        self._store_current()
        workflow = dataclasses.replace(entry.workflow, graph=graph)
        fresh = self._make_entry(workflow, entry.inputs)
        entry.workflow, entry.parameters, entry.report = (
            fresh.workflow,
            fresh.parameters,
            fresh.report,
        )
        self._show_entry(entry)
        self._update_item_marks()
        self._update_queue_button()
        self.schedule_summary()

    # Summary ----------------------------------------------------------------------------------

    def schedule_summary(self) -> None:
        """Plan again once the inputs have settled for SUMMARY_DELAY_MS."""
        if not self._closed:
            self._timer.start()

    def plan_of(self, entry: WorkflowEntry) -> BatchPlan:
        """Return the plan of ``entry``; raise ValueError naming what is invalid."""
        values = entry.values
        if entry is self.current_entry():
            values = self.parameter_form.values()
        return entry.inputs.to_plan(values)

    def refresh_summary(self) -> None:
        """Show the job count now, and plan the current workflow in the background."""
        self._timer.stop()
        self._store_current()
        entry = self.current_entry()
        if entry is None or self._accepting:
            return
        self._generation += 1
        total = 0
        for other in self._entries:
            try:
                total += count_jobs(self.plan_of(other))
            except ValueError:
                continue
        try:
            plan = self.plan_of(entry)
        except ValueError as exc:
            self._show_summary(self.tr("The batch settings are invalid."), str(exc))
            return
        jobs = count_jobs(plan)
        if jobs > MAX_SUMMARY_JOBS:
            cost = entry.report.relative_cost * jobs
            self._show_summary(
                self._count_text(jobs, total)
                + " · "
                + self.tr("about {cost:.0f}× cost (from the workflow's estimate)").format(
                    cost=cost
                ),
                None,
            )
            return
        self._show_summary(self._count_text(jobs, total) + " · " + self.tr("checking…"), None)
        self._planner.request(
            ("summary", self._generation),
            entry.workflow,
            plan,
            self._definitions,
            self._library,
            for_cloud=self._for_cloud(),
        )

    def _count_text(self, jobs: int, total: int) -> str:
        text = self._jobs_text(jobs)
        if len(self._entries) > 1:
            text += " · " + self.tr("{jobs} in all").format(jobs=self._jobs_text(total))
        if jobs > LARGE_BATCH:
            text += " · " + self.tr("asks before queueing more than {limit}").format(
                limit=LARGE_BATCH
            )
        return text

    def _jobs_text(self, jobs: int) -> str:
        if jobs == 1:
            return self.tr("1 job")
        return self.tr("{count} jobs").format(count=f"{jobs:,}")

    def _show_summary(self, text: str, error: str | None) -> None:
        self.summary.setText(text)
        self.error.setText(error or "")
        self.error.setVisible(bool(error))
        self._plan_error = error
        self._update_queue_button()

    def _on_outcome(self, outcome: PlanOutcome) -> None:
        token = outcome.token
        if self._closed or not isinstance(token, tuple):
            return
        kind, generation, *rest = token
        if generation != self._generation:
            return
        if kind == "summary":
            self._on_summary_outcome(outcome)
        elif kind == "queue":
            self._on_queue_outcome(int(rest[0]), outcome)

    def _on_summary_outcome(self, outcome: PlanOutcome) -> None:
        jobs = count_jobs(outcome.plan)
        total = sum(self._safe_count(entry) for entry in self._entries)
        if outcome.planned is None:
            self._show_summary(self._count_text(jobs, total), outcome.error)
            return
        cost = estimate(outcome.planned.graphs).relative_cost
        self._show_summary(
            self._count_text(jobs, total)
            + " · "
            + self.tr("estimated cost {cost:.1f}×").format(cost=cost),
            None,
        )
        self.summary.setToolTip(
            self.tr("Estimated GPU time, where 1× is one 512×512 image in 20 steps")
        )

    def _safe_count(self, entry: WorkflowEntry) -> int:
        try:
            return count_jobs(self.plan_of(entry))
        except ValueError:
            return 0

    # Queue button -----------------------------------------------------------------------------

    def blocking_error(self) -> str | None:
        """Return why no batch can be queued: the first pre-flight error of any workflow."""
        for entry in self._entries:
            for finding in entry.report.errors:
                text = f"{entry.workflow.path.name}: {finding.message}"
                if finding.fix:
                    text += " " + self.tr("Fix: {fix}.").format(fix=finding.fix)
                return text
        return None

    def _update_queue_button(self) -> None:
        blocked = self.blocking_error()
        plan_error = self._plan_error
        enabled = blocked is None and plan_error is None and not self._accepting
        self.queue_button.setEnabled(enabled)
        reason = blocked or plan_error
        self.queue_button.setToolTip(reason or self.tr("Queue every workflow's batch"))
        if blocked is not None:
            self.error.setText(self.tr("Cannot queue: {reason}").format(reason=blocked))
            self.error.show()

    # Accepting --------------------------------------------------------------------------------

    def selected_seed_mode(self) -> SeedMode:
        return self.batch_inputs.selected_seed_mode()

    def accept(self) -> None:
        """Plan every workflow and close when all planned; show the first error otherwise."""
        if self._accepting:
            return
        self._timer.stop()
        self._store_current()
        plans: dict[int, BatchPlan] = {}
        for index, entry in enumerate(self._entries):
            try:
                plans[index] = self.plan_of(entry)
            except ValueError as exc:
                self._fail(index, str(exc))
                return
        blocked = self.blocking_error()
        if blocked is not None:
            self._fail(None, self.tr("Cannot queue: {reason}").format(reason=blocked))
            return
        total = sum(count_jobs(plan) for plan in plans.values())
        if total > LARGE_BATCH and self._confirmed_jobs != total:
            self._confirm(total)
            return
        if self._engine is None:
            # Not connected: the window explains that nothing can be queued.
            super().accept()
            return

        self._accepting = True
        self._generation += 1
        self._queue_plans = plans
        self._queue_outcomes = {}
        self._update_queue_button()
        self.summary.setText(self.tr("Checking {jobs}…").format(jobs=self._jobs_text(total)))
        for index, plan in plans.items():
            self._planner.request(
                ("queue", self._generation, index),
                self._entries[index].workflow,
                plan,
                self._definitions,
                self._library,
                for_cloud=self._for_cloud(),
            )

    def _on_queue_outcome(self, index: int, outcome: PlanOutcome) -> None:
        if outcome.planned is None:
            self._accepting = False
            self._generation += 1
            self._planner.cancel_pending()
            self._fail(index, outcome.error or self.tr("Planning failed."))
            return
        self._queue_outcomes[index] = outcome
        if len(self._queue_outcomes) < len(self._queue_plans):
            return
        self.planned = []
        for position in sorted(self._queue_outcomes):
            result = self._queue_outcomes[position]
            assert result.planned is not None
            self.planned.append(QueuedPlan(result.workflow, result.plan, result.planned))
        self._accepting = False
        super().accept()

    def _fail(self, index: int | None, message: str) -> None:
        if index is not None and index != self._current:
            self.workflow_list.setCurrentRow(index)
        self._timer.stop()
        self.summary.setText(self.tr("Nothing was queued."))
        self.error.setText(message)
        self.error.show()
        self._update_queue_button()

    def _confirm(self, total: int) -> None:
        if self.confirmation is not None:
            self.confirmation.raise_()
            return
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(self.tr("Queue a large batch?"))
        box.setText(self.tr("Queue {jobs}?").format(jobs=self._jobs_text(total)))
        box.setInformativeText(
            self.tr(
                "This is more than {limit} jobs. Each job costs GPU time, so check the count, "
                "the prompt list and the grid before queueing."
            ).format(limit=LARGE_BATCH)
        )
        queue = box.addButton(self.tr("Queue"), QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)

        def finished(_result: int) -> None:
            clicked: QAbstractButton | None = box.clickedButton()
            self.confirmation = None
            box.deleteLater()
            if clicked is queue:
                self._confirmed_jobs = total
                self.accept()

        box.finished.connect(finished)
        self.confirmation = box
        box.open()

    def done(self, result: int) -> None:
        self._closed = True
        self._timer.stop()
        self._planner.shutdown()
        if self.confirmation is not None:
            self.confirmation.close()
        super().done(result)
