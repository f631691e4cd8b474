"""Output names, containment in the output folder, and the log filter for secrets."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from pathlib import Path

import pytest

from cmfy_desk.logs import RedactingFilter, redact
from cmfy_desk.outputs.naming import (
    UnsafePathError,
    batch_folder_name,
    contained_path,
    extension_from_url,
    output_file_name,
    safe_name,
)

KEY = "sk_live_" + "A" * 43


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("fox: red/blue?", "fox_ red_blue_"),
        ("CON", "_CON"),
        ("nul.txt", "_nul.txt"),
        ("...", "untitled"),
        ("  spaced  ", "spaced"),
        ("x" * 300, "x" * 120),
    ],
)
def test_safe_name(text: str, expected: str) -> None:
    assert safe_name(text) == expected


@pytest.mark.parametrize(
    "parts", [("..", "escape.png"), ("a", "..", "..", "b.png"), ("/etc/passwd",)]
)
def test_paths_cannot_leave_root(tmp_path: Path, parts: tuple[str, ...]) -> None:
    with pytest.raises(UnsafePathError):
        contained_path(tmp_path / "out", *parts)


def test_contained_path_inside_root(tmp_path: Path) -> None:
    path = contained_path(tmp_path, "batch", "job00001_00.png")
    assert path == (tmp_path / "batch" / "job00001_00.png").resolve()


def test_extension_only_from_known_image_types() -> None:
    assert extension_from_url("http://h/outputs/x/image_0.webp?sig=1") == ".webp"
    assert extension_from_url("http://h/outputs/x/run.sh") == ".png"
    assert output_file_name(7, 2, "http://h/a/b.JPG") == "job00007_02.jpg"


def test_batch_folder_names_do_not_collide() -> None:
    first = batch_folder_name("wf", 0.0, set())
    second = batch_folder_name("wf", 0.0, {first})
    assert second == f"{first} (2)"


def test_api_key_is_redacted() -> None:
    assert KEY not in redact(f"Authorization: Bearer {KEY}")
    assert KEY not in redact(f"key={KEY}")


def test_log_filter_rewrites_record() -> None:
    record = logging.LogRecord("x", logging.INFO, "f", 1, "using %s", (KEY,), None)
    RedactingFilter().filter(record)
    assert KEY not in record.getMessage()


async def _serve_bytes(payload: bytes):  # type: ignore[no-untyped-def]
    from aiohttp import web

    async def handler(_request: web.Request) -> web.Response:
        return web.Response(body=payload, content_type="image/png")

    app = web.Application()
    app.router.add_get("/image.png", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/image.png"


@pytest.mark.asyncio
async def test_download_never_overwrites_other_file(tmp_path: Path) -> None:
    from cmfy_desk.outputs.download import Downloader

    existing = tmp_path / "job00001_00.png"
    existing.write_bytes(b"someone else's picture")
    runner, url = await _serve_bytes(b"new picture")
    downloader = Downloader()
    try:
        saved = await downloader.download(url, tmp_path, "job00001_00.png")
        again = await downloader.download(url, tmp_path, "job00001_00.png")
    finally:
        await downloader.aclose()
        await runner.cleanup()
    assert existing.read_bytes() == b"someone else's picture"
    assert saved.path.name == "job00001_00 (2).png"
    assert saved.path.read_bytes() == b"new picture"
    assert again.path == saved.path
    assert sorted(p.name for p in tmp_path.iterdir()) == ["job00001_00 (2).png", "job00001_00.png"]


@pytest.mark.asyncio
async def test_same_name_downloads_at_once_keep_both(tmp_path: Path) -> None:
    from aiohttp import web

    from cmfy_desk.outputs.download import Downloader

    pictures = {"/a.png": b"a" * 600_000, "/b.png": b"b" * 600_000}

    async def handler(request: web.Request) -> web.StreamResponse:
        # Both responses are sent in pieces, so the two downloads write at the same time.
        response = web.StreamResponse(headers={"Content-Type": "image/png"})
        await response.prepare(request)
        body = pictures[request.path]
        for start in range(0, len(body), 100_000):
            await response.write(body[start : start + 100_000])
            await asyncio.sleep(0.01)
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/a.png", handler)
    app.router.add_get("/b.png", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    downloader = Downloader()
    try:
        saved = await asyncio.gather(
            downloader.download(f"http://127.0.0.1:{port}/a.png", tmp_path, "7.png"),
            downloader.download(f"http://127.0.0.1:{port}/b.png", tmp_path, "7.png"),
        )
    finally:
        await downloader.aclose()
        await runner.cleanup()
    assert sorted(file.path.name for file in saved) == ["7 (2).png", "7.png"]
    for file, body in zip(saved, pictures.values(), strict=True):
        assert file.path.read_bytes() == body
        assert file.sha256 == hashlib.sha256(body).hexdigest()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["7 (2).png", "7.png"]


@pytest.mark.asyncio
async def test_download_again_replaces_partial_file_left_behind(tmp_path: Path) -> None:
    from cmfy_desk.outputs.download import PARTIAL_SUFFIX, Downloader, _partial_tag

    runner, url = await _serve_bytes(b"whole picture")
    # What a download killed midway leaves: its temporary file, half written.
    left_behind = tmp_path / f"job00001_00.png.{_partial_tag(url)}{PARTIAL_SUFFIX}"
    left_behind.write_bytes(b"half a pic")
    downloader = Downloader()
    try:
        saved = await downloader.download(url, tmp_path, "job00001_00.png")
    finally:
        await downloader.aclose()
        await runner.cleanup()
    assert saved.path.read_bytes() == b"whole picture"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["job00001_00.png"]


def test_partial_name_ignores_url_query() -> None:
    from cmfy_desk.outputs.download import _partial_tag

    first = _partial_tag("https://cdn.example/out/job/1.png?signature=abc&expires=1")
    again = _partial_tag("https://cdn.example/out/job/1.png?signature=def&expires=2")
    other = _partial_tag("https://cdn.example/out/job/2.png?signature=abc&expires=1")
    assert first == again
    assert first != other
