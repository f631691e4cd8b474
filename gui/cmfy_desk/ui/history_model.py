"""The history tree: local days, their batches, and each batch's jobs, fetched as they expand.

The model reads through a History (store/history.py) on the UI thread. Each query reads only
the day or batch being expanded, and jobs come JOB_PAGE at a time, so a batch of 10,000 jobs
opens as fast as a batch of ten. ``refresh_days`` updates days in place with row-level signals.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap

from cmfy_desk.store.history import BatchSummary, DaySummary, History, JobCounts, JobSummary
from cmfy_desk.store.models import JobStatus
from cmfy_desk.ui.image_details import duration_text
from cmfy_desk.ui.job_model import STATUS_COLORS, status_text

# Jobs fetched per expansion or scroll to the end of a batch.
JOB_PAGE = 200
# The DaySummary, BatchSummary or JobSummary of an item.
SUMMARY_ROLE = Qt.ItemDataRole.UserRole + 1
# The NodeKind of an item.
KIND_ROLE = Qt.ItemDataRole.UserRole + 2

_Index = QModelIndex | QPersistentModelIndex


class NodeKind(IntEnum):
    DAY = 0
    BATCH = 1
    JOB = 2


class Column(IntEnum):
    NAME = 0
    STATUS = 1
    JOBS = 2
    SUCCEEDED = 3
    FAILED = 4
    CANCELLED = 5
    OTHER = 6
    RUN_TIME = 7
    TOTAL_TIME = 8
    OUTPUTS = 9
    ERROR = 10


@dataclass(eq=False)
class _Node:
    kind: NodeKind
    summary: DaySummary | BatchSummary | JobSummary | None
    parent: _Node | None
    row: int = 0
    children: list[_Node] = field(default_factory=list)
    # Whether every child has been fetched. Jobs come in pages, so a batch may have some.
    complete: bool = False


# Columns whose header is a sign, with the words in its tooltip.
_SIGN_COLUMNS = frozenset({Column.SUCCEEDED, Column.FAILED, Column.CANCELLED})


def _header_texts() -> dict[Column, tuple[str, str]]:
    translate = QCoreApplication.translate
    return {
        Column.NAME: (
            translate("HistoryModel", "Day, batch or job"),
            translate("HistoryModel", "Days hold the batches created on them, newest first"),
        ),
        Column.STATUS: (translate("HistoryModel", "Status"), ""),
        Column.JOBS: (translate("HistoryModel", "Jobs"), ""),
        # The counts of succeeded, failed and cancelled jobs have a sign for a header, so
        # that every column fits beside the details at the window's default width. Their
        # tooltips and accessible names are the words.
        Column.SUCCEEDED: (
            translate("HistoryModel", "✓", "header of the succeeded jobs' count"),
            translate("HistoryModel", "Succeeded jobs"),
        ),
        Column.FAILED: (
            translate("HistoryModel", "✗", "header of the failed jobs' count"),
            translate("HistoryModel", "Failed jobs"),
        ),
        Column.CANCELLED: (
            translate("HistoryModel", "⊘", "header of the cancelled jobs' count"),
            translate("HistoryModel", "Cancelled jobs"),
        ),
        Column.OTHER: (
            translate("HistoryModel", "Other"),
            translate("HistoryModel", "Partial and lost jobs"),
        ),
        Column.RUN_TIME: (
            translate("HistoryModel", "Run time"),
            translate(
                "HistoryModel",
                "A job's run time as the service reports it; for a batch, the mean of its jobs",
            ),
        ),
        Column.TOTAL_TIME: (
            translate("HistoryModel", "Total time"),
            translate(
                "HistoryModel", "From queueing to the end of the job, or of the batch's last job"
            ),
        ),
        Column.OUTPUTS: (translate("HistoryModel", "Outputs"), ""),
        Column.ERROR: (translate("HistoryModel", "Error"), ""),
    }


def day_text(day: str) -> str:
    """Return a local day as "2025-01-31, Friday", with "Today" or "Yesterday" when it is."""
    today = time.strftime("%Y-%m-%d")
    yesterday = time.strftime("%Y-%m-%d", time.localtime(time.time() - 86_400))
    if day == today:
        return QCoreApplication.translate("HistoryModel", "Today, {day}").format(day=day)
    if day == yesterday:
        return QCoreApplication.translate("HistoryModel", "Yesterday, {day}").format(day=day)
    weekday = time.strftime("%A", time.strptime(day, "%Y-%m-%d"))
    return f"{day}, {weekday}"


def counts_text(counts: JobCounts) -> str:
    """Return "Finished" or "3 of 10 unfinished" for a batch's or day's jobs."""
    if counts.finished:
        return QCoreApplication.translate("HistoryModel", "Finished")
    return QCoreApplication.translate("HistoryModel", "{unfinished} of {total} unfinished").format(
        unfinished=counts.unfinished, total=counts.total
    )


def job_title(job: JobSummary) -> str:
    if job.seed is None:
        return QCoreApplication.translate("HistoryModel", "Job {id}").format(id=job.id)
    return QCoreApplication.translate("HistoryModel", "Job {id} · seed {seed}").format(
        id=job.id, seed=job.seed
    )


def error_text(job: JobSummary) -> str:
    """Return a job's error on one line: "code: message", either part alone, or ""."""
    message = " ".join((job.error_message or "").split())
    if job.error_code and message:
        return f"{job.error_code}: {message}"
    return job.error_code or message


