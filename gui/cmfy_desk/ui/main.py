"""Start-up of the window: the Qt application, the asyncio loop over it, and the engine."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

import qasync
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from cmfy_desk import APP_NAME, __version__
from cmfy_desk.app import SANDBOX_CONNECTION, Engine, EngineError, scheduler_options
from cmfy_desk.keystore import ApiKeyStore
from cmfy_desk.logs import setup_logging
from cmfy_desk.paths import resolve_paths, resource_path
from cmfy_desk.settings import Settings
from cmfy_desk.store import StoreError
from cmfy_desk.ui.connection import connection_from_settings, output_root_from_settings
from cmfy_desk.ui.main_window import MainWindow

log = logging.getLogger(__name__)


def app_icon() -> QIcon:
    try:
        return QIcon(str(resource_path("icons", "cmfy-desk.svg")))
    except RuntimeError:
        return QIcon()


def run_gui(options: argparse.Namespace) -> int:
    """Open the window and run until it is closed; returns the exit status."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("cmfy-desk")
    app.setWindowIcon(app_icon())
    # The window's close event ends _main(), which then stops the engine on a running loop.
    # Quitting on the last window closed would stop the loop before that cleanup.
    app.setQuitOnLastWindowClosed(False)

    if sys.version_info >= (3, 12):
        return asyncio.run(_main(options), loop_factory=qasync.QEventLoop)
    return int(qasync.run(_main(options)))


async def _main(options: argparse.Namespace) -> int:
    paths = resolve_paths(options.data_dir)
    setup_logging(paths.log_dir)
    settings = Settings(paths.settings_file)
    keystore = ApiKeyStore()
    demo = bool(options.demo)
    log.info("Cmfy Desk %s starting, data folder %s", __version__, paths.data_dir)

    config = connection_from_settings(settings, keystore, force_sandbox=demo)
    output_root = output_root_from_settings(settings, paths.default_output_dir)
    engine: Engine | None = None
    start_error: str | None = None
    # Without a key the window opens anyway with a notice about it, and the engine starts
    # once Settings provide one.
    if config.kind == SANDBOX_CONNECTION or config.api_key:
        engine = Engine(paths.database, output_root, config, options=scheduler_options(settings))
        try:
            await engine.start()
        except (EngineError, StoreError, OSError) as exc:
            log.warning("The engine did not start: %s", exc)
            start_error = str(exc)
            await engine.stop()
            engine = None

    window = MainWindow(
        engine,
        settings,
        keystore,
        demo,
        database=paths.database,
        default_output_dir=paths.default_output_dir,
        start_error=start_error,
    )
    closed = asyncio.Event()
    window.closed.connect(closed.set)
    window.show()
    if options.workflows:
        window.add_workflow_files(list(options.workflows))

    await closed.wait()
    await window.shutdown()
    try:
        settings.save()
    except OSError as exc:
        log.warning("Saving settings to %s failed: %s", settings.path, exc)
    log.info("Cmfy Desk stopped")
    return 0
