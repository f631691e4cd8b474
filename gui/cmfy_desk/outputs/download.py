"""Streaming download of output files: a temporary name first, renamed once complete."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from PIL import Image

from cmfy_desk.outputs.naming import contained_path
from cmfy_desk.tls import shared_ssl_context

log = logging.getLogger(__name__)

PARTIAL_SUFFIX = ".part"
CHUNK_BYTES = 256 * 1024
DOWNLOAD_TIMEOUT = httpx.Timeout(60.0, connect=10.0)


class DownloadError(Exception):
    """An output could not be downloaded or saved; ``url`` names it."""

    def __init__(self, message: str, url: str) -> None:
        super().__init__(message)
        self.url = url


@dataclass(frozen=True)
class SavedFile:
    path: Path
    size: int
    sha256: str
    width: int | None
    height: int | None


class Downloader:
    """Fetches output URLs with a client of its own, which never sends the API key."""

    def __init__(self, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._http = httpx.AsyncClient(
            timeout=DOWNLOAD_TIMEOUT,
            http2=transport is None,
            transport=transport,
            verify=shared_ssl_context(),
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def download(
        self, url: str, root: Path, *parts: str, headers: dict[str, str] | None = None
    ) -> SavedFile:
        """Save ``url`` as ``root/parts...``; the file appears under its name only when complete.

        An existing file of that name is never overwritten: when it contains the same bytes (the
        same output saved before a crash) it is kept as the result, otherwise the new file gets
        a free name with `` (2)``, `` (3)``... before the extension.
        """
        target = contained_path(root, *parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f"{target.name}.{_partial_tag(url)}{PARTIAL_SUFFIX}")
        digest = hashlib.sha256()
        size = 0
        try:
            async with self._http.stream("GET", url, headers=headers) as response:
                if not response.is_success:
                    raise DownloadError(
                        f"Downloading {url} failed with HTTP {response.status_code}.", url
                    )
                # Creating a file can wait on the disk for tens of milliseconds while other
                # files are written, so it happens off the event loop's thread.
                file = await asyncio.to_thread(partial.open, "wb")
                with file:
                    async for chunk in response.aiter_bytes(CHUNK_BYTES):
                        file.write(chunk)
                        digest.update(chunk)
                        size += len(chunk)
            target, (width, height) = await asyncio.to_thread(
                _place_and_measure, partial, target, digest.hexdigest()
            )
        except httpx.HTTPError as exc:
            partial.unlink(missing_ok=True)
            raise DownloadError(f"Downloading {url} failed: {exc}", url) from exc
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise DownloadError(f"Saving {url} to {target} failed: {exc}", url) from exc
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        log.debug("Saved %s (%d bytes)", target, size)
        return SavedFile(target, size, digest.hexdigest(), width, height)


def _partial_tag(url: str) -> str:
    """Return the part of a temporary file's name that belongs to the output at ``url``.

    Two outputs whose templates give the same name may download at the same time, so each
    writes a temporary file of its own. The same output downloaded again, after the app was
    killed during its download, writes over the one left behind. The query is left out,
    because a signed URL changes its query at each status read.
    """
    parts = urlsplit(url)
    return hashlib.sha256(f"{parts.netloc}{parts.path}".encode()).hexdigest()[:12]


def _place_and_measure(
    partial: Path, target: Path, sha256: str
) -> tuple[Path, tuple[int | None, int | None]]:
    """Place the complete ``partial`` file (see _flush_and_place) and read the image's size.

    Returns where the file went and its size, or (None, None) for a file that is not an
    image. One trip to a worker thread does both, because each trip wakes the event loop's
    thread once more."""
    placed = _flush_and_place(partial, target, sha256)
    return placed, _image_size(placed)


def _flush_and_place(partial: Path, target: Path, sha256: str) -> Path:
    """Move the complete ``partial`` file to ``target`` or to a free name beside it; return
    where it went."""
    with partial.open("rb+") as file:
        os.fsync(file.fileno())
    candidate = target
    number = 2
    while True:
        try:
            # A hard link fails when the name is taken, so no existing file is ever replaced.
            os.link(partial, candidate)
        except FileExistsError:
            if _sha256_of(candidate) == sha256:
                partial.unlink()
                return candidate
            candidate = target.with_name(f"{target.stem} ({number}){target.suffix}")
            number += 1
            continue
        except OSError:
            # File systems without hard links: take the name only if it is free.
            if candidate.exists():
                candidate = target.with_name(f"{target.stem} ({number}){target.suffix}")
                number += 1
                continue
            os.replace(partial, candidate)
            return candidate
        partial.unlink()
        return candidate


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _image_size(path: Path) -> tuple[int | None, int | None]:
    try:
        with Image.open(path) as image:
            return image.size
    except (OSError, Image.DecompressionBombError):
        return None, None
