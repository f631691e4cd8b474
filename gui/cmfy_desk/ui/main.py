"""Start-up of the window: the Qt application, the asyncio loop over it, and the engine.

Before anything else starts, a second ``cmfy-desk`` on the same data folder hands its files to
the running window and exits (see single_instance). The window then gets translations, the
crash dialog, the tray icon and its remembered splitter and folder.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

import qasync
from PySide6.QtCore import (
    QByteArray,
    QDir,
    QEvent,
    QLibraryInfo,
    QLocale,
    QObject,
    QSettings,
    QTranslator,
)
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QFileDialog, QSplitter

from cmfy_desk import APP_NAME, __version__
from cmfy_desk.app import SANDBOX_CONNECTION, Engine, EngineError, scheduler_options
from cmfy_desk.keystore import ApiKeyStore
from cmfy_desk.logs import setup_logging
from cmfy_desk.outputs.thumbnail_workers import shutdown_shared_workers
from cmfy_desk.paths import AppPaths, resolve_paths, resource_path
from cmfy_desk.settings import Settings
from cmfy_desk.store import StoreError
from cmfy_desk.ui.collector import MainThreadCollector
from cmfy_desk.ui.connection import connection_from_settings, engine_from_settings
from cmfy_desk.ui.crash_dialog import CrashReporter
from cmfy_desk.ui.main_window import MainWindow
from cmfy_desk.ui.single_instance import HandoverError, InstanceServer, claim_instance, server_name
from cmfy_desk.ui.theme import apply_theme, theme_choice
from cmfy_desk.ui.tray import bring_to_front, install_tray

log = logging.getLogger(__name__)

# resources/translations/cmfy_desk_<locale>.qm, compiled by packaging/update_translations.py.
TRANSLATION_PREFIX = "cmfy_desk"
WINDOW_STATE_FILE = "window-state.ini"


def app_icon() -> QIcon:
    try:
        return QIcon(str(resource_path("icons", "cmfy-desk.svg")))
    except RuntimeError:
        return QIcon()


def translations_folder() -> Path | None:
    try:
        return resource_path("translations")
    except RuntimeError:
        return None


def install_translators(
    app: QApplication, locale: QLocale | None = None, folder: Path | None = None
) -> list[QTranslator]:
    """Install the app's translation for ``locale`` (default: the system's) from ``folder``
    (default: the shipped translations), and then Qt's own for the standard dialogs.

    The file is ``cmfy_desk_<language>[_<territory>].qm``, the closest match to the locale's
    UI languages. Qt's translation is loaded only together with the app's, so that a window is
    never half translated. Returns the installed translators; remove them with
    ``QCoreApplication.removeTranslator``.
    """
    locale = locale if locale is not None else QLocale.system()
    folder = folder if folder is not None else translations_folder()
    if folder is None or not folder.is_dir():
        return []
    translator = QTranslator(app)
    if not translator.load(locale, TRANSLATION_PREFIX, "_", str(folder)):
        log.debug("No translation for %s in %s", locale.name(), folder)
        return []
    app.installTranslator(translator)
    log.info("Loaded the translation %s", translator.filePath())
    installed = [translator]
    qt_translator = QTranslator(app)
    qt_folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if qt_translator.load(locale, "qtbase", "_", qt_folder):
        app.installTranslator(qt_translator)
        installed.append(qt_translator)
    return installed


class WindowMemory(QObject):
    """Remembers what the settings file does not: the positions of the window's splitters
    (the one between the queue and the gallery, and every other splitter in the window that
    has an object name), and the folder of the last accepted file dialog of the window. They
    are kept in an INI file, and the window geometry stays in the settings.

    Qt's own file dialog starts in the folder last visited in this session. This class adds
    the folder of earlier sessions, for dialogs opened without a folder of their own.
    """

    SPLITTER_KEY = "window/splitter"
    NAMED_SPLITTERS_GROUP = "splitters"
    FOLDER_KEY = "dialogs/last_folder"

    def __init__(self, path: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.path = path
        self._store = QSettings(str(path), QSettings.Format.IniFormat)

    def restore(self, window: MainWindow) -> None:
        """Restore the splitters of ``window`` and watch the file dialogs it opens. The
        window becomes this object's parent, so that it watches as long as the window lives."""
        self.setParent(window)
        for key, splitter in _splitters(window).items():
            state = self._store.value(key)
            if isinstance(state, QByteArray) and not splitter.restoreState(state):
                log.warning("Ignoring the saved position of %s, which Qt cannot read", key)
        window.installEventFilter(self)

    def save(self, window: MainWindow) -> None:
        for key, splitter in _splitters(window).items():
            self._store.setValue(key, splitter.saveState())
        self._sync()

    def last_folder(self) -> Path | None:
        value = self._store.value(self.FOLDER_KEY)
        if not isinstance(value, str) or not value:
            return None
        folder = Path(value)
        return folder if folder.is_dir() else None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # A child dialog is polished while its constructor runs, before the constructor sets
        # its folder, so the folder is chosen when the dialog first shows.
        if event.type() is QEvent.Type.ChildPolished:
            child = event.child()  # type: ignore[attr-defined]
            if isinstance(child, QFileDialog) and not child.property("cmfyDeskWatched"):
                child.setProperty("cmfyDeskWatched", True)
                child.installEventFilter(self)
                child.accepted.connect(lambda: self._remember(child))
        elif event.type() is QEvent.Type.Show and isinstance(watched, QFileDialog):
            watched.removeEventFilter(self)
            self._start_in_last_folder(watched)
        return False

    def _start_in_last_folder(self, dialog: QFileDialog) -> None:
        """Open ``dialog`` in the remembered folder unless it was given a folder: a dialog
        without one starts in the working directory (or Qt's last folder of this session)."""
        folder = self.last_folder()
        if folder is not None and dialog.directory().absolutePath() == QDir.currentPath():
            dialog.setDirectory(str(folder))

    def _remember(self, dialog: QFileDialog) -> None:
        self._store.setValue(self.FOLDER_KEY, dialog.directory().absolutePath())
        self._sync()

    def _sync(self) -> None:
        self._store.sync()
        if self._store.status() is not QSettings.Status.NoError:
            log.warning("Saving the window state to %s failed: %s", self.path, self._store.status())


