"""Collect PySide6.QtGui as PyInstaller's own hook does, minus the Qt plugins the app never loads.

This hook takes the place of PyInstaller's (hooks on the spec's ``hookspath`` come first). The
spec passes the plugins to leave out as ``hooksconfig["cmfy_desk"]["unused_qt_plugins"]``, a
mapping of plugin folder to file names without "lib" and the extension (None for the whole
folder). Leaving them out here, before PyInstaller looks for the libraries they link, also keeps
those libraries out: QtPdf for the PDF image reader, QtQuick and QtQml for the virtual keyboard,
and the build machine's GTK for the GTK theme.
"""

from pathlib import Path

from PyInstaller.utils.hooks import get_hook_config, logger
from PyInstaller.utils.hooks.qt import add_qt6_dependencies


def _plugin_is_unused(source, unused):
    path = Path(source)
    parts = path.parts
    if "plugins" not in parts[:-1]:
        return False
    folder = parts[parts.index("plugins") + 1]
    if folder not in unused:
        return False
    names = unused[folder]
    stem = path.name.split(".")[0].removeprefix("lib")
    return names is None or stem in names


def collect_used(hook_api, hook_file):
    """Collect the Qt module that ``hook_file`` (hook-PySide6.<module>.py) names, without the
    unused plugins. hook-PySide6.QtNetwork.py calls this too."""
    hiddenimports, binaries, datas = add_qt6_dependencies(hook_file)
    unused = get_hook_config(hook_api, "cmfy_desk", "unused_qt_plugins") or {}
    kept = [entry for entry in binaries if not _plugin_is_unused(entry[0], unused)]
    logger.info(
        "cmfy-desk: leaving out %d unused Qt plugins of %s",
        len(binaries) - len(kept),
        Path(hook_file).stem.removeprefix("hook-"),
    )
    hook_api.add_imports(*hiddenimports)
    hook_api.add_binaries(kept)
    hook_api.add_datas(datas)


def hook(hook_api):
    collect_used(hook_api, __file__)
