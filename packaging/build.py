"""Build Cmfy Desk's packages for the current system into a dist folder.

    python packaging/build.py [--folder | --tar --deb | --installer | --dmg] [--out dist]
                              [--work build/packaging] [--keep-unused]

Every system gets the PyInstaller one-folder build, ``<out>/cmfy-desk/``, and then, unless
--folder or one of the package options picks what to build:

- Linux: ``cmfy-desk-<version>-linux-x86_64.tar.gz`` and ``cmfy-desk_<version>_amd64.deb``
  (needs dpkg-deb).
- Windows: ``cmfy-desk-<version>-windows-x64-setup.exe``, compiled from windows/cmfy-desk.iss
  by Inno Setup's ISCC (6.6 or later, on PATH or in its default folder).
- macOS: ``Cmfy Desk.app`` (made by the spec's BUNDLE step) and
  ``cmfy-desk-<version>-macos-<machine>.dmg`` (hdiutil).

Run it with a Python that has the project's dependencies and PyInstaller
(``pip install . pyinstaller``). The version comes from ``cmfy_desk.__version__``. Exit
status: 0 built, 1 a step failed, 2 a tool is missing (the message says how to get it).
"""

from __future__ import annotations

import argparse
import ast
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

PACKAGING = Path(__file__).resolve().parent
# The recipe modules beside this script are imported by name, also when a test loads this file
# by its path.
if str(PACKAGING) not in sys.path:
    sys.path.insert(0, str(PACKAGING))

import macos_bundle  # noqa: E402
import windows_installer  # noqa: E402
from app_icons import render_icon_png, write_icns, write_ico  # noqa: E402
from recipe_errors import BuildError, MissingToolError  # noqa: E402

ROOT = PACKAGING.parent
SPEC = ROOT / "packaging" / "cmfy-desk.spec"
ICON_SVG = ROOT / "resources" / "icons" / "cmfy-desk.svg"

APP_ID = "cmfy-desk"  # program, package, desktop entry and icon name
APP_NAME = "Cmfy Desk"
INSTALL_DIR = f"/opt/{APP_ID}"
WORKFLOW_MIME_TYPE = "application/x-comfyui-workflow+json"
ICON_PNG_SIZE = 256
SUMMARY = "Run ComfyUI workflows in batches on cmfy.cloud"
DESCRIPTION = """\
Cmfy Desk queues ComfyUI workflows in batches (seeds, prompt lists, CSV rows, XY grids) on
cmfy.cloud's GPUs, watches every job and downloads the images into a folder per batch. A
built-in sandbox serves the same API with simulated GPUs, so it works without an account."""
# The libraries the one-folder build needs from the system. PyInstaller leaves out libc and
# the OpenGL, EGL, Wayland and libxcb libraries, which must match the system's drivers and
# display server. It bundles the build machine's copies of the others, but fontconfig and
# xkbcommon read their configuration (fonts.conf, keymaps) from packages these pull in, and
# the xcb helpers are listed so that the package keeps working if they stop being bundled.
DEB_DEPENDS = (
    "libegl1",
    "libgl1",
    "libxcb1",
    "libxcb-cursor0",
    "libxkbcommon0",
    "libxkbcommon-x11-0",
    "libfontconfig1",
    "libdbus-1-3",
    "libwayland-client0",
    "libwayland-cursor0",
    "libwayland-egl1",
)
DEB_RECOMMENDS = ("fonts-dejavu-core",)
# NOTE: no contact address is published yet; add one here before the package is distributed.
DEB_MAINTAINER = "Cmfy Desk developers"
DEB_ARCHITECTURES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}

EXIT_OK = 0
EXIT_BUILD_FAILED = 1
EXIT_MISSING_TOOL = 2

# The packages each system builds besides the one-folder build, by build.py's option names.
SYSTEM_PACKAGES = {"linux": ("tar", "deb"), "win32": ("installer",), "darwin": ("dmg",)}
SYSTEM_NAMES = {"linux": "Linux", "win32": "Windows", "darwin": "macOS"}


# Project facts ------------------------------------------------------------------------------


