"""The model library window: which download URL each model file uses, edited by hand.

cmfy.cloud caches models by exact URL, so a file listed under two URLs (a conflict) splits
the cache. Conflicting rows are highlighted, and the tooltip names the URL that wins.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from cmfy_desk.store import StoreError
from cmfy_desk.store.model_library import SOURCE_USER, ModelEntry, ModelLibrary
from cmfy_desk.ui.theme import error_style

log = logging.getLogger(__name__)

ENTRY_ROLE = Qt.ItemDataRole.UserRole + 1
CONFLICT_ROLE = Qt.ItemDataRole.UserRole + 2
_CONFLICT_COLOR = QColor("#fff3cd")
_CONFLICT_TEXT_COLOR = QColor("#5c4400")


class ModelLibraryModel(QAbstractTableModel):
    """The library's entries as rows: name, file name, URL, folder, source.

    ``reload()`` reads the library again after a change; the window has one small table, so a
    reset per change is cheap.
    """

    COLUMNS = ("name", "file_name", "url", "folder", "source")

    def __init__(self, library: ModelLibrary, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._library = library
        self._entries: list[ModelEntry] = []
        self._conflicts: dict[str, list[str]] = {}
        self._canonical: dict[str, str] = {}
        self.reload()

    def reload(self) -> None:
        self.beginResetModel()
        self._entries = self._library.entries()
        self._conflicts = self._library.conflicts()
        self._canonical = self._library.canonical_urls()
        self.endResetModel()

    def conflicts(self) -> dict[str, list[str]]:
        return dict(self._conflicts)

    def entry_at(self, row: int) -> ModelEntry:
        return self._entries[row]

    def row_of(self, entry_id: int) -> int | None:
        for row, entry in enumerate(self._entries):
            if entry.id == entry_id:
                return row
        return None

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._entries)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        if not 0 <= section < len(self.COLUMNS):
            return None
        titles = (
            self.tr("Name"),
            self.tr("File name"),
            self.tr("URL"),
            self.tr("Folder"),
            self.tr("Source"),
        )
        return titles[section]

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._entries):
            return None
        if not 0 <= index.column() < len(self.COLUMNS):
            return None
        entry = self._entries[index.row()]
        conflict = entry.file_name in self._conflicts
        if role == Qt.ItemDataRole.DisplayRole:
            if self.COLUMNS[index.column()] == "source":
                return self.tr("yours") if entry.source == SOURCE_USER else self.tr("templates")
            return str(getattr(entry, self.COLUMNS[index.column()]))
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(entry)
        if role == Qt.ItemDataRole.BackgroundRole and conflict:
            return QBrush(_CONFLICT_COLOR)
        if role == Qt.ItemDataRole.ForegroundRole and conflict:
            return QBrush(_CONFLICT_TEXT_COLOR)
        if role == Qt.ItemDataRole.FontRole and conflict:
            # Of the URLs listed for one file, the one workflows get is shown in bold.
            font = QFont()
            font.setBold(self._canonical.get(entry.file_name) == entry.url)
            return font
        if role == ENTRY_ROLE:
            return entry
        if role == CONFLICT_ROLE:
            return conflict
        return None

    def _tooltip(self, entry: ModelEntry) -> str:
        lines = [entry.url]
        urls = self._conflicts.get(entry.file_name)
        if urls:
            lines.append(
                self.tr(
                    "{file} is listed under {count} URLs, and each URL is a separate cache "
                    "entry on the GPU nodes. Workflows use: {chosen}"
                ).format(
                    file=entry.file_name,
                    count=len(urls),
                    chosen=self._canonical.get(entry.file_name, ""),
                )
            )
        return "\n".join(lines)


class LibraryFilterModel(QSortFilterProxyModel):
    """Rows whose any column contains the filter text, optionally only the conflicts."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._conflicts_only = False
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setFilterKeyColumn(-1)

    def set_conflicts_only(self, only: bool) -> None:
        self.beginFilterChange()
        self._conflicts_only = only
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(
        self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex
    ) -> bool:
        if self._conflicts_only:
            model = self.sourceModel()
            if not model.data(model.index(source_row, 0, source_parent), CONFLICT_ROLE):
                return False
        return super().filterAcceptsRow(source_row, source_parent)


