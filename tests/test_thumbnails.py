"""Thumbnails: size, orientation, odd pixel modes, bad files, the disk cache and threads."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PIL import Image

from cmfy_desk.outputs.thumbnails import (
    Thumbnail,
    ThumbnailError,
    make_thumbnail,
    prune_cache,
    thumbnail_key,
)

EXIF_ORIENTATION = 0x0112


def made(result: Thumbnail | ThumbnailError) -> Thumbnail:
    assert isinstance(result, Thumbnail), result
    return result


def failed(result: Thumbnail | ThumbnailError) -> ThumbnailError:
    assert isinstance(result, ThumbnailError), result
    return result


def opened(thumbnail: Thumbnail) -> Image.Image:
    with Image.open(thumbnail.path) as image:
        image.load()
        return image.copy()


def test_large_image_is_scaled_down(tmp_path: Path) -> None:
    source = tmp_path / "wide.png"
    Image.new("RGB", (1200, 600), (10, 200, 30)).save(source)
    thumbnail = made(make_thumbnail(source, tmp_path / "cache", 256))
    assert (thumbnail.width, thumbnail.height) == (256, 128)
    image = opened(thumbnail)
    assert image.size == (256, 128)
    assert image.mode == "RGB"
    assert thumbnail.path.suffix == ".jpg"
    red, green, blue = image.getpixel((128, 64))  # type: ignore[misc]
    assert green > 180
    assert red < 40
    assert blue < 60


def test_small_image_keeps_its_size(tmp_path: Path) -> None:
    source = tmp_path / "small.png"
    Image.new("RGB", (40, 30)).save(source)
    thumbnail = made(make_thumbnail(source, tmp_path / "cache", 256))
    assert (thumbnail.width, thumbnail.height) == (40, 30)


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    # A landscape picture stored with orientation 6: a viewer turns it 90° clockwise, so it
    # shows upright as portrait, and the red left edge of the stored pixels ends at the top.
    image = Image.new("RGB", (200, 100), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 20, 100))
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6
    source = tmp_path / "rotated.jpg"
    image.save(source, exif=exif, quality=95)

    thumbnail = made(make_thumbnail(source, tmp_path / "cache", 100))
    assert (thumbnail.width, thumbnail.height) == (50, 100)
    shown = opened(thumbnail)
    top_red = shown.getpixel((25, 3))
    bottom = shown.getpixel((25, 96))
    assert isinstance(top_red, tuple) and isinstance(bottom, tuple)
    assert top_red[0] > 200
    assert top_red[2] < 60
    assert bottom[2] > 200
    assert bottom[0] < 60


def save_mode_image(tmp_path: Path, mode: str) -> Path:
    """Write an image of ``mode`` whose left half is darker than its right half."""
    if mode == "P":
        image = Image.new("RGB", (64, 32), (20, 20, 20))
        image.paste((230, 230, 230), (32, 0, 64, 32))
        image = image.convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
        path = tmp_path / "palette.png"
    elif mode == "I;16":
        image = Image.new("I;16", (64, 32), 1000)
        image.paste(60000, (32, 0, 64, 32))
        path = tmp_path / "sixteen.png"
    elif mode == "I":
        image = Image.new("I", (64, 32), -5000)
        image.paste(90000, (32, 0, 64, 32))
        path = tmp_path / "integer.tiff"
    elif mode == "F":
        image = Image.new("F", (64, 32), 0.1)
        image.paste(0.9, (32, 0, 64, 32))
        path = tmp_path / "float.tiff"
    elif mode == "CMYK":
        image = Image.new("CMYK", (64, 32), (0, 0, 0, 230))
        image.paste((0, 0, 0, 10), (32, 0, 64, 32))
        path = tmp_path / "print.jpg"
    elif mode == "1":
        image = Image.new("1", (64, 32), 0)
        image.paste(1, (32, 0, 64, 32))
        path = tmp_path / "bilevel.png"
    elif mode == "L":
        image = Image.new("L", (64, 32), 20)
        image.paste(230, (32, 0, 64, 32))
        path = tmp_path / "grey.png"
    else:
        raise AssertionError(mode)
    image.save(path)
    with Image.open(path) as check:
        assert check.mode == mode
    return path


@pytest.mark.parametrize("mode", ["P", "I;16", "I", "F", "CMYK", "1", "L"])
def test_odd_modes_become_rgb(tmp_path: Path, mode: str) -> None:
    source = save_mode_image(tmp_path, mode)
    thumbnail = made(make_thumbnail(source, tmp_path / "cache", 32))
    image = opened(thumbnail)
    assert image.mode == "RGB"
    left = image.getpixel((4, 8))
    right = image.getpixel((28, 8))
    assert isinstance(left, tuple) and isinstance(right, tuple)
    assert sum(left) < 200, (mode, left)
    assert sum(right) > 500, (mode, right)


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P"])
def test_transparency_is_kept(tmp_path: Path, mode: str) -> None:
    if mode == "P":
        image = Image.new("P", (40, 20), 0)
        image.putpalette([0, 0, 0, 255, 0, 0])
        image.paste(1, (20, 0, 40, 20))
        image.info["transparency"] = 0
    else:
        base = Image.new("RGBA", (40, 20), (255, 0, 0, 0))
        base.paste((255, 0, 0, 255), (20, 0, 40, 20))
        image = base.convert(mode)
    source = tmp_path / f"clear-{mode}.png"
    image.save(source)
    thumbnail = made(make_thumbnail(source, tmp_path / "cache", 40))
    assert thumbnail.path.suffix == ".png"
    shown = opened(thumbnail)
    assert shown.mode == "RGBA"
    clear = shown.getpixel((5, 10))
    solid = shown.getpixel((35, 10))
    assert isinstance(clear, tuple) and isinstance(solid, tuple)
    assert clear[3] == 0
    assert solid[3] == 255


def test_second_call_comes_from_cache(tmp_path: Path) -> None:
    source = tmp_path / "a.png"
    Image.new("RGB", (300, 300), (1, 2, 3)).save(source)
    cache = tmp_path / "cache"
    first = made(make_thumbnail(source, cache))
    second = made(make_thumbnail(source, cache))
    assert not first.cached
    assert second.cached
    assert second.path == first.path
    assert (second.width, second.height) == (first.width, first.height)
    info = source.stat()
    key = thumbnail_key(source, info.st_mtime_ns, info.st_size, 256)
    assert first.path == cache / key[:2] / (key + ".jpg")


def test_changed_file_gets_new_thumbnail(tmp_path: Path) -> None:
    source = tmp_path / "a.png"
    Image.new("RGB", (300, 300), (255, 0, 0)).save(source)
    cache = tmp_path / "cache"
    before = made(make_thumbnail(source, cache))
    Image.new("RGB", (300, 150), (0, 0, 255)).save(source)
    os.utime(source, ns=(10**18, 10**18))
    after = made(make_thumbnail(source, cache))
    assert not after.cached
    assert after.path != before.path
    pixel = opened(after).getpixel((10, 10))
    assert isinstance(pixel, tuple)
    assert pixel[2] > 200


def test_other_size_is_other_entry(tmp_path: Path) -> None:
    source = tmp_path / "a.png"
    Image.new("RGB", (300, 300)).save(source)
    small = made(make_thumbnail(source, tmp_path / "cache", 64))
    large = made(make_thumbnail(source, tmp_path / "cache", 128))
    assert small.path != large.path
    assert (small.width, large.width) == (64, 128)


def test_damaged_cache_entry_is_remade(tmp_path: Path) -> None:
    source = tmp_path / "a.png"
    Image.new("RGB", (300, 300)).save(source)
    first = made(make_thumbnail(source, tmp_path / "cache"))
    first.path.write_bytes(b"")
    again = made(make_thumbnail(source, tmp_path / "cache"))
    assert not again.cached
    assert opened(again).size == (256, 256)


def truncate(path: Path, keep: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp"])
def test_truncated_image_is_error_value(tmp_path: Path, suffix: str) -> None:
    source = tmp_path / f"cut{suffix}"
    Image.effect_noise((200, 200), 50).convert("RGB").save(source)
    truncate(source)
    error = failed(make_thumbnail(source, tmp_path / "cache"))
    assert error.source == source
    assert source.name in error.message
    assert list((tmp_path / "cache").rglob("*")) == []


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("text.png", b"not an image at all", ["not a complete image"]),
        ("empty.jpg", b"", ["not a complete image"]),
        ("header.png", b"\x89PNG\r\n\x1a\n\x00\x00", ["not a complete image"]),
    ],
)
def test_bad_files_are_error_values(
    tmp_path: Path, name: str, content: bytes, words: list[str]
) -> None:
    source = tmp_path / name
    source.write_bytes(content)
    error = failed(make_thumbnail(source, tmp_path / "cache"))
    assert name in error.message
    for word in words:
        assert word in error.message


def test_missing_file_is_error_value(tmp_path: Path) -> None:
    error = failed(make_thumbnail(tmp_path / "gone.png", tmp_path / "cache"))
    assert "gone.png cannot be read" in error.message


def test_folder_is_error_value(tmp_path: Path) -> None:
    folder = tmp_path / "folder.png"
    folder.mkdir()
    assert failed(make_thumbnail(folder, tmp_path / "cache")).message


def test_too_many_pixels_is_error_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "huge.png"
    Image.new("RGB", (100, 100)).save(source)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    error = failed(make_thumbnail(source, tmp_path / "cache"))
    assert "too many pixels" in error.message


def test_unwritable_cache_is_error_value(tmp_path: Path) -> None:
    source = tmp_path / "a.png"
    Image.new("RGB", (30, 30)).save(source)
    cache = tmp_path / "cache"
    cache.write_text("a file where the cache folder should be")
    error = failed(make_thumbnail(source, cache))
    assert "cannot be saved" in error.message


def test_bad_size_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="thumbnail size"):
        make_thumbnail(tmp_path / "a.png", tmp_path, 0)


def test_threads_share_the_cache(tmp_path: Path) -> None:
    sources = []
    for number in range(12):
        source = tmp_path / f"{number}.png"
        Image.new("RGB", (400, 300), (number * 20, 100, 50)).save(source)
        sources.append(source)
    cache = tmp_path / "cache"
    jobs = sources * 6
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda source: make_thumbnail(source, cache, 64), jobs))
    thumbnails = [made(result) for result in results]
    assert len({thumbnail.path for thumbnail in thumbnails}) == 12
    for thumbnail in thumbnails:
        assert opened(thumbnail).size == (64, 48)
    assert [path for path in cache.rglob("*.part")] == []


def test_prune_keeps_recent_entries(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    made_thumbnails = []
    for number in range(6):
        source = tmp_path / f"{number}.png"
        Image.effect_noise((300, 300), 80 + number).convert("RGB").save(source)
        thumbnail = made(make_thumbnail(source, cache))
        os.utime(thumbnail.path, (1_000_000 + number, 1_000_000 + number))
        made_thumbnails.append(thumbnail)
    sizes = [thumbnail.path.stat().st_size for thumbnail in made_thumbnails]
    limit = sum(sizes[3:])
    deleted = prune_cache(cache, limit)
    assert deleted == 3
    kept = [thumbnail.path.exists() for thumbnail in made_thumbnails]
    assert kept == [False, False, False, True, True, True]
    assert prune_cache(cache, limit) == 0
