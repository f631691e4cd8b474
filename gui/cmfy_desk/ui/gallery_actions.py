"""Actions on the gallery's selected images, and the indexing of folders from elsewhere.

ImageActions contains the actions of the grid's context menu and keys: favourite (F), rating
(0 to 5), tags, opening the folder, copying, exporting, moving to the trash, and running a
job's image again. FolderIndexing scans folders of images into the index on a worker thread
and rescans the watched ones.
"""

from __future__ import annotations

import concurrent.futures
import logging
import shutil
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QFile, QMimeData, QObject, QPoint, Qt, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication, QImage, QKeySequence
from PySide6.QtWidgets import (
    QAbstractButton,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cmfy_desk.outputs.folder_scan import FolderScanner, FolderWatcher, ScanError, ScanProgress
from cmfy_desk.scheduler.events import NoticeLevel
from cmfy_desk.store import Gallery, ImageRecord, Output, Store, StoreError
from cmfy_desk.store.gallery import normalize_tags
from cmfy_desk.ui.gallery_search import image_count_text
from cmfy_desk.ui.rerun import RerunAction, rerun_labels

if TYPE_CHECKING:
    from cmfy_desk.ui.gallery import GalleryModel, GalleryView

log = logging.getLogger(__name__)

# Folders that "Open containing folder" opens at most for one selection.
MAX_FOLDERS_OPENED = 5
# The tag dialog reads the tags of at most this many selected images (about 40 ms per 1,000).
# Beyond it every known tag is listed as partly set, and stays as it is unless clicked.
TAG_SCAN_LIMIT = 2000
# Images that compare opens side by side.
COMPARE_COUNTS = (2, 4)
_COPY_CHUNK = 1 << 20


# Exporting ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportResult:
    """The files an export wrote into ``folder``, and a message for each that failed."""

    folder: Path
    copied: list[Path] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def copy_without_overwrite(source: Path, folder: Path) -> Path:
    """Copy ``source`` into ``folder`` under its own name, or with " (2)", " (3)"... before
    the suffix when that name is taken; return the new file.

    The target is created exclusively, so an existing file is never overwritten, even one
    that appears during the copy. Raises OSError when ``source`` cannot be read or the target
    cannot be written; a partly written target is deleted then.
    """
    with source.open("rb") as reader:
        number = 1
        while True:
            name = source.name if number == 1 else f"{source.stem} ({number}){source.suffix}"
            target = folder / name
            try:
                writer = target.open("xb")
            except FileExistsError:
                number += 1
                continue
            try:
                with writer:
                    shutil.copyfileobj(reader, writer, _COPY_CHUNK)
            except BaseException:
                target.unlink(missing_ok=True)
                raise
            break
    shutil.copystat(source, target)
    return target


def export_files(paths: Sequence[Path], folder: Path) -> ExportResult:
    """Copy each of ``paths`` into ``folder`` without overwriting anything."""
    result = ExportResult(folder)
    for path in paths:
        try:
            result.copied.append(copy_without_overwrite(path, folder))
        except OSError as exc:
            log.warning("Exporting %s to %s failed: %s", path, folder, exc)
            result.errors.append(f"{path}: {exc.strerror or exc}")
    return result


def _rating_text(stars: int) -> str:
    if stars == 0:
        return QCoreApplication.translate("ImageActions", "No rating")
    if stars == 1:
        return QCoreApplication.translate("ImageActions", "1 star")
    return QCoreApplication.translate("ImageActions", "{count} stars").format(count=stars)


def output_of(store: Store, record: ImageRecord) -> Output | None:
    """Return the job output that ``record`` indexes, or None for an image from a folder."""
    if record.output_id is None or record.job_id is None:
        return None
    for output in store.outputs(record.job_id):
        if output.id == record.output_id:
            return output
    return None


# Actions on the selection ---------------------------------------------------------------


class ImageActions(QObject):
    """The actions on the images selected in ``view``, with their keys and context menu.

    ``openRequested(Output)`` requests the viewer for a job's image,
    ``rerunRequested(Output, RerunAction)`` a new run of its job,
    ``compareRequested(list[Output])`` a comparison of 2 or 4 job images,
    ``noticeRequested(NoticeLevel, str)`` a message, and ``exported(ExportResult)`` follows an
    export.
    """

    openRequested = Signal(object)
    rerunRequested = Signal(object, object)
    compareRequested = Signal(object)
    noticeRequested = Signal(object, str)
    exported = Signal(object)

    def __init__(self, view: GalleryView, model: GalleryModel, parent: QObject) -> None:
        super().__init__(parent)
        self._view = view
        self._model = model
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="cmfy-desk-export"
        )
        self.trash_box: QMessageBox | None = None
        self.tag_dialog: TagDialog | None = None
        self.export_dialog: QFileDialog | None = None

        self.open_action = self._action(self.tr("Open"), None, self.open_current)
        self.open_folder_action = self._action(
            self.tr("Open containing folder"), None, self.open_folders
        )
        self.favourite_action = self._action(
            self.tr("Favourite"), QKeySequence(Qt.Key.Key_F), self.toggle_favourite
        )
        self.rating_actions = [
            self._action(
                _rating_text(stars),
                QKeySequence(str(stars)),
                partial(self.set_rating, stars),
            )
            for stars in range(6)
        ]
        self.tags_action = self._action(
            self.tr("Tags…"), QKeySequence(Qt.Key.Key_T), self.edit_tags
        )
        self.copy_action = self._action(
            self.tr("Copy"), QKeySequence(QKeySequence.StandardKey.Copy), self.copy
        )
        self.export_action = self._action(self.tr("Export…"), None, self.choose_export_folder)
        self.trash_action = self._action(self.tr("Move to Trash…"), None, self.confirm_trash)
        self.rerun_actions = {
            action: self._action(text, None, partial(self.rerun, action))
            for action, text in rerun_labels()
        }
        self.compare_action = self._action(self.tr("Compare"), None, self.compare)
        self.exported.connect(self._on_exported)

        view.customContextMenuRequested.connect(self._show_menu)
        view.selectionModel().selectionChanged.connect(self.update_enabled)
        view.selectionModel().currentChanged.connect(self.update_enabled)
        model.modelReset.connect(self.update_enabled)
        self.update_enabled()

    def _action(
        self, text: str, shortcut: QKeySequence | None, slot: Callable[[], None]
    ) -> QAction:
        action = QAction(text, self._view)
        if shortcut is not None:
            action.setShortcut(shortcut)
            # Keys act only while the grid has the focus, so typing a search is unaffected.
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(lambda _checked=False: slot())
        self._view.addAction(action)
        return action

    def menu(self) -> QMenu:
        """Return the context menu for the selection."""
        menu = QMenu(self._view)
        menu.addAction(self.open_action)
        menu.addAction(self.open_folder_action)
        menu.addSeparator()
        menu.addAction(self.favourite_action)
        rating = menu.addMenu(self.tr("Rating"))
        for action in self.rating_actions:
            rating.addAction(action)
        menu.addAction(self.tags_action)
        menu.addSeparator()
        for action in self.rerun_actions.values():
            menu.addAction(action)
        menu.addAction(self.compare_action)
        menu.addSeparator()
        menu.addAction(self.copy_action)
        menu.addAction(self.export_action)
        menu.addAction(self.trash_action)
        return menu

    def _show_menu(self, position: QPoint) -> None:
        index = self._view.indexAt(position)
        if not index.isValid():
            return
        if not self._view.selectionModel().isSelected(index):
            self._view.setCurrentIndex(index)
        menu = self.menu()
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(self._view.viewport().mapToGlobal(position))

    def update_enabled(self, *_args: object) -> None:
        count = len(self._view.selected_rows())
        current = self._view.current_record() if count else None
        from_job = current is not None and current.output_id is not None
        for action in (
            self.open_folder_action,
            self.favourite_action,
            self.tags_action,
            self.copy_action,
            self.export_action,
            self.trash_action,
            *self.rating_actions,
        ):
            action.setEnabled(count > 0)
        self.open_action.setEnabled(current is not None)
        for action in self.rerun_actions.values():
            action.setEnabled(from_job)
        self.compare_action.setEnabled(count in COMPARE_COUNTS)
        if current is not None:
            self.favourite_action.setText(
                self.tr("Remove from favourites") if current.favourite else self.tr("Favourite")
            )

    def _gallery(self) -> Gallery | None:
        store = self._model.store
        return store.gallery if store is not None else None

    def _notify(self, level: NoticeLevel, text: str) -> None:
        self.noticeRequested.emit(level, text)

    # Rating, favourite and tags -----------------------------------------------------------

    def toggle_favourite(self) -> None:
        """Make every selected image a favourite, or none when the current one is."""
        ids = self._view.selected_ids()
        current = self._view.current_record()
        favourite = not (current is not None and current.favourite)
        self._change(ids, lambda gallery: gallery.set_favourite(ids, favourite))

    def set_rating(self, stars: int) -> None:
        ids = self._view.selected_ids()
        self._change(ids, lambda gallery: gallery.set_rating(ids, stars))

    def _change(self, ids: list[int], change: Callable[[Gallery], None]) -> None:
        gallery = self._gallery()
        if gallery is None or not ids:
            return
        try:
            change(gallery)
        except (StoreError, sqlite3.Error) as exc:
            log.warning("Changing %d images failed: %s", len(ids), exc)
            self._notify(
                NoticeLevel.ERROR,
                self.tr("Saving the change to {count} images failed: {error}").format(
                    count=len(ids), error=exc
                ),
            )
            return
        self._model.records_changed(ids)
        self.update_enabled()

    def edit_tags(self) -> None:
        """Open the tag dialog for the selection; its changes apply when it is accepted."""
        gallery = self._gallery()
        ids = self._view.selected_ids()
        if gallery is None or not ids:
            return
        records = self._view.selected_records() if len(ids) <= TAG_SCAN_LIMIT else None
        dialog = TagDialog(len(ids), records, gallery.tag_counts(), self._view)
        dialog.accepted.connect(lambda: self._apply_tags(ids, dialog))
        dialog.finished.connect(dialog.deleteLater)
        self.tag_dialog = dialog
        dialog.open()

    def _apply_tags(self, ids: list[int], dialog: TagDialog) -> None:
        added, removed = dialog.changes()

        def change(gallery: Gallery) -> None:
            if added:
                gallery.add_tags(ids, added)
            if removed:
                gallery.remove_tags(ids, removed)

        if added or removed:
            self._change(ids, change)

    # Files --------------------------------------------------------------------------------

    def open_record(self, record: ImageRecord) -> None:
        """Open a job's image in the viewer, and any other image in the system's viewer."""
        store = self._model.store
        output = output_of(store, record) if store is not None else None
        if output is not None:
            self.openRequested.emit(output)
        else:
            QDesktopServices.openUrl(QUrl.fromLocalFile(record.path))

    def open_current(self) -> None:
        record = self._view.current_record()
        if record is not None:
            self.open_record(record)

    def open_folders(self) -> None:
        folders = dict.fromkeys(str(Path(record.path).parent) for record in self._selected())
        for folder in list(folders)[:MAX_FOLDERS_OPENED]:
            QDesktopServices.openUrl(QUrl.fromLocalFile(folder))

    def _selected(self) -> list[ImageRecord]:
        return self._view.selected_records()

    def copy(self) -> None:
        """Put the selected files on the clipboard as file URLs, and one image as pixels."""
        records = self._selected()
        if not records:
            return
        data = clipboard_data([Path(record.path) for record in records])
        QGuiApplication.clipboard().setMimeData(data)

    def choose_export_folder(self) -> None:
        paths = [Path(record.path) for record in self._selected()]
        if not paths:
            return
        dialog = QFileDialog(
            self._view,
            self.tr("Export {images} to a folder").format(images=image_count_text(len(paths))),
        )
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
        dialog.fileSelected.connect(lambda folder: self.export_to(Path(folder), paths))
        self.export_dialog = dialog
        dialog.open()

    def export_to(self, folder: Path, paths: Sequence[Path]) -> concurrent.futures.Future[None]:
        """Copy ``paths`` into ``folder`` on a worker thread; ``exported`` follows."""
        return self._executor.submit(lambda: self.exported.emit(export_files(paths, folder)))

    def _on_exported(self, result: ExportResult) -> None:
        if result.copied:
            self._notify(
                NoticeLevel.INFO,
                self.tr("Exported {images} to {folder}.").format(
                    images=image_count_text(len(result.copied)), folder=result.folder
                ),
            )
        if result.errors:
            self._notify(
                NoticeLevel.ERROR,
                self.tr("Exporting failed for {images}: {errors}").format(
                    images=image_count_text(len(result.errors)),
                    errors="; ".join(result.errors[:5]),
                ),
            )

    def confirm_trash(self) -> None:
        """Ask whether to keep the records of the selected images, then move the files to the
        trash."""
        records = self._selected()
        if not records:
            return
        box = QMessageBox(self._view)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(self.tr("Move to Trash"))
        box.setText(
            self.tr("Move {images} to the trash?").format(images=image_count_text(len(records)))
        )
        box.setInformativeText(
            self.tr(
                "The files can be restored from the trash. Keep their records in the gallery "
                "(marked missing, with rating and tags), or remove the records as well?"
            )
        )
        keep = box.addButton(self.tr("Keep records"), QMessageBox.ButtonRole.AcceptRole)
        remove = box.addButton(self.tr("Remove records"), QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)

        def answered(button: QAbstractButton) -> None:
            if button is keep or button is remove:
                self.trash(records, keep_records=button is keep)

        box.buttonClicked.connect(answered)
        box.finished.connect(box.deleteLater)
        self.trash_box = box
        box.open()

    def trash(self, records: Sequence[ImageRecord], *, keep_records: bool) -> list[int]:
        """Move the files of ``records`` to the trash; return the ids of those moved.

        With ``keep_records`` their rows stay, marked missing; otherwise they are deleted. A
        file that is already gone counts as moved.
        """
        gallery = self._gallery()
        if gallery is None:
            return []
        moved: list[ImageRecord] = []
        errors: list[str] = []
        for record in records:
            if not Path(record.path).exists():
                moved.append(record)
                continue
            if QFile(record.path).moveToTrash():
                moved.append(record)
            else:
                log.warning("Moving %s to the trash failed", record.path)
                errors.append(record.path)
        ids = [record.id for record in moved]
        try:
            if keep_records:
                gallery.mark_missing([record.path for record in moved])
            else:
                gallery.remove(ids)
        except (StoreError, sqlite3.Error) as exc:
            log.warning("Updating the records of trashed images failed: %s", exc)
            errors.append(str(exc))
        if keep_records and self._model.shows_missing():
            self._model.records_changed(ids)
        else:
            self._model.remove_ids(ids)
        if errors:
            self._notify(
                NoticeLevel.ERROR,
                self.tr(
                    "Moving {images} to the trash failed: {paths}. Check that the files can "
                    "be written and that the drive has a trash folder."
                ).format(images=image_count_text(len(errors)), paths="; ".join(errors[:5])),
            )
        return ids

    # Jobs ---------------------------------------------------------------------------------

    def _outputs(self, records: Sequence[ImageRecord]) -> list[Output]:
        store = self._model.store
        if store is None:
            return []
        return [output for record in records if (output := output_of(store, record))]

    def rerun(self, action: RerunAction) -> None:
        """Run the job of the current image again as ``action`` selects. "Run again" runs the
        job of every selected image."""
        if action is RerunAction.RUN_AGAIN:
            records = self._selected()
        else:
            current = self._view.current_record()
            records = [current] if current is not None else []
        outputs = self._outputs(records)
        if not outputs and records:
            self._notify(
                NoticeLevel.WARNING,
                self.tr(
                    "{name} was not made by a job of Cmfy Desk, so it cannot run again."
                ).format(name=Path(records[0].path).name),
            )
        for output in outputs:
            self.rerunRequested.emit(output, action)

    def compare(self) -> None:
        records = self._selected()
        outputs = self._outputs(records)
        if len(outputs) in COMPARE_COUNTS and len(outputs) == len(records):
            self.compareRequested.emit(outputs)
        else:
            self._notify(
                NoticeLevel.WARNING,
                self.tr("Select 2 or 4 images made by jobs to compare them."),
            )

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True)


