"""The gallery: a grid of output thumbnails, decoded on worker threads and cached in memory."""

from __future__ import annotations

import bisect
import logging
from collections import OrderedDict
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QRunnable,
    QSize,
    Qt,
    QThreadPool,
    QUrl,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QImage,
    QImageReader,
    QPainter,
    QPaintEvent,
    QPixmap,
)
from PySide6.QtWidgets import QListView, QMenu, QWidget

from cmfy_desk.store import Job, Output
from cmfy_desk.ui.rerun import rerun_labels

log = logging.getLogger(__name__)

THUMBNAIL_SIZE = 160
# At most this many thumbnails stay in memory. A 160 px RGBA thumbnail takes up to 100 KB, so
# the cache takes up to about 150 MB. A thumbnail dropped from it is decoded again when shown.
THUMBNAIL_CACHE_LIMIT = 1500
# Decoding is disk and CPU bound; two threads keep the UI responsive on a 2-core machine.
THUMBNAIL_THREADS = 2

OUTPUT_ROLE = Qt.ItemDataRole.UserRole + 1

# The gallery's order of an output: (negated batch id, job id, output index, output id).
_SortKey = tuple[int, int, int, int]


def read_image(path: str, max_side: int | None) -> QImage:
    """Decode an image, scaled so that its longer side is at most ``max_side`` pixels.

    QImageReader scales while decoding where the format allows it, which costs less than
    decoding the full image and scaling it afterwards. Returns a null QImage on failure.
    """
    reader = QImageReader(path)
    reader.setAutoTransform(True)
    if max_side is not None:
        size = reader.size()
        if size.isValid() and max(size.width(), size.height()) > max_side:
            reader.setScaledSize(
                size.scaled(max_side, max_side, Qt.AspectRatioMode.KeepAspectRatio)
            )
    image = reader.read()
    if image.isNull():
        log.warning("Cannot read image %s: %s", path, reader.errorString())
    return image


class _ImageSignals(QObject):
    # Lives on the UI thread; workers emit on it, so the slot runs on the UI thread.
    loaded = Signal(str, object, QImage)


class _ReadImageTask(QRunnable):
    def __init__(self, path: str, max_side: int | None, key: object, signals: _ImageSignals):
        super().__init__()
        self._path = path
        self._max_side = max_side
        self._key = key
        self._signals = signals

    def run(self) -> None:
        image = read_image(self._path, self._max_side)
        self._signals.loaded.emit(self._path, self._key, image)


class ImageLoader(QObject):
    """Reads images on a private thread pool and calls back on the UI thread.

    ``request(path, max_side, key)`` queues one read; ``loaded(path, key, image)`` follows,
    with a null image when the file cannot be read. Call ``shutdown()`` before the loader is
    deleted: it drops queued reads and waits for the running ones.
    """

    loaded = Signal(str, object, QImage)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(THUMBNAIL_THREADS)
        self._signals = _ImageSignals(self)
        self._signals.loaded.connect(self.loaded)
        self._closed = False

    def request(self, path: str, max_side: int | None, key: object = None) -> None:
        if not self._closed:
            self._pool.start(_ReadImageTask(path, max_side, key, self._signals))

    def shutdown(self) -> None:
        self._closed = True
        self._pool.clear()
        # Waits only for the reads already running, at most one image per thread.
        self._pool.waitForDone()


