"""Deterministic stand-in images for finished sandbox jobs, written as ComfyUI writes PNGs.

Rendering is blocking Pillow work; the server calls ``render_job_images`` through
``asyncio.to_thread``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo

from cmfy_desk.workflows.graph import Graph, first_seed, image_size, prompt_texts

# ComfyUI's SaveImage node saves with this zlib level.
PNG_COMPRESS_LEVEL = 4
CAPTION_WORDS = 6


def image_file_name(index: int) -> str:
    return f"image_{index}.png"


def render_job_images(graph: Graph, job_dir: Path) -> list[Path]:
    """Write one PNG per image of the graph's batch into ``job_dir`` and return their paths.

    The pixels depend only on the graph's first seed, its first prompt text and the batch
    index, so equal jobs give equal files. Each file carries a ``prompt`` text chunk with the
    graph's JSON, like ComfyUI's SaveImage.
    """
    size = image_size(graph)
    seed = first_seed(graph)
    texts = prompt_texts(graph)
    prompt = texts[0] if texts else ""
    metadata = PngInfo()
    metadata.add_text("prompt", json.dumps(graph))

    job_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for index in range(size.batch_size):
        image = draw_picture(size.width, size.height, seed, prompt, index)
        path = job_dir / image_file_name(index)
        # Write under a temporary name first, so a download never reads a partial file.
        partial = path.with_suffix(".part")
        image.save(partial, format="PNG", pnginfo=metadata, compress_level=PNG_COMPRESS_LEVEL)
        partial.replace(path)
        paths.append(path)
    return paths


def draw_picture(width: int, height: int, seed: int | None, prompt: str, index: int) -> Image.Image:
    """Draw a gradient, a few shapes and a caption chosen by a hash of seed, prompt and index."""
    digest = hashlib.sha256(f"{seed}\n{prompt}\n{index}".encode()).digest()

    start = Image.new("RGB", (width, height), (digest[0], digest[1], digest[2]))
    end = Image.new("RGB", (width, height), (digest[3], digest[4], digest[5]))
    mask = Image.linear_gradient("L").rotate(digest[6] * 360 / 256).resize((width, height))
    image = Image.composite(start, end, mask)

    draw = ImageDraw.Draw(image)
    for shape in range(4):
        base = 7 + shape * 6
        left = digest[base] * width // 256
        top = digest[base + 1] * height // 256
        right = left + max(1, digest[base + 2] * width // 512)
        bottom = top + max(1, digest[base + 3] * height // 512)
        colour = (digest[base + 4], digest[base + 5], digest[(base + 6) % len(digest)])
        if shape % 2 == 0:
            draw.ellipse((left, top, right, bottom), fill=colour)
        else:
            draw.rectangle((left, top, right, bottom), fill=colour)

    caption = " ".join(prompt.split()[:CAPTION_WORDS])
    label = f"seed {seed if seed is not None else '-'}  #{index}"
    font = ImageFont.load_default(size=max(8, min(width, height) // 24))
    margin = max(2, width // 64)
    draw.text((margin, margin), caption, fill=(255, 255, 255), font=font)
    draw.text((margin, height - margin * 6), label, fill=(255, 255, 255), font=font)
    return image
