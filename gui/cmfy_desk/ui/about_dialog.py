"""The Help menu's windows: About Cmfy Desk and Keyboard shortcuts, the default shortcuts of
frequent actions, and opening the log folder.

Every window here opens with ``show()``, never ``exec()``, because a nested event loop would
stall the asyncio loop that qasync runs on Qt's.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import platform
from pathlib import Path

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt, QUrl, qVersion
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMenu,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cmfy_desk import APP_NAME, __version__
from cmfy_desk.logs import current_log_file

log = logging.getLogger(__name__)

# The licence declared in pyproject.toml (SPDX expression); a test keeps the two equal.
LICENCE = "GPL-3.0-or-later"

# (label, distribution name, module name) of the libraries the About box lists. The module's
# __version__ is the fallback where a frozen build has no distribution metadata.
_COMPONENTS = (
    ("httpx", "httpx", "httpx"),
    ("aiohttp", "aiohttp", "aiohttp"),
    ("qasync", "qasync", "qasync"),
    ("Pillow", "Pillow", "PIL"),
    ("keyring", "keyring", "keyring"),
)

# Shortcuts that add_missing_shortcuts() gives the window's frequent actions, by attribute name
# of the action on the window. Translators may change the keys, as with the window's own.
DEFAULT_SHORTCUTS = (
    ("add_folder_action", QT_TRANSLATE_NOOP("Shortcuts", "Ctrl+Shift+O")),
    ("pause_action", QT_TRANSLATE_NOOP("Shortcuts", "Ctrl+P")),
    ("open_folder_action", QT_TRANSLATE_NOOP("Shortcuts", "Ctrl+E")),
    ("model_library_action", QT_TRANSLATE_NOOP("Shortcuts", "Ctrl+Shift+M")),
)


def library_version(distribution: str, module: str) -> str | None:
    """Return the installed version of a library, or None when it cannot be found."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        pass
    try:
        imported = importlib.import_module(module)
    except ImportError:
        return None
    version = getattr(imported, "__version__", None)
    return str(version) if version is not None else None


def component_versions() -> list[tuple[str, str]]:
    """Return (name, version) of Qt, PySide6, Python and the libraries Cmfy Desk runs on."""
    versions = [
        ("Qt", qVersion()),
        ("PySide6", pyside_version),
        ("Python", f"{platform.python_version()} ({platform.python_implementation()})"),
    ]
    for label, distribution, module in _COMPONENTS:
        version = library_version(distribution, module)
        versions.append(
            (
                label,
                version
                if version is not None
                else QCoreApplication.translate("AboutDialog", "not found"),
            )
        )
    return versions


def versions_text() -> str:
    """Return the version of Cmfy Desk, the OS and every component, one per line."""
    lines = [f"{APP_NAME} {__version__}", f"OS: {platform.platform()}"]
    lines.extend(f"{name}: {version}" for name, version in component_versions())
    return "\n".join(lines)


def open_log_folder(folder: Path | None = None) -> bool:
    """Open ``folder`` (default: the folder of the current log file) in the file manager.
    Returns False when there is no log file yet or the desktop cannot open folders."""
    if folder is None:
        log_file = current_log_file()
        if log_file is None:
            log.warning("There is no log file to show: logging is not set up")
            return False
        folder = log_file.parent
    if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
        log.warning("The desktop could not open the log folder %s", folder)
        return False
    return True


class AboutDialog(QDialog):
    """The version and licence of Cmfy Desk and the versions of what it runs on, with a
    button that copies them for a bug report."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("About Cmfy Desk"))

        icon = QLabel()
        icon.setPixmap(self.windowIcon().pixmap(64, 64))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        title = QLabel(self.tr("Cmfy Desk {version}").format(version=__version__))
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        title.setFont(font)
        summary = QLabel(
            self.tr("Runs ComfyUI workflows in batches on cmfy.cloud or the built-in sandbox.")
        )
        summary.setWordWrap(True)
        licence = QLabel(
            self.tr(
                "Licence: {licence}. Cmfy Desk is free software under the GNU General Public "
                "License, version 3 or any later version, and comes without any warranty."
            ).format(licence=LICENCE)
        )
        licence.setWordWrap(True)
        licence.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.versions = component_versions()
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        for name, version in self.versions:
            value = QLabel(version)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(name + ":", value)

        text = QVBoxLayout()
        text.addWidget(title)
        text.addWidget(summary)
        text.addWidget(licence)
        text.addSpacing(8)
        text.addLayout(form)
        top = QHBoxLayout()
        top.addWidget(icon)
        top.addLayout(text, 1)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText(self.tr("Close"))
        self.copy_button = QPushButton(self.tr("Copy versions"))
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self.copy_versions)
        buttons.rejected.connect(self.close)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(buttons)
        self.setMinimumWidth(460)

    def copy_versions(self) -> None:
        QGuiApplication.clipboard().setText(versions_text())


# Pixels; a longer list of shortcuts scrolls.
MAX_LIST_HEIGHT = 560


def _plain_text(text: str) -> str:
    """Return a menu or action text without its mnemonic marker and trailing ellipsis."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("…").rstrip(".")


