"""Assembling an XY grid of pictures into one labelled PNG."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from cmfy_desk.outputs.grid import BACKGROUND, GAP, PADDING, PLACEHOLDER_COLOR, assemble_grid


def save_picture(path: Path, size: tuple[int, int], color: tuple[int, int, int]) -> Path:
    Image.new("RGB", size, color).save(path)
    return path


def differs_from_background(image: Image.Image, box: tuple[int, int, int, int]) -> bool:
    region = image.crop(box).convert("RGB")
    colors = region.getcolors(maxcolors=region.width * region.height)
    assert colors is not None
    return any(color != BACKGROUND for _count, color in colors)


@pytest.fixture
def two_by_two(tmp_path: Path) -> dict[tuple[int, int], Path]:
    return {
        (0, 0): save_picture(tmp_path / "a.png", (1024, 1024), (200, 30, 30)),
        (1, 0): save_picture(tmp_path / "b.png", (1024, 1024), (30, 200, 30)),
        (0, 1): save_picture(tmp_path / "c.png", (1024, 1024), (30, 30, 200)),
    }


def test_grid_size_and_cells(tmp_path: Path, two_by_two: dict[tuple[int, int], Path]) -> None:
    out = assemble_grid(
        two_by_two, ["10", "20"], ["5", "7"], "steps", "cfg", tmp_path / "grid.png", max_cell=64
    )
    assert out == tmp_path / "grid.png"
    with Image.open(out) as image:
        assert image.format == "PNG"
        width, height = image.size
        grid = image.convert("RGB")
    # Two 64-pixel cells and a gap on each axis, plus the label bands.
    assert width > 2 * 64 + GAP
    assert height > 2 * 64 + GAP
    right = width - PADDING - 1
    bottom = height - PADDING - 1
    assert grid.getpixel((right - 32, bottom - 64 - GAP - 32)) == (30, 200, 30)
    assert grid.getpixel((right - 64 - GAP - 32, bottom - 32)) == (30, 30, 200)
    assert grid.getpixel((right - 64 - GAP - 32, bottom - 64 - GAP - 32)) == (200, 30, 30)


def test_grid_missing_cell_placeholder(
    tmp_path: Path, two_by_two: dict[tuple[int, int], Path]
) -> None:
    out = assemble_grid(
        two_by_two, ["10", "20"], ["5", "7"], "steps", "cfg", tmp_path / "g.png", 64
    )
    with Image.open(out) as image:
        grid = image.convert("RGB")
        width, height = image.size
    corner = (width - PADDING - 64 + 2, height - PADDING - 64 + 2)
    assert grid.getpixel(corner) == PLACEHOLDER_COLOR
    # The word "missing" is drawn inside the placeholder.
    middle = (width - PADDING - 64, height - PADDING - 64, width - PADDING, height - PADDING)
    colors = grid.crop(middle).getcolors(maxcolors=64 * 64)
    assert colors is not None
    assert len(colors) > 1


def test_grid_labels_drawn(tmp_path: Path, two_by_two: dict[tuple[int, int], Path]) -> None:
    out = assemble_grid(
        two_by_two, ["10", "20"], ["5", "7"], "steps", "cfg", tmp_path / "g.png", 64
    )
    with Image.open(out) as image:
        grid = image.convert("RGB")
        width, height = image.size
    top_band = height - PADDING - 2 * 64 - GAP
    left_band = width - PADDING - 2 * 64 - GAP
    assert top_band > 0
    assert left_band > 0
    assert differs_from_background(grid, (left_band, 0, width, top_band))
    assert differs_from_background(grid, (0, top_band, left_band, height))


def test_grid_without_labels_has_blank_bands(tmp_path: Path) -> None:
    cells = {(0, 0): save_picture(tmp_path / "a.png", (32, 32), (10, 10, 10))}
    out = assemble_grid(cells, [""], [""], "", "", tmp_path / "g.png", 32)
    with Image.open(out) as image:
        grid = image.convert("RGB")
        width, height = image.size
    top_band = height - PADDING - 32
    assert not differs_from_background(grid, (0, 0, width, top_band))


def test_grid_keeps_aspect_ratio(tmp_path: Path) -> None:
    cells = {(0, 0): save_picture(tmp_path / "wide.png", (800, 400), (0, 0, 255))}
    out = assemble_grid(cells, ["a"], ["b"], "", "", tmp_path / "g.png", max_cell=100)
    with Image.open(out) as image:
        grid = image.convert("RGB")
        width, height = image.size
    column = width - PADDING - 50
    row = height - PADDING - 25
    blue_in_column = sum(grid.getpixel((column, y)) == (0, 0, 255) for y in range(height))
    blue_in_row = sum(grid.getpixel((x, row)) == (0, 0, 255) for x in range(width))
    assert blue_in_column == 50
    assert blue_in_row == 100


def test_grid_elides_long_labels(tmp_path: Path) -> None:
    cells = {(0, 0): save_picture(tmp_path / "a.png", (32, 32), (0, 0, 0))}
    long_label = "a very long prompt " * 20
    out = assemble_grid(
        cells, [long_label], [long_label], "prompt", "prompt", tmp_path / "g.png", 32
    )
    with Image.open(out) as image:
        width, _height = image.size
    # The left band stops at its maximum width instead of fitting the whole label.
    assert width < 400


def test_grid_unreadable_cell_placeholder(tmp_path: Path) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n")
    out = assemble_grid({(0, 0): broken}, ["a"], ["b"], "", "", tmp_path / "g.png", 32)
    with Image.open(out) as image:
        width, height = image.size
        assert image.convert("RGB").getpixel((width - PADDING - 30, height - PADDING - 30)) == (
            PLACEHOLDER_COLOR
        )


def test_grid_leaves_no_temporary_file(
    tmp_path: Path, two_by_two: dict[tuple[int, int], Path]
) -> None:
    folder = tmp_path / "out"
    assemble_grid(two_by_two, ["1", "2"], ["1", "2"], "x", "y", folder / "grid.png", 32)
    assert [path.name for path in folder.iterdir()] == ["grid.png"]


def test_grid_needs_labels(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one column label"):
        assemble_grid({}, [], ["a"], "", "", tmp_path / "g.png")
