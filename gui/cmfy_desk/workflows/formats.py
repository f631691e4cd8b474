"""Loading of ComfyUI workflow files, with a readable error for each bad input.

A workflow comes as API-format JSON, as editor-format JSON (converted to API format with the
node definitions), or inside a PNG, WEBP or JPEG picture's metadata, or in a JSON sidecar file
beside a picture without one. Every check runs before anything is sent to a server, so a bad
file costs nothing and touches no queued job. Each failure raises WorkflowLoadError, which names
the file, the problem and the fix.
"""

from __future__ import annotations

import io
import json
import logging
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from cmfy_desk.workflows.convert import ConversionError, editor_to_api, is_editor_workflow
from cmfy_desk.workflows.definitions import NodeDefinitions
from cmfy_desk.workflows.graph import Graph, GraphError, looks_like_api_graph, validate_graph
from cmfy_desk.workflows.metadata import (
    MAX_IMAGE_BYTES,
    EmbeddedWorkflow,
    ImageMetadataError,
    read_embedded_workflow,
    sniff_image_format,
)

log = logging.getLogger(__name__)

# Real API-format graphs are a few KB to a few hundred KB: the largest of ComfyUI's workflow
# templates (comfyui-workflow-templates-json) is under 500 KB in editor format, which is larger
# than API format. 10 MB leaves room for graphs with embedded text or base64 inputs, and rejects
# an image or archive picked by mistake before it is read into memory.
MAX_WORKFLOW_BYTES = 10 * 1024 * 1024

EXPORT_API_FIX = "In ComfyUI, use Workflow → Export (API) and load the file it saves."

# File name suffixes that can carry a workflow, lower case.
WORKFLOW_SUFFIXES = (".json", ".png", ".webp", ".jpg", ".jpeg")
IMAGE_SUFFIXES = (".png", ".webp", ".jpg", ".jpeg")

_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_SNIFF_BYTES = 16


class WorkflowLoadError(Exception):
    """A workflow file that cannot be loaded, with the ``reason`` and the ``fix`` for the user."""

    def __init__(self, path: Path, reason: str, fix: str) -> None:
        super().__init__(f"{path.name}: {reason} {fix}")
        self.path = path
        self.reason = reason
        self.fix = fix


@dataclass(frozen=True)
class LoadedWorkflow:
    """A validated API-format workflow and the file it came from.

    ``source_format`` is where the graph came from: "api" or "editor" for a JSON file, "png",
    "webp" or "jpeg" for a picture's metadata, "sidecar" for a JSON file beside a picture.
    ``editor_workflow`` is the editor-format graph when the source had one, kept for export.
    """

    path: Path
    name: str
    graph: Graph
    source_format: str = "api"
    editor_workflow: dict[str, Any] | None = None


def load_workflow_file(path: Path, definitions: NodeDefinitions | None = None) -> LoadedWorkflow:
    """Read and validate a workflow from a JSON file or a picture's metadata.

    Editor-format graphs are converted with ``definitions`` (the bundled node definitions when
    None). A picture without a workflow of its own falls back to a sidecar file, ``NAME.png.json``
    or ``NAME.json`` beside it. Raises WorkflowLoadError for a missing, unreadable, empty,
    oversized, binary or invalid file, and for a picture that carries no workflow.
    """
    info = _stat_file(path)
    head = _read_head(path)
    image_format = sniff_image_format(head)
    if image_format in ("PNG", "WEBP", "JPEG"):
        assert image_format is not None
        if info.st_size > MAX_IMAGE_BYTES:
            _fail_too_large(path, info.st_size, MAX_IMAGE_BYTES, "a picture")
        embedded = _read_image(path, path, image_format)
        if embedded.found:
            return _from_embedded(embedded, path, definitions)
        sidecar = find_sidecar(path)
        if sidecar is not None:
            log.debug("%s has no embedded workflow; loading sidecar %s", path, sidecar)
            loaded = load_workflow_file(sidecar, definitions)
            return LoadedWorkflow(
                path=path,
                name=path.stem,
                graph=loaded.graph,
                source_format="sidecar",
                editor_workflow=loaded.editor_workflow,
            )
        _fail_no_workflow(path, embedded)

    if info.st_size > MAX_WORKFLOW_BYTES:
        _fail_too_large(path, info.st_size, MAX_WORKFLOW_BYTES, "a workflow file")
    try:
        with path.open("rb") as file:
            # Read one byte past the limit in case the file grew after stat().
            data = file.read(MAX_WORKFLOW_BYTES + 1)
    except PermissionError:
        _fail(path, "cannot be read: permission denied.", "Check the file's permissions.")
    except OSError as exc:
        _fail(path, f"cannot be read: {exc.strerror or exc}.", "Check the path and the disk.")
    return parse_workflow(data, path, definitions)


