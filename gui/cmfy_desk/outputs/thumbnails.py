"""Thumbnails of image files, made on worker threads and kept in a disk cache.

make_thumbnail() is a plain blocking function that touches no shared state except the cache
folder. There each thumbnail is written under a temporary name and renamed into place, so any
number of threads may call it at once. A cache entry's name is a hash of the image's path,
modification time, size and the thumbnail size, so an image that changes on disk gets a new
entry and a stale one is never shown. Every failure comes back as a ThumbnailError value.
"""

from __future__ import annotations

import hashlib
import logging
import os
import struct
import tempfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps

log = logging.getLogger(__name__)

DEFAULT_THUMBNAIL_SIZE = 256
JPEG_QUALITY = 85
# Pillow's own decompression bomb limit (Image.MAX_IMAGE_PIXELS) stops larger images.
_DECODE_ERRORS = (OSError, SyntaxError, EOFError, ValueError, struct.error, zlib.error)


@dataclass(frozen=True)
class Thumbnail:
    """A thumbnail in the cache: a JPEG, or a PNG when the image has transparency.

    ``width`` and ``height`` are the thumbnail's. ``cached`` is true when it was already in
    the cache and nothing was decoded.
    """

    path: Path
    width: int
    height: int
    cached: bool


@dataclass(frozen=True)
class ThumbnailError:
    """The reason no thumbnail could be made of ``source``, as a sentence to show a person."""

    source: Path
    message: str


ThumbnailResult = Thumbnail | ThumbnailError


@dataclass(frozen=True)
class ThumbnailPixels:
    """The decoded pixels of a cached thumbnail, ready to wrap in an image of any toolkit.

    ``data`` contains ``height`` rows of ``width`` pixels with no padding: 3 bytes a pixel (RGB),
    or 4 (RGBA) when ``has_alpha``.
    """

    width: int
    height: int
    has_alpha: bool
    data: bytes


def make_thumbnail(
    source: Path, cache_dir: Path, max_side: int = DEFAULT_THUMBNAIL_SIZE
) -> ThumbnailResult:
    """Return the cached thumbnail of ``source``, making it first when needed.

    The longer side of the thumbnail is at most ``max_side`` pixels, and smaller images keep
    their size. EXIF orientation is applied. Palette, grey, 16-bit, float and CMYK images
    become RGB, or RGBA when they have transparency. A bad or missing file gives a ThumbnailError
    instead of an exception. Raises ValueError only for a ``max_side`` below 1.
    """
    if max_side < 1:
        raise ValueError(f"Invalid thumbnail size {max_side}: expected 1 or more pixels.")
    try:
        info = source.stat()
    except OSError as exc:
        return ThumbnailError(source, f"{source.name} cannot be read: {exc.strerror or exc}.")

    key = thumbnail_key(source, info.st_mtime_ns, info.st_size, max_side)
    for suffix in (".jpg", ".png"):
        cached = cache_dir / key[:2] / (key + suffix)
        size = _cached_size(cached)
        if size is not None:
            return Thumbnail(cached, size[0], size[1], cached=True)

    try:
        image = render_thumbnail(source, max_side)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # The warning is raised only where warnings are turned into errors, as in tests.
        return ThumbnailError(source, f"{source.name} has too many pixels to open safely: {exc}")
    except _DECODE_ERRORS as exc:
        return ThumbnailError(
            source, f"{source.name} is not a complete image (truncated or damaged): {exc}."
        )

    has_alpha = image.mode == "RGBA"
    target = cache_dir / key[:2] / (key + (".png" if has_alpha else ".jpg"))
    try:
        _write_atomically(image, target, "PNG" if has_alpha else "JPEG")
    except OSError as exc:
        log.warning("Cannot write the thumbnail %s: %s", target, exc)
        return ThumbnailError(
            source, f"The thumbnail of {source.name} cannot be saved: {exc.strerror or exc}."
        )
    return Thumbnail(target, image.width, image.height, cached=False)


def thumbnail_pixels(
    source: Path, cache_dir: Path, max_side: int = DEFAULT_THUMBNAIL_SIZE
) -> ThumbnailPixels | ThumbnailError:
    """Return the pixels of the cached thumbnail of ``source``, making it first when needed.

    Failures come back as a ThumbnailError, as from make_thumbnail().
    """
    result = make_thumbnail(source, cache_dir, max_side)
    if isinstance(result, ThumbnailError):
        return result
    try:
        with Image.open(result.path) as cached:
            image = to_display_mode(cached)
            image.load()
    except _DECODE_ERRORS as exc:
        return ThumbnailError(source, f"The thumbnail of {source.name} cannot be read: {exc}.")
    return ThumbnailPixels(image.width, image.height, image.mode == "RGBA", image.tobytes())


