"""The gallery's search: the worker thread that runs searches, the search line and the filters.

Searches and facet counts run on SearchWorker's thread with a database connection of its own,
because counting facets over 100,000 images takes 50 to 150 ms (measured on a 2-core machine),
longer than the UI thread may stall. The search line parses what a person types with
outputs/query.py, and the filter panel adds clicked filters (batch, connection, day, favourite,
minimum rating) to that query.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import html
import logging
import sqlite3
import threading
import time
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import QCoreApplication, QLocale, QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from cmfy_desk.outputs.folder_scan import ScanProgress
from cmfy_desk.outputs.query import FIELD_HELP, ParseError, parse_query
from cmfy_desk.store import (
    BatchFacet,
    Filter,
    Gallery,
    ImageField,
    ImageOrder,
    ImageQuery,
    Operator,
    Store,
    StoreError,
    WatchedFolder,
)
from cmfy_desk.ui.theme import error_style

log = logging.getLogger(__name__)

# Typing pauses this long, in milliseconds, before the search runs.
SEARCH_DELAY_MS = 150
# A new image is looked for among this many newest matches beyond the candidates themselves,
# which leaves room for images whose time is later than a new output's (a clock set wrong).
MATCH_WINDOW = 50
# A filter list is as tall as its entries, from _MIN_LIST_ROWS to _LIST_ROWS rows, and
# scrolls beyond that.
_LIST_ROWS = 6
_MIN_LIST_ROWS = 2
# A Batch entry as long as most: batch names are the workflow's name and the time the batch
# was queued, and the count follows. Its width sets the filter column's initial width.
TYPICAL_BATCH_ENTRY = "#100 sd15_lora_txt2img 2026-12-31 23-59-59  (100)"
_T = TypeVar("_T")


class FacetKind(StrEnum):
    """A dimension of the filter panel with counts from Gallery.facets."""

    BATCH = "batch"
    CONNECTION = "connection"
    DAY = "day"


@dataclass(frozen=True)
class FilterState:
    """The clicked filters. ``day`` is a local calendar day as ``YYYY-MM-DD``."""

    favourite_only: bool = False
    min_rating: int = 0
    batch_id: int | None = None
    connection: str | None = None
    day: str | None = None

    def filters(self, without: FacetKind | None = None) -> tuple[Filter, ...]:
        """Return the filters, leaving out the one of ``without``."""
        result: list[Filter] = []
        if self.favourite_only:
            result.append(Filter(ImageField.FAVOURITE, Operator.EQ, True))
        if self.min_rating > 0:
            result.append(Filter(ImageField.RATING, Operator.GE, self.min_rating))
        if self.batch_id is not None and without is not FacetKind.BATCH:
            result.append(Filter(ImageField.BATCH, Operator.EQ, self.batch_id))
        if self.connection is not None and without is not FacetKind.CONNECTION:
            result.append(Filter(ImageField.CONNECTION, Operator.EQ, self.connection))
        if self.day is not None and without is not FacetKind.DAY:
            result.append(Filter(ImageField.CREATED_AT, Operator.RANGE, day_range(self.day)))
        return tuple(result)

    def apply(self, query: ImageQuery, without: FacetKind | None = None) -> ImageQuery:
        return dataclasses.replace(query, filters=(*query.filters, *self.filters(without)))

    def facet_queries(self, query: ImageQuery) -> dict[FacetKind, ImageQuery]:
        """Return the query whose facets each list shows: every filter but the list's own, so
        that the other batches, connections or days stay listed for a change of mind."""
        return {kind: self.apply(query, without=kind) for kind in FacetKind}


def image_count_text(count: int) -> str:
    """Return "1 image" or "12,345 images", with the locale's digit grouping."""
    if count == 1:
        return QCoreApplication.translate("Gallery", "1 image")
    return QCoreApplication.translate("Gallery", "{count} images").format(
        count=QLocale().toString(count)
    )


def day_range(day: str) -> tuple[float, float]:
    """Return the Unix times at which local day ``YYYY-MM-DD`` starts and ends."""
    start = datetime.strptime(day, "%Y-%m-%d")
    return start.timestamp(), (start + timedelta(days=1)).timestamp()


# The worker -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchResult:
    """The ids of every image that matches ``query``, in its order, as of one moment."""

    generation: int
    query: ImageQuery
    ids: array[int]
    seconds: float