def project_version(root: Path = ROOT) -> str:
    """Return ``cmfy_desk.__version__`` read from the source, without importing the package."""
    init = root / "gui" / "cmfy_desk" / "__init__.py"
    for node in ast.parse(init.read_text(encoding="utf-8")).body:
        if (
            isinstance(node, ast.Assign)
            and any(
                isinstance(target, ast.Name) and target.id == "__version__"
                for target in node.targets
            )
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            return node.value.value
    raise BuildError(f"No __version__ = '...' string in {init}")


def debian_version(version: str) -> str:
    """Return a Python version as a Debian version: pre-releases sort before the release."""
    # 1.2.0rc1 -> 1.2.0~rc1 and 1.2.0.dev3 -> 1.2.0~dev3, because "~" sorts before anything.
    return re.sub(r"\.?(a|b|rc|dev)(\d+)", r"~\1\2", version)


def debian_architecture(machine: str | None = None) -> str:
    machine = (machine or platform.machine()).lower()
    if machine not in DEB_ARCHITECTURES:
        raise BuildError(f"No Debian architecture is known for the machine type {machine!r}")
    return DEB_ARCHITECTURES[machine]


def tar_name(version: str, machine: str | None = None) -> str:
    return f"{APP_ID}-{version}-linux-{(machine or platform.machine()).lower()}.tar.gz"


def deb_name(version: str, architecture: str) -> str:
    return f"{APP_ID}_{debian_version(version)}_{architecture}.deb"


# Files of the .deb --------------------------------------------------------------------------


def desktop_entry() -> str:
    # %F: the window takes any number of workflow files and folders as arguments.
    # application/json is listed as well as the workflow type, because file managers type a
    # file by its name first. Every *.json file is application/json to them. The content rule
    # of the workflow type only applies to files without a known extension.
    return f"""\
[Desktop Entry]
Type=Application
Name={APP_NAME}
GenericName=ComfyUI Batch Runner
Comment={SUMMARY}
Exec={APP_ID} %F
TryExec={APP_ID}
Icon={APP_ID}
Terminal=false
Categories=Graphics;
Keywords=ComfyUI;Stable Diffusion;batch;workflow;
MimeType={WORKFLOW_MIME_TYPE};application/json;
StartupNotify=true
"""


def mime_package() -> str:
    # No glob: "*.json" would claim every JSON file. Content rules instead, within the first
    # 4 KiB: every editor-format workflow starts with "last_node_id" (all 644 templates of
    # comfyui-workflow-templates-json 0.1.123 have it in their first 100 bytes), and an
    # API-format workflow has "class_type" in its first node.
    return f"""\
<?xml version="1.0" encoding="UTF-8"?>
<mime-info xmlns="http://www.freedesktop.org/standards/shared-mime-info">
  <mime-type type="{WORKFLOW_MIME_TYPE}">
    <comment>ComfyUI workflow</comment>
    <sub-class-of type="application/json"/>
    <generic-icon name="text-x-generic"/>
    <magic priority="60">
      <match type="string" value="&quot;last_node_id&quot;" offset="0:4096"/>
      <match type="string" value="&quot;class_type&quot;" offset="0:4096"/>
    </magic>
  </mime-type>
</mime-info>
"""


def control_file(version: str, architecture: str, installed_kib: int, libc: str | None) -> str:
    depends = list(DEB_DEPENDS)
    if libc:
        # The bundled Python and Qt were linked against this glibc or an older one.
        depends.insert(0, f"libc6 (>= {libc})")
    description = "\n".join(f" {line}" for line in DESCRIPTION.splitlines())
    return f"""\
Package: {APP_ID}
Version: {debian_version(version)}
Section: graphics
Priority: optional
Architecture: {architecture}
Maintainer: {DEB_MAINTAINER}
Installed-Size: {installed_kib}
Depends: {", ".join(depends)}
Recommends: {", ".join(DEB_RECOMMENDS)}
Description: {SUMMARY}
{description}
"""


def copyright_file() -> str:
    return f"""\
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: {APP_ID}

Files: *
Copyright: Cmfy Desk developers
License: GPL-3.0-or-later
 On Debian systems, the full text of the GNU General Public License version 3 is in
 /usr/share/common-licenses/GPL-3. {INSTALL_DIR} also holds Python, Qt (LGPL-3.0) and the
 Python packages Cmfy Desk uses, each under its own licence.
"""


def glibc_version() -> str | None:
    name, version = platform.libc_ver()
    return version if name == "glibc" and version else None


def directory_size(folder: Path) -> int:
    """Return the bytes of the files under ``folder`` (symbolic links not followed)."""
    return sum(
        path.lstat().st_size
        for path in folder.rglob("*")
        if path.is_file() and not path.is_symlink()
    )


def stage_deb_tree(
    app_dir: Path, staging: Path, version: str, architecture: str, *, icon_svg: Path = ICON_SVG
) -> Path:
    """Lay out the .deb's files under ``staging`` around the one-folder build ``app_dir``.

    The tree: the build in /opt/cmfy-desk, the launcher /usr/bin/cmfy-desk (a relative
    symbolic link), the desktop entry, the shared-mime-info package, the icons in the hicolor
    theme (SVG and a 256 px PNG rendered from it), the copyright file and DEBIAN/control.
    No maintainer scripts: the mime, desktop and icon caches are rebuilt by the dpkg triggers
    of shared-mime-info, desktop-file-utils and hicolor-icon-theme. Returns ``staging``.
    """
    program = app_dir / APP_ID
    if not program.is_file():
        raise BuildError(f"{app_dir} is not a one-folder build: {program} is missing")
    if staging.exists():
        shutil.rmtree(staging)

    install_dir = staging / INSTALL_DIR.lstrip("/")
    shutil.copytree(app_dir, install_dir, symlinks=True)
    launcher = staging / "usr" / "bin" / APP_ID
    launcher.parent.mkdir(parents=True)
    # Relative, so the link also works in a tree unpacked with dpkg -x for a test.
    launcher.symlink_to(os.path.relpath(install_dir / APP_ID, launcher.parent))

    share = staging / "usr" / "share"
    _write(share / "applications" / f"{APP_ID}.desktop", desktop_entry())
    _write(share / "mime" / "packages" / f"{APP_ID}.xml", mime_package())
    icons = share / "icons" / "hicolor"
    (icons / "scalable" / "apps").mkdir(parents=True)
    shutil.copyfile(icon_svg, icons / "scalable" / "apps" / f"{APP_ID}.svg")
    size = f"{ICON_PNG_SIZE}x{ICON_PNG_SIZE}"
    render_icon_png(icon_svg, ICON_PNG_SIZE, icons / size / "apps" / f"{APP_ID}.png")
    _write(share / "doc" / APP_ID / "copyright", copyright_file())

    for path in staging.rglob("*"):
        if not path.is_symlink():
            # dpkg-deb rejects group- or world-writable control files, and the installed
            # files follow the usual modes.
            path.chmod(0o755 if path.is_dir() or os.access(path, os.X_OK) else 0o644)
    installed_kib = (directory_size(staging) + 1023) // 1024
    _write(
        staging / "DEBIAN" / "control",
        control_file(version, architecture, installed_kib, glibc_version()),
    )
    return staging


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o644)