def render_thumbnail(source: Path, max_side: int) -> Image.Image:
    """Decode ``source`` into an upright RGB or RGBA image no larger than ``max_side``.

    Raises what Pillow raises for a file it cannot read (OSError and its kin).
    """
    with Image.open(source) as opened:
        # JPEG decoders can scale by 1/2, 1/4 or 1/8 while decoding, which is much faster.
        opened.draft("RGB", (max_side, max_side))
        image = ImageOps.exif_transpose(opened)
        image.load()
    image = to_display_mode(image)
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=3.0)
    return image


def to_display_mode(image: Image.Image) -> Image.Image:
    """Convert any Pillow mode to RGB, or RGBA when the image has transparency."""
    mode = image.mode
    if mode in ("RGB", "RGBA"):
        return image
    if mode == "P":
        palette_mode = image.palette.mode if image.palette is not None else ""
        has_transparency = "transparency" in image.info or palette_mode == "RGBA"
        return image.convert("RGBA" if has_transparency else "RGB")
    if mode in ("LA", "PA", "La", "RGBa"):
        return image.convert("RGBA")
    if mode.startswith("I;16") or mode in ("I", "F"):
        return _scale_to_8_bit(image).convert("RGB")
    if mode == "RGBX":
        return image.convert("RGB")
    if "transparency" in image.info and mode in ("L", "1", "RGB"):
        return image.convert("RGBA")
    # CMYK, YCbCr, LAB, HSV, L and 1 all have conversions to RGB.
    return image.convert("RGB")


def thumbnail_key(source: Path, mtime_ns: int, size: int, max_side: int) -> str:
    """Return the cache key of a thumbnail: a hash of the absolute path, file state and size."""
    text = f"{source.absolute()}\0{mtime_ns}\0{size}\0{max_side}"
    return hashlib.sha256(text.encode("utf-8", errors="surrogateescape")).hexdigest()


def prune_cache(cache_dir: Path, max_bytes: int) -> int:
    """Delete the least recently used thumbnails until the cache contains at most
    ``max_bytes``; return how many files were deleted."""
    entries: list[tuple[float, int, Path]] = []
    for path in cache_dir.glob("*/*"):
        try:
            info = path.stat()
        except OSError:
            continue
        entries.append((info.st_mtime, info.st_size, path))
    total = sum(size for _mtime, size, _path in entries)
    deleted = 0
    for _mtime, size, path in sorted(entries):
        if total <= max_bytes:
            break
        try:
            path.unlink()
        except OSError as exc:
            log.debug("Cannot delete the thumbnail %s: %s", path, exc)
            continue
        total -= size
        deleted += 1
    return deleted


def _scale_to_8_bit(image: Image.Image) -> Image.Image:
    """Map 16-bit, 32-bit integer and float pixels onto 0-255 by the image's own range."""
    floats = image.convert("F")
    low, high = floats.getextrema()
    assert isinstance(low, float | int) and isinstance(high, float | int)
    if high <= low:
        return Image.new("L", image.size, 0 if high <= 0 else 255)
    scale = 255.0 / (high - low)
    return floats.point(lambda value: (value - low) * scale).convert("L")


def _cached_size(path: Path) -> tuple[int, int] | None:
    """Return the size of a cached thumbnail, or None when it is absent or unreadable."""
    try:
        with Image.open(path) as image:
            size = image.size
    except (FileNotFoundError, NotADirectoryError):
        return None
    except _DECODE_ERRORS as exc:
        log.debug("Ignoring the damaged cached thumbnail %s: %s", path, exc)
        return None
    # Mark the entry as used, so prune_cache() keeps recently shown thumbnails longest.
    now = time.time()
    try:
        os.utime(path, (now, now))
    except OSError as exc:
        log.debug("Cannot mark the thumbnail %s as used: %s", path, exc)
    return size


def _write_atomically(image: Image.Image, target: Path, image_format: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".part")
    try:
        with os.fdopen(handle, "wb") as file:
            if image_format == "JPEG":
                image.save(file, format="JPEG", quality=JPEG_QUALITY)
            else:
                image.save(file, format="PNG", compress_level=1)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
