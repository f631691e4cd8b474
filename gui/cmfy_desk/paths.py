"""Folders where Cmfy Desk keeps its data, logs and caches, and the files it ships with."""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import platformdirs

APP_DIR_NAME = "cmfy-desk"
DATA_DIR_ENV = "CMFY_DESK_DATA_DIR"
OUTPUT_DIR_NAME = "Cmfy Desk"
RESOURCES_PACKAGE = "cmfy_desk.resources"


@dataclass(frozen=True)
class AppPaths:
    """Locations of everything Cmfy Desk writes. All but ``default_output_dir`` exist."""

    data_dir: Path
    log_dir: Path
    database: Path
    settings_file: Path
    thumbnail_dir: Path
    default_output_dir: Path

    @property
    def connections_file(self) -> Path:
        """The saved connections, beside the settings."""
        return self.settings_file.with_name("connections.json")


def resolve_paths(data_dir: Path | None = None) -> AppPaths:
    """Return the app's paths and create their folders.

    The data folder is ``data_dir`` if given, else the ``CMFY_DESK_DATA_DIR`` environment
    variable, else the platform's user data folder. With an explicit data folder (argument or
    environment), logs, thumbnails and outputs live inside it too, so tests and parallel
    instances never share state. The output folder is created when the first output is saved.
    Raises OSError when a folder cannot be created.
    """
    explicit = data_dir
    if explicit is None:
        from_env = os.environ.get(DATA_DIR_ENV, "").strip()
        if from_env:
            explicit = Path(from_env)

    if explicit is not None:
        root = explicit.expanduser().absolute()
        paths = AppPaths(
            data_dir=root,
            log_dir=root / "logs",
            database=root / "cmfy-desk.sqlite3",
            settings_file=root / "settings.json",
            thumbnail_dir=root / "thumbnails",
            default_output_dir=root / "outputs",
        )
    else:
        root = Path(platformdirs.user_data_dir(APP_DIR_NAME, appauthor=False))
        paths = AppPaths(
            data_dir=root,
            log_dir=Path(platformdirs.user_log_dir(APP_DIR_NAME, appauthor=False)),
            database=root / "cmfy-desk.sqlite3",
            settings_file=root / "settings.json",
            thumbnail_dir=Path(platformdirs.user_cache_dir(APP_DIR_NAME, appauthor=False))
            / "thumbnails",
            default_output_dir=Path(platformdirs.user_pictures_dir()) / OUTPUT_DIR_NAME,
        )

    for folder in (paths.data_dir, paths.log_dir, paths.thumbnail_dir):
        folder.mkdir(parents=True, exist_ok=True)
    return paths


def resource_path(*parts: str) -> Path:
    """Return the path of a file shipped in the ``cmfy_desk.resources`` package."""
    resource = files(RESOURCES_PACKAGE).joinpath(*parts)
    # NOTE: this needs the package on the file system (a normal or editable install, or a
    # frozen app with its data files unpacked). A zipped install would need as_file().
    if not isinstance(resource, Path):
        raise RuntimeError(f"Resource {'/'.join(parts)} is not on the file system: {resource}")
    return resource


def bundled_workflows() -> list[Path]:
    """Return the sample workflows shipped with the app, sorted by file name."""
    return sorted(resource_path("workflows").glob("*.json"))
