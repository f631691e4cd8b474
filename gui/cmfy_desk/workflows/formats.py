"""Loading of ComfyUI workflow files in API format, with a readable error for each bad input.

Every check runs before anything is sent to a server, so a bad file costs nothing and touches
no queued job. Each failure raises WorkflowLoadError, which names the file, the problem and the
fix.
"""

from __future__ import annotations

import json
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from cmfy_desk.workflows.graph import Graph, GraphError, looks_like_api_graph, validate_graph

# Real API-format graphs are a few KB to a few hundred KB: the largest of ComfyUI's workflow
# templates (comfyui-workflow-templates-json) is under 500 KB in editor format, which is larger
# than API format. 10 MB leaves room for graphs with embedded text or base64 inputs, and rejects
# an image or archive picked by mistake before it is read into memory.
MAX_WORKFLOW_BYTES = 10 * 1024 * 1024

EXPORT_API_FIX = "In ComfyUI, use Workflow → Export (API) and load the file it saves."

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


class WorkflowLoadError(Exception):
    """A workflow file that cannot be loaded, with the ``reason`` and the ``fix`` for the user."""

    def __init__(self, path: Path, reason: str, fix: str) -> None:
        super().__init__(f"{path.name}: {reason} {fix}")
        self.path = path
        self.reason = reason
        self.fix = fix


@dataclass(frozen=True)
class LoadedWorkflow:
    """A validated API-format workflow and the file it came from."""

    path: Path
    name: str
    graph: Graph


def load_workflow_file(path: Path) -> LoadedWorkflow:
    """Read and validate an API-format workflow file.

    Raises WorkflowLoadError for a missing, unreadable, empty, oversized, binary or invalid file.
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        _fail(path, "was not found.", "Check the path, or pick the file again.")
    except PermissionError:
        _fail(path, "cannot be read: permission denied.", "Check the file's permissions.")
    except OSError as exc:
        _fail(path, f"cannot be read: {exc.strerror or exc}.", "Check the path and the disk.")

    if stat.S_ISDIR(info.st_mode):
        _fail(path, "is a folder, not a workflow file.", "Pick a .json file inside it.")
    if not stat.S_ISREG(info.st_mode):
        # Devices and pipes report size 0 and may never end, so they are never read.
        _fail(path, "is not a regular file.", "Pick a workflow .json file.")
    if info.st_size == 0:
        _fail(path, "is empty.", EXPORT_API_FIX)
    if info.st_size > MAX_WORKFLOW_BYTES:
        _fail_too_large(path, info.st_size)

    try:
        with path.open("rb") as file:
            # Read one byte past the limit in case the file grew after stat().
            data = file.read(MAX_WORKFLOW_BYTES + 1)
    except PermissionError:
        _fail(path, "cannot be read: permission denied.", "Check the file's permissions.")
    except OSError as exc:
        _fail(path, f"cannot be read: {exc.strerror or exc}.", "Check the path and the disk.")
    return parse_workflow(data, path)


def parse_workflow(data: bytes, path: Path) -> LoadedWorkflow:
    """Validate the bytes of a workflow file already read; ``path`` names it in errors."""
    if not data:
        _fail(path, "is empty.", EXPORT_API_FIX)
    if len(data) > MAX_WORKFLOW_BYTES:
        _fail_too_large(path, len(data))

    text = _decode(data, path)
    document = _parse_json(text, path)
    graph = _extract_graph(document, path)
    return LoadedWorkflow(path=path, name=path.stem, graph=graph)


def _decode(data: bytes, path: Path) -> str:
    if data.startswith(_PNG_SIGNATURE):
        _fail(
            path,
            "is a PNG image, not a JSON workflow.",
            "Load the workflow's .json file. " + EXPORT_API_FIX,
        )
    if data.startswith(_UTF16_BOMS):
        _fail(path, "is UTF-16 text; workflows must be UTF-8.", "Save the file as UTF-8.")
    if b"\x00" in data:
        _fail(path, "is a binary file, not JSON text.", "Pick a workflow .json file.")
    try:
        # utf-8-sig accepts the byte order mark that some Windows editors write.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        _fail(
            path,
            f"is not valid UTF-8 text (invalid byte at offset {exc.start}).",
            "Save the file as UTF-8, or export it again from ComfyUI.",
        )


def _reject_constant(name: str) -> NoReturn:
    # Python's json module accepts NaN and Infinity, but they are not JSON and a server
    # would reject the request body.
    raise ValueError(f"{name} is not a valid JSON value")


def _parse_json(text: str, path: Path) -> Any:
    fix = "Check that the file was saved completely, or export it again from ComfyUI."
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        _fail(
            path,
            f"is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.",
            fix,
        )
    except ValueError as exc:
        _fail(path, f"is not valid JSON: {exc}.", fix)
    except RecursionError:
        _fail(path, "is not a workflow: its JSON is nested too deeply.", EXPORT_API_FIX)


def _extract_graph(document: Any, path: Path) -> Graph:
    if not isinstance(document, dict):
        _fail(
            path,
            f"contains a JSON {_json_type_name(document)}, not a workflow object.",
            EXPORT_API_FIX,
        )

    if _is_editor_format(document):
        _fail(
            path,
            "is an editor-format workflow (the format ComfyUI's Save writes).",
            EXPORT_API_FIX + " Conversion from the editor format is not supported yet.",
        )

    # The body of ComfyUI's POST /prompt wraps the graph as {"prompt": {...}, ...}. People save
    # that body from their scripts, so one level of wrapping is accepted.
    prompt = document.get("prompt")
    if isinstance(prompt, dict) and not looks_like_api_graph(document):
        document = prompt

    if not any(isinstance(node, dict) and "class_type" in node for node in document.values()):
        _fail(
            path,
            "is JSON but not a ComfyUI workflow: expected an object of nodes, "
            "each with class_type and inputs.",
            EXPORT_API_FIX,
        )

    try:
        return validate_graph(document)
    except GraphError as exc:
        _fail(path, f"is not a valid API-format workflow. {exc.message}", _graph_fix(exc, document))


def _json_type_name(value: object) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "null"


def _is_editor_format(document: dict[str, Any]) -> bool:
    return isinstance(document.get("nodes"), list) and "links" in document


def _graph_fix(error: GraphError, graph: dict[str, Any]) -> str:
    if error.node_id is None:
        return (
            "Add a SaveImage or PreviewImage node in ComfyUI, then export the workflow again "
            "with Workflow → Export (API)."
        )
    node = graph.get(error.node_id)
    class_type = node.get("class_type") if isinstance(node, dict) else None
    label = f"node {error.node_id}"
    if isinstance(class_type, str):
        label += f" ({class_type})"
    return (
        f"Open the workflow in ComfyUI, fix {label}, and export it again "
        "with Workflow → Export (API)."
    )


def _fail_too_large(path: Path, size: int) -> NoReturn:
    _fail(
        path,
        f"is {size / 1024 / 1024:.1f} MB, larger than the {MAX_WORKFLOW_BYTES // 1024 // 1024} MB "
        "limit for a workflow file.",
        "Check that this is the right file: API-format workflows are usually under 1 MB.",
    )


def _fail(path: Path, reason: str, fix: str) -> NoReturn:
    raise WorkflowLoadError(path, reason, fix)