def clipboard_data(paths: Sequence[Path]) -> QMimeData:
    """Return clipboard data for ``paths``: file URLs, the paths as text, and the pixels when
    there is one image."""
    data = QMimeData()
    urls = [QUrl.fromLocalFile(str(path)) for path in paths]
    data.setUrls(urls)
    data.setText("\n".join(str(path) for path in paths))
    # GNOME's file manager pastes files from this format rather than from URLs.
    gnome = "copy\n" + "\n".join(url.toString() for url in urls)
    data.setData("x-special/gnome-copied-files", gnome.encode("utf-8"))
    if len(paths) == 1:
        image = QImage(str(paths[0]))
        if not image.isNull():
            data.setImageData(image)
    return data


# Tags -----------------------------------------------------------------------------------


class TagDialog(QDialog):
    """The tags of a selection as check boxes: checked when every image has the tag, partly
    checked when some have it. A new tag is typed with completion from the tags in use.
    changes() returns the tags to add to every image and the tags to remove from every one."""

    def __init__(
        self,
        selected: int,
        records: Sequence[ImageRecord] | None,
        known: Sequence[tuple[str, int]],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Tags of {images}").format(images=image_count_text(selected)))
        self.list = QListWidget()
        counts: dict[str, tuple[str, int]] = {}
        if records is not None:
            for record in records:
                for tag in record.tags:
                    name, count = counts.get(tag.casefold(), (tag, 0))
                    counts[tag.casefold()] = (name, count + 1)
        else:
            counts = {name.casefold(): (name, -1) for name, _count in known}
        for name, count in sorted(counts.values(), key=lambda item: item[0].casefold()):
            self._add_item(name, count, selected)

        self.new_tag = QLineEdit()
        self.new_tag.setPlaceholderText(self.tr("New tag"))
        completer = QCompleter([name for name, _count in known], self.new_tag)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.new_tag.setCompleter(completer)
        self.new_tag.returnPressed.connect(self.add_typed_tag)
        add = QPushButton(self.tr("Add"))
        add.setAutoDefault(False)
        add.clicked.connect(self.add_typed_tag)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)

        row = QHBoxLayout()
        row.addWidget(self.new_tag, 1)
        row.addWidget(add)
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(self.tr("Checked tags are set on every selected image, unchecked ones on none."))
        )
        layout.addWidget(self.list, 1)
        layout.addLayout(row)
        layout.addWidget(buttons)
        self.resize(380, 420)

    def _add_item(self, name: str, count: int, selected: int) -> QListWidgetItem:
        if count == selected:
            state = Qt.CheckState.Checked
            label = name
        elif count == 0:
            state = Qt.CheckState.Unchecked
            label = name
        else:
            state = Qt.CheckState.PartiallyChecked
            label = (
                name
                if count < 0
                else self.tr("{tag} ({count} of {total})").format(
                    tag=name, count=count, total=selected
                )
            )
        item = QListWidgetItem(label)
        flags = item.flags() | Qt.ItemFlag.ItemIsUserCheckable
        if state is Qt.CheckState.PartiallyChecked:
            flags |= Qt.ItemFlag.ItemIsUserTristate
        item.setFlags(flags)
        item.setCheckState(state)
        item.setData(Qt.ItemDataRole.UserRole, name)
        item.setData(Qt.ItemDataRole.UserRole + 1, state.value)
        self.list.addItem(item)
        return item

    def add_typed_tag(self) -> None:
        """Add the typed tag, checked, or check it when it is listed."""
        names = normalize_tags([self.new_tag.text()])
        if not names:
            return
        name = names[0]
        for row in range(self.list.count()):
            item = self.list.item(row)
            if str(item.data(Qt.ItemDataRole.UserRole)).casefold() == name.casefold():
                item.setCheckState(Qt.CheckState.Checked)
                break
        else:
            self._add_item(name, 0, -1).setCheckState(Qt.CheckState.Checked)
        self.new_tag.clear()

    def changes(self) -> tuple[list[str], list[str]]:
        """Return ``(added, removed)``: tags now checked that not every image had, and tags
        now unchecked that some image had."""
        added: list[str] = []
        removed: list[str] = []
        for row in range(self.list.count()):
            item = self.list.item(row)
            name = str(item.data(Qt.ItemDataRole.UserRole))
            before = Qt.CheckState(item.data(Qt.ItemDataRole.UserRole + 1))
            now = item.checkState()
            if now == Qt.CheckState.Checked and before != Qt.CheckState.Checked:
                added.append(name)
            elif now == Qt.CheckState.Unchecked and before != Qt.CheckState.Unchecked:
                removed.append(name)
        return added, removed


