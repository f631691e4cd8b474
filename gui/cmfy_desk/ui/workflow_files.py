"""Loading of dropped or chosen workflow files, pictures and folders, run off the UI thread."""

from __future__ import annotations

import logging
from pathlib import Path

from cmfy_desk.workflows.definitions import NodeDefinitions
from cmfy_desk.workflows.formats import (
    LoadedWorkflow,
    WorkflowLoadError,
    load_workflow_file,
    scan_workflow_paths,
)

log = logging.getLogger(__name__)


def load_workflows(
    paths: list[Path], definitions: NodeDefinitions | None = None
) -> tuple[list[LoadedWorkflow], list[str]]:
    """Load every file, with folders replaced by the workflow files directly inside them.

    Files may be API-format or editor-format JSON (converted with ``definitions``, the bundled
    node definitions when None) or PNG, WEBP and JPEG pictures that carry a workflow. Returns
    those that loaded and one message per failure, naming the file and the fix. Blocking:
    call it on a worker thread.
    """
    files, scan_errors = scan_workflow_paths(paths)
    errors = [str(error) for error in scan_errors]
    loaded: list[LoadedWorkflow] = []
    for path in files:
        try:
            loaded.append(load_workflow_file(path, definitions))
        except WorkflowLoadError as exc:
            log.info("Not loading %s: %s", path, exc)
            errors.append(str(exc))
    return loaded, errors
