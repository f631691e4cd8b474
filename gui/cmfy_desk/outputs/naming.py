"""File and folder names for outputs that are safe on every OS and stay inside the output folder."""

from __future__ import annotations

import re
import time
import unicodedata
from pathlib import Path, PurePosixPath
from urllib.parse import parse_qs, urlsplit

# Names Windows reserves for devices, with or without an extension.
_RESERVED_NAMES = frozenset(
    {"CON", "PRN", "AUX", "NUL"}
    | {f"COM{i}" for i in range(1, 10)}
    | {f"LPT{i}" for i in range(1, 10)}
)
_UNSAFE_CHARACTERS = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
MAX_NAME_LENGTH = 120
OUTPUT_EXTENSIONS = frozenset(
    {".png", ".jpg", ".jpeg", ".webp", ".gif", ".mp4", ".webm", ".mov", ".mkv", ".apng"}
    | {".wav", ".flac", ".mp3", ".ogg", ".glb", ".obj", ".txt", ".json"}
)


class UnsafePathError(ValueError):
    """A path built from outside data would land outside the output folder."""


def safe_name(text: str, fallback: str = "untitled") -> str:
    """Turn ``text`` into one path component that every OS accepts."""
    name = unicodedata.normalize("NFC", text)
    name = _UNSAFE_CHARACTERS.sub("_", name).strip().strip(".")
    name = name[:MAX_NAME_LENGTH].rstrip(" .")
    if not name:
        return fallback
    if name.split(".")[0].upper() in _RESERVED_NAMES:
        name = f"_{name}"
    return name


def extension_from_url(url: str) -> str:
    """Return the output's extension, from a ``filename`` query parameter (as ComfyUI's
    ``/view`` URLs carry) or else the URL's path; ``.png`` when unknown or missing."""
    parts = urlsplit(url)
    names = parse_qs(parts.query).get("filename") or [parts.path]
    suffix = PurePosixPath(names[0]).suffix.lower()
    return suffix if suffix in OUTPUT_EXTENSIONS else ".png"


def contained_path(root: Path, *parts: str) -> Path:
    """Join ``parts`` under ``root`` and check the result stays inside ``root``."""
    root = root.resolve()
    candidate = root.joinpath(*parts).resolve()
    if not candidate.is_relative_to(root) or candidate == root:
        raise UnsafePathError(f"{'/'.join(parts)!r} would be written outside {root}.")
    return candidate


def output_file_name(job_id: int, index: int, url: str) -> str:
    return f"job{job_id:05d}_{index:02d}{extension_from_url(url)}"


def batch_folder_name(workflow_name: str, created_at: float, taken: set[str]) -> str:
    """Return ``<workflow> <date> <time>``, with `` (2)``, `` (3)``... when already ``taken``."""
    stamp = time.strftime("%Y-%m-%d %H-%M-%S", time.localtime(created_at))
    base = safe_name(f"{workflow_name} {stamp}")
    name = base
    number = 2
    while name in taken:
        name = f"{base} ({number})"
        number += 1
    return name
