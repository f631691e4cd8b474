"""Reading the ComfyUI workflow that a picture carries in its metadata.

Where each writer puts it (read from their source, not from documentation):

- ComfyUI's SaveImage writes PNG text chunks ``prompt`` (the API-format graph) and ``workflow``
  (the editor-format graph), as tEXt, or as iTXt when the text is not Latin-1. Other tools
  recompress them as zTXt or compressed iTXt.
- ComfyUI's SaveAnimatedWEBP writes EXIF IFD0 tag 0x0110 (Model) as ``prompt:<json>`` and each
  extra item from 0x010F (Make) downwards as ``<key>:<json>``, so ``workflow:<json>`` is in
  0x010F and any further items in 0x010E (ImageDescription) and below.
- Some custom save nodes write ``Prompt:<json>`` into 0x010F and ``Workflow:<json>`` into
  0x010E, or one JSON object ``{"prompt": ..., "workflow": ...}`` into UserComment (0x9286),
  either as a plain string in IFD0 or in the Exif IFD behind an 8-byte character code.

Only the metadata is read: Pillow opens images lazily and decodes no pixels unless the text
chunks sit after the image data.
"""

from __future__ import annotations

import json
import logging
import re
import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, NoReturn

from PIL import Image, UnidentifiedImageError

log = logging.getLogger(__name__)

# Only the metadata of a picture is read, so its size matters less than a JSON file's. A
# 200 MB limit admits large PNG renders (an 8K 16-bit RGBA PNG is about 130 MB) and keeps
# out video files and disk images picked by mistake.
MAX_IMAGE_BYTES = 200 * 1024 * 1024

IMAGE_FORMATS = ("PNG", "WEBP", "JPEG")

EXIF_IFD_POINTER = 0x8769
USER_COMMENT_TAG = 0x9286
XP_COMMENT_TAG = 0x9C9C
# IFD0 tags that ComfyUI and the save nodes above write, in the order they are searched:
# Model, Make, ImageDescription, DocumentName, Software, Artist.
EXIF_TEXT_TAGS = (0x0110, 0x010F, 0x010E, 0x010D, 0x0131, 0x013B)