class GalleryModel(QAbstractListModel):
    """Outputs, newest batch first and in job order within a batch, each shown as a thumbnail
    once it is decoded.

    ``describe_job(job_id)`` returns the output's job for the order, captions and tooltips,
    or None. Outputs whose job is unknown come last.
    """

    def __init__(
        self,
        loader: ImageLoader,
        outputs: list[Output] | None = None,
        describe_job: Callable[[int], Job | None] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._loader = loader
        self._describe_job = describe_job or (lambda _job_id: None)
        # Rows are kept sorted by _sort_key(), with the keys in a parallel list, so that a row
        # is found and a new output placed by bisection.
        self._outputs: list[Output] = []
        self._keys: list[_SortKey] = []
        self._key_of: dict[int, _SortKey] = {}
        self._id_by_path: dict[str, int] = {}
        self._thumbnails: OrderedDict[str, QPixmap] = OrderedDict()
        self._pending: set[str] = set()
        self._failed: set[str] = set()
        self._jobs: dict[int, Job | None] = {}
        self._placeholder = _placeholder(QColor("#d0d0d0"))
        self._broken = _placeholder(QColor("#e57373"))
        loader.loaded.connect(self._on_loaded)
        if outputs:
            self._set_outputs(outputs)

    # Changes --------------------------------------------------------------------------------

    def reload(self, outputs: list[Output]) -> None:
        self.beginResetModel()
        self._jobs.clear()
        self._set_outputs(outputs)
        self.endResetModel()

    def add_output(self, output: Output) -> None:
        """Insert a saved output at its place in the order, or repaint it when the same output
        was saved again."""
        row = self.row_of(output.id)
        if row is not None:
            old = self._outputs[row]
            self._forget_thumbnail(old.local_path)
            self._id_by_path.pop(old.local_path, None)
            self._outputs[row] = output
            self._id_by_path[output.local_path] = output.id
            index = self.index(row, 0)
            self.dataChanged.emit(index, index, [])
            return
        key = self._sort_key(output)
        row = bisect.bisect_left(self._keys, key)
        self.beginInsertRows(QModelIndex(), row, row)
        self._outputs.insert(row, output)
        self._keys.insert(row, key)
        self._key_of[output.id] = key
        self._id_by_path[output.local_path] = output.id
        self.endInsertRows()

    def _set_outputs(self, outputs: list[Output]) -> None:
        keyed = sorted((self._sort_key(output), output) for output in outputs)
        self._keys = [key for key, _output in keyed]
        self._outputs = [output for _key, output in keyed]
        self._key_of = {output.id: key for key, output in keyed}
        self._id_by_path = {output.local_path: output.id for output in self._outputs}

    def _sort_key(self, output: Output) -> _SortKey:
        # Batch ids grow with time, so the negated id puts the newest batch first. The output
        # id is last only to make keys unique.
        job = self.job_of(output)
        batch_id = job.batch_id if job is not None else 0
        return (-batch_id, output.job_id, output.index, output.id)

    # Lookups ----------------------------------------------------------------------------------

    def row_of(self, output_id: int) -> int | None:
        key = self._key_of.get(output_id)
        if key is None:
            return None
        return bisect.bisect_left(self._keys, key)

    def output_at(self, row: int) -> Output:
        return self._outputs[row]

    def job_of(self, output: Output) -> Job | None:
        if output.job_id not in self._jobs:
            self._jobs[output.job_id] = self._describe_job(output.job_id)
        return self._jobs[output.job_id]

    def thumbnail_ready(self, row: int) -> bool:
        """Return whether the thumbnail of ``row`` is decoded or its file failed to decode."""
        path = self._outputs[row].local_path
        return path in self._thumbnails or path in self._failed

    # Qt model interface -----------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._outputs)

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._outputs):
            return None
        output = self._outputs[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._caption(output)
        if role == Qt.ItemDataRole.DecorationRole:
            return self._thumbnail(output.local_path)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(output)
        if role == OUTPUT_ROLE:
            return output
        return None

    def _caption(self, output: Output) -> str:
        job = self.job_of(output)
        if job is None:
            return Path(output.local_path).name
        name = f"{job.workflow_name} #{job.position + 1}"
        if job.seed is None:
            return name
        # Two lines: seeds are up to 20 digits, too long to share a line with the name.
        return f"{name}\n{job.seed}"

    def _tooltip(self, output: Output) -> str:
        job = self.job_of(output)
        lines = []
        if job is not None:
            lines.append(f"{job.workflow_name} #{job.position + 1}")
            if job.seed is not None:
                lines.append(self.tr("Seed: {seed}").format(seed=job.seed))
        if output.width and output.height:
            lines.append(self.tr("Size: {w} × {h}").format(w=output.width, h=output.height))
        lines.append(output.local_path)
        return "\n".join(lines)

    def _thumbnail(self, path: str) -> QPixmap:
        pixmap = self._thumbnails.get(path)
        if pixmap is not None:
            self._thumbnails.move_to_end(path)
            return pixmap
        if path in self._failed:
            return self._broken
        if path not in self._pending:
            self._pending.add(path)
            self._loader.request(path, THUMBNAIL_SIZE, self)
        return self._placeholder

    def _on_loaded(self, path: str, key: object, image: QImage) -> None:
        if key is not self or path not in self._pending:
            return
        self._pending.discard(path)
        if image.isNull():
            self._failed.add(path)
        else:
            self._thumbnails[path] = QPixmap.fromImage(image)
            while len(self._thumbnails) > THUMBNAIL_CACHE_LIMIT:
                self._thumbnails.popitem(last=False)
        output_id = self._id_by_path.get(path)
        row = None if output_id is None else self.row_of(output_id)
        if row is not None:
            index = self.index(row, 0)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])

    def _forget_thumbnail(self, path: str) -> None:
        self._thumbnails.pop(path, None)
        self._failed.discard(path)
        self._pending.discard(path)


