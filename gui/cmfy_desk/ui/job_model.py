"""The job table: a row per job, updated in place as the engine reports changes."""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap

from cmfy_desk.store import Job, JobStatus

# The service reports no per-step progress, so a job's progress is the stage it has reached.
# A running job shows a bar half full. Failed, cancelled and lost jobs have no entry and show
# no bar, because a full bar would read as success.
STAGE_PROGRESS: dict[JobStatus, int] = {
    JobStatus.DRAFT: 0,
    JobStatus.QUEUED: 0,
    JobStatus.SUBMITTING: 5,
    JobStatus.SUBMITTED: 10,
    JobStatus.RUNNING: 50,
    JobStatus.DOWNLOADING: 90,
    JobStatus.SUCCEEDED: 100,
    JobStatus.PARTIAL: 100,
}

STATUS_COLORS: dict[JobStatus, str] = {
    JobStatus.DRAFT: "#9e9e9e",
    JobStatus.QUEUED: "#9e9e9e",
    JobStatus.SUBMITTING: "#64b5f6",
    JobStatus.SUBMITTED: "#1e88e5",
    JobStatus.RUNNING: "#fb8c00",
    JobStatus.DOWNLOADING: "#00897b",
    JobStatus.SUCCEEDED: "#43a047",
    JobStatus.PARTIAL: "#fdd835",
    JobStatus.FAILED: "#e53935",
    JobStatus.CANCELLED: "#616161",
    JobStatus.LOST: "#8e24aa",
}

# Read by the job table's progress delegate: the stage's percentage, or None for no bar.
PROGRESS_ROLE = Qt.ItemDataRole.UserRole + 1
# The Job object of a row, for actions on the selection.
JOB_ROLE = Qt.ItemDataRole.UserRole + 2


class Column(IntEnum):
    WORKFLOW = 0
    BATCH = 1
    SEED = 2
    STATUS = 3
    QUEUE_POSITION = 4
    PROGRESS = 5
    SUBMITTED = 6
    STARTED = 7
    FINISHED = 8
    ERROR = 9


def _header_text(column: Column) -> str:
    texts = {
        Column.WORKFLOW: QCoreApplication.translate("JobTableModel", "Workflow"),
        Column.BATCH: QCoreApplication.translate("JobTableModel", "Batch"),
        Column.SEED: QCoreApplication.translate("JobTableModel", "Seed"),
        Column.STATUS: QCoreApplication.translate("JobTableModel", "Status"),
        Column.QUEUE_POSITION: QCoreApplication.translate("JobTableModel", "Queue position"),
        Column.PROGRESS: QCoreApplication.translate("JobTableModel", "Progress"),
        Column.SUBMITTED: QCoreApplication.translate("JobTableModel", "Submitted"),
        Column.STARTED: QCoreApplication.translate("JobTableModel", "Started"),
        Column.FINISHED: QCoreApplication.translate("JobTableModel", "Finished"),
        Column.ERROR: QCoreApplication.translate("JobTableModel", "Error"),
    }
    return texts[column]


def status_text(status: JobStatus) -> str:
    """Return the translated name of a job status, as the table shows it."""
    texts = {
        JobStatus.DRAFT: QCoreApplication.translate("JobTableModel", "Draft"),
        JobStatus.QUEUED: QCoreApplication.translate("JobTableModel", "Queued"),
        JobStatus.SUBMITTING: QCoreApplication.translate("JobTableModel", "Submitting"),
        JobStatus.SUBMITTED: QCoreApplication.translate("JobTableModel", "Submitted"),
        JobStatus.RUNNING: QCoreApplication.translate("JobTableModel", "Running"),
        JobStatus.DOWNLOADING: QCoreApplication.translate("JobTableModel", "Downloading"),
        JobStatus.SUCCEEDED: QCoreApplication.translate("JobTableModel", "Succeeded"),
        JobStatus.PARTIAL: QCoreApplication.translate("JobTableModel", "Partial"),
        JobStatus.FAILED: QCoreApplication.translate("JobTableModel", "Failed"),
        JobStatus.CANCELLED: QCoreApplication.translate("JobTableModel", "Cancelled"),
        JobStatus.LOST: QCoreApplication.translate("JobTableModel", "Lost"),
    }
    return texts[status]


def _local_time(timestamp: float | None) -> str:
    if timestamp is None:
        return ""
    return time.strftime("%H:%M:%S", time.localtime(timestamp))


