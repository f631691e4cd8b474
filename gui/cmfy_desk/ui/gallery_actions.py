"""Actions on the gallery's selected images.

ImageActions contains the actions of the grid's context menu and keys: favourite (F), rating
(0 to 5), tags, opening the folder, copying, exporting, moving to the trash, and running a
job's image again. The tag dialog is in tag_dialog, and the indexing of folders from elsewhere
in folder_indexing.
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
from PySide6.QtWidgets import QAbstractButton, QFileDialog, QMenu, QMessageBox

from cmfy_desk.scheduler.events import NoticeLevel
from cmfy_desk.store import Gallery, ImageRecord, Output, Store, StoreError
from cmfy_desk.ui.folder_indexing import FolderIndexing as FolderIndexing  # for gallery.py
from cmfy_desk.ui.gallery_search import image_count_text
from cmfy_desk.ui.rerun import RerunAction, rerun_labels
from cmfy_desk.ui.tag_dialog import TagDialog
from cmfy_desk.ui.trash import ensure_home_trash

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
        ensure_home_trash()
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
