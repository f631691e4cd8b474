"""Folders where Cmfy Desk keeps its data, logs and caches, and the files it ships with."""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import platformdirs

APP_DIR_NAME = "cmfy-desk"
DATA_DIR_ENV = "CMFY_DESK_DATA_DIR"
DATABASE_NAME = "cmfy-desk.sqlite3"
OUTPUT_DIR_NAME = "Cmfy Desk"
RESOURCES_PACKAGE = "cmfy_desk.resources"


@dataclass(frozen=True)
class AppPaths:
    """Locations of everything Cmfy Desk writes. After resolve_paths, all but
    ``default_output_dir`` exist, and locate_paths and existing_paths create none of them."""

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


class NoDatabaseError(Exception):
    """The data folder has no database, so a command that reads existing data has nothing to
    read. The message names the folder and the fix: check the option or variable that chose it,
    or start Cmfy Desk once to create the database."""

    def __init__(self, paths: AppPaths, chosen_by: str | None) -> None:
        self.paths = paths
        problem = f"no Cmfy Desk database in {paths.data_dir}"
        if not paths.data_dir.exists():
            problem += " (the folder does not exist)"
        if chosen_by is None:
            advice = (
                "Start Cmfy Desk once to create it, or choose another data folder with --data-dir."
            )
        else:
            advice = (
                f"Check {chosen_by}, or start Cmfy Desk once with this data folder to create "
                "the database."
            )
        super().__init__(f"{problem}. {advice}")


def locate_paths(data_dir: Path | None = None) -> AppPaths:
    """Return the app's paths, creating nothing.

    The data folder is ``data_dir`` if given, else the ``CMFY_DESK_DATA_DIR`` environment
    variable, else the platform's user data folder. With an explicit data folder (argument or
    environment), logs, thumbnails and outputs live inside it too, so tests and parallel
    instances never share state.
    """
    explicit, _chosen_by = _explicit_data_dir(data_dir)
    if explicit is not None:
        root = explicit.expanduser().absolute()
        return AppPaths(
            data_dir=root,
            log_dir=root / "logs",
            database=root / DATABASE_NAME,
            settings_file=root / "settings.json",
            thumbnail_dir=root / "thumbnails",
            default_output_dir=root / "outputs",
        )
    root = Path(platformdirs.user_data_dir(APP_DIR_NAME, appauthor=False))
    return AppPaths(
        data_dir=root,
        log_dir=Path(platformdirs.user_log_dir(APP_DIR_NAME, appauthor=False)),
        database=root / DATABASE_NAME,
        settings_file=root / "settings.json",
        thumbnail_dir=Path(platformdirs.user_cache_dir(APP_DIR_NAME, appauthor=False))
        / "thumbnails",
        default_output_dir=Path(platformdirs.user_pictures_dir()) / OUTPUT_DIR_NAME,
    )


def resolve_paths(data_dir: Path | None = None) -> AppPaths:
    """Return the app's paths (see locate_paths) and create their folders.

    The output folder is created when the first output is saved. Raises OSError when a folder
    cannot be created.
    """
    paths = locate_paths(data_dir)
    for folder in (paths.data_dir, paths.log_dir, paths.thumbnail_dir):
        folder.mkdir(parents=True, exist_ok=True)
    return paths


def existing_paths(data_dir: Path | None = None) -> AppPaths:
    """Return the app's paths (see locate_paths) for a command that reads the data the app
    already has, creating nothing.

    Raises NoDatabaseError when the data folder has no database, so a mistyped data folder is
    reported rather than read as an empty library.
    """
    paths = locate_paths(data_dir)
    # NOTE: a database removed between this check and Store.open is created again, empty.
    if not paths.database.is_file():
        _explicit, chosen_by = _explicit_data_dir(data_dir)
        raise NoDatabaseError(paths, chosen_by)
    return paths


def _explicit_data_dir(data_dir: Path | None) -> tuple[Path | None, str | None]:
    """Return the data folder that the argument or the environment chooses, with the name of
    the option or variable that chose it, or (None, None) for the user data folder."""
    if data_dir is not None:
        return data_dir, "--data-dir"
    from_env = os.environ.get(DATA_DIR_ENV, "").strip()
    if from_env:
        return Path(from_env), f"the environment variable {DATA_DIR_ENV}"
    return None, None


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
