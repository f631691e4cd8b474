"""Take the README's pictures of the gallery search, the viewer, compare and metrics.

It runs the screenshot tour (gui/cmfy_desk/ui/tour.py) from the source tree in the light theme.
The tour queues three sample workflows of four jobs each, so that the gallery has batches to
filter. Its sandbox runs at twice its simulated speed, so the viewer shows times of seconds.
The tour's data and output folders lie in a fresh home folder, and every path the pictures
show reads like ``/home/artist/Pictures/Cmfy Desk/...``. Last, the script copies the tour's
viewer, search, compare and metrics screenshots to ``OUT/viewer-metadata.png``,
``OUT/gallery-search.png``, ``OUT/compare.png`` and ``OUT/metrics.png``.

Usage, from the project's top folder, on an X server such as Xvfb (Debian: xvfb xauth
libxcb-icccm4 libxcb-keysyms1):

    xvfb-run -a -s "-screen 0 1600x1000x24" python packaging/docs_screenshots.py \\
        [--home /home/artist] [--out docs/screenshots]

The home folder must not exist yet or be empty; making one under /home needs root, as in a
container. Exit status: 0 all four pictures saved, 1 the tour failed (its message names the
step), 2 bad usage or a home folder that is not empty.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from PIL import Image

from cmfy_desk.paths import OUTPUT_DIR_NAME
from cmfy_desk.settings import Settings
from cmfy_desk.ui.theme import LIGHT
from cmfy_desk.ui.tour import STEPS, TourPlan, run_tour

DEFAULT_HOME = Path("/home/artist")
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
# Three batches, two of which match the tour's search. At speed 2 the slowest sample (SDXL,
# 25 steps at 1024 x 1024) runs 4.5 s, and the whole tour took 27 s on a 2-core machine.
DOCS_PLAN = TourPlan(workflow_count=3, jobs_per_workflow=4, sandbox_speed=2.0)
# Seconds for one step. Waiting for the queued jobs takes the longest.
STEP_TIMEOUT = 120.0
# Tour step name → the README picture made from its screenshot.
PICTURES = {
    "viewer": "viewer-metadata.png",
    "search": "gallery-search.png",
    "compare": "compare.png",
    "metrics": "metrics.png",
}

EXIT_OK = 0
EXIT_USAGE = 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--home",
        type=Path,
        default=DEFAULT_HOME,
        help=f"an absent or empty folder used as HOME for the run (default {DEFAULT_HOME})",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="the folder for the two pictures (default: the project's docs/screenshots)",
    )
    options = parser.parse_args(argv)
    home: Path = options.home.absolute()

    if home.exists() and (not home.is_dir() or any(home.iterdir())):
        print(
            f"docs_screenshots: {home} is not an empty folder; pass --home with a new one, "
            "so that the pictures show only this run's files",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        home.mkdir(parents=True, exist_ok=True)
        options.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"docs_screenshots: cannot create a folder: {exc}", file=sys.stderr)
        return EXIT_USAGE

    use_home(home)
    data_dir = home / ".local" / "share" / "cmfy-desk"
    data_dir.mkdir(parents=True)
    settings = Settings(data_dir / "settings.json")
    settings.set("output.folder", str(home / "Pictures" / OUTPUT_DIR_NAME))
    settings.save()

    shots = Path(tempfile.mkdtemp(prefix="cmfy-desk-docs-"))
    status = run_tour(shots, LIGHT, data_dir, step_timeout=STEP_TIMEOUT, plan=DOCS_PLAN)
    if status != EXIT_OK:
        print(f"docs_screenshots: the tour's screenshots are kept in {shots}", file=sys.stderr)
        return status
    for step in STEPS:
        if step.name in PICTURES:
            target = options.out / PICTURES[step.name]
            save_picture(shots / step.file_name(LIGHT), target)
            print(f"{target}: {target.stat().st_size // 1024} KB")
    shutil.rmtree(shots, ignore_errors=True)
    return EXIT_OK


def use_home(home: Path) -> None:
    """Make ``home`` the home folder of this process, with the XDG folders at their
    defaults inside it."""
    os.environ["HOME"] = str(home)
    for name in list(os.environ):
        if name.startswith("XDG_") and name != "XDG_RUNTIME_DIR":
            del os.environ[name]


def save_picture(source: Path, target: Path) -> None:
    """Copy the screenshot ``source`` to ``target`` as a PNG compressed as far as Pillow's
    lossless optimiser goes."""
    with Image.open(source) as image:
        image.save(target, "PNG", optimize=True)


if __name__ == "__main__":
    sys.exit(main())