# Build steps --------------------------------------------------------------------------------


def require_pyinstaller() -> None:
    import importlib.util

    if importlib.util.find_spec("PyInstaller") is None:
        raise MissingToolError(
            f"PyInstaller is not installed for {sys.executable}. Install it with "
            f"'{sys.executable} -m pip install pyinstaller' (and the app with "
            f"'{sys.executable} -m pip install .'), then run this again."
        )


def require_dpkg_deb() -> str:
    tool = shutil.which("dpkg-deb")
    if tool is None:
        raise MissingToolError(
            "dpkg-deb is not installed, so no .deb can be built. Install the 'dpkg' package "
            "(Debian and Ubuntu have it), or build only the archive with --tar."
        )
    return tool


def run_pyinstaller(
    out: Path, work: Path, *, keep_unused: bool = False, spec_options: list[str] | None = None
) -> Path:
    """Run PyInstaller on the spec; returns the one-folder build ``out/cmfy-desk``.

    ``spec_options`` are passed to the spec after ``--`` (--icon, --info-plist, --version-file).
    """
    command = [
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--clean",
        "--log-level",
        "WARN",
        "--distpath",
        str(out),
        "--workpath",
        str(work),
        str(SPEC),
        "--",
    ]
    if keep_unused:
        command.append("--keep-unused")
    command += spec_options or []
    print(f"Running {' '.join(command)}", flush=True)
    result = subprocess.run(command, cwd=ROOT, check=False)
    if result.returncode != 0:
        raise BuildError(
            f"PyInstaller failed with exit status {result.returncode}; its output is above"
        )
    app_dir = out / APP_ID
    program = app_dir / (f"{APP_ID}.exe" if sys.platform == "win32" else APP_ID)
    if not program.is_file():
        raise BuildError(f"PyInstaller finished but {program} is missing")
    return app_dir


