"""The job table: a row per job in queue order, updated in place as the engine reports changes."""

from __future__ import annotations

import bisect
import json
import os
import time
from collections.abc import Callable, Sequence
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QByteArray,
    QCoreApplication,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QGuiApplication,
    QIcon,
    QPainter,
    QPalette,
    QPixmap,
)

from cmfy_desk.bridge.events import JobProgress
from cmfy_desk.store import Batch, Job, JobStatus, Store
from cmfy_desk.ui.model_sets import ModelSet
from cmfy_desk.workflows.graph import model_urls

# cmfy.cloud reports no per-step progress, so a job's progress is the stage it has reached,
# and a running job shows a bar half full until the server reports steps (see LIVE_STATUSES).
# Failed, cancelled and lost jobs have no entry and show no bar, because a full bar would read
# as success.
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

# The MIME type of rows dragged inside the job table. The data is a JSON object with the job
# ids and the token of the model they came from. Rows dragged from another window or process,
# which may use another database, carry another token and are ignored.
JOB_IDS_MIME_TYPE = "application/x-cmfy-desk-job-ids"

# Jobs being sent, run or downloaded; shown above the queued jobs.
_ACTIVE_STATUSES = frozenset(
    {JobStatus.SUBMITTING, JobStatus.SUBMITTED, JobStatus.RUNNING, JobStatus.DOWNLOADING}
)

# Jobs whose JobProgress events the table shows. A server may report steps just before the
# status change to RUNNING arrives, so SUBMITTED counts too. A job that moves to any other
# status drops its progress, and later events for it are ignored.
LIVE_STATUSES = frozenset({JobStatus.SUBMITTED, JobStatus.RUNNING})

# The roles that change when only a job's live progress changes.
PROGRESS_ROLES = [
    Qt.ItemDataRole.DisplayRole,
    Qt.ItemDataRole.ToolTipRole,
    PROGRESS_ROLE,
]

SortKey = tuple[int, float, float, int]

# Finished jobs of closed batches are read this many at a time, as the table scrolls to them,
# so that a long history costs nothing until someone looks at it.
FINISHED_PAGE = 200

_RIGHT_ALIGNED = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


def queue_sort_key(job: Job) -> SortKey:
    """Return the key that places a job in the table, smallest first.

    Jobs being sent, run or downloaded come first, then queued jobs in the order the scheduler
    takes them (priority, highest first, then queue order), then finished jobs, the most
    recently finished first. The job id breaks ties, so that no two jobs have equal keys.
    """
    if job.is_final:
        return (2, -(job.finished_at or 0.0), 0.0, -job.id)
    rank = 0 if job.status in _ACTIVE_STATUSES else 1
    return (rank, -float(job.priority), job.queue_order, job.id)


class Column(IntEnum):
    WORKFLOW = 0
    BATCH = 1
    MODELS = 2
    SEED = 3
    STATUS = 4
    PRIORITY = 5
    QUEUE_POSITION = 6
    PROGRESS = 7
    SUBMITTED = 8
    STARTED = 9
    FINISHED = 10
    ERROR = 11


def _header_text(column: Column) -> str:
    texts = {
        Column.WORKFLOW: QCoreApplication.translate("JobTableModel", "Workflow"),
        Column.BATCH: QCoreApplication.translate("JobTableModel", "Batch"),
        Column.MODELS: QCoreApplication.translate("JobTableModel", "Models"),
        Column.SEED: QCoreApplication.translate("JobTableModel", "Seed"),
        Column.STATUS: QCoreApplication.translate("JobTableModel", "Status"),
        Column.PRIORITY: QCoreApplication.translate("JobTableModel", "Priority"),
        Column.QUEUE_POSITION: QCoreApplication.translate("JobTableModel", "Queue position"),
        Column.PROGRESS: QCoreApplication.translate("JobTableModel", "Progress"),
        Column.SUBMITTED: QCoreApplication.translate("JobTableModel", "Submitted"),
        Column.STARTED: QCoreApplication.translate("JobTableModel", "Started"),
        Column.FINISHED: QCoreApplication.translate("JobTableModel", "Finished"),
        Column.ERROR: QCoreApplication.translate("JobTableModel", "Error"),
    }
    return texts[column]