def status_icon(status: JobStatus, size: int = 12) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(STATUS_COLORS[status]))
    painter.drawEllipse(1, 1, size - 2, size - 2)
    painter.end()
    return QIcon(pixmap)


class HistoryModel(QAbstractItemModel):
    """Days (newest first) → batches (newest first) → jobs (by position), with counts, times
    and errors in columns (see Column).

    Days are read by ``attach`` and ``reload``. A day's batches are read when the day expands
    (canFetchMore/fetchMore), and a batch's jobs JOB_PAGE at a time. ``refresh_days`` reads
    named days again and updates their rows, batches and fetched jobs in place.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._history: History | None = None
        self._root = _Node(NodeKind.DAY, None, None, complete=True)
        self._batches: dict[int, _Node] = {}
        self._headers = _header_texts()
        self._icons = {status: status_icon(status) for status in JobStatus}

    # Loading ----------------------------------------------------------------------------

    @property
    def history(self) -> History | None:
        return self._history

    def attach(self, history: History | None) -> None:
        """Show the history read through ``history``, or nothing for None."""
        self._history = history
        self.reload()

    def reload(self) -> None:
        """Read the days again and collapse everything (a model reset)."""
        self.beginResetModel()
        self._root.children = []
        self._batches = {}
        if self._history is not None:
            for row, day in enumerate(self._history.days()):
                self._root.children.append(_Node(NodeKind.DAY, day, self._root, row))
        self.endResetModel()

    def refresh_days(self, days: set[str]) -> None:
        """Read ``days`` again: update their rows, insert a day that is new, drop one that
        has no batch left, and bring fetched batches and jobs up to date."""
        if self._history is None:
            return
        for day in sorted(days, reverse=True):
            summary = self._history.day(day)
            node = self._day_node(day)
            if summary is None:
                if node is not None:
                    self._remove_child(self._root, node.row)
                continue
            if node is None:
                node = self._insert_day(summary)
            else:
                node.summary = summary
                self._emit_row_changed(node)
            if node.complete:
                self._refresh_batches(node)

    def fetch_all_jobs(self, batch_index: QModelIndex) -> None:
        """Fetch every remaining job of the batch at ``batch_index``."""
        while self.canFetchMore(batch_index):
            self.fetchMore(batch_index)

    # Finding items ----------------------------------------------------------------------

    def kind(self, index: _Index) -> NodeKind | None:
        node = self._node(index)
        return node.kind if node is not self._root else None

    def summary(self, index: _Index) -> DaySummary | BatchSummary | JobSummary | None:
        return self._node(index).summary

    def day_index(self, day: str) -> QModelIndex:
        node = self._day_node(day)
        return self.createIndex(node.row, 0, node) if node is not None else QModelIndex()

    def batch_index(self, batch_id: int) -> QModelIndex:
        """Return the index of a fetched batch, or an invalid one."""
        node = self._batches.get(batch_id)
        return self.createIndex(node.row, 0, node) if node is not None else QModelIndex()

    def fetched_batch(self, batch_id: int) -> BatchSummary | None:
        """Return the summary a fetched batch shows, or None when it is not fetched."""
        node = self._batches.get(batch_id)
        return node.summary if node is not None and isinstance(node.summary, BatchSummary) else None

    def days(self) -> list[DaySummary]:
        return [
            node.summary for node in self._root.children if isinstance(node.summary, DaySummary)
        ]

    # Qt's item model --------------------------------------------------------------------

    def index(self, row: int, column: int, parent: _Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if column < 0 or column >= len(Column):
            return QModelIndex()
        node = self._node(parent)
        if not 0 <= row < len(node.children):
            return QModelIndex()
        return self.createIndex(row, column, node.children[row])

    def parent(self, index: _Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid():
            return QModelIndex()
        node: _Node = index.internalPointer()
        parent = node.parent
        if parent is None or parent is self._root:
            return QModelIndex()
        return self.createIndex(parent.row, 0, parent)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(self._node(parent).children)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return len(Column)

    def hasChildren(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008
        if parent.isValid() and parent.column() != 0:
            return False
        node = self._node(parent)
        if node.children:
            return True
        match node.summary:
            case DaySummary(batch_count=count):
                return count > 0
            case BatchSummary(counts=counts):
                return counts.total > 0
        return False

    def canFetchMore(self, parent: _Index) -> bool:
        if self._history is None or not parent.isValid() or parent.column() != 0:
            return False
        node = self._node(parent)
        return node.kind is not NodeKind.JOB and not node.complete

    def fetchMore(self, parent: _Index) -> None:
        if not self.canFetchMore(parent):
            return
        assert self._history is not None
        node = self._node(parent)
        if isinstance(node.summary, DaySummary):
            batches = self._history.batches(node.summary.start, node.summary.end)
            node.complete = True
            self._append(parent, node, [(NodeKind.BATCH, batch) for batch in batches])
        elif isinstance(node.summary, BatchSummary):
            last = node.children[-1].summary if node.children else None
            after = last.position if isinstance(last, JobSummary) else None
            jobs = self._history.jobs(node.summary.id, after_position=after, limit=JOB_PAGE)
            node.complete = len(jobs) < JOB_PAGE
            self._append(parent, node, [(NodeKind.JOB, job) for job in jobs])

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if self._node(index).kind is NodeKind.JOB:
            flags |= Qt.ItemFlag.ItemNeverHasChildren
        return flags

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(Column):
            return None
        text, tooltip = self._headers[Column(section)]
        if role == Qt.ItemDataRole.DisplayRole:
            return text
        if role == Qt.ItemDataRole.ToolTipRole:
            return tooltip or None
        if role == Qt.ItemDataRole.AccessibleTextRole:
            # Screen readers read the tooltip's words in place of a header's sign.
            return tooltip if section in _SIGN_COLUMNS else text
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _alignment(Column(section))
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        node = self._node(index)
        column = Column(index.column())
        if role == SUMMARY_ROLE:
            return node.summary
        if role == KIND_ROLE:
            return node.kind
        summary = node.summary
        if role == Qt.ItemDataRole.DisplayRole:
            return _display(summary, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(summary, column)
        if (
            role == Qt.ItemDataRole.DecorationRole
            and column is Column.STATUS
            and isinstance(summary, JobSummary)
        ):
            return self._icons[summary.status]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _alignment(column)
        return None

    def _tooltip(self, summary: object, column: Column) -> str | None:
        if isinstance(summary, JobSummary) and column is Column.ERROR:
            return error_text(summary) or None
        if isinstance(summary, BatchSummary) and column is Column.NAME:
            text = QCoreApplication.translate(
                "HistoryModel",
                "{name}\nWorkflow: {workflow}\nConnection: {connection}\nFolder: {folder}",
            )
            return text.format(
                name=summary.name,
                workflow=summary.workflow_name,
                connection=summary.connection,
                folder=summary.output_dir,
            )
        return None

    # Helpers ----------------------------------------------------------------------------

    def _node(self, index: _Index) -> _Node:
        if not index.isValid():
            return self._root
        node: _Node = index.internalPointer()
        return node

    def _day_node(self, day: str) -> _Node | None:
        for node in self._root.children:
            if isinstance(node.summary, DaySummary) and node.summary.day == day:
                return node
        return None

    def _parent_index(self, node: _Node) -> QModelIndex:
        if node is self._root:
            return QModelIndex()
        return self.createIndex(node.row, 0, node)

    def _append(
        self,
        parent: _Index,
        node: _Node,
        items: list[tuple[NodeKind, DaySummary | BatchSummary | JobSummary]],
    ) -> None:
        if not items:
            return
        first = len(node.children)
        self.beginInsertRows(parent, first, first + len(items) - 1)
        for offset, (kind, summary) in enumerate(items):
            child = _Node(kind, summary, node, first + offset, complete=kind is NodeKind.JOB)
            node.children.append(child)
            if isinstance(summary, BatchSummary):
                self._batches[summary.id] = child
        self.endInsertRows()

    def _insert_child(self, parent: _Node, row: int, child: _Node) -> None:
        self.beginInsertRows(self._parent_index(parent), row, row)
        parent.children.insert(row, child)
        child.parent = parent
        _renumber(parent, row)
        if isinstance(child.summary, BatchSummary):
            self._batches[child.summary.id] = child
        self.endInsertRows()

    def _remove_child(self, parent: _Node, row: int) -> None:
        self.beginRemoveRows(self._parent_index(parent), row, row)
        removed = parent.children.pop(row)
        _renumber(parent, row)
        for batch in [removed, *removed.children]:
            if isinstance(batch.summary, BatchSummary):
                self._batches.pop(batch.summary.id, None)
        self.endRemoveRows()

    def _insert_day(self, summary: DaySummary) -> _Node:
        row = 0
        while row < len(self._root.children):
            other = self._root.children[row].summary
            if isinstance(other, DaySummary) and other.day < summary.day:
                break
            row += 1
        node = _Node(NodeKind.DAY, summary, self._root, row)
        self._insert_child(self._root, row, node)
        return node

    def _refresh_batches(self, day_node: _Node) -> None:
        """Bring a fetched day's batches up to date: update, insert and remove rows."""
        assert self._history is not None and isinstance(day_node.summary, DaySummary)
        current = self._history.batches(day_node.summary.start, day_node.summary.end)
        wanted = {batch.id for batch in current}
        for row in reversed(range(len(day_node.children))):
            summary = day_node.children[row].summary
            if isinstance(summary, BatchSummary) and summary.id not in wanted:
                self._remove_child(day_node, row)
        for row, batch in enumerate(current):
            existing = self._batches.get(batch.id)
            if existing is None or existing.parent is not day_node:
                self._insert_child(day_node, row, _Node(NodeKind.BATCH, batch, day_node, row))
                continue
            if existing.summary != batch:
                existing.summary = batch
                self._emit_row_changed(existing)
                self._refresh_jobs(existing)

    def _refresh_jobs(self, batch_node: _Node) -> None:
        """Read the fetched jobs of a batch again and repaint the rows that changed."""
        assert self._history is not None and isinstance(batch_node.summary, BatchSummary)
        if not batch_node.children:
            return
        last = batch_node.children[-1].summary
        assert isinstance(last, JobSummary)
        jobs = self._history.jobs(batch_node.summary.id, limit=len(batch_node.children))
        for child, job in zip(batch_node.children, jobs, strict=False):
            if child.summary != job:
                child.summary = job
                self._emit_row_changed(child)

    def _emit_row_changed(self, node: _Node) -> None:
        first = self.createIndex(node.row, 0, node)
        last = self.createIndex(node.row, len(Column) - 1, node)
        self.dataChanged.emit(first, last)