@dataclass(frozen=True)
class FacetCounts:
    """Counts for the filter lists: each list's entries from the query without its filter."""

    generation: int
    batches: list[BatchFacet] = field(default_factory=list)
    connections: list[tuple[str, int]] = field(default_factory=list)
    days: list[tuple[str, int]] = field(default_factory=list)


@dataclass(frozen=True)
class MatchResult:
    """Of the ``checked`` image ids, the ones in ``ids`` match the query of ``generation``."""

    generation: int
    checked: list[int]
    ids: list[int]


class SearchWorker(QObject):
    """Runs searches on one worker thread with its own connection to ``database``.

    ``searched(SearchResult)`` follows search(), then ``facetsCounted(FacetCounts)``;
    ``matched(MatchResult)`` follows match(), and ``failed(str)`` carries a message when the
    database cannot be read. Work for an older generation than the latest search is skipped.
    All signals arrive on the thread that owns the worker.
    """

    searched = Signal(object)
    facetsCounted = Signal(object)
    matched = Signal(object)
    failed = Signal(str)

    def __init__(self, database: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._database = database
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="cmfy-desk-search"
        )
        self._store: Store | None = None
        self._latest = 0
        # The generation and queries of the facet count that waits for the thread, if any.
        self._facet_request: tuple[int, dict[FacetKind, ImageQuery]] | None = None
        self._lock = threading.Lock()

    def search(
        self, generation: int, query: ImageQuery, facet_queries: Mapping[FacetKind, ImageQuery]
    ) -> None:
        with self._lock:
            self._latest = generation
        self._executor.submit(self._search, generation, query, dict(facet_queries))

    def match(self, generation: int, query: ImageQuery, candidates: Sequence[int]) -> None:
        self._executor.submit(self._match, generation, query, list(candidates))

    def count_facets(self, generation: int, facet_queries: Mapping[FacetKind, ImageQuery]) -> None:
        """Count the filter lists again, for images that arrived after the search.

        A request made while an earlier one still waits for the thread replaces it, so the
        thread counts once with the latest generation and queries. A count reads the index
        when it starts, after the request, so it includes every image committed before.
        """
        with self._lock:
            waiting = self._facet_request is not None
            self._facet_request = (generation, dict(facet_queries))
        if not waiting:
            self._executor.submit(self._count_facets)

    def close(self) -> None:
        """Drop queued work, wait for the running query and close the connection."""
        with self._lock:
            self._latest = -1
        self._executor.shutdown(wait=True, cancel_futures=True)
        if self._store is not None:
            self._store.close()
            self._store = None

    def _is_stale(self, generation: int) -> bool:
        with self._lock:
            return generation != self._latest

    def _open(self) -> Store:
        if self._store is None:
            self._store = Store.open(self._database)
        return self._store

    def _search(
        self, generation: int, query: ImageQuery, facet_queries: dict[FacetKind, ImageQuery]
    ) -> None:
        if self._is_stale(generation):
            return
        try:
            gallery = self._open().gallery
            started = time.perf_counter()
            ids = array("q", gallery.search_ids(query))
            seconds = time.perf_counter() - started
            self.searched.emit(SearchResult(generation, query, ids, seconds))
            self._emit_facets(gallery, generation, facet_queries)
        except (StoreError, sqlite3.Error) as exc:
            log.warning("Searching the image index failed: %s", exc)
            self.failed.emit(f"Searching the images failed: {exc}")

    def _count_facets(self) -> None:
        with self._lock:
            request, self._facet_request = self._facet_request, None
        if request is None:
            return
        generation, facet_queries = request
        if self._is_stale(generation):
            return
        try:
            self._emit_facets(self._open().gallery, generation, facet_queries)
        except (StoreError, sqlite3.Error) as exc:
            log.warning("Counting the image filters failed: %s", exc)

    def _emit_facets(
        self, gallery: Gallery, generation: int, facet_queries: dict[FacetKind, ImageQuery]
    ) -> None:
        counts = FacetCounts(generation)
        by_query = {}
        for kind, facet_query in facet_queries.items():
            if self._is_stale(generation):
                return
            if facet_query not in by_query:
                by_query[facet_query] = gallery.facets(facet_query)
            facets = by_query[facet_query]
            match kind:
                case FacetKind.BATCH:
                    counts.batches.extend(facets.batches)
                case FacetKind.CONNECTION:
                    counts.connections.extend(facets.connections)
                case FacetKind.DAY:
                    counts.days.extend(facets.days)
        self.facetsCounted.emit(counts)

    def _match(self, generation: int, query: ImageQuery, candidates: list[int]) -> None:
        if self._is_stale(generation):
            self.matched.emit(MatchResult(generation, candidates, []))
            return
        try:
            newest = dataclasses.replace(query, order=ImageOrder.NEWEST)
            records = self._open().gallery.search(newest, limit=len(candidates) + MATCH_WINDOW)
        except (StoreError, sqlite3.Error) as exc:
            log.warning("Checking new images against the search failed: %s", exc)
            self.failed.emit(f"Searching the images failed: {exc}")
            self.matched.emit(MatchResult(generation, candidates, []))
            return
        candidate_ids = set(candidates)
        matching = [record.id for record in records if record.id in candidate_ids]
        self.matched.emit(MatchResult(generation, candidates, matching))