_TAGGED_JSON = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_ ]{0,40}?)\s*:\s*(?=[\[{])", re.DOTALL)
_USER_COMMENT_CODES = {
    b"ASCII\x00\x00\x00": "ascii",
    b"UNICODE\x00": "utf-16",
    b"\x00" * 8: "undefined",
}


class ImageMetadataError(Exception):
    """A picture whose metadata cannot be read, with the ``reason`` and the ``fix``."""

    def __init__(self, reason: str, fix: str) -> None:
        super().__init__(f"{reason} {fix}")
        self.reason = reason
        self.fix = fix


@dataclass
class EmbeddedWorkflow:
    """The workflow found in a picture's metadata.

    ``prompt`` is the API-format graph and ``workflow`` the editor-format graph, each as parsed
    JSON or None when absent. ``problems`` lists metadata that looked like one of them but was
    not valid JSON, for the error message when nothing usable was found.
    """

    image_format: str
    prompt: Any = None
    workflow: Any = None
    problems: list[str] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return self.prompt is not None or self.workflow is not None


def sniff_image_format(head: bytes) -> str | None:
    """Return the image format that the first 12 bytes of a file show, or None for no image.

    Returns "PNG", "WEBP" or "JPEG" for the formats that can carry a workflow, and "GIF",
    "BMP", "TIFF" or "AVIF" for other images, so that a message can name them.
    """
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "WEBP"
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "GIF"
    if head.startswith(b"BM"):
        return "BMP"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "TIFF"
    if head[4:12] in (b"ftypavif", b"ftypavis"):
        return "AVIF"
    return None


def read_embedded_workflow(source: Path | IO[bytes], image_format: str) -> EmbeddedWorkflow:
    """Read the workflow from the metadata of a PNG, WEBP or JPEG picture.

    Raises ImageMetadataError when the picture cannot be opened (truncated, corrupt, or too
    many pixels for Pillow's decompression bomb check).
    """
    found = EmbeddedWorkflow(image_format=image_format)
    try:
        with Image.open(source, formats=IMAGE_FORMATS) as image:
            if image_format == "PNG":
                _read_png_text(image, found)
            if not found.found:
                _read_exif(image, found)
            if not found.found:
                comment = image.info.get("comment")
                if isinstance(comment, bytes | str):
                    _read_text_value(_as_text(comment), "comment", found)
    except Image.DecompressionBombError as exc:
        _fail_unreadable(image_format, f"has too many pixels to open safely ({exc}).")
    except UnidentifiedImageError:
        _fail_unreadable(image_format, "cannot be read: its header is damaged or incomplete.")
    except (OSError, SyntaxError, EOFError, struct.error, zlib.error) as exc:
        _fail_unreadable(image_format, f"cannot be read: it is truncated or damaged ({exc}).")
    except ValueError as exc:
        # Pillow raises ValueError for a compressed text chunk over PngImagePlugin's
        # MAX_TEXT_CHUNK (1 MB decompressed).
        _fail_unreadable(image_format, f"has metadata that cannot be read: {exc}.")
    return found


def _read_png_text(image: Image.Image, found: EmbeddedWorkflow) -> None:
    _read_text_items(image.info, found)
    if found.found:
        return
    # Text chunks after the image data are only parsed once the pixels are loaded. ComfyUI
    # writes its chunks before the data, so this costs a decode only for other writers.
    try:
        text = getattr(image, "text", {})
    except (OSError, SyntaxError, EOFError, struct.error, zlib.error, ValueError) as exc:
        log.debug("Cannot read text chunks after the image data: %s", exc)
        return
    if isinstance(text, Mapping):
        _read_text_items(text, found)


def _read_text_items(items: Mapping[Any, Any], found: EmbeddedWorkflow) -> None:
    for key, value in items.items():
        if not isinstance(key, str) or not isinstance(value, str):
            continue
        name = key.strip().lower()
        if name in ("prompt", "workflow"):
            _store(found, name, _parse_json_text(value, f"text chunk '{key}'", found))


def _read_exif(image: Image.Image, found: EmbeddedWorkflow) -> None:
    try:
        exif = image.getexif()
        exif_ifd = exif.get_ifd(EXIF_IFD_POINTER)
    except (OSError, SyntaxError, EOFError, struct.error, ValueError, KeyError) as exc:
        log.debug("Cannot read EXIF data: %s", exc)
        return

    for tag in EXIF_TEXT_TAGS:
        value = exif.get(tag)
        if isinstance(value, str | bytes):
            _read_text_value(_as_text(value), f"EXIF tag 0x{tag:04X}", found)
    # Pillow writes a UserComment set on the top level into IFD0, other writers put it into
    # the Exif IFD where the standard has it.
    for user_comment in (exif.get(USER_COMMENT_TAG), exif_ifd.get(USER_COMMENT_TAG)):
        if isinstance(user_comment, str | bytes):
            _read_text_value(_user_comment_text(user_comment), "EXIF UserComment", found)
    xp_comment = exif.get(XP_COMMENT_TAG)
    if isinstance(xp_comment, bytes):
        # Windows' XPComment is UTF-16LE, ended by a NUL character.
        text = xp_comment.decode("utf-16-le", errors="replace").rstrip("\x00")
        _read_text_value(text, "EXIF XPComment", found)


def _read_text_value(text: str, where: str, found: EmbeddedWorkflow) -> None:
    """Take a workflow from one metadata string: ``key:<json>`` or a JSON object."""
    tagged = _TAGGED_JSON.match(text)
    if tagged:
        name = tagged.group(1).strip().lower()
        if name in ("prompt", "workflow"):
            value = _parse_json_text(text[tagged.end() :], f"{where} ({name})", found)
            _store(found, name, value)
        return

    if not text.lstrip().startswith("{"):
        return
    document = _parse_json_text(text, where, found)
    if not isinstance(document, dict):
        return
    if "prompt" in document or "workflow" in document:
        for name in ("prompt", "workflow"):
            value = document.get(name)
            if isinstance(value, str):
                value = _parse_json_text(value, f"{where} ({name})", found)
            _store(found, name, value)
    elif document and all(
        isinstance(node, dict) and "class_type" in node for node in document.values()
    ):
        _store(found, "prompt", document)
    elif isinstance(document.get("nodes"), list):
        _store(found, "workflow", document)


def _store(found: EmbeddedWorkflow, name: str, value: Any) -> None:
    # The first occurrence wins: the tags are searched in the order their writers use them.
    if not isinstance(value, dict):
        return
    if name == "prompt" and found.prompt is None:
        found.prompt = value
    elif name == "workflow" and found.workflow is None:
        found.workflow = value


def _parse_json_text(text: str, where: str, found: EmbeddedWorkflow) -> Any:
    text = text.strip().rstrip("\x00")
    try:
        # raw_decode takes the first JSON value, because one save node writes several values
        # back to back into a single tag.
        value, _end = json.JSONDecoder(parse_constant=_reject_constant).raw_decode(text)
    except (ValueError, RecursionError) as exc:
        found.problems.append(f"{where} is not valid JSON ({exc})")
        return None
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a valid JSON value")


def _as_text(value: str | bytes) -> str:
    if isinstance(value, str):
        return value
    return value.decode("utf-8", errors="replace")


def _user_comment_text(value: str | bytes) -> str:
    """Decode an EXIF UserComment: an 8-byte character code, then the text."""
    if isinstance(value, str):
        return value
    code = _USER_COMMENT_CODES.get(value[:8])
    if code is None:
        return _as_text(value)
    body = value[8:]
    if code != "utf-16":
        return body.decode("utf-8", errors="replace")
    # The EXIF standard leaves the byte order of UNICODE to the file's byte order, and writers
    # differ, so the order whose text starts like JSON wins.
    for encoding in ("utf-16-be", "utf-16-le"):
        text = body.decode(encoding, errors="replace")
        if text.lstrip("\ufeff \t\r\n").startswith(("{", "[")) or _TAGGED_JSON.match(text):
            return text.lstrip("\ufeff")
    return body.decode("utf-16-be", errors="replace")


def _fail_unreadable(image_format: str, reason: str) -> NoReturn:
    raise ImageMetadataError(
        f"is a {image_format} image that {reason}",
        "Check that the file was copied completely, or save the picture again from ComfyUI.",
    )