class JobTableModel(QAbstractTableModel):
    """Jobs in queue order. ``update_job()`` changes one row in place or appends a new one,
    so an event repaints one row and never resets the view.

    ``batch_name(batch_id)`` returns the name of a batch for the Batch column, or None when it
    is unknown. Names are cached per batch id until ``reload()``.
    """

    def __init__(
        self,
        jobs: list[Job] | None = None,
        parent: QObject | None = None,
        *,
        batch_name: Callable[[int], str | None] | None = None,
    ) -> None:
        super().__init__(parent)
        self._jobs: list[Job] = []
        self._rows: dict[int, int] = {}
        # Ids of the jobs of each batch that are not final, to tell when a batch has finished
        # without a pass over every row.
        self._unfinished: dict[int, set[int]] = {}
        self._batch_name = batch_name or (lambda _batch_id: None)
        self._batch_names: dict[int, str] = {}
        self._icons: dict[JobStatus, QIcon] = {}
        if jobs:
            self._set_jobs(jobs)

    # Changes --------------------------------------------------------------------------------

    def reload(self, jobs: list[Job]) -> None:
        """Replace every row, as when the window connects to another engine."""
        self.beginResetModel()
        self._set_jobs(jobs)
        self._batch_names.clear()
        self.endResetModel()

    def update_job(self, job: Job) -> None:
        """Apply a job's new row: repaint it where it is, or append it when it is new."""
        row = self._rows.get(job.id)
        if row is not None:
            self._jobs[row] = job
            self._track_finish(job)
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(Column) - 1), [])
            return
        row = len(self._jobs)
        self.beginInsertRows(QModelIndex(), row, row)
        self._jobs.append(job)
        self._rows[job.id] = row
        self._track_finish(job)
        self.endInsertRows()

    def _set_jobs(self, jobs: list[Job]) -> None:
        self._jobs = list(jobs)
        self._rows = {job.id: row for row, job in enumerate(self._jobs)}
        self._unfinished = {}
        for job in self._jobs:
            self._track_finish(job)

    def _track_finish(self, job: Job) -> None:
        unfinished = self._unfinished.setdefault(job.batch_id, set())
        if job.is_final:
            unfinished.discard(job.id)
        else:
            unfinished.add(job.id)

    # Lookups ----------------------------------------------------------------------------------

    def job_at(self, row: int) -> Job:
        return self._jobs[row]

    def row_of(self, job_id: int) -> int | None:
        return self._rows.get(job_id)

    def job(self, job_id: int) -> Job | None:
        row = self._rows.get(job_id)
        return None if row is None else self._jobs[row]

    def jobs(self) -> list[Job]:
        return list(self._jobs)

    def batch_finished(self, batch_id: int) -> bool:
        """Return whether every job of the batch shown in the table is in a final state."""
        return batch_id in self._unfinished and not self._unfinished[batch_id]

    def batch_name(self, batch_id: int) -> str | None:
        name = self._batch_names.get(batch_id)
        if name is None:
            name = self._batch_name(batch_id)
            # An unknown name is asked for again later: the engine may not be started yet.
            if name is not None:
                self._batch_names[batch_id] = name
        return name

    # Qt model interface -----------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._jobs)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(Column)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(Column):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return _header_text(Column(section))
        if role == Qt.ItemDataRole.ToolTipRole and section == Column.PROGRESS:
            return self.tr(
                "Progress by stage (queued, submitted, running, downloading, done): the service "
                "reports no per-step progress. Failed, cancelled and lost jobs show no bar."
            )
        return None

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid() or index.parent().isValid():
            return None
        if not (0 <= index.row() < len(self._jobs) and 0 <= index.column() < len(Column)):
            return None
        job = self._jobs[index.row()]
        column = Column(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(job, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(job)
        if role == Qt.ItemDataRole.DecorationRole and column is Column.STATUS:
            return self._status_icon(job.status)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (
            Column.SEED,
            Column.QUEUE_POSITION,
        ):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == PROGRESS_ROLE:
            return STAGE_PROGRESS.get(job.status)
        if role == JOB_ROLE:
            return job
        return None

    def _display(self, job: Job, column: Column) -> str:
        match column:
            case Column.WORKFLOW:
                return f"{job.workflow_name} #{job.position + 1}"
            case Column.BATCH:
                return self.batch_name(job.batch_id) or ""
            case Column.SEED:
                return "" if job.seed is None else str(job.seed)
            case Column.STATUS:
                return status_text(job.status)
            case Column.QUEUE_POSITION:
                # The position is that of the service's queue, which a job has left once it
                # runs or ends, whatever the row still stores.
                if job.status is not JobStatus.SUBMITTED or job.queue_position is None:
                    return ""
                return str(job.queue_position)
            case Column.PROGRESS:
                progress = STAGE_PROGRESS.get(job.status)
                return "" if progress is None else f"{progress} %"
            case Column.SUBMITTED:
                return _local_time(job.submitted_at)
            case Column.STARTED:
                return _local_time(job.started_at)
            case Column.FINISHED:
                return _local_time(job.finished_at)
            case Column.ERROR:
                # The table shows the first line; the tooltip shows the whole message.
                return (job.error_message or "").split("\n", 1)[0]

    def _tooltip(self, job: Job) -> str:
        lines = [
            self.tr("Job {id}: {status}").format(id=job.id, status=status_text(job.status)),
        ]
        batch = self.batch_name(job.batch_id)
        if batch:
            lines.append(self.tr("Batch: {name}").format(name=batch))
        lines.append(self.tr("Attempts: {count}").format(count=job.attempts))
        if job.remote_id:
            lines.append(self.tr("Remote id: {id}").format(id=job.remote_id))
        if job.error_code:
            lines.append(self.tr("Error code: {code}").format(code=job.error_code))
        if job.error_request_id:
            lines.append(self.tr("Request id: {id}").format(id=job.error_request_id))
        if job.error_message:
            lines.append(self.tr("Error: {message}").format(message=job.error_message))
        return "\n".join(lines)

    def _status_icon(self, status: JobStatus) -> QIcon:
        icon = self._icons.get(status)
        if icon is None:
            icon = _dot_icon(QColor(STATUS_COLORS[status]))
            self._icons[status] = icon
        return icon


def _dot_icon(color: QColor, size: int = 12) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(color.darker(130))
    painter.setBrush(color)
    painter.drawEllipse(1, 1, size - 2, size - 2)
    painter.end()
    return QIcon(pixmap)