def _header_tooltip(column: Column) -> str | None:
    match column:
        case Column.PROGRESS:
            return QCoreApplication.translate(
                "JobTableModel",
                "Progress by stage (queued, submitted, running, downloading, done). While a "
                "job runs on a server that reports its steps, such as a ComfyUI server, the bar "
                "shows the share of the workflow done and the current node. Failed, cancelled "
                "and lost jobs show no bar.",
            )
        case Column.PRIORITY:
            return QCoreApplication.translate(
                "JobTableModel",
                "Queued jobs of higher priority are sent first: High is 10, Normal 0, Low -10.",
            )
        case Column.MODELS:
            return QCoreApplication.translate(
                "JobTableModel",
                "The model files a job loads. Jobs with the same colour use the same models and "
                "are sent one after another, so that they run on nodes that already hold them.",
            )
        case Column.QUEUE_POSITION:
            return QCoreApplication.translate(
                "JobTableModel", "The job's place in the service's own queue, while it waits there."
            )
    return None


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


def node_name(progress: JobProgress) -> str:
    """Return the name of the node a progress event reports: its class, or its id."""
    if progress.node_class:
        return progress.node_class
    return QCoreApplication.translate("JobTableModel", "node {id}").format(id=progress.node_id)


def progress_label(progress: JobProgress) -> str:
    """Return the short text of a live progress bar, such as "KSampler 12/20"."""
    if progress.maximum > 0:
        return f"{node_name(progress)} {progress.value}/{progress.maximum}"
    return node_name(progress)


def progress_summary(progress: JobProgress) -> str:
    """Return a sentence about a job's live progress: node, step, nodes done and percentage."""
    if progress.maximum > 0:
        node = QCoreApplication.translate(
            "JobTableModel", "Node {id} ({node}), step {value} of {maximum}."
        )
    else:
        node = QCoreApplication.translate("JobTableModel", "Node {id} ({node}).")
    share = QCoreApplication.translate(
        "JobTableModel", "{done} of {total} nodes done, {percent} % of the workflow."
    )
    values = {
        "id": progress.node_id,
        "node": node_name(progress),
        "value": progress.value,
        "maximum": progress.maximum,
        "done": progress.nodes_done,
        "total": progress.nodes_total,
        "percent": round(progress.overall * 100),
    }
    return f"{node.format(**values)} {share.format(**values)}"


def _local_time(timestamp: float | None) -> str:
    if timestamp is None:
        return ""
    return time.strftime("%H:%M:%S", time.localtime(timestamp))