# Folders from elsewhere -----------------------------------------------------------------


class FolderIndexing(QObject):
    """Scans folders of images into the index and rescans the watched ones.

    ``foldersChanged(list[WatchedFolder])`` carries the folders after each change,
    ``progressed(ScanProgress)`` a running scan's state, ``finished(str)`` a summary when a
    scan ends, ``libraryChanged()`` follows every scan that changed the index, and
    ``noticeRequested(NoticeLevel, str)`` carries errors.
    """

    foldersChanged = Signal(object)
    progressed = Signal(object)
    finished = Signal(str)
    libraryChanged = Signal()
    noticeRequested = Signal(object, str)
    # Emitted on worker threads; Qt delivers them on the UI thread.
    _scanEnded = Signal(object, object)
    _watchScanned = Signal(object)
    _watchFailed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store: Store | None = None
        self._scanner: FolderScanner | None = None
        self._watcher: FolderWatcher | None = None
        self.remove_box: QMessageBox | None = None
        self._scanEnded.connect(self._on_scan_ended)
        self._watchScanned.connect(self._on_watch_scanned)
        self._watchFailed.connect(lambda text: self.noticeRequested.emit(NoticeLevel.WARNING, text))

    def attach(self, store: Store | None) -> None:
        self.shutdown()
        self._store = store
        if store is None:
            self.foldersChanged.emit([])
            return
        self._scanner = FolderScanner(store.path, progress=self.progressed.emit)
        self._publish()
        self._update_watcher()

    def scanner(self) -> FolderScanner | None:
        return self._scanner

    def add_folder(
        self, folder: Path, watch: bool = False
    ) -> concurrent.futures.Future[ScanProgress] | None:
        """Add ``folder`` to the indexed folders and scan it; return the scan's future."""
        if self._store is None or self._scanner is None:
            return None
        path = folder.expanduser().resolve()
        if not path.is_dir():
            self.noticeRequested.emit(
                NoticeLevel.ERROR,
                self.tr("{path} is not a folder. Choose an existing folder.").format(path=path),
            )
            return None
        try:
            self._store.gallery.add_watched_folder(str(path), watch)
        except (StoreError, sqlite3.Error) as exc:
            self._fail(self.tr("Adding the folder {path} failed: {error}"), path, exc)
            return None
        self._publish()
        self._update_watcher()
        self.progressed.emit(ScanProgress(str(path)))
        future = self._scanner.scan(path)
        future.add_done_callback(lambda done: self._scanEnded.emit(path, done))
        return future

    def remove_folder(self, path: str) -> None:
        """Ask, then stop indexing ``path`` and remove its images' records (never files)."""
        box = QMessageBox(QMessageBox.Icon.Question, self.tr("Remove folder"), "")
        box.setText(self.tr("Remove {path} from the gallery?").format(path=path))
        box.setInformativeText(
            self.tr(
                "The records of its images, with their ratings and tags, are removed. The "
                "files stay on disk."
            )
        )
        remove = box.addButton(self.tr("Remove"), QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.buttonClicked.connect(
            lambda button: self.forget_folder(path) if button is remove else None
        )
        box.finished.connect(box.deleteLater)
        self.remove_box = box
        box.open()

    def forget_folder(self, path: str) -> None:
        if self._store is None:
            return
        try:
            self._store.gallery.remove_watched_folder(path, remove_images=True)
        except (StoreError, sqlite3.Error) as exc:
            self._fail(self.tr("Removing the folder {path} failed: {error}"), Path(path), exc)
            return
        self._publish()
        self._update_watcher()
        self.libraryChanged.emit()

    def set_watch(self, path: str, watch: bool) -> None:
        if self._store is None:
            return
        try:
            self._store.gallery.set_watch(path, watch)
        except (StoreError, sqlite3.Error) as exc:
            self._fail(self.tr("Changing the folder {path} failed: {error}"), Path(path), exc)
            return
        self._update_watcher()

    def cancel(self) -> None:
        if self._scanner is not None:
            self._scanner.cancel()

    def shutdown(self) -> None:
        """Stop the running scan at its next file and the watcher, and wait for both."""
        if self._scanner is not None:
            self._scanner.close(wait=True)
            self._scanner = None
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None

    def _publish(self) -> None:
        if self._store is not None:
            self.foldersChanged.emit(self._store.gallery.watched_folders())

    def _update_watcher(self) -> None:
        store = self._store
        watched = store is not None and any(f.watch for f in store.gallery.watched_folders())
        if watched and self._watcher is None and store is not None:
            self._watcher = FolderWatcher(
                store.path, progress=self._watch_progress, on_error=self._watchFailed.emit
            )
            self._watcher.start()
        elif not watched and self._watcher is not None:
            self._watcher.stop()
            self._watcher = None

    def _watch_progress(self, progress: ScanProgress) -> None:
        if progress.finished and (progress.indexed or progress.missing):
            self._watchScanned.emit(progress)

    def _on_watch_scanned(self, progress: ScanProgress) -> None:
        log.info("Watched folder %s changed", progress.folder)
        self.libraryChanged.emit()

    def _on_scan_ended(self, path: Path, future: concurrent.futures.Future[ScanProgress]) -> None:
        if future.cancelled():
            self.finished.emit(self.tr("The scan of {path} was cancelled.").format(path=path))
            return
        try:
            result = future.result()
        except (ScanError, StoreError, sqlite3.Error) as exc:
            self.finished.emit(str(exc))
            self._fail(self.tr("Scanning {path} failed: {error}"), path, exc)
            return
        self._publish()
        self.finished.emit(scan_summary(result))
        if result.indexed or result.missing:
            self.libraryChanged.emit()
        for error in result.errors:
            self.noticeRequested.emit(NoticeLevel.WARNING, error)

    def _fail(self, template: str, path: Path, exc: Exception) -> None:
        log.warning("%s: %s", path, exc)
        self.noticeRequested.emit(NoticeLevel.ERROR, template.format(path=path, error=exc))


def scan_summary(result: ScanProgress) -> str:
    """Return one sentence on what a finished scan did."""
    text = QCoreApplication.translate(
        "FolderIndexing",
        "{folder}: {indexed} images indexed, {unchanged} unchanged, {failed} damaged or "
        "unreadable, {missing} missing.",
    ).format(
        folder=Path(result.folder).name or result.folder,
        indexed=result.indexed,
        unchanged=result.unchanged,
        failed=result.failed,
        missing=result.missing,
    )
    if result.cancelled:
        text += " " + QCoreApplication.translate(
            "FolderIndexing", "The scan was cancelled before the end."
        )
    return text
