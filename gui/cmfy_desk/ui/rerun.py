"""Running an output's job again: the same graph, new seeds, or edited in the batch dialog."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from pathlib import Path

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QInputDialog, QWidget

from cmfy_desk.store import Output, Store
from cmfy_desk.workflows.batch import MAX_BATCH_COUNT
from cmfy_desk.workflows.formats import LoadedWorkflow

# Jobs that "Vary seed…" offers to make by default.
DEFAULT_VARIATIONS = 4


class RerunAction(StrEnum):
    """An action on an output's job, requested from the gallery or the viewer."""

    RUN_AGAIN = "run_again"  # one job, the same graph and seed
    VARY_SEED = "vary_seed"  # N jobs with random seeds
    EDIT = "edit"  # the batch dialog, filled with the job's graph


def rerun_labels() -> list[tuple[RerunAction, str]]:
    """Return the menu and button texts of the actions, in menu order."""
    return [
        (RerunAction.RUN_AGAIN, QCoreApplication.translate("Rerun", "Run again")),
        (RerunAction.VARY_SEED, QCoreApplication.translate("Rerun", "Vary seed…")),
        (RerunAction.EDIT, QCoreApplication.translate("Rerun", "Edit and run…")),
    ]


def workflow_of_output(store: Store, output: Output) -> LoadedWorkflow:
    """Return the graph that made ``output`` as a workflow named after its job's workflow.

    The graph is the job's stored prompt: resolved, with its seed and the model URLs it ran
    with. Raises KeyError when the job is no longer in the store.
    """
    job = store.get_job(output.job_id)
    return LoadedWorkflow(
        path=Path(output.local_path),
        name=job.workflow_name,
        graph=job.prompt,
        source_format="api",
    )


def open_variation_count_dialog(parent: QWidget, on_count: Callable[[int], None]) -> QInputDialog:
    """Open a non-modal question for the number of variations; ``on_count(int)`` is called
    when the person accepts. Returns the dialog, which deletes itself when closed."""
    dialog = QInputDialog(parent)
    dialog.setWindowTitle(QCoreApplication.translate("Rerun", "Vary seed"))
    dialog.setLabelText(
        QCoreApplication.translate("Rerun", "Jobs to make, each with a new random seed:")
    )
    dialog.setInputMode(QInputDialog.InputMode.IntInput)
    dialog.setIntRange(1, MAX_BATCH_COUNT)
    dialog.setIntValue(DEFAULT_VARIATIONS)
    dialog.intValueSelected.connect(on_count)
    dialog.finished.connect(dialog.deleteLater)
    dialog.open()
    return dialog
