"""Analysis of model references: download URLs on cmfy.cloud, file names on a ComfyUI server.

cmfy.cloud's node cache keys models by the exact URL string, so two spellings of one file's URL
are two cache misses. These functions find which references name the same file and which
spelling to keep. They do no network or database access.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit, urlunsplit

from cmfy_desk.workflows.graph import MODEL_INPUT_NAMES, Graph

HUGGING_FACE_HOSTS = frozenset({"huggingface.co", "hf.co", "www.huggingface.co"})
CIVITAI_HOSTS = frozenset({"civitai.com", "www.civitai.com"})

# Query parameters that change how a file is served or who is tracked, never which file is
# served. Hugging Face's ``download=true`` only sets Content-Disposition. Every other parameter
# is kept, because some select the file (Civitai's ``type``, ``format``, ``size`` and ``fp``).
TRACKING_QUERY_PARAMETERS = frozenset(
    {
        "download",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_term",
        "utm_content",
        "fbclid",
        "gclid",
    }
)

# Loader inputs of ComfyUI's core nodes that name a model file, beyond the common ones.
MORE_MODEL_INPUT_NAMES = frozenset(
    {
        "style_model_name",
        "gligen_name",
        "hypernetwork_name",
        "photomaker_model_name",
        "clip_name4",
        "audio_encoder_name",
    }
)
ALL_MODEL_INPUT_NAMES = MODEL_INPUT_NAMES | MORE_MODEL_INPUT_NAMES

# Suffixes of model files, to recognise a URL input of a custom loader node as a model.
MODEL_FILE_SUFFIXES = (".safetensors", ".ckpt", ".pt", ".pth", ".bin", ".gguf", ".sft", ".onnx")
# Inputs that hold text to pass on, never a model to load, even when the text is a URL.
TEXT_INPUT_NAMES = frozenset({"text", "text_g", "text_l", "prompt", "filename_prefix"})

_COMMIT_HASH = re.compile(r"[0-9a-f]{40}")
# Hugging Face file URLs: /<org>/<repo>/resolve/<revision>/<path>, optionally under /datasets
# or /spaces. ``blob`` instead of ``resolve`` is the file's web page, not the file.
_HUGGING_FACE_PATH = re.compile(
    r"^/(?:(?:datasets|spaces)/)?(?P<repo>[^/]+/[^/]+)/(?P<kind>resolve|blob)/"
    r"(?P<revision>[^/]+)/(?P<path>.+)$"
)
_CIVITAI_DOWNLOAD_PATH = re.compile(r"^/api/download/models/(?P<version>\d+)/?$")


@dataclass(frozen=True)
class ModelReference:
    """One model input value, taken apart.

    ``file_name`` is the last path segment (for a Civitai download URL, which carries no file
    name, the model version id). For Hugging Face URLs ``repo`` is ``"org/name"`` and ``path``
    the file's path inside the repository. For a local name ``path`` is the name with its
    subfolder. ``pinned`` is true when the URL always serves the same bytes: a Hugging Face
    revision that is a 40-hex commit hash, or a Civitai model version id.
    """

    url: str
    file_name: str
    host: str
    repo: str | None
    revision: str | None
    path: str | None
    is_url: bool
    pinned: bool


def parse_model_reference(value: str) -> ModelReference:
    """Split a model input value into its parts.

    The value is an http(s) URL or a local file name such as ``SDXL/a.safetensors``.
    """
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return _local_reference(value)

    host = (parts.hostname or "").lower()
    if host in HUGGING_FACE_HOSTS:
        # Match before unquoting: a branch such as refs%2Fpr%2F1 contains encoded slashes.
        match = _HUGGING_FACE_PATH.match(parts.path)
        if match is not None:
            file_path = unquote(match["path"]).rstrip("/")
            revision = unquote(match["revision"])
            return ModelReference(
                url=value,
                file_name=file_path.rsplit("/", 1)[-1],
                host=host,
                repo=unquote(match["repo"]),
                revision=revision,
                path=file_path,
                is_url=True,
                pinned=_COMMIT_HASH.fullmatch(revision) is not None,
            )
    path = unquote(parts.path)
    if host in CIVITAI_HOSTS:
        match = _CIVITAI_DOWNLOAD_PATH.match(path)
        if match is not None:
            return ModelReference(
                url=value,
                file_name=match["version"],
                host=host,
                repo=None,
                revision=match["version"],
                path=None,
                is_url=True,
                pinned=True,
            )
    return ModelReference(
        url=value,
        file_name=path.rstrip("/").rsplit("/", 1)[-1],
        host=host,
        repo=None,
        revision=None,
        path=None,
        is_url=True,
        pinned=False,
    )


def _local_reference(value: str) -> ModelReference:
    # ComfyUI on Windows lists models in subfolders with backslashes.
    normalized = value.replace("\\", "/")
    return ModelReference(
        url=value,
        file_name=normalized.rsplit("/", 1)[-1],
        host="",
        repo=None,
        revision=None,
        path=normalized,
        is_url=False,
        pinned=False,
    )


def same_model(a: ModelReference, b: ModelReference) -> bool:
    """Return whether two references name the same model file.

    True for the same file name (a local name and a URL included), for one Hugging Face repo
    and path at two revisions, and for one URL with and without extra query parameters.
    """
    if a.url == b.url:
        return True
    if a.repo is not None and a.repo == b.repo and a.path == b.path:
        return True
    if a.is_url and b.is_url and _without_query(a.url) == _without_query(b.url):
        return True
    return bool(a.file_name) and a.file_name == b.file_name


def canonical_form(url: str) -> str:
    """Return ``url`` without what does not change the file it serves.

    Drops tracking query parameters (``download=true``, ``utm_*``), the fragment and trailing
    slashes, lowercases scheme and host, and turns a Hugging Face ``blob`` page URL into the
    ``resolve`` URL of the file. Other query parameters stay, in their order. A value that is
    not an http(s) URL is returned stripped of surrounding spaces.
    """
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return url
    host = parts.netloc.lower()
    path = parts.path.rstrip("/")
    if (parts.hostname or "").lower() in HUGGING_FACE_HOSTS:
        match = _HUGGING_FACE_PATH.match(path)
        if match is not None and match["kind"] == "blob":
            start, end = match.span("kind")
            path = path[:start] + "resolve" + path[end:]
    # Filter the raw query items rather than decoding and re-encoding them, so that the kept
    # parameters keep their exact spelling.
    query = "&".join(
        item for item in parts.query.split("&") if item and not _is_tracking_parameter(item)
    )
    return urlunsplit((parts.scheme.lower(), host, path, query, ""))


def is_canonical(url: str) -> bool:
    return canonical_form(url) == url


def _is_tracking_parameter(item: str) -> bool:
    key = unquote(item.split("=", 1)[0]).lower()
    return key in TRACKING_QUERY_PARAMETERS or key.startswith("utm_")


def _without_query(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), "", ""))


def model_inputs(graph: Graph) -> Iterator[tuple[str, str, str]]:
    """Yield ``(node_id, input_name, value)`` of every literal input that names a model.

    Those are the known loader inputs (ckpt_name, lora_name, ...) and any other input whose
    value is an http(s) URL of a model file (as custom loader nodes take), text inputs excepted.
    """
    for node_id, node in graph.items():
        inputs = node.get("inputs")
        if not isinstance(inputs, dict):
            continue
        for name, value in inputs.items():
            if not isinstance(value, str) or not value.strip():
                continue
            if name in ALL_MODEL_INPUT_NAMES or (
                name not in TEXT_INPUT_NAMES and _is_model_file_url(value)
            ):
                yield node_id, name, value


def _is_model_file_url(value: str) -> bool:
    parts = urlsplit(value.strip())
    return (
        parts.scheme.lower() in ("http", "https")
        and bool(parts.netloc)
        and parts.path.lower().endswith(MODEL_FILE_SUFFIXES)
    )
