"""Thumbnails made in worker processes and delivered to the UI thread as QImages."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from cmfy_desk.outputs.thumbnail_workers import ThumbnailWorkers
from cmfy_desk.outputs.thumbnails import ThumbnailError, ThumbnailPixels, thumbnail_pixels
from cmfy_desk.ui.thumbnail_loader import IN_FLIGHT_PER_PROCESS, ThumbnailLoader

WAIT_MS = 30_000


@pytest.fixture
def workers() -> Iterator[ThumbnailWorkers]:
    pool = ThumbnailWorkers(processes=1)
    yield pool
    pool.shutdown()


class Collected:
    """The loader's ``loaded`` signals, by path."""

    def __init__(self, loader: ThumbnailLoader) -> None:
        self.images: dict[str, QImage] = {}
        self.errors: dict[str, str] = {}
        loader.loaded.connect(self._on_loaded)

    def _on_loaded(self, path: str, image: QImage, error: str) -> None:
        if error:
            self.errors[path] = error
        else:
            self.images[path] = image

    def count(self) -> int:
        return len(self.images) + len(self.errors)


def write_images(folder: Path, count: int, size: tuple[int, int] = (400, 300)) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(count):
        path = folder / f"image{number:03}.png"
        Image.new("RGB", size, (number % 256, 120, 200)).save(path)
        paths.append(path)
    return paths


def test_pixels_match_the_cached_thumbnail(tmp_path: Path) -> None:
    source = tmp_path / "wide.png"
    Image.new("RGB", (1000, 500), (250, 10, 10)).save(source)
    pixels = thumbnail_pixels(source, tmp_path / "cache", 200)
    assert isinstance(pixels, ThumbnailPixels)
    assert (pixels.width, pixels.height, pixels.has_alpha) == (200, 100, False)
    assert len(pixels.data) == 200 * 100 * 3
    assert pixels.data[0] > 200
    assert pixels.data[1] < 50


def test_pixels_keep_transparency(tmp_path: Path) -> None:
    source = tmp_path / "clear.png"
    Image.new("RGBA", (64, 64), (0, 0, 255, 0)).save(source)
    pixels = thumbnail_pixels(source, tmp_path / "cache", 200)
    assert isinstance(pixels, ThumbnailPixels)
    assert pixels.has_alpha
    assert len(pixels.data) == 64 * 64 * 4
    assert pixels.data[3] == 0


def test_pixels_of_a_damaged_file_are_an_error(tmp_path: Path) -> None:
    source = tmp_path / "broken.png"
    source.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    result = thumbnail_pixels(source, tmp_path / "cache", 200)
    assert isinstance(result, ThumbnailError)
    assert "broken.png" in result.message


def test_loader_delivers_images_made_in_another_process(
    qtbot: QtBot, tmp_path: Path, workers: ThumbnailWorkers
) -> None:
    paths = write_images(tmp_path / "images", 6)
    loader = ThumbnailLoader(tmp_path / "cache", 160, workers=workers)
    collected = Collected(loader)
    for path in paths:
        loader.request(str(path))
    qtbot.waitUntil(lambda: collected.count() == len(paths), timeout=WAIT_MS)
    assert collected.errors == {}
    sizes = {image.size().toTuple() for image in collected.images.values()}
    assert sizes == {(160, 120)}
    first = collected.images[str(paths[0])]
    assert first.pixelColor(80, 60).blue() > 180
    assert workers.started
    assert loader.waiting == 0
    # The thumbnails are in the disk cache, so the next view shows them without decoding.
    assert len(list((tmp_path / "cache").glob("*/*.jpg"))) == len(paths)


def test_damaged_file_fails_alone(qtbot: QtBot, tmp_path: Path, workers: ThumbnailWorkers) -> None:
    good = write_images(tmp_path / "images", 2)
    broken = tmp_path / "images" / "truncated.png"
    broken.write_bytes(good[0].read_bytes()[:60])
    loader = ThumbnailLoader(tmp_path / "cache", 160, workers=workers)
    collected = Collected(loader)
    for path in (good[0], broken, good[1]):
        loader.request(str(path))
    qtbot.waitUntil(lambda: collected.count() == 3, timeout=WAIT_MS)
    assert set(collected.images) == {str(good[0]), str(good[1])}
    assert list(collected.errors) == [str(broken)]
    assert "truncated.png" in collected.errors[str(broken)]


def test_stopped_worker_process_is_replaced(
    qtbot: QtBot, tmp_path: Path, workers: ThumbnailWorkers
) -> None:
    first, second = write_images(tmp_path / "images", 2)
    loader = ThumbnailLoader(tmp_path / "cache", 160, workers=workers)
    collected = Collected(loader)
    loader.request(str(first))
    qtbot.waitUntil(lambda: collected.count() == 1, timeout=WAIT_MS)
    # The worker process this test's pool started ends as a crash in a decoder would end it.
    for pid in workers.process_ids():
        os.kill(pid, signal.SIGKILL)
    loader.request(str(second))
    qtbot.waitUntil(lambda: collected.count() == 2, timeout=WAIT_MS)
    assert collected.errors == {}
    assert str(second) in collected.images


def test_clear_queue_drops_requests_not_yet_sent(
    qtbot: QtBot, tmp_path: Path, workers: ThumbnailWorkers
) -> None:
    paths = write_images(tmp_path / "images", 30, size=(1200, 900))
    loader = ThumbnailLoader(tmp_path / "cache", 160, workers=workers)
    collected = Collected(loader)
    for path in paths:
        loader.request(str(path))
    loader.clear_queue()
    in_flight = IN_FLIGHT_PER_PROCESS * workers.processes
    qtbot.waitUntil(lambda: loader.waiting == 0, timeout=WAIT_MS)
    assert collected.count() == in_flight
    assert set(collected.images) == {str(path) for path in paths[:in_flight]}


def test_shut_down_loader_emits_nothing(
    qtbot: QtBot, tmp_path: Path, workers: ThumbnailWorkers
) -> None:
    paths = write_images(tmp_path / "images", 4)
    loader = ThumbnailLoader(tmp_path / "cache", 160, workers=workers)
    collected = Collected(loader)
    for path in paths:
        loader.request(str(path))
    loader.shutdown()
    loader.request(str(paths[0]))
    # The pool still finishes what it was sent; the loader passes none of it on.
    workers.shutdown()
    qtbot.wait(200)
    assert collected.count() == 0