# The search line ------------------------------------------------------------------------


class SearchLine(QWidget):
    """The line a person types a search into, with its help button, the number of matches and
    the message of a token that cannot be read.

    ``queryChanged(ImageQuery)`` follows a pause of SEARCH_DELAY_MS in typing when the text
    parses. Text that does not parse shows its message and emits nothing, so the results of
    the last good query stay. Esc in the line clears it.
    """

    queryChanged = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = QLineEdit()
        self.edit.setPlaceholderText(
            self.tr("Search prompts, models and tags, e.g. red fox seed:1234 rating:>=4")
        )
        self.edit.setClearButtonEnabled(True)
        self.edit.textEdited.connect(self._schedule)
        clear_action = QAction(self.tr("Clear the search"), self.edit)
        clear_action.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        clear_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        clear_action.triggered.connect(self.clear)
        self.edit.addAction(clear_action)

        self.help_button = QToolButton()
        self.help_button.setText(self.tr("?"))
        self.help_button.setToolTip(self.tr("Search fields and examples"))
        self.help_button.clicked.connect(self.show_help)
        self.count_label = QLabel()
        # Space between the count and the window's right edge.
        self.count_label.setContentsMargins(0, 0, 4, 0)
        self.error_label = QLabel()
        self.error_label.setStyleSheet(error_style())
        self.error_label.setWordWrap(True)
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.hide()
        self.help_dialog: SearchHelpDialog | None = None

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self.apply_text)
        self._query = ImageQuery()

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        row.addWidget(self.help_button)
        row.addWidget(self.count_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.error_label)

    @property
    def query(self) -> ImageQuery:
        """The query of the last text that parsed."""
        return self._query

    @property
    def error(self) -> str:
        return self.error_label.text() if not self.error_label.isHidden() else ""

    def focus_search(self) -> None:
        self.edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.edit.selectAll()

    def set_text(self, text: str) -> None:
        """Replace the text and search at once, as typing and pausing would."""
        self.edit.setText(text)
        self.apply_text()

    def clear(self) -> None:
        self.set_text("")

    def set_count(self, count: int) -> None:
        self.count_label.setText(image_count_text(count))

    def _schedule(self, _text: str) -> None:
        self._timer.start()

    def apply_text(self) -> None:
        """Parse the text now; emit queryChanged, or show why the text cannot be read."""
        self._timer.stop()
        text = self.edit.text()
        try:
            query = parse_query(text)
        except ParseError as exc:
            self.error_label.setText(exc.message)
            self.error_label.show()
            self.edit.setToolTip(exc.message)
            return
        self.error_label.hide()
        self.error_label.clear()
        self.edit.setToolTip("")
        if query != self._query:
            self._query = query
            self.queryChanged.emit(query)

    def show_help(self) -> None:
        if self.help_dialog is None:
            self.help_dialog = SearchHelpDialog(self)
        self.help_dialog.show()
        self.help_dialog.raise_()