class ModelEntryDialog(QDialog):
    """Edits one entry's name, URL and folder. ``save(name, url, folder)`` stores them and
    returns None, or returns the reason they cannot be stored; the dialog then stays open."""

    def __init__(
        self,
        title: str,
        save: Callable[[str, str, str], str | None],
        entry: ModelEntry | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(560)
        self._save = save
        self.name = QLineEdit(entry.name if entry else "")
        self.name.setPlaceholderText(self.tr("the file name, e.g. flux1-dev.safetensors"))
        self.url = QLineEdit(entry.url if entry else "")
        self.url.setPlaceholderText(self.tr("https://huggingface.co/…/resolve/<commit>/file"))
        self.folder = QLineEdit(entry.folder if entry else "")
        self.folder.setPlaceholderText(self.tr("e.g. checkpoints, loras, vae"))
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet(error_style())
        self.error.hide()
        form = QFormLayout()
        form.addRow(self.tr("Name:"), self.name)
        form.addRow(self.tr("Download URL:"), self.url)
        form.addRow(self.tr("Folder:"), self.folder)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def accept(self) -> None:
        problem = self._save(self.name.text(), self.url.text(), self.folder.text())
        if problem is not None:
            self.error.setText(problem)
            self.error.show()
            return
        super().accept()


class ModelLibraryDialog(QDialog):
    """A non-modal window over the model library: a filterable table, add, edit, remove.
    ``libraryChanged()`` is emitted after each change."""

    libraryChanged = Signal()

    def __init__(self, library: ModelLibrary, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Model library"))
        self.resize(1100, 600)
        self._library = library
        self.entry_dialog: ModelEntryDialog | None = None
        self.confirmation: QMessageBox | None = None

        self.model = ModelLibraryModel(library, self)
        self.proxy = LibraryFilterModel(self)
        self.proxy.setSourceModel(self.model)

        intro = QLabel(
            self.tr(
                "cmfy.cloud names models by download URL and caches them by the exact URL. "
                "A workflow that names a local file gets the URL listed here."
            )
        )
        intro.setWordWrap(True)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText(self.tr("Filter by name, file, URL or folder"))
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.conflicts_only = QCheckBox()
        self.conflicts_only.toggled.connect(self._show_conflicts_only)
        filter_row = QHBoxLayout()
        filter_row.addWidget(self.filter, 1)
        filter_row.addWidget(self.conflicts_only)

        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        for column, width in enumerate((200, 230, 420, 110, 80)):
            self.table.setColumnWidth(column, width)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(lambda _index: self.edit_selected())
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)

        self.add_button = QPushButton(self.tr("Add…"))
        self.add_button.clicked.connect(self.add_entry)
        self.edit_button = QPushButton(self.tr("Edit…"))
        self.edit_button.clicked.connect(self.edit_selected)
        self.remove_button = QPushButton(self.tr("Remove"))
        self.remove_button.clicked.connect(self.remove_selected)
        self.status = QLabel()
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.edit_button)
        buttons.addWidget(self.remove_button)
        buttons.addWidget(self.status, 1)
        buttons.addWidget(close)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(filter_row)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self._refresh()

    # Actions ----------------------------------------------------------------------------------

    def selected_entries(self) -> list[ModelEntry]:
        rows = {index.row() for index in self.table.selectionModel().selectedRows()}
        entries: list[ModelEntry] = []
        for row in sorted(rows):
            entry = self.proxy.index(row, 0).data(ENTRY_ROLE)
            if isinstance(entry, ModelEntry):
                entries.append(entry)
        return entries

    def select_entry(self, entry_id: int) -> None:
        row = self.model.row_of(entry_id)
        if row is None:
            return
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        if index.isValid():
            # The selection model, because selectRow() follows the keyboard modifiers held.
            flags = (
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows
            )
            selection = self.table.selectionModel()
            selection.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.NoUpdate)
            selection.select(index, flags)
            self.table.scrollTo(index)

    def add_entry(self) -> None:
        self._open_entry_dialog(self.tr("Add a model"), None)

    def edit_selected(self) -> None:
        entries = self.selected_entries()
        if entries:
            self._open_entry_dialog(self.tr("Edit a model"), entries[0])

    def remove_selected(self) -> None:
        entries = self.selected_entries()
        if not entries or self.confirmation is not None:
            return
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(self.tr("Remove models"))
        if len(entries) == 1:
            box.setText(self.tr("Remove {name} from the library?").format(name=entries[0].name))
        else:
            box.setText(
                self.tr("Remove {count} models from the library?").format(count=len(entries))
            )
        box.setInformativeText(
            self.tr("Workflows that name these files will need another URL to run on cmfy.cloud.")
        )
        remove = box.addButton(self.tr("Remove"), QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)

        def finished(_result: int) -> None:
            self.confirmation = None
            box.deleteLater()
            if box.clickedButton() is remove:
                self._remove(entries)

        box.finished.connect(finished)
        self.confirmation = box
        box.open()

    def _remove(self, entries: list[ModelEntry]) -> None:
        for entry in entries:
            self._library.remove(entry.id)
        log.info("Removed %d entries from the model library", len(entries))
        self._refresh()
        self.libraryChanged.emit()

    def _open_entry_dialog(self, title: str, entry: ModelEntry | None) -> None:
        if self.entry_dialog is not None:
            self.entry_dialog.raise_()
            return

        def save(name: str, url: str, folder: str) -> str | None:
            try:
                if entry is None:
                    saved = self._library.add(name, url, folder)
                else:
                    saved = self._library.update(entry.id, name=name, url=url, folder=folder)
            except (ValueError, KeyError, StoreError) as exc:
                return str(exc)
            self._refresh()
            self.select_entry(saved.id)
            self.libraryChanged.emit()
            return None

        dialog = ModelEntryDialog(title, save, entry, self)
        dialog.finished.connect(lambda _result: self._forget_entry_dialog(dialog))
        self.entry_dialog = dialog
        dialog.open()

    def _forget_entry_dialog(self, dialog: ModelEntryDialog) -> None:
        if self.entry_dialog is dialog:
            self.entry_dialog = None
        dialog.deleteLater()

    # Display ----------------------------------------------------------------------------------

    def _show_conflicts_only(self, only: bool) -> None:
        self.proxy.set_conflicts_only(only)
        if only:
            # Sorted by file name, the URLs of one file sit together.
            self.table.sortByColumn(1, Qt.SortOrder.AscendingOrder)

    def _refresh(self) -> None:
        self.model.reload()
        conflicts = self.model.conflicts()
        self.conflicts_only.setText(
            self.tr("Only conflicts ({count})").format(count=len(conflicts))
        )
        self.conflicts_only.setToolTip(
            self.tr("File names listed under more than one URL, highlighted in the table")
        )
        self.status.setText(
            self.tr("{count} models · {conflicts} file names with several URLs").format(
                count=self.model.rowCount(), conflicts=len(conflicts)
            )
        )
        self._update_buttons()

    def _update_buttons(self) -> None:
        selected = bool(self.table.selectionModel().selectedRows())
        self.edit_button.setEnabled(selected)
        self.remove_button.setEnabled(selected)
