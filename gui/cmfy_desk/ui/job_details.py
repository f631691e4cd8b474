"""The job details panel beside the job table: the current job's status and what to do about
it, how it was made, its times and ids, its error details, and the live progress and preview
image of a running job."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, QRect, QSize, Qt
from PySide6.QtGui import (
    QFontDatabase,
    QGuiApplication,
    QIcon,
    QPainter,
    QPaintEvent,
    QPalette,
    QPixmap,
)
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from cmfy_desk.app import Engine, EngineError
from cmfy_desk.bridge.events import JobPreview, JobProgress
from cmfy_desk.scheduler.events import NoticeLevel
from cmfy_desk.store import Job, JobStatus, StoreError
from cmfy_desk.ui.job_model import (
    LIVE_STATUSES,
    PROGRESS_ROLES,
    Column,
    JobTableModel,
    progress_label,
    progress_summary,
    status_text,
)
from cmfy_desk.ui.job_table import JobTableView

log = logging.getLogger(__name__)

# The maximum height of the preview image in pixels. A preview is scaled to the panel's width
# and keeps its aspect ratio.
PREVIEW_MAX_HEIGHT = 256
# The progress bar's maximum, so that it counts tenths of a percent.
PROGRESS_STEPS = 1000
# Jobs that the status line's button queues again, as Queue → Retry selected does.
RETRY_STATUSES = frozenset(
    {JobStatus.FAILED, JobStatus.PARTIAL, JobStatus.CANCELLED, JobStatus.LOST}
)
# Errors of engine.retry: engine stopped, job not found, database error.
_RETRY_ERRORS = (EngineError, StoreError, KeyError)


class PreviewImage(QWidget):
    """A picture scaled to the widget's width with its aspect ratio kept, at most
    PREVIEW_MAX_HEIGHT pixels high. Without a picture it takes no height."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pixmap: QPixmap | None = None
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)

    def pixmap(self) -> QPixmap | None:
        return self._pixmap

    def set_pixmap(self, pixmap: QPixmap | None) -> None:
        self._pixmap = pixmap
        self.updateGeometry()
        self.update()

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        if self._pixmap is None or self._pixmap.width() <= 0:
            return 0
        return min(PREVIEW_MAX_HEIGHT, round(width * self._pixmap.height() / self._pixmap.width()))

    def sizeHint(self) -> QSize:
        return QSize(256, self.heightForWidth(256))

    def minimumSizeHint(self) -> QSize:
        return QSize(0, 0)

    def paintEvent(self, event: QPaintEvent) -> None:
        if self._pixmap is None:
            return
        size = self._pixmap.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
        target = QRect(QPoint(0, 0), size)
        target.moveCenter(self.rect().center())
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawPixmap(target, self._pixmap)
        painter.end()


