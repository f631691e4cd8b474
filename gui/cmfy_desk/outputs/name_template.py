"""Output folder and file names built from templates such as ``{workflow} {date} {time}``.

A template is literal text with tokens in braces. render_name() fills one path component and
render_folder() splits a folder template on ``/`` into subfolders. Every component goes through
safe_name(), so a token's value (a prompt, a model's file name) never adds a path separator,
a reserved Windows device name or a character that some OS rejects.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from cmfy_desk.outputs.naming import contained_path, safe_name
from cmfy_desk.workflows.graph import Graph, is_empty_latent_class, literal_value
from cmfy_desk.workflows.model_urls import parse_model_reference
from cmfy_desk.workflows.parameters import ParameterKind, find_parameters

DEFAULT_FOLDER_TEMPLATE = "{workflow} {date} {time}"
DEFAULT_FILE_TEMPLATE = "job{job}_{index}"

# Tokens in the order the error message lists them. ``{prompt:N}`` also takes a length.
TOKENS = (
    "date",
    "time",
    "batch",
    "workflow",
    "job",
    "index",
    "seed",
    "model",
    "width",
    "height",
    "prompt",
)
_TOKEN = re.compile(r"\{([^{}]*)\}")
_PROMPT_WITH_LENGTH = re.compile(r"prompt:(\d+)")
# Loader inputs whose file is the main model, before any other model input of the graph.
_CHECKPOINT_INPUTS = ("ckpt_name", "unet_name")
_MODEL_INPUTS = (*_CHECKPOINT_INPUTS, "model_name")


@dataclass(frozen=True)
class NameValues:
    """The values a template's tokens take. ``None`` and ``""`` render as empty text.

    ``created_at`` (Unix seconds) gives ``{date}`` and ``{time}`` in local time.
    """

    created_at: float
    workflow: str = ""
    batch: str = ""
    job: int | None = None
    index: int | None = None
    seed: int | None = None
    model: str = ""
    width: int | None = None
    height: int | None = None
    prompt: str = ""


def accepted_tokens() -> str:
    """Return the accepted tokens as a comma-separated list, for messages."""
    return ", ".join([*(f"{{{name}}}" for name in TOKENS), "{prompt:N}"])


def check_template(template: str) -> str | None:
    """Return what is wrong with ``template``, or None when every token in it is known.

    An empty template is valid: it means the default name.
    """
    for match in _TOKEN.finditer(template):
        token = match.group(1)
        if token in TOKENS:
            continue
        length = _PROMPT_WITH_LENGTH.fullmatch(token)
        if length is not None and int(length.group(1)) > 0:
            continue
        if token.startswith("prompt:"):
            return (
                f"Invalid token {match.group(0)} in the name template {template!r}: "
                "N in {prompt:N} must be a whole number of characters, at least 1."
            )
        return (
            f"Unknown token {match.group(0)} in the name template {template!r}. "
            f"Accepted tokens: {accepted_tokens()}."
        )
    rest = _TOKEN.sub("", template)
    if "{" in rest or "}" in rest:
        return (
            f"Unmatched brace in the name template {template!r}: every token is a name in "
            f"braces. Accepted tokens: {accepted_tokens()}."
        )
    return None


def render_name(
    template: str, values: NameValues, *, default_template: str = DEFAULT_FILE_TEMPLATE
) -> str:
    """Fill ``template`` as one path component that every OS accepts (at most 120 characters).

    A ``/`` in the template or in a value becomes ``_``. An empty result is rendered from
    ``default_template`` instead. Raises ValueError with check_template()'s message for an
    unknown token.
    """
    name = safe_name(_fill(template, values), fallback="")
    if name or template == default_template:
        return name or "untitled"
    return render_name(default_template, values, default_template=default_template)


def render_folder(template: str, values: NameValues) -> list[str]:
    """Fill a folder template, each ``/``-separated part a folder inside the one before.

    Parts that render empty (or as ``.`` or ``..``) are left out. When every part does, the
    result is the default folder template's single part.
    """
    parts = [
        safe_name(_fill(part, values), fallback="")
        for part in re.split(r"[/\\]", template)
        if part.strip()
    ]
    parts = [part for part in parts if part]
    if parts:
        return parts
    return [render_name(DEFAULT_FOLDER_TEMPLATE, values, default_template=DEFAULT_FOLDER_TEMPLATE)]


def unique_folder(root: Path, parts: list[str], batch_folders: Iterable[str]) -> Path:
    """Return ``root/parts...``, adding `` (2)``, `` (3)``... to the last part when that folder
    exists or is one of ``batch_folders`` (absolute folders of earlier batches).

    Raises UnsafePathError when the folder would land outside ``root``.
    """
    taken_paths = {Path(folder).absolute() for folder in batch_folders}
    parent = root.absolute().joinpath(*parts[:-1])
    name = parts[-1]
    number = 2
    while (parent / name) in taken_paths or (parent / name).exists():
        name = f"{parts[-1]} ({number})"
        number += 1
    contained_path(root, *parts[:-1], name)
    return parent / name


def values_for_job(
    *,
    created_at: float,
    workflow: str,
    batch: str,
    job: int | None,
    index: int | None,
    seed: int | None,
    graph: Graph,
    parameters: dict[str, Any],
) -> NameValues:
    """Collect the token values of one job from its prompt graph and its parameters."""
    width, height = _image_size(graph)
    return NameValues(
        created_at=created_at,
        workflow=workflow,
        batch=batch,
        job=job,
        index=index,
        seed=seed,
        model=_model_name(graph),
        width=width,
        height=height,
        prompt=_positive_prompt(graph, parameters),
    )


def _fill(template: str, values: NameValues) -> str:
    problem = check_template(template)
    if problem is not None:
        raise ValueError(problem)
    return _TOKEN.sub(lambda match: _token_value(match.group(1), values), template)


def _token_value(token: str, values: NameValues) -> str:
    stamp = time.localtime(values.created_at)
    if token.startswith("prompt:"):
        return _one_line(values.prompt)[: int(token.removeprefix("prompt:"))]
    match token:
        case "date":
            return time.strftime("%Y-%m-%d", stamp)
        case "time":
            return time.strftime("%H-%M-%S", stamp)
        case "job":
            return "" if values.job is None else f"{values.job:05d}"
        case "index":
            return "" if values.index is None else f"{values.index:02d}"
        case "prompt":
            return _one_line(values.prompt)
        case "workflow" | "batch" | "model":
            return str(getattr(values, token))
        case _:
            value = getattr(values, token)
            return "" if value is None else str(value)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _model_name(graph: Graph) -> str:
    """Return the first checkpoint's file name without its extension, or ``""``."""
    for input_name in _MODEL_INPUTS:
        for node in graph.values():
            inputs = node.get("inputs")
            value = inputs.get(input_name) if isinstance(inputs, dict) else None
            if isinstance(value, str) and value.strip():
                file_name = parse_model_reference(value).file_name
                return PurePosixPath(file_name).stem if file_name else ""
    return ""


def _image_size(graph: Graph) -> tuple[int | None, int | None]:
    """Return the width and height of the graph's empty latent node, or Nones when unknown."""
    for node in graph.values():
        if not is_empty_latent_class(str(node.get("class_type", ""))):
            continue
        inputs = node.get("inputs", {})
        width = literal_value(graph, inputs.get("width"))
        height = literal_value(graph, inputs.get("height"))
        if isinstance(width, int) and isinstance(height, int):
            return width, height
    return None, None


def _positive_prompt(graph: Graph, parameters: dict[str, Any]) -> str:
    value = parameters.get("prompt")
    if isinstance(value, str) and value.strip():
        return value
    try:
        found = find_parameters(graph)
    except (ValueError, KeyError, TypeError):
        # A graph the parameter finder cannot read still gets a name, without the prompt.
        return ""
    for parameter in found:
        if parameter.kind is ParameterKind.POSITIVE_PROMPT and isinstance(parameter.value, str):
            return str(parameter.value)
    return ""
