"""Loading of dropped or chosen workflow files and folders, run off the UI thread."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QCoreApplication

from cmfy_desk.workflows.formats import LoadedWorkflow, WorkflowLoadError, load_workflow_file

log = logging.getLogger(__name__)


def expand_paths(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """Replace each folder by its .json files (not those of subfolders), sorted by name.

    Returns the files and a message for each folder without any.
    """
    files: list[Path] = []
    errors: list[str] = []
    for path in paths:
        if not path.is_dir():
            files.append(path)
            continue
        try:
            found = sorted(
                child
                for child in path.iterdir()
                if child.suffix.lower() == ".json" and child.is_file()
            )
        except OSError as exc:
            errors.append(
                QCoreApplication.translate(
                    "MainWindow",
                    "{name}: the folder cannot be read ({error}). Check its permissions.",
                ).format(name=path.name, error=exc.strerror or exc)
            )
            continue
        if not found:
            errors.append(
                QCoreApplication.translate(
                    "MainWindow",
                    "{name}: the folder contains no .json files. Drop the workflow files, or a "
                    "folder that contains them.",
                ).format(name=path.name)
            )
        files.extend(found)
    return files, errors


def load_workflows(paths: list[Path]) -> tuple[list[LoadedWorkflow], list[str]]:
    """Load every file (folders expanded); return those that loaded and one message per
    failure, naming the file and the fix. Blocking: call it on a worker thread."""
    files, errors = expand_paths(paths)
    loaded: list[LoadedWorkflow] = []
    for path in files:
        try:
            loaded.append(load_workflow_file(path))
        except WorkflowLoadError as exc:
            log.info("Not loading %s: %s", path, exc)
            errors.append(str(exc))
    return loaded, errors