class JobTableModel(QAbstractTableModel):
    """Jobs in queue order (see ``queue_sort_key``). ``update_job()`` repaints one row in place,
    moves it when its place in the queue changed, or inserts a new one, so an event never
    resets the view.

    ``find_batch(batch_id)`` returns a batch for the Batch column (its name, and whether it is
    paused), or None when it is unknown. Batches are cached per id until ``refresh_batches()``
    or ``reload()``.

    ``load(store)`` shows every job of the batches still running and the FINISHED_PAGE most
    recently finished other jobs; the view fetches older ones page by page as it scrolls to
    the end (``canFetchMore``/``fetchMore``). ``reload(jobs)`` shows exactly ``jobs``.
    """

    def __init__(
        self,
        jobs: list[Job] | None = None,
        parent: QObject | None = None,
        *,
        find_batch: Callable[[int], Batch | None] | None = None,
    ) -> None:
        super().__init__(parent)
        self._jobs: list[Job] = []
        self._keys: list[SortKey] = []
        self._rows: dict[int, int] = {}
        # Ids of the jobs of each batch that are not final, to tell when a batch has finished
        # without a pass over every row.
        self._unfinished: dict[int, set[int]] = {}
        self._find_batch = find_batch or (lambda _batch_id: None)
        self._batches: dict[int, Batch] = {}
        self._icons: dict[JobStatus, QIcon] = {}
        self._model_sets: dict[str, ModelSet] = {}
        # The latest JobProgress of each job in LIVE_STATUSES that reported one.
        self._progress: dict[int, JobProgress] = {}
        # The texts of each job's cells, by job id, made at the first paint after a change,
        # so that a repaint does not build them again for every cell.
        self._texts: dict[int, tuple[str, ...]] = {}
        self._header_texts: list[str] = []
        # Where older finished jobs come from, while there are more to read.
        self._finished_source: Store | None = None
        self._finished_cursor: Job | None = None
        self._drag_token = f"{os.getpid()}:{id(self)}"
        if jobs:
            self._set_jobs(jobs)

    # Changes --------------------------------------------------------------------------------

    def load(self, store: Store | None) -> None:
        """Replace every row with the jobs of ``store`` that the table shows first: all jobs of
        unfinished batches and the most recently finished others (see FINISHED_PAGE)."""
        if store is None:
            self.reload([])
            return
        finished = store.finished_jobs(FINISHED_PAGE)
        jobs = {job.id: job for job in finished}
        jobs.update((job.id, job) for job in store.jobs_of_open_batches())
        self.reload(list(jobs.values()))
        if len(finished) == FINISHED_PAGE:
            self._finished_source = store
            self._finished_cursor = finished[-1]

    def reload(self, jobs: list[Job]) -> None:
        """Replace every row, as when the window connects to another engine."""
        self._finished_source = None
        self.beginResetModel()
        self._set_jobs(jobs)
        self._batches.clear()
        self._progress.clear()
        self._texts.clear()
        self.endResetModel()

    def update_job(self, job: Job) -> None:
        """Apply a job's new row: repaint it where it is, move it to its new place in the queue,
        or insert it when it is new."""
        key = queue_sort_key(job)
        row = self._rows.get(job.id)
        if row is None:
            self._insert(job, key)
            return
        if key != self._keys[row]:
            row = self._move(row, key)
        self._jobs[row] = job
        self._texts.pop(job.id, None)
        self._track_finish(job)
        if job.status not in LIVE_STATUSES:
            self._progress.pop(job.id, None)
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(Column) - 1), [])

    def add_jobs(self, jobs: Sequence[Job]) -> None:
        """Apply the rows of jobs that entered the queue together. New jobs that all belong
        between the same two rows, as a batch's do, are inserted in one step."""
        new = sorted((job for job in jobs if job.id not in self._rows), key=queue_sort_key)
        for job in jobs:
            if job.id in self._rows:
                self.update_job(job)
        if not new:
            return
        keys = [queue_sort_key(job) for job in new]
        row = bisect.bisect_left(self._keys, keys[0])
        if bisect.bisect_left(self._keys, keys[-1]) != row:
            for job, key in zip(new, keys, strict=True):
                self._insert(job, key)
            return
        self.beginInsertRows(QModelIndex(), row, row + len(new) - 1)
        self._jobs[row:row] = new
        self._keys[row:row] = keys
        self._index_rows(row, len(self._jobs) - 1)
        for job in new:
            self._track_finish(job)
        self.endInsertRows()

    def update_progress(self, progress: JobProgress) -> None:
        """Show the live progress of a job, repainting its Progress cell only. Events for jobs
        that are not in the table or not in LIVE_STATUSES are ignored, such as one that arrives
        after its job ended."""
        row = self._rows.get(progress.job_id)
        if row is None or self._jobs[row].status not in LIVE_STATUSES:
            return
        self._progress[progress.job_id] = progress
        self._texts.pop(progress.job_id, None)
        cell = self.index(row, Column.PROGRESS)
        self.dataChanged.emit(cell, cell, PROGRESS_ROLES)

    def refresh_batches(self) -> None:
        """Forget the cached batches and repaint every row, as after a batch was paused or
        resumed: the engine announces no job change for those."""
        self._batches.clear()
        self._texts.clear()
        if self._jobs:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self._jobs) - 1, len(Column) - 1), []
            )

    def _insert(self, job: Job, key: SortKey) -> None:
        row = bisect.bisect_left(self._keys, key)
        self.beginInsertRows(QModelIndex(), row, row)
        self._jobs.insert(row, job)
        self._keys.insert(row, key)
        self._index_rows(row, len(self._jobs) - 1)
        self._track_finish(job)
        self.endInsertRows()

    def _move(self, row: int, key: SortKey) -> int:
        """Move the row at ``row`` to the place of ``key`` and return its new row."""
        target = bisect.bisect_left(self._keys, key)
        if target > row:
            # The row itself, taken out, no longer counts among those above its new place.
            target -= 1
        if target == row:
            self._keys[row] = key
            return row
        # beginMoveRows takes the destination among the rows as they are before the move.
        destination = target if target < row else target + 1
        self.beginMoveRows(QModelIndex(), row, row, QModelIndex(), destination)
        job = self._jobs.pop(row)
        self._keys.pop(row)
        self._jobs.insert(target, job)
        self._keys.insert(target, key)
        self._index_rows(min(row, target), max(row, target))
        self.endMoveRows()
        return target

    def _set_jobs(self, jobs: list[Job]) -> None:
        ordered = sorted(jobs, key=queue_sort_key)
        self._jobs = ordered
        self._keys = [queue_sort_key(job) for job in ordered]
        self._rows = {}
        self._index_rows(0, len(ordered) - 1)
        self._unfinished = {}
        for job in self._jobs:
            self._track_finish(job)

    def _index_rows(self, first: int, last: int) -> None:
        for row in range(first, last + 1):
            self._rows[self._jobs[row].id] = row

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

    def progress(self, job_id: int) -> JobProgress | None:
        """Return the latest live progress of a job, or None when it reported none."""
        return self._progress.get(job_id)

    def batch_finished(self, batch_id: int) -> bool:
        """Return whether every job of the batch shown in the table is in a final state."""
        return batch_id in self._unfinished and not self._unfinished[batch_id]

    def unfinished_count(self, batch_id: int) -> int:
        return len(self._unfinished.get(batch_id, ()))

    def queued_jobs(self, batch_id: int | None = None) -> list[Job]:
        """Return the queued jobs (of one batch, or all) in queue order."""
        return [
            job
            for job in self._jobs
            if job.status is JobStatus.QUEUED and (batch_id is None or job.batch_id == batch_id)
        ]

    def batch(self, batch_id: int) -> Batch | None:
        batch = self._batches.get(batch_id)
        if batch is None:
            batch = self._find_batch(batch_id)
            # An unknown batch is asked for again later: the engine may not be started yet.
            if batch is not None:
                self._batches[batch_id] = batch
        return batch

    def batch_name(self, batch_id: int) -> str | None:
        batch = self.batch(batch_id)
        return None if batch is None else batch.name

    def batch_paused(self, batch_id: int) -> bool:
        batch = self.batch(batch_id)
        return batch is not None and batch.paused

    # Dragging rows ----------------------------------------------------------------------------

    # Paging ---------------------------------------------------------------------------------

    def canFetchMore(self, parent: QModelIndex | QPersistentModelIndex) -> bool:
        return not parent.isValid() and self._finished_source is not None

    def fetchMore(self, parent: QModelIndex | QPersistentModelIndex) -> None:
        """Read the next FINISHED_PAGE finished jobs, older than every row, to the end."""
        store = self._finished_source
        if parent.isValid() or store is None:
            return
        page = store.finished_jobs(FINISHED_PAGE, self._finished_cursor)
        if len(page) < FINISHED_PAGE:
            self._finished_source = None
        if page:
            self._finished_cursor = page[-1]
            self.add_jobs([job for job in page if job.id not in self._rows])

    def mimeTypes(self) -> list[str]:
        return [JOB_IDS_MIME_TYPE]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        """Return the ids of the queued jobs among ``indexes``, in table order."""
        rows = sorted({index.row() for index in indexes if index.isValid()})
        ids = [self._jobs[row].id for row in rows if self._jobs[row].status is JobStatus.QUEUED]
        mime = QMimeData()
        document = {"token": self._drag_token, "job_ids": ids}
        mime.setData(JOB_IDS_MIME_TYPE, QByteArray(json.dumps(document).encode("utf-8")))
        return mime

    def dragged_job_ids(self, mime: QMimeData) -> list[int] | None:
        """Return the job ids of rows dragged from this model, or None for any other data."""
        if not mime.hasFormat(JOB_IDS_MIME_TYPE):
            return None
        try:
            document = json.loads(bytes(mime.data(JOB_IDS_MIME_TYPE).data()).decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None
        if not isinstance(document, dict) or document.get("token") != self._drag_token:
            return None
        ids = document.get("job_ids")
        if not isinstance(ids, list) or not all(isinstance(item, int) for item in ids):
            return None
        return [job_id for job_id in ids if job_id in self._rows]

    def canDropMimeData(
        self,
        data: QMimeData,
        action: Qt.DropAction,
        row: int,
        column: int,
        parent: QModelIndex | QPersistentModelIndex,
    ) -> bool:
        return bool(self.dragged_job_ids(data))

    def dropMimeData(
        self,
        data: QMimeData,
        action: Qt.DropAction,
        row: int,
        column: int,
        parent: QModelIndex | QPersistentModelIndex,
    ) -> bool:
        # The view handles drops itself and calls the engine to move the jobs. The table then
        # follows the job changes that the engine announces.
        return False

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    # Qt model interface -----------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._jobs)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(Column)

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            # Rows are dropped between rows, never onto one, so only the root takes drops.
            return Qt.ItemFlag.ItemIsDropEnabled
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if (
            0 <= index.row() < len(self._jobs)
            and self._jobs[index.row()].status is JobStatus.QUEUED
        ):
            flags |= Qt.ItemFlag.ItemIsDragEnabled
        return flags

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(Column):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            # The header is painted with every scroll, so its texts are made once.
            if not self._header_texts:
                self._header_texts = [_header_text(column) for column in Column]
            return self._header_texts[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return _header_tooltip(Column(section))
        return None

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        # Called for several roles of every cell at every repaint, so it avoids building
        # index objects, enums and texts.
        row = index.row()
        column = index.column()
        if not (0 <= row < len(self._jobs) and 0 <= column < len(Column)):
            return None
        job = self._jobs[row]
        if role == Qt.ItemDataRole.DisplayRole:
            texts = self._texts.get(job.id)
            if texts is None:
                if job.batch_id not in self._batches:
                    text = self._display(job, _COLUMNS[column])
                    if job.batch_id not in self._batches:
                        # The batch is asked for again at the next paint; nothing is kept.
                        return text
                texts = tuple(self._display(job, each) for each in Column)
                self._texts[job.id] = texts
            return texts[column]
        if role == Qt.ItemDataRole.DecorationRole:
            if column == Column.STATUS:
                return self._status_icon(job.status)
            if column == Column.MODELS:
                return self._model_set(job).icon
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _RIGHT_ALIGNED if column in _RIGHT_ALIGNED_COLUMNS else None
        if role == Qt.ItemDataRole.FontRole:
            return self._font(job, _COLUMNS[column])
        if role == Qt.ItemDataRole.ForegroundRole:
            if self._waits_for_batch(job):
                return QGuiApplication.palette().brush(
                    QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text
                )
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == Column.MODELS:
                return self._models_tooltip(job)
            progress = self._progress.get(job.id)
            if column == Column.PROGRESS and progress is not None:
                return progress_summary(progress)
            return self._tooltip(job)
        if role == PROGRESS_ROLE:
            progress = self._progress.get(job.id)
            if progress is not None:
                return round(progress.overall * 100)
            return STAGE_PROGRESS.get(job.status)
        if role == JOB_ROLE:
            return job
        return None

    def _waits_for_batch(self, job: Job) -> bool:
        """Return whether a queued job is held back because its batch is paused."""
        return job.status is JobStatus.QUEUED and self.batch_paused(job.batch_id)

    def _font(self, job: Job, column: Column) -> QFont | None:
        paused_batch = column is Column.BATCH and self.batch_paused(job.batch_id)
        if not paused_batch and not self._waits_for_batch(job):
            return None
        font = QFont()
        font.setItalic(True)
        return font

    def _display(self, job: Job, column: Column) -> str:
        match column:
            case Column.WORKFLOW:
                return f"{job.workflow_name} #{job.position + 1}"
            case Column.BATCH:
                name = self.batch_name(job.batch_id) or ""
                if not name:
                    return ""
                # The number comes first: cut short in the middle, names of batches of one
                # workflow made the same minute look alike. The gallery's filter shows it too.
                name = self.tr("#{number} {name}").format(number=job.batch_id, name=name)
                if self.batch_paused(job.batch_id):
                    return self.tr("{name} (paused)").format(name=name)
                return name
            case Column.MODELS:
                return self._model_set(job).label
            case Column.SEED:
                return "" if job.seed is None else str(job.seed)
            case Column.STATUS:
                if self._waits_for_batch(job):
                    return self.tr("Queued (paused)")
                return status_text(job.status)
            case Column.PRIORITY:
                return str(job.priority)
            case Column.QUEUE_POSITION:
                # The position is that of the service's queue, which a job has left once it
                # runs or ends, whatever the row still stores.
                if job.status is not JobStatus.SUBMITTED or job.queue_position is None:
                    return ""
                return str(job.queue_position)
            case Column.PROGRESS:
                live = self._progress.get(job.id)
                if live is not None:
                    return progress_label(live)
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
        if self.batch_paused(job.batch_id):
            lines.append(
                self.tr(
                    "The batch is paused: its queued jobs wait until you resume it "
                    "(Queue → Pause batch)."
                )
            )
        lines.append(self.tr("Priority: {priority}").format(priority=job.priority))
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

    def _models_tooltip(self, job: Job) -> str:
        urls = self._model_set(job).urls
        if not urls:
            return self.tr("The workflow loads no model files.")
        return "\n".join([self.tr("Model files:"), *urls])

    def _model_set(self, job: Job) -> ModelSet:
        # Jobs stored before model keys existed have none; their prompt hash keys the cache.
        key = job.model_key or job.prompt_hash
        model_set = self._model_sets.get(key)
        if model_set is None:
            model_set = ModelSet(key, model_urls(job.prompt))
            self._model_sets[key] = model_set
        return model_set

    def _status_icon(self, status: JobStatus) -> QIcon:
        icon = self._icons.get(status)
        if icon is None:
            icon = _dot_icon(QColor(STATUS_COLORS[status]))
            self._icons[status] = icon
        return icon


_COLUMNS = tuple(Column)
_RIGHT_ALIGNED_COLUMNS = frozenset({Column.SEED, Column.PRIORITY, Column.QUEUE_POSITION})


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
