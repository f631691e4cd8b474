"""The home trash of the freedesktop.org Trash specification, created when it is missing.

On Linux and other Unix desktops, Qt's QFile.moveToTrash() moves a file into
``$XDG_DATA_HOME/Trash`` (by default ``~/.local/share/Trash``). Qt 6.11 creates the
``Trash`` folder but not the folders above it, so on an account without ``~/.local/share``
(a new user, a container) every move fails. Version 1.0 of the Trash specification has an
implementation create the home trash when a move needs it, so ensure_home_trash() does that
before a move.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from PySide6.QtCore import QStandardPaths

log = logging.getLogger(__name__)

# The XDG Base Directory specification has missing base folders created with mode 0700, and
# Qt creates the trash folders owner-only as well.
_PRIVATE_FOLDER_MODE = 0o700


def uses_freedesktop_trash() -> bool:
    """Return whether QFile.moveToTrash() uses the freedesktop.org trash on this platform.

    Windows, macOS, iOS and Android have trash APIs of their own, which Qt calls instead.
    """
    return os.name == "posix" and sys.platform not in ("darwin", "ios", "android")


def home_trash() -> Path | None:
    """Return the home trash folder that Qt uses, or None where there is none to create.

    The path comes from QStandardPaths, which reads ``XDG_DATA_HOME`` and ``HOME`` at each
    call, as Qt's own trash code does.
    """
    if not uses_freedesktop_trash():
        return None
    data_home = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericDataLocation)
    if not data_home:
        return None
    return Path(data_home) / "Trash"


def ensure_home_trash() -> Path | None:
    """Create the home trash with its ``files`` and ``info`` folders where they are missing.

    Missing folders above it, such as ``~/.local/share``, are created too, each with mode
    0700. Returns the trash folder, or None on platforms without a freedesktop.org trash.
    Also returns None when creating a folder failed. That failure is logged, and the move
    that follows fails and is reported as usual.
    """
    trash = home_trash()
    if trash is None:
        return None
    required = [trash / "files", trash / "info"]
    if all(folder.is_dir() for folder in required):
        return trash
    try:
        for folder in required:
            _make_private_folders(folder)
    except OSError as exc:
        log.warning("Creating the home trash folder %s failed: %s", trash, exc)
        return None
    log.info("Created the home trash folder %s", trash)
    return trash


def _make_private_folders(folder: Path) -> None:
    """Create ``folder`` and each missing folder above it with mode 0700.

    Path.mkdir(parents=True) would give the folders above it the default mode instead.
    """
    missing: list[Path] = []
    current = folder
    while not current.is_dir():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=_PRIVATE_FOLDER_MODE)
        except FileExistsError:
            # Another program may have created the folder since the check above. A file
            # of that name is an error.
            if not path.is_dir():
                raise
