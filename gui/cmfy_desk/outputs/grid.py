"""Assembly of an XY grid's pictures into one labelled PNG.

A plain blocking function, so the app runs it on a worker thread.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

log = logging.getLogger(__name__)

BACKGROUND = (255, 255, 255)
TEXT_COLOR = (0, 0, 0)
PLACEHOLDER_COLOR = (200, 200, 200)
PLACEHOLDER_TEXT_COLOR = (90, 90, 90)
GAP = 4
PADDING = 8
FONT_SIZE = 16
# The left band is at most this wide, so long row labels are elided rather than widening it.
MAX_LEFT_BAND = 240
ELLIPSIS = "…"

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def assemble_grid(
    cells: dict[tuple[int, int], Path],
    x_labels: list[str],
    y_labels: list[str],
    x_title: str,
    y_title: str,
    out: Path,
    max_cell: int = 512,
) -> Path:
    """Write a grid of pictures with its axis labels as a PNG and return ``out``.

    ``cells`` maps ``(x_index, y_index)`` to a picture. Each picture is scaled down to fit
    ``max_cell`` pixels square, keeping its aspect ratio. Column labels run along the top and
    row labels down the left, and each is elided with "…" when too long. A cell without a
    picture, or whose picture cannot be read, is a grey placeholder saying "missing". The file
    is written under a temporary name and renamed, so ``out`` is never half-written. Raises
    ValueError for no columns or rows, and OSError when the file cannot be written.
    """
    if not x_labels or not y_labels:
        raise ValueError("A grid needs at least one column label and one row label.")
    if max_cell < 16:
        raise ValueError(f"max_cell must be at least 16 pixels, got {max_cell}.")

    pictures = {position: _load_cell(path, max_cell) for position, path in cells.items()}
    loaded = [picture for picture in pictures.values() if picture is not None]
    cell_width = max((picture.width for picture in loaded), default=max_cell)
    cell_height = max((picture.height for picture in loaded), default=max_cell)

    font = _font(FONT_SIZE)
    line_height = _text_size(font, "Ag")[1] + 4
    top_band = PADDING + line_height * (2 if x_title else 1) + GAP
    widest_label = max((_text_size(font, label)[0] for label in [*y_labels, y_title]), default=0)
    left_band = min(MAX_LEFT_BAND, widest_label + 2 * PADDING)

    columns, rows = len(x_labels), len(y_labels)
    width = left_band + columns * cell_width + (columns - 1) * GAP + PADDING
    height = top_band + rows * cell_height + (rows - 1) * GAP + PADDING
    canvas = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(canvas)

    if x_title:
        title = _elide(draw, font, x_title, width - left_band - PADDING)
        draw.text((left_band, PADDING), title, fill=TEXT_COLOR, font=font)
    if y_title:
        title = _elide(draw, font, y_title, left_band - 2 * PADDING)
        draw.text((PADDING, PADDING), title, fill=TEXT_COLOR, font=font)
    label_top = PADDING + (line_height if x_title else 0)
    for column, label in enumerate(x_labels):
        left = left_band + column * (cell_width + GAP)
        draw.text(
            (left, label_top), _elide(draw, font, label, cell_width), fill=TEXT_COLOR, font=font
        )
    for row, label in enumerate(y_labels):
        top = top_band + row * (cell_height + GAP)
        text = _elide(draw, font, label, left_band - 2 * PADDING)
        middle = top + cell_height // 2 - line_height // 2
        draw.text((PADDING, middle), text, fill=TEXT_COLOR, font=font)

    for row in range(rows):
        for column in range(columns):
            left = left_band + column * (cell_width + GAP)
            top = top_band + row * (cell_height + GAP)
            picture = pictures.get((column, row))
            if picture is None:
                _draw_placeholder(draw, font, (left, top, cell_width, cell_height))
                continue
            # Centre pictures smaller than the cell (another aspect ratio than the largest).
            offset = ((cell_width - picture.width) // 2, (cell_height - picture.height) // 2)
            canvas.paste(picture, (left + offset[0], top + offset[1]))

    return _write_png(canvas, out)


def _load_cell(path: Path, max_cell: int) -> Image.Image | None:
    try:
        with Image.open(path) as image:
            image.thumbnail((max_cell, max_cell))
            return image.convert("RGB")
    except FileNotFoundError:
        log.info("Grid cell picture %s does not exist; drawing a placeholder", path)
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as exc:
        log.warning("Cannot read grid cell picture %s: %s", path, exc)
    return None


def _draw_placeholder(
    draw: ImageDraw.ImageDraw, font: Font, box: tuple[int, int, int, int]
) -> None:
    left, top, width, height = box
    draw.rectangle((left, top, left + width - 1, top + height - 1), fill=PLACEHOLDER_COLOR)
    text_width, text_height = _text_size(font, "missing")
    draw.text(
        (left + (width - text_width) // 2, top + (height - text_height) // 2),
        "missing",
        fill=PLACEHOLDER_TEXT_COLOR,
        font=font,
    )


def _font(size: int) -> Font:
    try:
        # Pillow 10.1 and later scale the built-in font when FreeType is available.
        return ImageFont.load_default(size)
    except (OSError, TypeError, ValueError):
        return ImageFont.load_default()


def _text_size(font: Font, text: str) -> tuple[int, int]:
    left, top, right, bottom = font.getbbox(text or " ")
    return int(right - left), int(bottom - top)


def _elide(draw: ImageDraw.ImageDraw, font: Font, text: str, max_width: int) -> str:
    """Return ``text``, shortened with a trailing "…" to fit ``max_width`` pixels."""
    if draw.textlength(text, font=font) <= max_width:
        return text
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if draw.textlength(text[:middle] + ELLIPSIS, font=font) <= max_width:
            low = middle
        else:
            high = middle - 1
    return text[:low].rstrip() + ELLIPSIS if low else ELLIPSIS


def _write_png(canvas: Image.Image, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(f".{out.name}.{os.getpid()}.part")
    try:
        canvas.save(temporary, format="PNG")
        os.replace(temporary, out)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return out