class JobDetailsPanel(QWidget):
    """The details of the job in the current row of ``table``, or an empty state when no row
    is selected.

    The panel follows the table's current row and the changes of ``model`` by itself. The
    window forwards the engine's events to ``job_changed``, ``progress_changed`` and
    ``preview_arrived``. A preview image is kept for each job in LIVE_STATUSES, the latest
    one only, and dropped when the job moves to another status. The status line's button
    queues a failed, partial, cancelled or lost job again through ``engine().retry``, and a
    failure of that call goes to ``notify(level, text)``.
    """

    def __init__(
        self,
        table: JobTableView,
        model: JobTableModel,
        *,
        engine: Callable[[], Engine | None],
        notify: Callable[[NoticeLevel, str], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._table = table
        self._model = model
        self._engine = engine
        self._notify = notify
        self._job: Job | None = None
        self._previews: dict[int, JobPreview] = {}
        # The preview decoded into the preview widget, so that a repaint of the panel does
        # not decode it again.
        self._shown_preview: JobPreview | None = None
        self.setMinimumWidth(240)

        self.empty_label = QLabel(
            self.tr("Select a job in the table to see its details, progress and preview.")
        )
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setMargin(12)
        # The colour of the gallery's hint while it is empty.
        palette = self.empty_label.palette()
        palette.setColor(QPalette.ColorRole.WindowText, palette.placeholderText().color())
        self.empty_label.setPalette(palette)
        self.details_page = QScrollArea()
        self.details_page.setWidgetResizable(True)
        self.details_page.setFrameShape(QFrame.Shape.NoFrame)
        self.details_page.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.details_page.setWidget(self._build_details())
        self._stack = QStackedWidget()
        self._stack.addWidget(self.empty_label)
        self._stack.addWidget(self.details_page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._stack)

        selection = table.selectionModel()
        selection.currentRowChanged.connect(self._follow_table)
        selection.selectionChanged.connect(self._follow_table)
        model.dataChanged.connect(self._on_data_changed)
        model.modelReset.connect(self._on_model_reset)
        self.show_job(None)

    # Building ---------------------------------------------------------------------------------

    def _build_details(self) -> QWidget:
        self.title = QLabel()
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.title.setFont(font)

        self.status_icon = QLabel()
        self.status_label = QLabel()
        bold = self.status_label.font()
        bold.setBold(True)
        self.status_label.setFont(bold)
        status_row = QHBoxLayout()
        status_row.addWidget(self.status_icon)
        status_row.addWidget(self.status_label, 1)
        self.explanation = _text_label()
        self.action_button = QPushButton()
        self.action_button.setToolTip(self.tr("Queue this job again as a new submission"))
        self.action_button.clicked.connect(self.retry_job)
        action_row = QHBoxLayout()
        action_row.addWidget(self.action_button)
        action_row.addStretch(1)

        self.progress_bar = QProgressBar()
        self.progress_bar.setTextVisible(True)
        self.progress_text = _text_label()
        self.preview = PreviewImage()
        self.preview.hide()

        self.fields: dict[str, QLabel | QLineEdit] = {}
        form = self._form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        for key, label in (
            ("workflow", self.tr("Workflow:")),
            ("batch", self.tr("Batch:")),
            ("connection", self.tr("Connection:")),
            ("seed", self.tr("Seed:")),
            ("parameters", self.tr("Parameters:")),
            ("submitted", self.tr("Submitted:")),
            ("started", self.tr("Started:")),
            ("finished", self.tr("Finished:")),
            ("execution", self.tr("Execution time:")),
            ("attempts", self.tr("Attempts:")),
        ):
            self.fields[key] = _text_label()
            form.addRow(label, self.fields[key])
        for key, label, tip in (
            ("remote_id", self.tr("Remote id:"), self.tr("The job's id on the server")),
            (
                "request_id",
                self.tr("Request id:"),
                self.tr("The id of the request that failed, for the service's support"),
            ),
            ("error_code", self.tr("Error code:"), self.tr("The code of the last error")),
        ):
            field = QLineEdit()
            field.setReadOnly(True)
            field.setFrame(False)
            field.setToolTip(tip)
            # A read-only line edit takes the window's colour, like the labels beside it.
            field.setStyleSheet("QLineEdit { background: transparent; }")
            self.fields[key] = field
            form.addRow(label, field)

        self.error_title = QLabel(self.tr("Error details"))
        self.error_title.setFont(bold)
        self.copy_button = QPushButton(self.tr("Copy"))
        self.copy_button.setToolTip(self.tr("Copy the error details to the clipboard"))
        self.copy_button.clicked.connect(self.copy_error_details)
        error_row = QHBoxLayout()
        error_row.addWidget(self.error_title, 1)
        error_row.addWidget(self.copy_button)
        self.error_details = QPlainTextEdit()
        self.error_details.setReadOnly(True)
        self.error_details.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.error_details.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.error_details.setMinimumHeight(120)
        self.error_details.setMaximumHeight(240)

        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(self.title)
        layout.addLayout(status_row)
        layout.addWidget(self.explanation)
        layout.addLayout(action_row)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.progress_text)
        layout.addWidget(self.preview)
        layout.addSpacing(6)
        layout.addLayout(form)
        layout.addSpacing(6)
        layout.addLayout(error_row)
        layout.addWidget(self.error_details)
        layout.addStretch(1)
        return page

    # Following the table and the engine -------------------------------------------------------

    @property
    def job(self) -> Job | None:
        """The job shown, or None in the empty state."""
        return self._job

    def show_job(self, job: Job | None) -> None:
        """Show ``job``, or the empty state for None."""
        self._job = job
        if job is None:
            self._stack.setCurrentWidget(self.empty_label)
            self._show_preview(None)
            return
        self._stack.setCurrentWidget(self.details_page)
        self.title.setText(self.tr("Job {id}").format(id=job.id))
        self._show_status(job)
        self._show_fields(job)
        self._show_error_details(job)
        self._show_live(job)

    def job_changed(self, job: Job) -> None:
        """Apply a job's new row. The table's model must apply it first."""
        if job.status not in LIVE_STATUSES:
            self._previews.pop(job.id, None)
        if self._job is not None and job.id == self._job.id:
            self.show_job(self._model.job(job.id) or job)

    def progress_changed(self, progress: JobProgress) -> None:
        """Show live progress when it is of the job shown and that job is still running."""
        if self._job is None or progress.job_id != self._job.id:
            return
        job = self._model.job(progress.job_id)
        if job is not None and job.status in LIVE_STATUSES:
            self._show_progress(progress)

    def preview_arrived(self, preview: JobPreview) -> None:
        """Keep the latest preview image of a running job, and show it when the job is shown."""
        job = self._model.job(preview.job_id)
        if job is None or job.status not in LIVE_STATUSES:
            return
        self._previews[preview.job_id] = preview
        if self._job is not None and preview.job_id == self._job.id:
            self._show_preview(preview)

    def _follow_table(self) -> None:
        self.show_job(self._table.current_job())

    def _on_data_changed(
        self,
        top_left: QModelIndex | QPersistentModelIndex,
        bottom_right: QModelIndex | QPersistentModelIndex,
        roles: Sequence[int],
    ) -> None:
        # Progress alone comes through progress_changed. Other changes, such as a batch
        # paused or resumed, can change the status line.
        if self._job is None or list(roles) == PROGRESS_ROLES:
            return
        row = self._model.row_of(self._job.id)
        if row is not None and top_left.row() <= row <= bottom_right.row():
            self.show_job(self._model.job_at(row))

    def _on_model_reset(self) -> None:
        self._previews.clear()
        self._follow_table()

    # Actions ----------------------------------------------------------------------------------

    def retry_job(self) -> None:
        """Queue the job shown again, when it failed, is partial, was cancelled or is lost."""
        engine = self._engine()
        job = self._job
        if engine is None or job is None or job.status not in RETRY_STATUSES:
            return
        try:
            engine.retry(job.id)
        except _RETRY_ERRORS as exc:
            log.warning("Queueing job %d again failed: %s", job.id, exc)
            self._notify(
                NoticeLevel.ERROR,
                self.tr("Queueing job {id} again failed: {error}").format(id=job.id, error=exc),
            )

    def copy_error_details(self) -> None:
        if self._job is not None and self._job.error_details:
            QGuiApplication.clipboard().setText(self._job.error_details)

    # Showing ----------------------------------------------------------------------------------

    def _show_status(self, job: Job) -> None:
        row = self._model.row_of(job.id)
        icon: object = None
        text = status_text(job.status)
        if row is not None:
            index = self._model.index(row, Column.STATUS)
            icon = index.data(Qt.ItemDataRole.DecorationRole)
            # The table's text, which marks a queued job of a paused batch.
            text = str(index.data(Qt.ItemDataRole.DisplayRole))
        if isinstance(icon, QIcon):
            self.status_icon.setPixmap(icon.pixmap(12, 12))
        else:
            self.status_icon.clear()
        self.status_label.setText(text)
        self.explanation.setText(self._explanation(job))
        self.action_button.setVisible(job.status in RETRY_STATUSES)
        self.action_button.setText(
            self.tr("Resubmit") if job.status is JobStatus.LOST else self.tr("Retry")
        )
        self.action_button.setEnabled(self._engine() is not None)

    def _explanation(self, job: Job) -> str:
        match job.status:
            case JobStatus.DRAFT:
                return self.tr("Not queued yet.")
            case JobStatus.QUEUED if self._model.batch_paused(job.batch_id):
                return self.tr(
                    "Waiting in the local queue, because its batch is paused. Resume the batch "
                    "(Queue → Batch → Pause batch) to send it."
                )
            case JobStatus.QUEUED:
                return self.tr("Waiting in the local queue for a free slot on the server.")
            case JobStatus.SUBMITTING:
                return self.tr("Being sent to the server.")
            case JobStatus.SUBMITTED if job.queue_position is not None:
                return self.tr(
                    "Accepted by the server, at position {position} in its queue."
                ).format(position=job.queue_position)
            case JobStatus.SUBMITTED:
                return self.tr("Accepted by the server, waiting for it to start.")
            case JobStatus.RUNNING:
                return self.tr("Running on the server.")
            case JobStatus.DOWNLOADING:
                return self.tr("Finished on the server. Its outputs are being downloaded.")
            case JobStatus.SUCCEEDED:
                return self.tr("Finished. Its outputs are saved.")
            case JobStatus.PARTIAL:
                return job.error_message or self.tr("Some outputs of the job are missing.")
            case JobStatus.FAILED:
                return job.error_message or self.tr("The job failed.")
            case JobStatus.CANCELLED:
                return self.tr("Cancelled. Retry queues it again.")
            case JobStatus.LOST:
                return self.tr(
                    "The server no longer knows this job (it restarted or forgot it). "
                    "Resubmit it to run it again."
                )

    def _show_fields(self, job: Job) -> None:
        """Fill the form. Rows without a value are hidden, except the seed's."""
        values = {
            "workflow": f"{job.workflow_name} #{job.position + 1}",
            "batch": self._model.batch_name(job.batch_id) or str(job.batch_id),
            "connection": job.connection,
            "seed": "—" if job.seed is None else str(job.seed),
            "parameters": _parameters_text(job.parameters),
            "submitted": _date_time(job.submitted_at),
            "started": _date_time(job.started_at),
            "finished": _date_time(job.finished_at),
            "execution": self._duration_text(job.execution_time_ms),
            "attempts": str(job.attempts),
            "remote_id": job.remote_id or "",
            "request_id": job.error_request_id or "",
            "error_code": job.error_code or "",
        }
        for key, value in values.items():
            field = self.fields[key]
            field.setText(value)
            if isinstance(field, QLineEdit):
                field.setCursorPosition(0)
            self._form.setRowVisible(field, bool(value))

    def _duration_text(self, milliseconds: int | None) -> str:
        if milliseconds is None:
            return ""
        seconds = milliseconds / 1000
        if seconds < 60:
            return self.tr("{seconds:.1f} s").format(seconds=seconds)
        minutes, rest = divmod(round(seconds), 60)
        return self.tr("{minutes} min {seconds:02d} s").format(minutes=minutes, seconds=rest)

    def _show_error_details(self, job: Job) -> None:
        details = job.error_details or ""
        for widget in (self.error_title, self.copy_button, self.error_details):
            widget.setVisible(bool(details))
        if self.error_details.toPlainText() != details:
            self.error_details.setPlainText(details)

    def _show_live(self, job: Job) -> None:
        live = job.status in LIVE_STATUSES
        progress = self._model.progress(job.id) if live else None
        if progress is not None:
            self._show_progress(progress)
        elif job.status is JobStatus.RUNNING:
            # A busy bar, because the server has reported no steps. cmfy.cloud never reports any.
            self.progress_bar.setRange(0, 0)
            self.progress_bar.setVisible(True)
            self.progress_text.setText(self.tr("No step progress reported."))
            self.progress_text.setVisible(True)
        else:
            self.progress_bar.setVisible(False)
            self.progress_text.setVisible(False)
        self._show_preview(self._previews.get(job.id) if live else None)

    def _show_progress(self, progress: JobProgress) -> None:
        self.progress_bar.setRange(0, PROGRESS_STEPS)
        self.progress_bar.setValue(round(progress.overall * PROGRESS_STEPS))
        # QProgressBar replaces %p, %v and %m in its format, so a literal % is doubled.
        self.progress_bar.setFormat(progress_label(progress).replace("%", "%%"))
        self.progress_bar.setVisible(True)
        self.progress_text.setText(progress_summary(progress))
        self.progress_text.setVisible(True)

    def _show_preview(self, preview: JobPreview | None) -> None:
        if preview is self._shown_preview:
            return
        self._shown_preview = preview
        pixmap: QPixmap | None = None
        if preview is not None:
            pixmap = QPixmap()
            if not pixmap.loadFromData(preview.image):
                log.debug(
                    "Job %d: cannot decode a %s preview of %d bytes",
                    preview.job_id,
                    preview.mime,
                    len(preview.image),
                )
                pixmap = None
        self.preview.set_pixmap(pixmap)
        self.preview.setVisible(pixmap is not None)


def _text_label() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setTextFormat(Qt.TextFormat.PlainText)
    # Without this, one long word (a path, a URL) would widen the panel past the window.
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    return label


def _date_time(timestamp: float | None) -> str:
    if timestamp is None:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp))


def _parameters_text(parameters: dict[str, Any]) -> str:
    """Return one "name: value" line per parameter other than the seed, which has its own row."""
    lines = []
    for name, value in parameters.items():
        if name == "seed":
            continue
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        lines.append(f"{name}: {text}")
    return "\n".join(lines)
