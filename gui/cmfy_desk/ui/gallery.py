"""The gallery: a grid over the image index that holds only the pages a person looks at.

GalleryModel keeps the ids of the images that match the search, 8 bytes each, and reads the
image records a page at a time as the view requests them. Thumbnails come from the disk cache
of outputs/thumbnails.py, made in worker processes (ui/thumbnail_loader.py), and only the ones
recently shown stay in memory. GalleryPanel puts the search line and the filters beside the grid.
"""

from __future__ import annotations

import logging
import sqlite3
from array import array
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QCoreApplication,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSize,
    Qt,
    QTimer,
    QUrl,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QColor,
    QDrag,
    QImage,
    QKeySequence,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import (
    QApplication,
    QListView,
    QScrollArea,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from cmfy_desk.outputs.index import index_output
from cmfy_desk.scheduler.events import NoticeLevel
from cmfy_desk.store import (
    ImageField,
    ImageOrder,
    ImageQuery,
    ImageRecord,
    ImageStatus,
    Output,
    Store,
    StoreError,
)
from cmfy_desk.ui.gallery_actions import FolderIndexing, ImageActions, output_of
from cmfy_desk.ui.gallery_search import (
    FacetCounts,
    FacetKind,
    FilterPanel,
    FilterState,
    MatchResult,
    SearchLine,
    SearchResult,
    SearchWorker,
)
from cmfy_desk.ui.thumbnail_loader import THUMBNAIL_SIZE, ThumbnailLoader

log = logging.getLogger(__name__)

# Records read per page, and the pages kept in memory. A record takes 1 to 2 KB with its
# prompt, so the cache stays near 3 MB however many images match.
PAGE_SIZE = 200
RECORD_CACHE_PAGES = 8
# Thumbnails kept in memory, most recently shown first: about four screens of a large window.
# A 160 px thumbnail takes up to 100 KB, so the cache takes up to about 60 MB.
THUMBNAIL_CACHE_LIMIT = 600
# Messages of thumbnails that failed, kept so that a broken file is not decoded on every paint.
FAILED_CACHE_LIMIT = 5000
# New images are looked for in this many top rows before the whole list is searched.
_TOP_ROWS = 64
# A refresh waits this long, in milliseconds, so that a burst of changes costs one search.
REFRESH_DELAY_MS = 1000
# New images reach the grid at most once per interval, in milliseconds. Each insertion lays
# out and repaints the grid, so a batch that finishes many jobs at once costs one layout per
# interval instead of one per image.
INSERT_INTERVAL_MS = 150
# Captions kept at most; far more than a screen shows.
CAPTION_CACHE_LIMIT = 4096
# Lines of a caption: the file name, then the marks, the seed or the status of the file.
CAPTION_LINES = 2

RECORD_ROLE = Qt.ItemDataRole.UserRole + 1


# The model ------------------------------------------------------------------------------


class GalleryModel(QAbstractListModel):
    """The images that match a search, newest first, from the image index of a Store.

    A search runs on a SearchWorker and replaces the rows when it ends; until then the rows
    of the previous search stay. ``searchFinished(int)`` carries the number of matches,
    ``facetsCounted(FacetCounts)`` the counts for the filter lists and ``searchFailed(str)``
    a message. add_output() puts a saved output that matches the search at the top.
    """

    searchFinished = Signal(int)
    facetsCounted = Signal(object)
    searchFailed = Signal(str)

    def __init__(self, thumbnails: ThumbnailLoader, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thumbnails = thumbnails
        self._store: Store | None = None
        self._worker: SearchWorker | None = None
        self._ids: array[int] = array("q")
        self._records: OrderedDict[int, ImageRecord | None] = OrderedDict()
        self._query = ImageQuery()
        self._facet_queries: dict[FacetKind, ImageQuery] = {}
        self._generation = 0
        self._searching = False
        # New images saved while a search runs, checked against its result when it arrives,
        # and new images the worker is checking against the search, by id.
        self._arrived: list[ImageRecord] = []
        self._candidates: dict[int, ImageRecord] = {}
        # Changes when rows move, so that a thumbnail's remembered row can be trusted.
        self._layout_version = 0
        self._pixmaps: OrderedDict[str, QPixmap] = OrderedDict()
        self._failed: OrderedDict[str, str] = OrderedDict()
        self._pending: dict[str, tuple[int, int, int]] = {}
        # Each caption with the record it was made from; a changed record is a new object.
        self._captions: dict[int, tuple[ImageRecord, str]] = {}
        self.pages_fetched = 0
        self._placeholder = _tile(QColor("#d0d0d0"), broken=False)
        self._broken = _tile(QColor("#ef9a9a"), broken=True)
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(REFRESH_DELAY_MS)
        self._refresh_timer.timeout.connect(self.search)
        self._facet_timer = QTimer(self)
        self._facet_timer.setSingleShot(True)
        self._facet_timer.setInterval(REFRESH_DELAY_MS)
        self._facet_timer.timeout.connect(self._count_facets)
        # New images wait here while the insert timer runs, so that many images arriving
        # together reach the view as one insertion (see INSERT_INTERVAL_MS).
        self._incoming: list[ImageRecord] = []
        self._insert_timer = QTimer(self)
        self._insert_timer.setSingleShot(True)
        self._insert_timer.setInterval(INSERT_INTERVAL_MS)
        self._insert_timer.timeout.connect(self._flush_incoming)
        thumbnails.loaded.connect(self._on_thumbnail)

    # Store and search ---------------------------------------------------------------------

    @property
    def store(self) -> Store | None:
        return self._store

    @property
    def query(self) -> ImageQuery:
        return self._query

    def attach(self, store: Store | None) -> None:
        """Show the index of ``store`` (nothing for None), searching with the current query."""
        if self._worker is not None:
            self._worker.close()
            self._worker.deleteLater()
            self._worker = None
        self._store = store
        self.beginResetModel()
        self._ids = array("q")
        self._records.clear()
        self._pending.clear()
        self._arrived.clear()
        self._incoming.clear()
        self._insert_timer.stop()
        self._layout_version += 1
        self.endResetModel()
        if store is not None:
            self._worker = SearchWorker(store.path, self)
            self._worker.searched.connect(self._on_searched)
            self._worker.facetsCounted.connect(self.facetsCounted)
            self._worker.matched.connect(self._on_matched)
            self._worker.failed.connect(self._on_failed)
            self.search()

    def set_query(
        self, query: ImageQuery, facet_queries: dict[FacetKind, ImageQuery] | None = None
    ) -> None:
        """Search for ``query``; the filter lists count ``facet_queries`` (``query`` when
        None)."""
        self._query = query
        self._facet_queries = facet_queries or {kind: query for kind in FacetKind}
        self.search()

    def search(self) -> None:
        """Run the current query again, for example after images were added elsewhere."""
        self._refresh_timer.stop()
        if self._worker is None:
            return
        self._generation += 1
        self._searching = True
        facet_queries = self._facet_queries or {kind: self._query for kind in FacetKind}
        self._worker.search(self._generation, self._query, facet_queries)

    def refresh_soon(self) -> None:
        self._refresh_timer.start()

    def _count_facets(self) -> None:
        if self._worker is None:
            return
        facet_queries = self._facet_queries or {kind: self._query for kind in FacetKind}
        self._worker.count_facets(self._generation, facet_queries)

    @property
    def searching(self) -> bool:
        return self._searching

    def shutdown(self) -> None:
        """Stop the search thread and the thumbnail threads."""
        self._refresh_timer.stop()
        self._facet_timer.stop()
        self._insert_timer.stop()
        if self._worker is not None:
            self._worker.close()
            self._worker = None
        self._thumbnails.shutdown()

    def _on_searched(self, result: SearchResult) -> None:
        if result.generation != self._generation:
            return
        self._searching = False
        log.debug("Search found %d images in %.1f ms", len(result.ids), result.seconds * 1000)
        if result.ids == self._ids:
            # The same rows: keep the view as it is and read the records again.
            self._records.clear()
            if self._ids:
                last = self.index(len(self._ids) - 1, 0)
                self.dataChanged.emit(self.index(0, 0), last, [])
        else:
            self.beginResetModel()
            self._ids = result.ids
            self._records.clear()
            self._pending.clear()
            self._layout_version += 1
            self.endResetModel()
        arrived, self._arrived = self._arrived, []
        self._check_new([record for record in arrived if self.row_of(record.id) is None])
        self.searchFinished.emit(len(self._ids))

    def _on_failed(self, message: str) -> None:
        self._searching = False
        self.searchFailed.emit(message)

    # New, changed and removed images ------------------------------------------------------

    def add_output(self, output: Output) -> None:
        """Show a saved output at the top when it matches the search, or repaint it when it
        is shown. An output that the engine has not indexed yet is indexed here."""
        store = self._store
        if store is None:
            return
        try:
            record = store.gallery.get_by_path(output.local_path)
            if record is None:
                record = index_output(store, output)
        except (KeyError, StoreError, sqlite3.Error) as exc:
            log.warning("Indexing the output %s failed: %s", output.local_path, exc)
            return
        if record is None:
            return
        row = self.row_of(record.id)
        if row is not None:
            self._records[record.id] = record
            self._forget_thumbnail(record.path)
            index = self.index(row, 0)
            self.dataChanged.emit(index, index, [])
            return
        self._incoming.append(record)
        if not self._insert_timer.isActive():
            # The first image after a quiet spell shows at once; the ones that follow within
            # the interval wait for the timer.
            self._flush_incoming()
            self._insert_timer.start()
        if not self._facet_timer.isActive():
            # A new image changes the counts of the filter lists. The running timer is not
            # restarted, so a steady stream of images gets a recount every REFRESH_DELAY_MS.
            self._facet_timer.start()

    def _flush_incoming(self) -> None:
        incoming, self._incoming = self._incoming, []
        if not incoming:
            return
        unique = list({record.id: record for record in incoming}.values())
        if self._searching:
            self._arrived.extend(unique)
        else:
            self._check_new([record for record in unique if self.row_of(record.id) is None])

    def _check_new(self, records: list[ImageRecord]) -> None:
        if not records:
            return
        if self._query.order is not ImageOrder.NEWEST:
            # Only newest-first order puts a new image at a known row.
            self.refresh_soon()
            return
        if not self._query.terms and not self._query.filters:
            # Everything matches except missing files, which a search without a status
            # filter leaves out.
            records = [record for record in records if record.status is not ImageStatus.MISSING]
            records.sort(key=lambda record: (record.created_at, record.id), reverse=True)
            self._insert_top(records)
        elif self._worker is not None:
            for record in records:
                self._candidates[record.id] = record
            self._worker.match(self._generation, self._query, [record.id for record in records])

    def _on_matched(self, result: MatchResult) -> None:
        checked = [self._candidates.pop(image_id, None) for image_id in result.checked]
        if result.generation != self._generation:
            # The search that replaced this one ran after these images were indexed.
            return
        matching = set(result.ids)
        records = [
            record
            for record in checked
            if record is not None and record.id in matching and self.row_of(record.id) is None
        ]
        records.sort(key=lambda record: (record.created_at, record.id), reverse=True)
        self._insert_top(records)

    def _insert_top(self, records: list[ImageRecord]) -> None:
        if not records:
            return
        self.beginInsertRows(QModelIndex(), 0, len(records) - 1)
        self._ids[0:0] = array("q", [record.id for record in records])
        for record in records:
            self._records[record.id] = record
        self._layout_version += 1
        self.endInsertRows()
        self.searchFinished.emit(len(self._ids))

    def records_changed(self, image_ids: Iterable[int]) -> None:
        """Read ``image_ids`` again and repaint their rows, after a change to their rating,
        favourite or tags. Rows stay where they are until the next search."""
        rows = self.rows_of(image_ids)
        for image_id in rows:
            self._records.pop(image_id, None)
        for row in sorted(rows.values()):
            index = self.index(row, 0)
            self.dataChanged.emit(index, index, [])

    def remove_ids(self, image_ids: Iterable[int]) -> None:
        """Take the rows of ``image_ids`` out of the results."""
        rows = sorted(self.rows_of(image_ids).values(), reverse=True)
        while rows:
            last = first = rows.pop(0)
            while rows and rows[0] == first - 1:
                first = rows.pop(0)
            self.beginRemoveRows(QModelIndex(), first, last)
            removed = self._ids[first : last + 1]
            del self._ids[first : last + 1]
            for image_id in removed:
                self._records.pop(image_id, None)
            self._layout_version += 1
            self.endRemoveRows()
        self.searchFinished.emit(len(self._ids))
        # The filter lists count the images that are left.
        self._facet_timer.start()

    def shows_missing(self) -> bool:
        """Return whether the query shows images whose file is missing."""
        return any(
            item.field is ImageField.STATUS and not item.negated for item in self._query.filters
        )

    # Rows and records ---------------------------------------------------------------------

    def row_of(self, image_id: int) -> int | None:
        top = self._ids[:_TOP_ROWS]
        if image_id in top:
            return top.index(image_id)
        try:
            return self._ids.index(image_id)
        except ValueError:
            return None

    def rows_of(self, image_ids: Iterable[int]) -> dict[int, int]:
        """Return the row of each of ``image_ids`` that is shown, by id."""
        requested = set(image_ids)
        if not requested:
            return {}
        return {image_id: row for row, image_id in enumerate(self._ids) if image_id in requested}

    def ids_at(self, rows: Iterable[int]) -> list[int]:
        return [self._ids[row] for row in rows if 0 <= row < len(self._ids)]

    def record_at(self, row: int) -> ImageRecord | None:
        """Return the record of ``row``, reading its page when it is not in memory; None when
        the image left the index after the search."""
        if not 0 <= row < len(self._ids):
            return None
        image_id = self._ids[row]
        if image_id in self._records:
            self._records.move_to_end(image_id)
            return self._records[image_id]
        self._fetch_page(row // PAGE_SIZE)
        return self._records.get(image_id)

    def output_at(self, row: int) -> Output | None:
        """Return the job output shown in ``row``, or None for an image from a folder."""
        record = self.record_at(row)
        if record is None or self._store is None:
            return None
        return output_of(self._store, record)

    def records_at(self, rows: Iterable[int]) -> list[ImageRecord]:
        return [record for row in rows if (record := self.record_at(row)) is not None]

    def cached_records(self) -> int:
        return len(self._records)

    def is_record_cached(self, row: int) -> bool:
        return 0 <= row < len(self._ids) and self._ids[row] in self._records

    def cached_thumbnails(self) -> int:
        return len(self._pixmaps)

    def _fetch_page(self, page: int) -> None:
        if self._store is None:
            return
        gallery = self._store.gallery
        missing = [
            image_id
            for image_id in self._ids[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
            if image_id not in self._records
        ]
        try:
            for image_id in missing:
                try:
                    self._records[image_id] = gallery.get(image_id)
                except KeyError:
                    self._records[image_id] = None
        except sqlite3.Error as exc:
            log.warning("Reading page %d of the gallery failed: %s", page, exc)
            return
        self.pages_fetched += 1
        while len(self._records) > PAGE_SIZE * RECORD_CACHE_PAGES:
            self._records.popitem(last=False)

    def thumbnail_ready(self, row: int) -> bool:
        """Return whether ``row`` shows its thumbnail or the mark of a file that failed."""
        record = self.record_at(row)
        if record is None or record.status is not ImageStatus.OK:
            return True
        return record.path in self._pixmaps or record.path in self._failed

    def thumbnail_error(self, row: int) -> str:
        """Return why ``row`` has no thumbnail, or "" when it has one or it is still coming."""
        record = self.record_at(row)
        return "" if record is None else self._failed.get(record.path, "")

    # Qt model interface -------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._ids)

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemIsDragEnabled
            | Qt.ItemFlag.ItemNeverHasChildren
        )

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        row = index.row()
        if role not in _ROLES or not 0 <= row < len(self._ids):
            return None
        record = self.record_at(row)
        if record is None:
            if role == Qt.ItemDataRole.DisplayRole:
                return self.tr("Removed from the gallery")
            return self._broken if role == Qt.ItemDataRole.DecorationRole else None
        if role == Qt.ItemDataRole.DisplayRole:
            # Every repaint reads the caption of every item in view.
            cached = self._captions.get(record.id)
            if cached is not None and cached[0] is record:
                return cached[1]
            if len(self._captions) >= CAPTION_CACHE_LIMIT:
                self._captions.clear()
            caption = self._caption(record)
            self._captions[record.id] = (record, caption)
            return caption
        if role == Qt.ItemDataRole.DecorationRole:
            return self._decoration(record, row)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(record)
        return record

    def mimeTypes(self) -> list[str]:
        return ["text/uri-list"]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        """Return file URLs of the images at ``indexes``, for a drag to other programs."""
        records = self.records_at(sorted({index.row() for index in indexes}))
        data = QMimeData()
        data.setUrls([QUrl.fromLocalFile(record.path) for record in records])
        return data

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction

    def _caption(self, record: ImageRecord) -> str:
        name = Path(record.path).name
        # The second line has room for the marks or a seed of up to 20 digits, not both.
        marks = ("♥ " if record.favourite else "") + "★" * record.rating
        if record.status is not ImageStatus.OK:
            second = _status_text(record.status)
        elif marks:
            second = marks.strip()
        elif record.seed is not None:
            second = self.tr("seed {seed}").format(seed=record.seed)
        else:
            second = ""
        return f"{name}\n{second}" if second else name

    def _tooltip(self, record: ImageRecord) -> str:
        lines: list[str] = []
        if record.prompt:
            prompt = record.prompt if len(record.prompt) <= 300 else record.prompt[:299] + "…"
            lines.append(prompt)

        facts = []
        if record.seed is not None:
            facts.append(self.tr("Seed: {seed}").format(seed=record.seed))
        if record.steps is not None:
            facts.append(self.tr("Steps: {steps}").format(steps=record.steps))
        if record.cfg is not None:
            facts.append(self.tr("CFG: {cfg:g}").format(cfg=record.cfg))
        if record.sampler:
            facts.append(self.tr("Sampler: {sampler}").format(sampler=record.sampler))
        if facts:
            lines.append(" · ".join(facts))

        if record.width and record.height:
            lines.append(self.tr("Size: {w} × {h}").format(w=record.width, h=record.height))
        if record.models:
            lines.append(self.tr("Models: {models}").format(models=", ".join(record.models)))
        if record.batch_id is not None:
            lines.append(
                self.tr("Batch {batch} on {connection}").format(
                    batch=record.batch_id, connection=record.connection or "?"
                )
            )
        if record.tags:
            lines.append(self.tr("Tags: {tags}").format(tags=", ".join(record.tags)))

        lines.append(record.path)
        problem = record.message or self._failed.get(record.path, "")
        if record.status is not ImageStatus.OK or problem:
            lines.append(problem or _status_text(record.status))
        return "\n".join(lines)

    # Thumbnails ---------------------------------------------------------------------------

    def _decoration(self, record: ImageRecord, row: int) -> QPixmap:
        if record.status is not ImageStatus.OK:
            return self._broken
        path = record.path
        pixmap = self._pixmaps.get(path)
        if pixmap is not None:
            self._pixmaps.move_to_end(path)
            return pixmap
        if path in self._failed:
            return self._broken
        if path not in self._pending:
            self._pending[path] = (record.id, row, self._layout_version)
            self._thumbnails.request(path)
        return self._placeholder

    def drop_queued_thumbnails(self) -> None:
        """Forget the thumbnails requested but not started, because their items scrolled out
        of view. Items in view request theirs again when they are painted."""
        self._thumbnails.clear_queue()
        self._pending.clear()

    def _on_thumbnail(self, path: str, image: QImage, error: str) -> None:
        entry = self._pending.pop(path, None)
        if error:
            self._failed[path] = error
            while len(self._failed) > FAILED_CACHE_LIMIT:
                self._failed.popitem(last=False)
        else:
            self._pixmaps[path] = QPixmap.fromImage(image)
            while len(self._pixmaps) > THUMBNAIL_CACHE_LIMIT:
                self._pixmaps.popitem(last=False)
        if entry is None:
            return
        image_id, row, version = entry
        if version != self._layout_version or row >= len(self._ids) or self._ids[row] != image_id:
            found = self.row_of(image_id)
            if found is None:
                return
            row = found
        index = self.index(row, 0)
        self.dataChanged.emit(
            index, index, [Qt.ItemDataRole.DecorationRole, Qt.ItemDataRole.ToolTipRole]
        )

    def _forget_thumbnail(self, path: str) -> None:
        self._pixmaps.pop(path, None)
        self._failed.pop(path, None)
        self._pending.pop(path, None)


_ROLES = frozenset(
    {
        Qt.ItemDataRole.DisplayRole,
        Qt.ItemDataRole.DecorationRole,
        Qt.ItemDataRole.ToolTipRole,
        RECORD_ROLE,
    }
)


def _status_text(status: ImageStatus) -> str:
    texts = {
        ImageStatus.CORRUPT: QCoreApplication.translate("GalleryModel", "Damaged file"),
        ImageStatus.UNREADABLE: QCoreApplication.translate("GalleryModel", "Unreadable file"),
        ImageStatus.MISSING: QCoreApplication.translate("GalleryModel", "Missing file"),
    }
    return texts.get(status, "")


def _tile(color: QColor, *, broken: bool) -> QPixmap:
    """Return the square shown while a thumbnail loads, or with a cross for a bad file."""
    pixmap = QPixmap(THUMBNAIL_SIZE, THUMBNAIL_SIZE)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(color.darker(130))
    painter.setBrush(color)
    painter.drawRoundedRect(8, 8, THUMBNAIL_SIZE - 16, THUMBNAIL_SIZE - 16, 8, 8)
    if broken:
        painter.setPen(QPen(QColor("#b71c1c"), 8, c=Qt.PenCapStyle.RoundCap))
        low, high = THUMBNAIL_SIZE // 3, THUMBNAIL_SIZE - THUMBNAIL_SIZE // 3
        painter.drawLine(low, low, high, high)
        painter.drawLine(high, low, low, high)
    painter.end()
    return pixmap


# The view -------------------------------------------------------------------------------


class ThumbnailDelegate(QStyledItemDelegate):
    """Paints every item in a box of the same size: the thumbnail centred in a square of
    THUMBNAIL_SIZE, with CAPTION_LINES lines of caption under it.

    With uniform item sizes the view gives every item the size of one of them, which Qt 6.11
    takes from the last row. A size that followed the image would shrink every item to fit a
    small image or a one-line caption, which crops thumbnails and hides captions. The size
    here depends only on the font and the style, and reading it fetches no record.
    """

    def sizeHint(
        self,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> QSize:
        box = QStyleOptionViewItem(option)
        box.features |= (
            QStyleOptionViewItem.ViewItemFeature.HasDisplay
            | QStyleOptionViewItem.ViewItemFeature.HasDecoration
        )
        box.features &= ~QStyleOptionViewItem.ViewItemFeature.WrapText
        box.decorationPosition = QStyleOptionViewItem.Position.Top
        box.decorationSize = QSize(THUMBNAIL_SIZE, THUMBNAIL_SIZE)
        # One short line per caption line, so the width follows the thumbnail and not a file
        # name. The delegate shows a caption's "\n" as U+2028, the line separator of Qt's
        # text layout, and the style measures a plain "\n" as no break.
        box.text = "\u2028".join(["M"] * CAPTION_LINES)
        widget = option.widget
        style = widget.style() if widget is not None else QApplication.style()
        return style.sizeFromContents(QStyle.ContentsType.CT_ItemViewItem, box, QSize(), widget)

    def initStyleOption(
        self,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        super().initStyleOption(option, index)
        # The decoration takes the whole square whatever the thumbnail's size, so every
        # caption starts on the same line and a smaller thumbnail sits in the square's middle.
        # A one-line caption goes to the top of the caption's room, level with the names
        # beside it.
        option.decorationSize = QSize(THUMBNAIL_SIZE, THUMBNAIL_SIZE)
        option.displayAlignment = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop


class GalleryView(QListView):
    """The thumbnail grid. ``openRequested(ImageRecord)`` requests a viewer for one image.

    Selected images can be dragged to other programs as files. After a search the current
    image stays current when it still matches.
    """

    openRequested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setIconSize(QSize(THUMBNAIL_SIZE, THUMBNAIL_SIZE))
        self.setGridSize(QSize(THUMBNAIL_SIZE + 24, THUMBNAIL_SIZE + 52))
        # Uniform sizes let the view lay out only the items it shows. They need a delegate
        # whose size hint is the same for every item.
        self.setUniformItemSizes(True)
        self.setItemDelegate(ThumbnailDelegate(self))
        self.setResizeMode(QListView.ResizeMode.Adjust)
        # Static movement turns dragging off, so it is turned on again after it.
        self.setMovement(QListView.Movement.Static)
        self.setDragEnabled(True)
        self.setDragDropMode(QListView.DragDropMode.DragOnly)
        self.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setSelectionMode(QListView.SelectionMode.ExtendedSelection)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        # "activated" follows a double-click (or a single click where the platform activates
        # on one) and Enter, so "doubleClicked" must not open the image as well.
        self.activated.connect(self._open_index)
        self.verticalScrollBar().valueChanged.connect(self._scrolled)
        self._current_id: int | None = None
        self.empty_text = self.tr("Images appear here as jobs finish. Double-click one to view it.")

    def setModel(self, model: Any) -> None:
        super().setModel(model)
        if isinstance(model, GalleryModel):
            model.modelAboutToBeReset.connect(self._remember_current)
            model.modelReset.connect(self._restore_current)

    def gallery_model(self) -> GalleryModel:
        model = self.model()
        assert isinstance(model, GalleryModel)
        return model

    def selected_rows(self) -> list[int]:
        """Return the selected rows in order, without an index object per row."""
        rows: set[int] = set()
        selection = self.selectionModel().selection()
        for number in range(selection.count()):
            selected = selection.at(number)
            rows.update(range(selected.top(), selected.bottom() + 1))
        return sorted(rows)

    def selected_ids(self) -> list[int]:
        return self.gallery_model().ids_at(self.selected_rows())

    def selected_records(self) -> list[ImageRecord]:
        return self.gallery_model().records_at(self.selected_rows())

    def current_record(self) -> ImageRecord | None:
        index = self.currentIndex()
        return self.gallery_model().record_at(index.row()) if index.isValid() else None

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        model = self.model()
        if model is not None and model.rowCount() == 0:
            painter = QPainter(self.viewport())
            painter.setPen(self.palette().placeholderText().color())
            painter.drawText(
                self.viewport().rect().adjusted(16, 16, -16, -16),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                self.empty_text,
            )
            painter.end()

    def startDrag(self, supportedActions: Qt.DropAction) -> None:
        rows = self.selected_rows()
        if not rows:
            return
        model = self.gallery_model()
        data = model.mimeData([model.index(row, 0) for row in rows])
        if not data.urls():
            return
        drag = QDrag(self)
        drag.setMimeData(data)
        icon = model.data(self.currentIndex(), Qt.ItemDataRole.DecorationRole)
        if isinstance(icon, QPixmap):
            drag.setPixmap(icon.scaled(96, 96, Qt.AspectRatioMode.KeepAspectRatio))
        drag.exec(Qt.DropAction.CopyAction)

    def _open_index(self, index: QModelIndex) -> None:
        record = index.data(RECORD_ROLE)
        if isinstance(record, ImageRecord):
            self.openRequested.emit(record)

    def _scrolled(self, _value: int) -> None:
        model = self.model()
        if isinstance(model, GalleryModel):
            model.drop_queued_thumbnails()

    def _remember_current(self) -> None:
        index = self.currentIndex()
        ids = self.gallery_model().ids_at([index.row()]) if index.isValid() else []
        self._current_id = ids[0] if ids else None

    def _restore_current(self) -> None:
        if self._current_id is None:
            return
        row = self.gallery_model().row_of(self._current_id)
        self._current_id = None
        if row is not None:
            index = self.model().index(row, 0)
            self.setCurrentIndex(index)
            self.scrollTo(index)


# The panel ------------------------------------------------------------------------------


class GalleryPanel(QWidget):
    """The search line over the filters and the grid, with the actions on selected images.

    ``openRequested(Output)`` requests the viewer for a job's image. Images from other
    folders open in the system's viewer instead. ``rerunRequested(Output, RerunAction)``
    requests a new run of an image's job, ``compareRequested(list[Output])`` a comparison of
    2 or 4 job images, and ``noticeRequested(NoticeLevel, str)`` carries a message for the
    notice panel.
    """

    openRequested = Signal(object)
    rerunRequested = Signal(object, object)
    compareRequested = Signal(object)
    noticeRequested = Signal(object, str)

    def __init__(self, thumbnail_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.thumbnails = ThumbnailLoader(thumbnail_dir, parent=self)
        self.model = GalleryModel(self.thumbnails, self)
        self.view = GalleryView()
        self.view.setModel(self.model)
        self.search = SearchLine()
        self.filters = FilterPanel()
        self.image_actions = ImageActions(self.view, self.model, self)
        self.folders = FolderIndexing(self)

        find = QAction(self.tr("Search images"), self)
        find.setShortcut(QKeySequence(QKeySequence.StandardKey.Find))
        find.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        find.triggered.connect(self.search.focus_search)
        self.addAction(find)
        self.find_action = find

        self.search.queryChanged.connect(self._apply_search)
        self.filters.filtersChanged.connect(self._apply_search)
        self.model.searchFinished.connect(self._on_search_finished)
        self.model.facetsCounted.connect(self._on_facets)
        self.model.searchFailed.connect(
            lambda text: self.noticeRequested.emit(NoticeLevel.ERROR, text)
        )
        self.view.openRequested.connect(self.image_actions.open_record)
        self.image_actions.openRequested.connect(self.openRequested)
        self.image_actions.rerunRequested.connect(self.rerunRequested)
        self.image_actions.compareRequested.connect(self.compareRequested)
        self.image_actions.noticeRequested.connect(self.noticeRequested)
        self.folders.noticeRequested.connect(self.noticeRequested)
        self.folders.libraryChanged.connect(self.model.search)
        self.folders.foldersChanged.connect(self.filters.folders.set_folders)
        self.folders.progressed.connect(self.filters.folders.show_progress)
        self.folders.finished.connect(self.filters.folders.show_status)
        folder_list = self.filters.folders
        folder_list.addRequested.connect(lambda path: self.folders.add_folder(Path(path)))
        folder_list.removeRequested.connect(self.folders.remove_folder)
        folder_list.watchChanged.connect(self.folders.set_watch)
        folder_list.cancelRequested.connect(self.folders.cancel)

        side = QScrollArea()
        side.setWidget(self.filters)
        side.setWidgetResizable(True)
        side.setFrameShape(QScrollArea.Shape.NoFrame)
        side.setMinimumWidth(200)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("gallery_splitter")
        self.splitter.addWidget(side)
        self.splitter.addWidget(self.view)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        # The filters start wide enough for a typical batch name beside the scroll bar that
        # shows when the gallery is short. The grid takes every width change.
        side_width = self.filters.sizeHint().width() + side.verticalScrollBar().sizeHint().width()
        self.splitter.setSizes([side_width, 900])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.search)
        layout.addWidget(self.splitter, 1)

    def attach(self, store: Store | None) -> None:
        """Show the image index of ``store``, or nothing for None."""
        self.folders.attach(store)
        self.model.attach(store)

    def shutdown(self) -> None:
        """Stop folder scans, the search thread and the thumbnail threads."""
        self.folders.shutdown()
        self.image_actions.shutdown()
        self.model.shutdown()

    def filter_state(self) -> FilterState:
        return self.filters.state()

    def _apply_search(self, *_args: object) -> None:
        query = self.search.query
        state = self.filters.state()
        self.model.set_query(state.apply(query), state.facet_queries(query))

    def _on_search_finished(self, count: int) -> None:
        self.search.set_count(count)
        searched = bool(self.search.query.terms or self.search.query.filters)
        if searched or self.filters.state() != FilterState():
            self.view.empty_text = self.tr("No images match the search and filters.")
        else:
            self.view.empty_text = self.tr(
                "Images appear here as jobs finish. Double-click one to view it."
            )
        self.view.viewport().update()

    def _on_facets(self, counts: FacetCounts) -> None:
        self.filters.set_facets(counts)