def parse_workflow(
    data: bytes, path: Path, definitions: NodeDefinitions | None = None
) -> LoadedWorkflow:
    """Validate the bytes of a workflow file or picture already read; ``path`` names it in
    errors. No sidecar file is looked for."""
    if not data:
        _fail(path, "is empty.", EXPORT_API_FIX)

    image_format = sniff_image_format(data[:_SNIFF_BYTES])
    if image_format in ("PNG", "WEBP", "JPEG"):
        assert image_format is not None
        if len(data) > MAX_IMAGE_BYTES:
            _fail_too_large(path, len(data), MAX_IMAGE_BYTES, "a picture")
        embedded = _read_image(io.BytesIO(data), path, image_format)
        if not embedded.found:
            _fail_no_workflow(path, embedded)
        return _from_embedded(embedded, path, definitions)

    if len(data) > MAX_WORKFLOW_BYTES:
        _fail_too_large(path, len(data), MAX_WORKFLOW_BYTES, "a workflow file")
    text = _decode(data, path, image_format)
    document = _parse_json(text, path)
    return _from_document(document, path, definitions)


def find_sidecar(image: Path) -> Path | None:
    """Return the JSON file beside ``image`` that contains its workflow, or None.

    ``NAME.png.json`` is preferred over ``NAME.json``.
    """
    for candidate in (image.with_name(image.name + ".json"), image.with_suffix(".json")):
        if candidate != image and candidate.is_file():
            return candidate
    return None


def find_workflow_files(paths: Iterable[Path]) -> list[Path]:
    """Expand folders (not their subfolders) into the files that can carry a workflow.

    Files are kept as given, so the loader reports what is wrong with them. A folder's files
    with a suffix in WORKFLOW_SUFFIXES come sorted by name, without the sidecar JSON of a
    picture in the same folder (the picture loads it when it needs it). Folders that cannot be
    read or hold no such file are skipped; scan_workflow_paths() reports them.
    """
    files, _errors = scan_workflow_paths(paths)
    return files


def scan_workflow_paths(paths: Iterable[Path]) -> tuple[list[Path], list[WorkflowLoadError]]:
    """Do what find_workflow_files() does, and return an error for each folder it skipped."""
    files: list[Path] = []
    errors: list[WorkflowLoadError] = []
    for path in paths:
        if not path.is_dir():
            files.append(path)
            continue
        try:
            children = [child for child in path.iterdir() if child.is_file()]
        except OSError as exc:
            log.info("Cannot list folder %s: %s", path, exc)
            errors.append(
                WorkflowLoadError(
                    path,
                    f"is a folder that cannot be read ({exc.strerror or exc}).",
                    "Check its permissions.",
                )
            )
            continue
        found = _workflow_files_in(children)
        if not found:
            errors.append(
                WorkflowLoadError(
                    path,
                    "is a folder without workflow files (.json, .png, .webp, .jpg).",
                    "Drop the workflow files, or a folder that contains them.",
                )
            )
        files.extend(found)
    return files, errors


def _workflow_files_in(children: list[Path]) -> list[Path]:
    names = {child.name.lower() for child in children}
    stems_of_images = {
        child.stem.lower() for child in children if child.suffix.lower() in IMAGE_SUFFIXES
    }
    found: list[Path] = []
    for child in children:
        name = child.name.lower()
        suffix = child.suffix.lower()
        if suffix not in WORKFLOW_SUFFIXES:
            continue
        is_sidecar = name.removesuffix(".json") in names or child.stem.lower() in stems_of_images
        if suffix == ".json" and is_sidecar:
            continue
        found.append(child)
    return sorted(found, key=lambda child: (child.name.lower(), child.name))


def _stat_file(path: Path) -> os.stat_result:
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
    return info


def _read_head(path: Path) -> bytes:
    try:
        with path.open("rb") as file:
            return file.read(_SNIFF_BYTES)
    except PermissionError:
        _fail(path, "cannot be read: permission denied.", "Check the file's permissions.")
    except OSError as exc:
        _fail(path, f"cannot be read: {exc.strerror or exc}.", "Check the path and the disk.")


def _read_image(source: Path | io.BytesIO, path: Path, image_format: str) -> EmbeddedWorkflow:
    try:
        return read_embedded_workflow(source, image_format)
    except ImageMetadataError as exc:
        _fail(path, exc.reason, exc.fix)


def _from_embedded(
    embedded: EmbeddedWorkflow, path: Path, definitions: NodeDefinitions | None
) -> LoadedWorkflow:
    """Build the workflow from a picture's metadata: the API graph, else the converted
    editor graph."""
    source_format = embedded.image_format.lower()
    editor = embedded.workflow if is_editor_workflow(embedded.workflow) else None
    if embedded.prompt is not None:
        try:
            graph = _api_graph(embedded.prompt, path)
        except WorkflowLoadError:
            if editor is None:
                raise
            # The editor graph is the fallback the app prefers less, but it may still load.
            log.info("%s: the embedded API graph is invalid; converting the editor graph", path)
        else:
            return LoadedWorkflow(path, path.stem, graph, source_format, editor)
    if editor is None:
        _fail_no_workflow(path, embedded)
    graph = _convert_editor(editor, path, definitions)
    return LoadedWorkflow(path, path.stem, graph, source_format, editor)