def shortcut_entries(window: QMainWindow) -> list[tuple[str, str, str]]:
    """Return (menu, action, shortcut) for every action of ``window`` that has a shortcut.

    Actions come from the menu bar in menu order, then from the widgets inside the window,
    such as actions added to the window itself. ``menu`` is empty for those outside menus.
    """
    entries: list[tuple[str, str, str]] = []
    seen: set[int] = set()

    def add(menu_title: str, action: QAction) -> None:
        if id(action) in seen or action.isSeparator():
            return
        seen.add(id(action))
        keys = [key for key in action.shortcuts() if not key.isEmpty()]
        if keys and action.text():
            shortcut = ", ".join(
                key.toString(QKeySequence.SequenceFormat.NativeText) for key in keys
            )
            entries.append((menu_title, _plain_text(action.text()), shortcut))

    def walk(menu: QMenu, title: str) -> None:
        for action in menu.actions():
            submenu = action.menu()
            if isinstance(submenu, QMenu):
                walk(submenu, title)
            else:
                add(title, action)

    for top_action in window.menuBar().actions():
        menu = top_action.menu()
        if isinstance(menu, QMenu):
            walk(menu, _plain_text(top_action.text()))
    for action in window.actions():
        add("", action)
    for widget in window.findChildren(QWidget):
        if widget.window() is window:
            for action in widget.actions():
                add("", action)
    return entries


class ShortcutsDialog(QDialog):
    """Lists the keyboard shortcuts of a window's actions, grouped by menu. The list is read
    from the actions when the dialog opens, so it always matches the menus."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.setWindowTitle(self.tr("Keyboard shortcuts"))
        self.tree = QTreeWidget()
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels([self.tr("Action"), self.tr("Shortcut")])
        self.tree.setRootIsDecorated(False)
        self.tree.setSelectionMode(QTreeWidget.SelectionMode.NoSelection)
        self.tree.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        groups: dict[str, QTreeWidgetItem] = {}
        for menu, action, shortcut in shortcut_entries(window):
            title = menu or self.tr("Other")
            group = groups.get(title)
            if group is None:
                group = QTreeWidgetItem(self.tree, [title])
                font = group.font(0)
                font.setBold(True)
                group.setFont(0, font)
                group.setFirstColumnSpanned(True)
                groups[title] = group
            QTreeWidgetItem(group, [action, shortcut])
        self.tree.expandAll()
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self._fit_tree(len(groups) + sum(group.childCount() for group in groups.values()))

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText(self.tr("Close"))
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tree)
        layout.addWidget(buttons)

    def _fit_tree(self, rows: int) -> None:
        """Size the list to show every row and both columns without scrolling, up to
        MAX_LIST_HEIGHT pixels high."""
        frame = 2 * self.tree.frameWidth()
        # The spacing keeps the shortcut column apart from the longest action name.
        width = self.tree.sizeHintForColumn(0) + self.tree.sizeHintForColumn(1) + frame + 32
        row_height = self.tree.sizeHintForRow(0) if rows else 0
        height = self.tree.header().sizeHint().height() + rows * row_height + frame + 4
        self.tree.setMinimumSize(max(width, 360), min(height, MAX_LIST_HEIGHT))

    def rows(self) -> list[tuple[str, str, str]]:
        """Return the (menu, action, shortcut) rows the dialog shows."""
        shown: list[tuple[str, str, str]] = []
        for index in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(index)
            assert group is not None
            for child in range(group.childCount()):
                item = group.child(child)
                assert item is not None
                shown.append((group.text(0), item.text(0), item.text(1)))
        return shown


def open_about_dialog(parent: QWidget) -> AboutDialog:
    dialog = AboutDialog(parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog


def open_shortcuts_dialog(window: QMainWindow) -> ShortcutsDialog:
    dialog = ShortcutsDialog(window)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog


def add_missing_shortcuts(window: QMainWindow) -> None:
    """Give the frequent actions of ``window`` listed in DEFAULT_SHORTCUTS their shortcut,
    unless the action already has one or another action of the window uses that key.
    Call it after the menus are built."""
    taken = {
        key.toString()
        for action in window.findChildren(QAction)
        for key in action.shortcuts()
        if not key.isEmpty()
    }
    for name, text in DEFAULT_SHORTCUTS:
        action = getattr(window, name, None)
        if not isinstance(action, QAction) or not action.shortcut().isEmpty():
            continue
        key = QKeySequence(QCoreApplication.translate("Shortcuts", str(text)))
        if key.toString() in taken:
            log.warning("Not giving %s the shortcut %s: another action uses it", name, text)
            continue
        action.setShortcut(key)
        taken.add(key.toString())
        if not action.associatedObjects():
            # A shortcut works only while its action is added to a shown widget. Actions that
            # appear only in a context menu built on demand are added to the window for that.
            window.addAction(action)