def _renumber(parent: _Node, start: int) -> None:
    for row in range(start, len(parent.children)):
        parent.children[row].row = row


def _alignment(column: Column) -> int | None:
    """Return the alignment of a column's header and cells: right for numbers and times,
    None (the style's default) for text."""
    if column in (Column.NAME, Column.STATUS, Column.ERROR):
        return None
    return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


def _display(summary: object, column: Column) -> str | None:
    match summary:
        case DaySummary():
            return _day_display(summary, column)
        case BatchSummary():
            return _batch_display(summary, column)
        case JobSummary():
            return _job_display(summary, column)
    return None


def _count_display(counts: JobCounts, column: Column) -> str | None:
    values = {
        Column.JOBS: counts.total,
        Column.SUCCEEDED: counts.succeeded,
        Column.FAILED: counts.failed,
        Column.CANCELLED: counts.cancelled,
        Column.OTHER: counts.other,
    }
    value = values.get(column)
    return str(value) if value is not None else None


def _day_display(day: DaySummary, column: Column) -> str | None:
    if column is Column.NAME:
        return day_text(day.day)
    if column is Column.STATUS:
        if day.batch_count == 1:
            return QCoreApplication.translate("HistoryModel", "1 batch")
        return QCoreApplication.translate("HistoryModel", "{count} batches").format(
            count=day.batch_count
        )
    return _count_display(day.counts, column)


def _batch_display(batch: BatchSummary, column: Column) -> str | None:
    match column:
        case Column.NAME:
            return batch.name
        case Column.STATUS:
            return counts_text(batch.counts)
        case Column.RUN_TIME:
            return duration_text(batch.mean_run_seconds)
        case Column.TOTAL_TIME:
            return duration_text(batch.total_seconds)
        case Column.OUTPUTS:
            return str(batch.output_count)
    return _count_display(batch.counts, column)


def _job_display(job: JobSummary, column: Column) -> str | None:
    match column:
        case Column.NAME:
            return job_title(job)
        case Column.STATUS:
            return status_text(job.status)
        case Column.RUN_TIME:
            return duration_text(job.run_seconds)
        case Column.TOTAL_TIME:
            return duration_text(job.total_seconds)
        case Column.OUTPUTS:
            return str(job.output_count)
        case Column.ERROR:
            return error_text(job)
    return None