def _from_document(
    document: Any, path: Path, definitions: NodeDefinitions | None
) -> LoadedWorkflow:
    if not isinstance(document, dict):
        _fail(
            path,
            f"contains a JSON {_json_type_name(document)}, not a workflow object.",
            EXPORT_API_FIX,
        )

    if is_editor_workflow(document):
        graph = _convert_editor(document, path, definitions)
        return LoadedWorkflow(path, path.stem, graph, "editor", document)

    # The body of ComfyUI's POST /prompt wraps the graph as {"prompt": {...}, ...} and carries
    # the editor graph in extra_data.extra_pnginfo.workflow. People save that body from their
    # scripts, so one level of wrapping is accepted. Sidecar files of save nodes use
    # {"prompt": {...}, "workflow": {...}}.
    if not looks_like_api_graph(document):
        editor = _wrapped_editor_workflow(document)
        prompt = document.get("prompt")
        if isinstance(prompt, dict):
            try:
                graph = _api_graph(prompt, path)
            except WorkflowLoadError:
                if editor is None:
                    raise
            else:
                return LoadedWorkflow(path, path.stem, graph, "api", editor)
        if editor is not None:
            graph = _convert_editor(editor, path, definitions)
            return LoadedWorkflow(path, path.stem, graph, "editor", editor)

    return LoadedWorkflow(path, path.stem, _api_graph(document, path), "api")


def _wrapped_editor_workflow(document: dict[str, Any]) -> dict[str, Any] | None:
    candidates: list[Any] = [document.get("workflow")]
    extra_data = document.get("extra_data")
    if isinstance(extra_data, dict):
        extra_pnginfo = extra_data.get("extra_pnginfo")
        if isinstance(extra_pnginfo, dict):
            candidates.append(extra_pnginfo.get("workflow"))
    for candidate in candidates:
        if isinstance(candidate, dict) and is_editor_workflow(candidate):
            return candidate
    return None


def _api_graph(document: dict[str, Any], path: Path) -> Graph:
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


def _convert_editor(
    document: dict[str, Any], path: Path, definitions: NodeDefinitions | None
) -> Graph:
    if definitions is None:
        definitions = NodeDefinitions.bundled()
    try:
        graph = editor_to_api(document, definitions)
    except ConversionError as exc:
        where = ""
        if exc.node_id is not None:
            where = f"node {exc.node_id}"
            where += f" ({exc.class_type}): " if exc.class_type else ": "
        reason = exc.reason if exc.reason.endswith(".") else exc.reason + "."
        _fail(
            path,
            f"is an editor-format workflow that cannot be converted to API format: {where}{reason}",
            "Alternatively, open it in ComfyUI, use Workflow → Export (API) and load the file "
            "it saves.",
        )
    try:
        return validate_graph(graph)
    except GraphError as exc:
        _fail(
            path,
            f"is an editor-format workflow whose converted graph is not valid. {exc.message}",
            _graph_fix(exc, graph),
        )


def _fail_no_workflow(path: Path, embedded: EmbeddedWorkflow) -> NoReturn:
    reason = f"is a {embedded.image_format} image that contains no ComfyUI workflow"
    if embedded.problems:
        reason += ": " + "; ".join(embedded.problems)
    _fail(
        path,
        reason + ".",
        "Load a picture saved by ComfyUI's Save Image node (copies re-saved by other programs "
        "usually lose the metadata), put the workflow's JSON beside it as "
        f"{path.name}.json, or load the workflow's .json file.",
    )


def _decode(data: bytes, path: Path, image_format: str | None) -> str:
    if image_format is not None:
        _fail(
            path,
            f"is a {image_format} image, which cannot carry a ComfyUI workflow.",
            "Load a PNG, WEBP or JPEG saved by ComfyUI, or the workflow's .json file.",
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


def _fail_too_large(path: Path, size: int, limit: int, kind: str) -> NoReturn:
    fix = (
        "Check that this is the right file: API-format workflows are usually under 1 MB."
        if limit == MAX_WORKFLOW_BYTES
        else "Check that this is the right file, or load the workflow's .json file instead."
    )
    _fail(
        path,
        f"is {size / 1024 / 1024:.1f} MB, larger than the {limit // 1024 // 1024} MB "
        f"limit for {kind}.",
        fix,
    )


def _fail(path: Path, reason: str, fix: str) -> NoReturn:
    raise WorkflowLoadError(path, reason, fix)