class SearchHelpDialog(QDialog):
    """A non-modal list of the search fields and what each accepts."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Searching images"))
        rows = "".join(
            f"<tr><td><b>{html.escape(name)}:</b></td><td>{html.escape(accepted)}</td></tr>"
            for name, accepted in FIELD_HELP.items()
        )
        intro = self.tr(
            "Words are looked for in prompts, model names and tags, and every word must match."
            ' Put a phrase in quotes ("red fox"). A minus sign leaves out what matches: -snow,'
            " -tag:draft."
        )
        self.text = QLabel(
            f"<p>{html.escape(intro)}</p><table cellspacing='4'>{rows}</table>"
            f"<p>{html.escape(self.tr('Example: red fox seed:1234 rating:>=4 date:2026-11'))}</p>"
        )
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self.resize(560, 520)


# The filter panel -----------------------------------------------------------------------


class FilterPanel(QWidget):
    """Favourites, minimum rating, and lists of batches, connections and days with counts.

    ``filtersChanged(FilterState)`` follows every click. ``folders`` is the list of folders
    indexed from elsewhere, shown below the filters.
    """

    filtersChanged = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.favourites = QCheckBox(self.tr("Favourites only"))
        self.favourites.toggled.connect(self._emit)
        self.rating = QComboBox()
        self.rating.addItem(self.tr("Any rating"), 0)
        for stars in range(1, 6):
            text = (
                self.tr("1 star or more")
                if stars == 1
                else self.tr("{count} stars or more").format(count=stars)
            )
            self.rating.addItem(text, stars)
        self.rating.currentIndexChanged.connect(self._emit)
        self.batches = self._facet_list(self.tr("All batches"))
        self.connections = self._facet_list(self.tr("All connections"))
        self.days = self._facet_list(self.tr("All days"))
        self.folders = FolderList()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.favourites)
        layout.addWidget(self.rating)
        for title, widget in (
            (self.tr("Batch"), self.batches),
            (self.tr("Connection"), self.connections),
            (self.tr("Day"), self.days),
        ):
            layout.addWidget(_group(title, widget))
        layout.addWidget(_group(self.tr("Folders"), self.folders))
        layout.addStretch(1)

    def _facet_list(self, all_text: str) -> FacetList:
        widget = FacetList()
        item = QListWidgetItem(all_text)
        item.setData(Qt.ItemDataRole.UserRole, None)
        widget.addItem(item)
        widget.setCurrentRow(0)
        widget.fit_height()
        widget.currentItemChanged.connect(self._emit)
        return widget

    def state(self) -> FilterState:
        return FilterState(
            favourite_only=self.favourites.isChecked(),
            min_rating=int(self.rating.currentData() or 0),
            batch_id=_optional(int, _selected(self.batches)),
            connection=_optional(str, _selected(self.connections)),
            day=_optional(str, _selected(self.days)),
        )

    def clear(self) -> None:
        """Remove every clicked filter and emit filtersChanged once."""
        widgets: list[QWidget] = [
            self.favourites,
            self.rating,
            self.batches,
            self.connections,
            self.days,
        ]
        for widget in widgets:
            widget.blockSignals(True)
        self.favourites.setChecked(False)
        self.rating.setCurrentIndex(0)
        for facet_list in (self.batches, self.connections, self.days):
            facet_list.setCurrentRow(0)
        for widget in widgets:
            widget.blockSignals(False)
        self._emit()

    def set_facets(self, counts: FacetCounts) -> None:
        """Fill the lists with ``counts``, keeping each list's selection."""
        _fill(
            self.batches,
            [
                (batch.batch_id, f"#{batch.batch_id} {batch.name}".strip(), batch.count)
                for batch in counts.batches
            ],
        )
        _fill(self.connections, [(name, name, count) for name, count in counts.connections])
        _fill(self.days, [(day, day, count) for day, count in counts.days])

    def _emit(self, *_args: object) -> None:
        self.filtersChanged.emit(self.state())