def build_tar(app_dir: Path, target: Path, version: str) -> Path:
    """Pack the one-folder build into ``target`` as the folder cmfy-desk-<version>/."""

    def as_root(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        return info

    # Level 6 is gzip's own default: level 9 takes much longer for a few percent.
    with tarfile.open(target, "w:gz", compresslevel=6) as archive:
        archive.add(app_dir, arcname=f"{APP_ID}-{version}", filter=as_root)
    return target


def build_deb(staging: Path, target: Path) -> Path:
    """Pack a staged tree into ``target`` with dpkg-deb (zstd)."""
    command = [
        require_dpkg_deb(),
        "--root-owner-group",
        "-Zzstd",
        "--build",
        str(staging),
        str(target),
    ]
    result = subprocess.run(command, check=False, capture_output=True, text=True)
    if result.returncode != 0:
        raise BuildError(
            f"dpkg-deb failed with exit status {result.returncode}: {result.stderr.strip()}"
        )
    if result.stderr.strip():
        # Warnings about the control file, for example.
        print(result.stderr.strip(), file=sys.stderr)
    return target


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def current_system(name: str | None = None) -> str:
    """Return the key of SYSTEM_PACKAGES for ``sys.platform`` (or ``name``)."""
    name = name or sys.platform
    return "linux" if name.startswith("linux") else name


def packages_to_build(options: argparse.Namespace, system: str) -> set[str]:
    """Return the package options (tar, deb, installer, dmg) that ``options`` selects on
    ``system``: the ones named, or all of the system's unless --folder is given."""
    requested = {name for name in ("tar", "deb", "installer", "dmg") if getattr(options, name)}
    available = SYSTEM_PACKAGES.get(system, ())
    for name in sorted(requested - set(available)):
        builders = [key for key, packages in SYSTEM_PACKAGES.items() if name in packages]
        raise BuildError(
            f"--{name} is built on {SYSTEM_NAMES[builders[0]]} only, not on {sys.platform}"
        )
    if options.folder:
        if requested:
            raise BuildError("--folder builds only the one-folder build; leave out the others")
        return set()
    return requested or set(available)


def prepare_spec_options(system: str, version: str, work: Path) -> tuple[list[str], Path | None]:
    """Render the files the spec takes on ``system``: the icon (.ico or .icns), the Windows
    version resource and the macOS Info.plist. Returns the spec options and the icon."""
    if system == "win32":
        icon = write_ico(ICON_SVG, work / f"{APP_ID}.ico", work / "icons")
        version_file = windows_installer.write_version_info(version, work / "version-info.txt")
        return ["--icon", str(icon), "--version-file", str(version_file)], icon
    if system == "darwin":
        icon = write_icns(ICON_SVG, work / f"{APP_ID}.icns", work / "icons")
        plist = macos_bundle.write_info_plist(version, work / "Info.plist")
        return ["--icon", str(icon), "--info-plist", str(plist)], icon
    return [], None


def build(options: argparse.Namespace) -> list[tuple[Path, int]]:
    """Build what ``options`` requests; returns each product with its size in bytes."""
    system = current_system()
    selected = packages_to_build(options, system)
    require_pyinstaller()
    if "deb" in selected:
        require_dpkg_deb()
    if "dmg" in selected:
        macos_bundle.require_hdiutil()
    version = project_version()
    out = options.out.resolve()
    work = options.work.resolve()
    out.mkdir(parents=True, exist_ok=True)
    products: list[tuple[Path, int]] = []

    spec_options, icon = prepare_spec_options(system, version, work)
    started = time.monotonic()
    app_dir = run_pyinstaller(
        out, work / "pyinstaller", keep_unused=options.keep_unused, spec_options=spec_options
    )
    print(f"PyInstaller took {time.monotonic() - started:.0f} s", flush=True)
    products.append((app_dir, directory_size(app_dir)))
    app_bundle = out / macos_bundle.BUNDLE_NAME
    if system == "darwin":
        if not (app_bundle / "Contents" / "Info.plist").is_file():
            raise BuildError(f"PyInstaller finished but {app_bundle} is missing")
        products.append((app_bundle, directory_size(app_bundle)))

    if "tar" in selected:
        target = build_tar(app_dir, out / tar_name(version), version)
        products.append((target, target.stat().st_size))
    if "deb" in selected:
        architecture = debian_architecture()
        staging = stage_deb_tree(app_dir, work / "deb", version, architecture)
        target = build_deb(staging, out / deb_name(version, architecture))
        products.append((target, target.stat().st_size))
    if "installer" in selected:
        assert icon is not None
        iscc = windows_installer.find_iscc()
        if iscc is None:
            raise MissingToolError(
                f"Inno Setup's ISCC.exe is not found, so the installer was not built (the "
                f"one-folder build is in {app_dir}). {windows_installer.INSTALL_INNO_SETUP}"
            )
        target = windows_installer.build_installer(app_dir, out, version, icon, iscc)
        products.append((target, target.stat().st_size))
    if "dmg" in selected:
        target = macos_bundle.build_dmg(app_bundle, out / macos_bundle.dmg_name(version), work)
        products.append((target, target.stat().st_size))
    return products


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="build.py",
        description="Build Cmfy Desk for this system: the PyInstaller one-folder build and "
        "this system's packages, all of them unless options pick some: the .tar.gz and .deb "
        "on Linux, the installer on Windows, the .dmg on macOS.",
    )
    parser.add_argument(
        "--folder", action="store_true", help="build only the one-folder build (any system)"
    )
    parser.add_argument("--deb", action="store_true", help="build the .deb (Linux, needs dpkg-deb)")
    parser.add_argument("--tar", action="store_true", help="build the .tar.gz (Linux)")
    parser.add_argument(
        "--installer",
        action="store_true",
        help="build the setup program (Windows, needs Inno Setup 6.6 or later)",
    )
    parser.add_argument(
        "--dmg", action="store_true", help="build the .dmg around Cmfy Desk.app (macOS)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "dist",
        help="output folder (default: dist/ of the project)",
    )
    parser.add_argument(
        "--work",
        type=Path,
        default=ROOT / "build" / "packaging",
        help="folder for PyInstaller's work files, the rendered icons and the staging trees "
        "(default: build/packaging/ of the project)",
    )
    parser.add_argument(
        "--keep-unused",
        action="store_true",
        help="keep the modules, Qt plugins and translations the spec leaves out, to measure them",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    options = build_parser().parse_args(argv)
    started = time.monotonic()
    try:
        products = build(options)
    except MissingToolError as exc:
        print(f"build.py: {exc}", file=sys.stderr)
        return EXIT_MISSING_TOOL
    except (BuildError, OSError) as exc:
        print(f"build.py: build failed: {exc}", file=sys.stderr)
        return EXIT_BUILD_FAILED
    print(f"Built in {time.monotonic() - started:.0f} s:")
    for path, size in products:
        kind = "folder" if path.is_dir() else "file"
        print(f"  {path}  {_megabytes(size)} ({kind})")
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