def _splitters(window: MainWindow) -> dict[str, QSplitter]:
    """Return the splitters of ``window`` that WindowMemory keeps, by their key."""
    found = {WindowMemory.SPLITTER_KEY: window.splitter}
    for splitter in window.findChildren(QSplitter):
        name = splitter.objectName()
        # Splitters of dialogs are children of the window too, but not in it.
        if name and splitter.window() is window:
            found[f"{WindowMemory.NAMED_SPLITTERS_GROUP}/{name}"] = splitter
    return found


def run_gui(options: argparse.Namespace) -> int:
    """Open the window and run until it is closed; returns the exit status.

    When a window with the same data folder is already open, its files go there instead, and
    the exit status is 0, or 1 when that window did not accept them.
    """
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("cmfy-desk")
    app.setWindowIcon(app_icon())
    # The window's close event ends _main(), which then stops the engine on a running loop.
    # Quitting on the last window closed would stop the loop before that cleanup, and the
    # window may also hide in the tray while the queue runs.
    app.setQuitOnLastWindowClosed(False)

    paths = resolve_paths(options.data_dir)
    files = [Path(path).absolute() for path in options.workflows]
    try:
        instance = claim_instance(server_name(paths.data_dir), files)
    except HandoverError as exc:
        print(f"cmfy-desk: {exc}", file=sys.stderr)
        return 1
    if instance is None:
        print(f"Cmfy Desk is already running; sent {len(files)} file(s) to its window.")
        return 0

    try:
        if sys.version_info >= (3, 12):
            return asyncio.run(_main(options, paths, instance), loop_factory=qasync.QEventLoop)
        return int(qasync.run(_main(options, paths, instance)))
    finally:
        instance.close()
        shutdown_shared_workers()


async def _main(options: argparse.Namespace, paths: AppPaths, instance: InstanceServer) -> int:
    log_file = setup_logging(paths.log_dir)
    log.info("Cmfy Desk %s starting, data folder %s", __version__, paths.data_dir)
    if instance.is_listening():
        log.info("Later starts hand their files to this one through %s", instance.name)
    else:
        log.warning("Later starts with this data folder cannot reach this one (see stderr)")
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    translators = install_translators(app)
    collector = MainThreadCollector(app)
    collector.start()

    window: MainWindow | None = None
    closed = asyncio.Event()
    # Files other instances send before the window exists.
    early_files: list[Path] = []

    def quit_after_crash() -> None:
        if window is not None:
            window.hide()
        closed.set()

    def files_from_other_instance(files: list[Path]) -> None:
        if window is None:
            early_files.extend(files)
        else:
            window.add_workflow_files(files)

    def activate_window() -> None:
        if window is not None:
            bring_to_front(window)

    reporter = CrashReporter(log_file, quit_after_crash, lambda: window)
    reporter.install(asyncio.get_running_loop())
    instance.filesReceived.connect(files_from_other_instance)
    instance.activationRequested.connect(activate_window)
    try:
        window = await _open_window(options, paths)
        apply_theme(app, theme_choice(window.settings))
        memory = WindowMemory(paths.data_dir / WINDOW_STATE_FILE)
        memory.restore(window)
        tray = install_tray(window)
        window.closed.connect(closed.set)
        window.show()
        collector.freeze()
        initial_files = [*options.workflows, *early_files]
        if initial_files:
            window.add_workflow_files(initial_files)

        await closed.wait()
        memory.save(window)
        if tray is not None:
            tray.icon.hide()
        await window.shutdown()
        try:
            window.settings.save()
        except OSError as exc:
            log.warning("Saving settings to %s failed: %s", window.settings.path, exc)
    finally:
        collector.stop()
        reporter.uninstall()
        for translator in translators:
            app.removeTranslator(translator)
    log.info("Cmfy Desk stopped")
    return 0


async def _open_window(options: argparse.Namespace, paths: AppPaths) -> MainWindow:
    """Start the engine when the settings allow it and build the window over it."""
    settings = Settings(paths.settings_file)
    keystore = ApiKeyStore()
    demo = bool(options.demo)
    config = connection_from_settings(settings, keystore, force_sandbox=demo)
    engine: Engine | None = None
    start_error: str | None = None
    # Without a key the window opens anyway with a notice about it, and the engine starts
    # once Settings provide one.
    if config.kind == SANDBOX_CONNECTION or config.api_key:
        engine = engine_from_settings(
            paths.database,
            settings,
            keystore,
            paths.default_output_dir,
            scheduler_options(settings),
            demo=demo,
        )
        try:
            await engine.start()
        except (EngineError, StoreError, OSError) as exc:
            log.warning("The engine did not start: %s", exc)
            start_error = str(exc)
            await engine.stop()
            engine = None

    return MainWindow(
        engine,
        settings,
        keystore,
        demo,
        database=paths.database,
        default_output_dir=paths.default_output_dir,
        start_error=start_error,
        thumbnail_dir=paths.thumbnail_dir,
    )