class FacetList(QListWidget):
    """A list of the filter column, whose height follows its number of entries and whose
    width hint fits TYPICAL_BATCH_ENTRY. Entries wider than the list are elided in the middle,
    so that a batch's count and a folder's name stay visible."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setUniformItemSizes(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)

    def fit_height(self) -> None:
        """Make the list as tall as its entries, within _MIN_LIST_ROWS and _LIST_ROWS rows."""
        rows = min(max(self.count(), _MIN_LIST_ROWS), _LIST_ROWS)
        row_height = self.sizeHintForRow(0) if self.count() else self.fontMetrics().height()
        self.setFixedHeight(row_height * rows + 2 * self.frameWidth())

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        # Qt 6's QCommonStyle draws item text inside the focus frame's margin plus one pixel
        # on each side.
        margin = self.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, self) + 1
        text = self.fontMetrics().horizontalAdvance(TYPICAL_BATCH_ENTRY)
        hint.setWidth(text + 2 * margin + 2 * self.frameWidth())
        return hint


def _group(title: str, widget: QWidget) -> QGroupBox:
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(4, 4, 4, 4)
    layout.addWidget(widget)
    return box


def _selected(widget: QListWidget) -> object:
    item = widget.currentItem()
    return item.data(Qt.ItemDataRole.UserRole) if item is not None else None


def _optional(kind: type[_T], value: object) -> _T | None:
    return value if isinstance(value, kind) else None


def _fill(widget: FacetList, entries: list[tuple[object, str, int]]) -> None:
    """Replace the entries after the list's first ("All …") item. A selected key that has no
    count any more stays listed with 0, so that it can be seen and deselected."""
    selected = _selected(widget)
    keys = [key for key, _label, _count in entries]
    if selected is not None and selected not in keys:
        current = widget.currentItem()
        label = str(current.data(Qt.ItemDataRole.UserRole + 1)) if current else str(selected)
        entries = [(selected, label, 0), *entries]
    widget.blockSignals(True)
    while widget.count() > 1:
        widget.takeItem(1)
    for key, label, count in entries:
        item = QListWidgetItem(f"{label}  ({count})")
        item.setData(Qt.ItemDataRole.UserRole, key)
        item.setData(Qt.ItemDataRole.UserRole + 1, label)
        item.setToolTip(label)
        widget.addItem(item)
        if key == selected:
            widget.setCurrentItem(item)
    if selected is None:
        widget.setCurrentRow(0)
    widget.blockSignals(False)
    widget.fit_height()


class FolderList(QWidget):
    """The folders indexed from elsewhere. A checked folder is watched: rescanned for new and
    changed images every minute.

    ``addRequested(str)`` carries a folder chosen with "Add folder…", ``removeRequested(str)``
    the selected folder, ``watchChanged(str, bool)`` a click on a check box and
    ``cancelRequested()`` the Cancel button of a running scan.
    """

    addRequested = Signal(str)
    removeRequested = Signal(str)
    watchChanged = Signal(str, bool)
    cancelRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.list = FacetList()
        self.list.fit_height()
        self.list.setToolTip(self.tr("Checked folders are rescanned every minute"))
        self.list.itemChanged.connect(self._on_item_changed)
        self.list.currentItemChanged.connect(self._update_buttons)
        self.add_button = QPushButton(self.tr("Add folder…"))
        self.add_button.setToolTip(self.tr("Index the images of a folder and its subfolders"))
        self.add_button.clicked.connect(self.choose_folder)
        self.remove_button = QPushButton(self.tr("Remove"))
        self.remove_button.setToolTip(
            self.tr("Remove the folder's images from the gallery; the files stay on disk")
        )
        self.remove_button.clicked.connect(self._remove_selected)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.clicked.connect(self.cancelRequested)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        # Hidden while empty, so that it takes no space below the buttons.
        self.status.hide()
        self.dialog: QFileDialog | None = None

        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        scan_row = QHBoxLayout()
        scan_row.addWidget(self.progress, 1)
        scan_row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list)
        layout.addLayout(buttons)
        layout.addLayout(scan_row)
        layout.addWidget(self.status)
        self.set_scanning(False)
        self._update_buttons()

    def set_folders(self, folders: Sequence[WatchedFolder]) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        for folder in folders:
            item = QListWidgetItem(folder.path)
            item.setData(Qt.ItemDataRole.UserRole, folder.path)
            item.setToolTip(folder.path)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            state = Qt.CheckState.Checked if folder.watch else Qt.CheckState.Unchecked
            item.setCheckState(state)
            self.list.addItem(item)
        self.list.blockSignals(False)
        self.list.fit_height()
        self._update_buttons()

    def choose_folder(self) -> None:
        dialog = QFileDialog(self, self.tr("Add a folder of images to the gallery"))
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
        dialog.fileSelected.connect(self.addRequested)
        self.dialog = dialog
        dialog.open()

    def set_scanning(self, scanning: bool) -> None:
        self.progress.setVisible(scanning)
        self.cancel_button.setVisible(scanning)
        if scanning:
            self.progress.setRange(0, 0)
            self.status.clear()
            self.status.hide()

    def show_progress(self, progress: ScanProgress) -> None:
        self.set_scanning(True)
        self.progress.setRange(0, max(progress.total, 1))
        self.progress.setValue(progress.done)
        self.progress.setFormat(self.tr("%v of %m images"))
        self.progress.setToolTip(progress.folder)

    def show_status(self, text: str) -> None:
        self.set_scanning(False)
        self.status.setText(text)
        self.status.setVisible(bool(text))

    def _remove_selected(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.removeRequested.emit(str(item.data(Qt.ItemDataRole.UserRole)))

    def _on_item_changed(self, item: QListWidgetItem) -> None:
        watch = item.checkState() == Qt.CheckState.Checked
        self.watchChanged.emit(str(item.data(Qt.ItemDataRole.UserRole)), watch)

    def _update_buttons(self, *_args: object) -> None:
        self.remove_button.setEnabled(self.list.currentItem() is not None)
