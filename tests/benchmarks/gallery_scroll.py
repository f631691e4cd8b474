"""Peak memory while the gallery grid is scrolled from the first image to the last.

Indexes 100,000 images, each a symbolic link to one of 200 real 512 x 512 PNG files, so that
every row has a file of its own and a thumbnail to make. Then shows the gallery offscreen at
1400 x 900 and scrolls it to the end a screen at a time. It pauses 30 ms on each screen, as a
person paging through would, so thumbnails of the screens passed by are dropped from the
queue and only some of them are made. Prints the peak of Python's allocations (tracemalloc,
from the end of the first search) and of the process's resident memory (RSS, Qt's included),
and the total with the thumbnail worker processes.

    python tests/benchmarks/gallery_scroll.py [--quick]

--quick indexes 20,000 images instead.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PIL import Image
from PySide6.QtCore import QCoreApplication, QEventLoop
from PySide6.QtWidgets import QApplication

from cmfy_desk.outputs.thumbnail_workers import WORKER_PROCESSES, shutdown_shared_workers
from cmfy_desk.store import ImageData, ImageSource, Store
from cmfy_desk.ui.gallery import GalleryPanel

GOAL_MB = 500.0
IMAGES = 100_000
QUICK_IMAGES = 20_000
SOURCES = 200
PAUSE_SECONDS = 0.03
START = 1_790_000_000.0


def make_library(root: Path, count: int) -> list[ImageData]:
    """Write SOURCES real PNG files and ``count`` links to them; return their index rows."""
    sources = []
    for number in range(SOURCES):
        path = root / "sources" / f"source{number:03d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        color = (number % 256, (number * 7) % 256, (number * 13) % 256)
        Image.new("RGB", (512, 512), color).save(path, format="PNG", compress_level=1)
        sources.append(path)
    rows = []
    for number in range(count):
        link = root / "links" / f"{number // 1000:03d}" / f"image{number:06d}.png"
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(sources[number % SOURCES])
        rows.append(
            ImageData(
                path=str(link),
                source=ImageSource.FOLDER,
                created_at=START + number,
                prompt=f"a red fox, picture {number}",
                seed=number,
                width=512,
                height=512,
            )
        )
    return rows


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def wait(app: QCoreApplication, seconds: float) -> None:
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"index {QUICK_IMAGES} images")
    options = parser.parse_args()
    count = QUICK_IMAGES if options.quick else IMAGES
    app = QApplication.instance() or QApplication(sys.argv[:1])

    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        started = time.perf_counter()
        store = Store.open(root / "db.sqlite3")
        store.gallery.upsert(make_library(root, count))
        store.gallery.analyze()
        print(f"indexed {count} images in {time.perf_counter() - started:.1f} s")
        rss_before = peak_rss_mb()

        panel = GalleryPanel(root / "thumbnails")
        panel.resize(1400, 900)
        panel.show()
        started = time.perf_counter()
        panel.attach(store)
        while panel.model.searching:
            app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents, 50)
        print(f"first search: {(time.perf_counter() - started) * 1000:.0f} ms")
        # Tracing slows every allocation several times, so the search above runs untraced.
        tracemalloc.start()

        bar = panel.view.verticalScrollBar()
        screens = 0
        started = time.perf_counter()
        while True:
            wait(app, PAUSE_SECONDS)
            screens += 1
            if bar.value() >= bar.maximum():
                break
            bar.setValue(bar.value() + bar.pageStep())
        scroll_seconds = time.perf_counter() - started
        wait(app, 0.5)
        _current, python_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        model = panel.model
        shown_last = model.record_at(model.rowCount() - 1)
        panel.shutdown()
        # The worker processes end here, so their peak memory can be read below.
        shutdown_shared_workers()
        store.close()
        thumbnails = sum(1 for _path in (root / "thumbnails").glob("*/*"))

    rss_peak = peak_rss_mb()
    # The largest peak of any thumbnail worker process; every worker peaks near it.
    worker_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    total_peak = rss_peak + WORKER_PROCESSES * worker_peak
    print(
        f"scrolled {screens} screens in {scroll_seconds:.1f} s ({PAUSE_SECONDS * 1000:.0f} ms each)"
    )
    print(f"pages of {count} rows read: {model.pages_fetched}, thumbnails made: {thumbnails}")
    print(f"last row shows seed {shown_last.seed if shown_last else None} (expected 0)")
    print(
        f"records held at the end: {model.cached_records()}, pixmaps: {model.cached_thumbnails()}"
    )
    print(f"Python allocations peak (tracemalloc): {python_peak / 2**20:.1f} MB")
    print(f"RSS peak before showing the gallery: {rss_before:.0f} MB, overall: {rss_peak:.0f} MB")
    print(f"thumbnail worker processes: {WORKER_PROCESSES}, RSS peak of one: {worker_peak:.0f} MB")
    print(f"gallery_scroll_peak_mb: {total_peak:.0f} with the workers (goal {GOAL_MB:.0f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
