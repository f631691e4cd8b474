"""The macOS parts of the build: the app bundle's Info.plist and the .dmg around the bundle.

The spec's BUNDLE step makes ``Cmfy Desk.app`` from the one-folder build, with the Info.plist
that ``write_info_plist`` renders from ``macos/Info.plist``. ``build_dmg`` then puts the app and
a link to /Applications on a compressed disk image, so that installing is one drag.
"""

from __future__ import annotations

import os
import platform
import plistlib
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from xml.parsers.expat import ExpatError

from recipe_errors import BuildError, MissingToolError

PACKAGING = Path(__file__).resolve().parent
INFO_PLIST_TEMPLATE = PACKAGING / "macos" / "Info.plist"
BUNDLE_NAME = "Cmfy Desk.app"  # the spec's BUNDLE_NAME
VOLUME_NAME = "Cmfy Desk"

_PLACEHOLDER = re.compile(r"@([A-Z_]+)@")


def bundle_version(version: str) -> str:
    """Return the numeric part of ``version`` for CFBundleVersion, which takes up to three
    integers separated by periods: 0.2.0rc1 -> 0.2.0."""
    match = re.match(r"\d+(\.\d+){0,2}", version)
    if match is None:
        raise BuildError(f"The version {version!r} does not start with a number")
    return match.group(0)


def info_plist(version: str, template: Path = INFO_PLIST_TEMPLATE) -> dict[str, Any]:
    """Return the template's keys with @VERSION@ and @BUNDLE_VERSION@ replaced."""
    try:
        with template.open("rb") as file:
            document = plistlib.load(file)
    except (OSError, plistlib.InvalidFileException, ExpatError, ValueError) as exc:
        raise BuildError(f"Cannot read the Info.plist template {template}: {exc}") from exc
    values = {"VERSION": version, "BUNDLE_VERSION": bundle_version(version)}
    filled = _fill(document, values)
    assert isinstance(filled, dict)
    return filled


def _fill(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str):
        return _PLACEHOLDER.sub(lambda match: _placeholder_value(match, values), value)
    if isinstance(value, list):
        return [_fill(item, values) for item in value]
    if isinstance(value, dict):
        return {key: _fill(item, values) for key, item in value.items()}
    return value


def _placeholder_value(match: re.Match[str], values: dict[str, str]) -> str:
    name = match.group(1)
    if name not in values:
        raise BuildError(f"The Info.plist template has an unknown placeholder @{name}@")
    return values[name]


def write_info_plist(version: str, target: Path) -> Path:
    """Write the rendered Info.plist to ``target`` (XML); returns it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as file:
        plistlib.dump(info_plist(version), file)
    return target


def dmg_name(version: str, machine: str | None = None) -> str:
    return f"cmfy-desk-{version}-macos-{(machine or platform.machine()).lower()}.dmg"


def require_hdiutil() -> str:
    tool = shutil.which("hdiutil")
    if tool is None:
        raise MissingToolError(
            "hdiutil is not found, so no .dmg can be built. It comes with macOS; build on a "
            "Mac, or build only the app with --folder."
        )
    return tool


def stage_dmg(app: Path, staging: Path) -> Path:
    """Lay out the disk image's contents in ``staging``: the app, and an ``Applications``
    link to /Applications to drag it onto. Returns ``staging``."""
    if not (app / "Contents" / "Info.plist").is_file():
        raise BuildError(f"{app} is not an app bundle: Contents/Info.plist is missing")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    copy = staging / app.name
    ditto = shutil.which("ditto")
    if ditto is not None:
        # ditto keeps the extended attributes and the code signature intact.
        subprocess.run([ditto, str(app), str(copy)], check=True)
    else:
        shutil.copytree(app, copy, symlinks=True)
    os.symlink("/Applications", staging / "Applications")
    return staging


def dmg_command(hdiutil: str, staging: Path, target: Path) -> list[str]:
    """Return the hdiutil command that packs ``staging`` into the compressed image ``target``."""
    # UDZO is zlib-compressed and read-only, which every supported macOS mounts; -ov replaces
    # an image left by an earlier build.
    return [
        hdiutil,
        "create",
        "-volname",
        VOLUME_NAME,
        "-srcfolder",
        str(staging),
        "-fs",
        "HFS+",
        "-format",
        "UDZO",
        "-ov",
        str(target),
    ]


def build_dmg(app: Path, target: Path, work: Path) -> Path:
    """Pack the app bundle into the .dmg ``target``, staged in ``work/dmg``; returns it."""
    hdiutil = require_hdiutil()
    staging = stage_dmg(app, work / "dmg")
    result = subprocess.run(
        dmg_command(hdiutil, staging, target), check=False, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise BuildError(
            f"hdiutil create failed with exit status {result.returncode}: "
            f"{(result.stderr or result.stdout).strip()}"
        )
    return target