def _placeholder(color: QColor) -> QPixmap:
    pixmap = QPixmap(THUMBNAIL_SIZE, THUMBNAIL_SIZE)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setPen(color.darker(120))
    painter.setBrush(color)
    painter.drawRoundedRect(8, 8, THUMBNAIL_SIZE - 16, THUMBNAIL_SIZE - 16, 8, 8)
    painter.end()
    return pixmap


def open_containing_folder(path: str) -> None:
    """Show the folder of ``path`` in the system's file manager."""
    QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(path).parent)))


class GalleryView(QListView):
    """The thumbnail grid. ``openRequested(Output)`` requests a viewer for one output, and
    ``rerunRequested(Output, RerunAction)`` a new run of the job that made it."""

    openRequested = Signal(object)
    rerunRequested = Signal(object, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setIconSize(QSize(THUMBNAIL_SIZE, THUMBNAIL_SIZE))
        self.setGridSize(QSize(THUMBNAIL_SIZE + 24, THUMBNAIL_SIZE + 52))
        # Uniform sizes let the view lay out only the items it shows.
        self.setUniformItemSizes(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setSelectionMode(QListView.SelectionMode.ExtendedSelection)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._show_menu)
        # "activated" follows a double-click (or a single click where the platform activates
        # on one) and Enter, so "doubleClicked" must not open the output as well.
        self.activated.connect(self._open_index)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        model = self.model()
        if model is not None and model.rowCount() == 0:
            painter = QPainter(self.viewport())
            painter.setPen(self.palette().placeholderText().color())
            painter.drawText(
                self.viewport().rect(),
                Qt.AlignmentFlag.AlignCenter,
                self.tr("Images appear here as jobs finish. Double-click one to view it."),
            )
            painter.end()

    def _open_index(self, index: QModelIndex) -> None:
        output = index.data(OUTPUT_ROLE)
        if isinstance(output, Output):
            self.openRequested.emit(output)

    def _show_menu(self, position: QPoint) -> None:
        index = self.indexAt(position)
        output = index.data(OUTPUT_ROLE) if index.isValid() else None
        if not isinstance(output, Output):
            return
        menu = self.menu_for(output)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(self.viewport().mapToGlobal(position))

    def menu_for(self, output: Output) -> QMenu:
        """Return the context menu of one output: running its job again, opening it."""
        menu = QMenu(self)
        for action, text in rerun_labels():
            menu.addAction(text, partial(self.rerunRequested.emit, output, action))
        menu.addSeparator()
        menu.addAction(self.tr("Open"), lambda: self.openRequested.emit(output))
        menu.addAction(
            self.tr("Open containing folder"), lambda: open_containing_folder(output.local_path)
        )
        return menu
