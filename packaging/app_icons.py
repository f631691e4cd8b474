"""The program icon in the formats each system wants, rendered from the one SVG at build time.

Linux takes the SVG and a 256 px PNG, Windows an .ico, macOS an .icns. Every size is drawn by
Qt's SVG renderer from the vector source, so small sizes stay sharp instead of being scaled
down from one large bitmap.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from recipe_errors import BuildError

# Sizes in an .ico: Explorer, the taskbar and the Start menu pick from these at 100-200 %
# display scaling; 256 is the largest an .ico entry can hold.
ICO_SIZES = (16, 20, 24, 32, 40, 48, 64, 128, 256)
# The files iconutil expects in an .iconset folder: name -> pixel size. The @2x entries are
# the Retina versions of the size in their name.
ICONSET_FILES = {
    "icon_16x16.png": 16,
    "icon_16x16@2x.png": 32,
    "icon_32x32.png": 32,
    "icon_32x32@2x.png": 64,
    "icon_128x128.png": 128,
    "icon_128x128@2x.png": 256,
    "icon_256x256.png": 256,
    "icon_256x256@2x.png": 512,
    "icon_512x512.png": 512,
    "icon_512x512@2x.png": 1024,
}


def render_icon_png(svg: Path, size: int, target: Path) -> None:
    """Render ``svg`` into a ``size`` x ``size`` PNG with Qt's SVG renderer."""
    # Painting on a QImage needs no QGuiApplication (the icon has no text, so no fonts), so
    # this works on a build machine without a display and inside a test process alike.
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise BuildError(f"Qt cannot read the icon {svg}")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    target.parent.mkdir(parents=True, exist_ok=True)
    # The format follows from the ".png" suffix.
    if not image.save(str(target)):
        raise BuildError(f"Writing the icon {target} failed")


def write_ico(svg: Path, target: Path, work: Path) -> Path:
    """Write the Windows icon ``target`` (.ico) with every size of ICO_SIZES; returns it.

    Each size is rendered into ``work`` first, then Pillow packs them as PNG entries.
    """
    from PIL import Image

    pngs = []
    for size in ICO_SIZES:
        png = work / f"ico-{size}.png"
        render_icon_png(svg, size, png)
        pngs.append(png)
    images = [Image.open(png) for png in pngs]
    try:
        largest = images[-1]
        target.parent.mkdir(parents=True, exist_ok=True)
        largest.save(
            target,
            format="ICO",
            sizes=[(size, size) for size in ICO_SIZES],
            append_images=images[:-1],
        )
    finally:
        for image in images:
            image.close()
    return target


def write_iconset(svg: Path, iconset: Path) -> Path:
    """Render the PNG files of a macOS .iconset folder (see ICONSET_FILES); returns it."""
    if iconset.suffix != ".iconset":
        raise BuildError(f"iconutil needs a folder ending in .iconset, not {iconset.name}")
    if iconset.exists():
        shutil.rmtree(iconset)
    iconset.mkdir(parents=True)
    for name, size in ICONSET_FILES.items():
        render_icon_png(svg, size, iconset / name)
    return iconset


def write_icns(svg: Path, target: Path, work: Path) -> Path:
    """Write the macOS icon ``target`` (.icns) from an .iconset rendered into ``work``.

    macOS's iconutil packs it. Elsewhere, or when iconutil is missing, Pillow's ICNS writer
    does, so that the recipe can be checked on any system.
    """
    iconset = write_iconset(svg, work / "cmfy-desk.iconset")
    target.parent.mkdir(parents=True, exist_ok=True)
    iconutil = shutil.which("iconutil")
    if sys.platform == "darwin" and iconutil is not None:
        command = [iconutil, "-c", "icns", "-o", str(target), str(iconset)]
        result = subprocess.run(command, check=False, capture_output=True, text=True)
        if result.returncode != 0:
            raise BuildError(
                f"iconutil failed with exit status {result.returncode}: {result.stderr.strip()}"
            )
        return target

    from PIL import Image

    # Pillow takes the largest image and, per entry, the appended image of that width.
    images = [Image.open(iconset / name) for name in ICONSET_FILES]
    try:
        largest = max(images, key=lambda image: image.width)
        largest.save(target, format="ICNS", append_images=images)
    finally:
        for image in images:
            image.close()
    return target
