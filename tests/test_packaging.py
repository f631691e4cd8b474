"""The packaging recipes without PyInstaller: the spec, the .deb's staged tree, the Windows
installer script, the macOS Info.plist and disk image, the icons, and the self-test.

The real Linux build and its checks run in packaging/ci-check.sh. These tests cover what can be
checked in seconds: the spec's contents and the .deb layout built around a fake one-folder
build. When dpkg-deb and shared-mime-info are installed, the tree is also packed and typed.
The Windows and macOS recipes cannot run here (no ISCC, no hdiutil), so their files are parsed
and checked against the names the spec, the build script and the app use. The self-test that
the packaged program runs is run here from the source.
"""

from __future__ import annotations

import argparse
import ast
import configparser
import importlib.util
import os
import plistlib
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

import platformdirs.windows
import pytest
from PIL import Image

import cmfy_desk
from cmfy_desk import paths

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
MIME_NS = "{http://www.freedesktop.org/standards/shared-mime-info}"


def load_build_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "cmfy_desk_packaging_build", PACKAGING / "build.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


build = load_build_module()
# build.py put its folder on sys.path, so its recipe modules import by name.
import app_icons  # noqa: E402
import macos_bundle  # noqa: E402
import windows_installer  # noqa: E402


def spec_constants() -> dict[str, object]:
    """Return the spec's top-level constants (literal assignments), without running it."""
    tree = ast.parse((PACKAGING / "cmfy-desk.spec").read_text(encoding="utf-8"))
    constants: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                try:
                    constants[target.id] = ast.literal_eval(node.value)
                except ValueError:
                    continue
    return constants


@pytest.fixture
def one_folder_build(tmp_path: Path) -> Path:
    """A stand-in for PyInstaller's output: a program that prints a version, and a resource."""
    app = tmp_path / "dist" / "cmfy-desk"
    resources = app / "_internal" / "cmfy_desk" / "resources" / "workflows"
    resources.mkdir(parents=True)
    shutil.copy(ROOT / "resources" / "workflows" / "sd15_txt2img.json", resources)
    program = app / "cmfy-desk"
    program.write_text("#!/bin/sh\necho cmfy-desk fake-build\n", encoding="utf-8")
    program.chmod(0o755)
    return app


@pytest.fixture
def staged(one_folder_build: Path, tmp_path: Path) -> Path:
    return build.stage_deb_tree(one_folder_build, tmp_path / "staging", "0.1.0", "amd64")


def read_control(staging: Path) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in (staging / "DEBIAN" / "control").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith(" "):
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def read_desktop_entry(staging: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # case-sensitive keys
    parser.read(staging / "usr/share/applications/cmfy-desk.desktop", encoding="utf-8")
    return parser["Desktop Entry"]


# The spec --------------------------------------------------------------------------------------


def test_spec_names_entry_point() -> None:
    constants = spec_constants()
    launcher = (PACKAGING / str(constants["LAUNCHER"])).read_text(encoding="utf-8")

    assert constants["ENTRY_POINT"] == "cmfy_desk.cli:main"
    assert "from cmfy_desk.cli import main" in launcher
    assert "raise SystemExit(main())" in launcher


def test_spec_entry_point_matches_pyproject() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")

    assert f'cmfy-desk = "{spec_constants()["ENTRY_POINT"]}"' in pyproject


def test_spec_ships_every_resource() -> None:
    constants = spec_constants()
    patterns = constants["RESOURCE_FILES"]
    assert isinstance(patterns, tuple)
    resources = ROOT / "resources"
    shipped = {path for pattern in patterns for path in resources.glob(pattern)}
    # Translation sources (.ts) are compiled into the .qm files the app loads.
    files = {
        path
        for path in resources.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".ts"
    }

    assert constants["RESOURCES_PACKAGE"] == "cmfy_desk.resources"
    assert files - shipped == set()
    assert resources / "comfyui-object-info.json" in shipped
    assert resources / "template-models.json" in shipped
    assert resources / "icons" / "cmfy-desk.svg" in shipped
    assert len([path for path in shipped if path.parent.name == "workflows"]) >= 3


def test_spec_leaves_out_unused_modules() -> None:
    constants = spec_constants()
    modules = constants["UNUSED_MODULES"]
    plugins = constants["UNUSED_QT_PLUGINS"]
    assert isinstance(modules, list)
    assert isinstance(plugins, dict)

    assert "pygments" in modules
    assert "tkinter" in modules
    assert "PySide6.QtQml" in modules
    assert "qxcb" not in plugins["platforms"]
    assert "qoffscreen" not in plugins["platforms"]
    assert "qwayland" not in plugins["platforms"]
    assert "qjpeg" not in plugins["imageformats"]
    assert "qwebp" not in plugins["imageformats"]
    assert "qsvg" not in plugins["imageformats"]


def test_spec_and_hook_parse() -> None:
    ast.parse((PACKAGING / "cmfy-desk.spec").read_text(encoding="utf-8"))
    for module in ("QtGui", "QtNetwork"):
        path = PACKAGING / "pyinstaller-hooks" / f"hook-PySide6.{module}.py"
        hook = path.read_text(encoding="utf-8")
        assert "def hook(hook_api)" in hook, module
        ast.parse(hook)


def test_spec_leaves_out_network_plugins() -> None:
    plugins = spec_constants()["UNUSED_QT_PLUGINS"]
    assert isinstance(plugins, dict)

    # The local socket between two instances needs QtNetwork, but no TLS backend.
    assert "PySide6.QtNetwork" not in str(spec_constants()["UNUSED_MODULES"])
    assert plugins["tls"] is None
    assert plugins["networkinformation"] is None


# Names and versions ----------------------------------------------------------------------------


def test_version_from_package() -> None:
    assert build.project_version() == cmfy_desk.__version__


@pytest.mark.parametrize(
    ("python_version", "expected"),
    [
        ("0.1.0", "0.1.0"),
        ("1.2.0rc1", "1.2.0~rc1"),
        ("1.2.0b2", "1.2.0~b2"),
        ("2.0.dev3", "2.0~dev3"),
    ],
)
def test_debian_version_cases(python_version: str, expected: str) -> None:
    assert build.debian_version(python_version) == expected


def test_product_names() -> None:
    assert build.tar_name("0.1.0", "x86_64") == "cmfy-desk-0.1.0-linux-x86_64.tar.gz"
    assert build.deb_name("0.1.0", "amd64") == "cmfy-desk_0.1.0_amd64.deb"
    assert build.debian_architecture("x86_64") == "amd64"
    assert build.debian_architecture("aarch64") == "arm64"


def test_unknown_architecture_rejected() -> None:
    with pytest.raises(build.BuildError, match="riscv64"):
        build.debian_architecture("riscv64")


# The staged .deb tree --------------------------------------------------------------------------


def test_stage_lays_out_files(staged: Path) -> None:
    expected = [
        "DEBIAN/control",
        "opt/cmfy-desk/cmfy-desk",
        "opt/cmfy-desk/_internal/cmfy_desk/resources/workflows/sd15_txt2img.json",
        "usr/bin/cmfy-desk",
        "usr/share/applications/cmfy-desk.desktop",
        "usr/share/mime/packages/cmfy-desk.xml",
        "usr/share/icons/hicolor/scalable/apps/cmfy-desk.svg",
        "usr/share/icons/hicolor/256x256/apps/cmfy-desk.png",
        "usr/share/doc/cmfy-desk/copyright",
    ]
    for name in expected:
        assert (staged / name).is_file(), name


def test_stage_launcher_is_relative_link(staged: Path) -> None:
    launcher = staged / "usr" / "bin" / "cmfy-desk"
    result = subprocess.run([launcher], capture_output=True, text=True, check=False, timeout=30)

    assert launcher.is_symlink()
    assert not os.readlink(launcher).startswith("/")
    assert launcher.resolve() == (staged / "opt" / "cmfy-desk" / "cmfy-desk").resolve()
    assert result.returncode == 0
    assert result.stdout == "cmfy-desk fake-build\n"


def test_stage_control_fields(staged: Path) -> None:
    fields = read_control(staged)
    depends = [item.split(" ")[0] for item in fields["Depends"].split(", ")]

    assert fields["Package"] == "cmfy-desk"
    assert fields["Version"] == "0.1.0"
    assert fields["Architecture"] == "amd64"
    assert fields["Section"] == "graphics"
    assert fields["Maintainer"]
    assert int(fields["Installed-Size"]) > 0
    assert fields["Description"]
    for library in ("libxcb-cursor0", "libxkbcommon-x11-0", "libegl1", "libfontconfig1"):
        assert library in depends, library


def test_stage_desktop_entry_keys(staged: Path) -> None:
    entry = read_desktop_entry(staged)
    mime_types = entry["MimeType"].rstrip(";").split(";")

    assert entry["Type"] == "Application"
    assert entry["Name"] == "Cmfy Desk"
    assert entry["Exec"] == "cmfy-desk %F"
    assert entry["Icon"] == "cmfy-desk"
    assert entry["Terminal"] == "false"
    assert "Graphics" in entry["Categories"].split(";")
    assert mime_types == ["application/x-comfyui-workflow+json", "application/json"]


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils")
def test_stage_desktop_entry_valid(staged: Path) -> None:
    result = subprocess.run(
        ["desktop-file-validate", staged / "usr/share/applications/cmfy-desk.desktop"],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_stage_mime_package(staged: Path) -> None:
    root = ET.parse(staged / "usr/share/mime/packages/cmfy-desk.xml").getroot()
    mime_type = root.find(f"{MIME_NS}mime-type")
    assert mime_type is not None
    parents = [node.get("type") for node in mime_type.findall(f"{MIME_NS}sub-class-of")]
    matches = [node.get("value") for node in mime_type.iter(f"{MIME_NS}match")]

    assert mime_type.get("type") == "application/x-comfyui-workflow+json"
    assert parents == ["application/json"]
    assert mime_type.findall(f"{MIME_NS}glob") == []
    assert matches == ['"last_node_id"', '"class_type"']


def test_stage_icons(staged: Path) -> None:
    icons = staged / "usr" / "share" / "icons" / "hicolor"
    svg = (icons / "scalable" / "apps" / "cmfy-desk.svg").read_bytes()
    with Image.open(icons / "256x256" / "apps" / "cmfy-desk.png") as png:
        size, mode = png.size, png.mode
        corner = png.getpixel((0, 0))
        middle = png.getpixel((128, 128))

    assert svg == (ROOT / "resources" / "icons" / "cmfy-desk.svg").read_bytes()
    assert size == (256, 256)
    assert mode == "RGBA"
    assert corner == (0, 0, 0, 0)
    assert middle[3] == 255


def test_stage_modes(staged: Path) -> None:
    assert (staged / "DEBIAN" / "control").stat().st_mode & 0o777 == 0o644
    assert (staged / "usr/share/applications/cmfy-desk.desktop").stat().st_mode & 0o777 == 0o644
    assert (staged / "opt/cmfy-desk/cmfy-desk").stat().st_mode & 0o777 == 0o755


def test_stage_rejects_folder_without_program(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()

    with pytest.raises(build.BuildError, match="not a one-folder build"):
        build.stage_deb_tree(tmp_path / "empty", tmp_path / "staging", "0.1.0", "amd64")


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs dpkg-deb")
def test_deb_packs_staged_tree(staged: Path, tmp_path: Path) -> None:
    deb = build.build_deb(staged, tmp_path / "cmfy-desk_0.1.0_amd64.deb")
    package = subprocess.run(
        ["dpkg-deb", "--field", deb, "Package"], capture_output=True, text=True, check=True
    )
    contents = subprocess.run(
        ["dpkg-deb", "--contents", deb], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    launcher = [
        line
        for line in contents
        if line.endswith("./usr/bin/cmfy-desk -> ../../opt/cmfy-desk/cmfy-desk")
    ]
    owners = {line.split()[1] for line in contents}

    assert package.stdout.strip() == "cmfy-desk"
    assert len(launcher) == 1
    assert owners == {"root/root"}


def test_missing_dpkg_deb_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build.shutil, "which", lambda _name: None)

    with pytest.raises(build.MissingToolError, match="dpkg-deb is not installed"):
        build.require_dpkg_deb()


@pytest.mark.skipif(
    importlib.util.find_spec("PyInstaller") is not None, reason="PyInstaller is installed"
)
def test_missing_pyinstaller_exits_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, PACKAGING / "build.py", "--out", tmp_path / "dist"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )

    assert result.returncode == 2
    assert "PyInstaller is not installed" in result.stderr
    assert not (tmp_path / "dist").exists()


SYSTEM_MIME_PACKAGE = Path("/usr/share/mime/packages/freedesktop.org.xml")


@pytest.mark.skipif(
    shutil.which("update-mime-database") is None or not SYSTEM_MIME_PACKAGE.is_file(),
    reason="needs shared-mime-info",
)
@pytest.mark.timeout(120)
def test_mime_type_by_content(staged: Path, tmp_path: Path) -> None:
    share = tmp_path / "share"
    packages = share / "mime" / "packages"
    packages.mkdir(parents=True)
    shutil.copy(SYSTEM_MIME_PACKAGE, packages)
    shutil.copy(staged / "usr/share/mime/packages/cmfy-desk.xml", packages)
    subprocess.run(["update-mime-database", share / "mime"], capture_output=True, check=True)
    samples = tmp_path / "samples"
    samples.mkdir()
    workflow = (ROOT / "resources" / "workflows" / "sd15_txt2img.json").read_bytes()
    (samples / "api-workflow").write_bytes(workflow)
    (samples / "api-workflow.json").write_bytes(workflow)
    (samples / "editor-workflow").write_text('{"id": "x", "last_node_id": 3, "nodes": []}\n')
    (samples / "other-json").write_text('{"name": "not a workflow"}\n')
    script = (
        "import sys\n"
        "from PySide6.QtCore import QCoreApplication, QMimeDatabase\n"
        "app = QCoreApplication([])\n"
        "database = QMimeDatabase()\n"
        "for path in sys.argv[1:]:\n"
        "    print(database.mimeTypeForFile(path).name())\n"
    )
    names = ["api-workflow", "editor-workflow", "other-json", "api-workflow.json"]
    environment = {**os.environ, "XDG_DATA_DIRS": str(share), "XDG_DATA_HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", script, *(str(samples / name) for name in names)],
        capture_output=True,
        text=True,
        check=True,
        env=environment,
        timeout=60,
    )
    types = dict(zip(names, result.stdout.split(), strict=True))

    assert types["api-workflow"] == "application/x-comfyui-workflow+json"
    assert types["editor-workflow"] == "application/x-comfyui-workflow+json"
    assert types["other-json"] != "application/x-comfyui-workflow+json"
    # The name decides first: this is why the desktop entry also lists application/json.
    assert types["api-workflow.json"] == "application/json"


# The self-test ---------------------------------------------------------------------------------

SELF_TEST_SCRIPT = (
    "import sys\n"
    "from pathlib import Path\n"
    "from cmfy_desk.selftest import run_self_test\n"
    "raise SystemExit(run_self_test(Path(sys.argv[1]), timeout=float(sys.argv[2])))\n"
)


def run_self_test_process(data_dir: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    # A process of its own, as the packaged program runs it: the test process already has a
    # QApplication and event loops of its own.
    return subprocess.run(
        [sys.executable, "-c", SELF_TEST_SCRIPT, str(data_dir), str(timeout)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        timeout=110,
    )


@pytest.mark.timeout(120)
def test_self_test_passes_from_source(tmp_path: Path) -> None:
    result = run_self_test_process(tmp_path / "data", 60)
    images = list((tmp_path / "data" / "outputs").rglob("*.png"))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Self-test passed" in result.stdout
    assert result.stderr.count("Self-test failed") == 0
    assert len(images) == 1
    assert images[0].read_bytes().startswith(b"\x89PNG")


@pytest.mark.timeout(120)
def test_self_test_times_out(tmp_path: Path) -> None:
    result = run_self_test_process(tmp_path / "data", 0.05)

    assert result.returncode == 1
    assert "Self-test failed: timed out after 0.05 s" in result.stderr
    assert "The log is in" in result.stderr


# Build options ---------------------------------------------------------------------------------


def build_options(**chosen: bool) -> argparse.Namespace:
    names = ("folder", "tar", "deb", "installer", "dmg")
    return argparse.Namespace(**{name: chosen.get(name, False) for name in names})


@pytest.mark.parametrize(
    ("system", "expected"),
    [("linux", {"tar", "deb"}), ("win32", {"installer"}), ("darwin", {"dmg"})],
)
def test_build_makes_system_packages(system: str, expected: set[str]) -> None:
    assert build.packages_to_build(build_options(), system) == expected


def test_build_folder_only() -> None:
    assert build.packages_to_build(build_options(folder=True), "win32") == set()
    assert build.packages_to_build(build_options(deb=True), "linux") == {"deb"}


@pytest.mark.parametrize(
    ("option", "system", "message"),
    [
        ("dmg", "linux", "--dmg is built on macOS only"),
        ("installer", "darwin", "--installer is built on Windows only"),
        ("deb", "win32", "--deb is built on Linux only"),
    ],
)
def test_build_rejects_foreign_package(option: str, system: str, message: str) -> None:
    with pytest.raises(build.BuildError, match=message):
        build.packages_to_build(build_options(**{option: True}), system)


def test_build_folder_excludes_packages() -> None:
    with pytest.raises(build.BuildError, match="--folder builds only the one-folder build"):
        build.packages_to_build(build_options(folder=True, tar=True), "linux")


# Icons -----------------------------------------------------------------------------------------

ICON_SVG = ROOT / "resources" / "icons" / "cmfy-desk.svg"


def test_ico_has_every_size(tmp_path: Path) -> None:
    ico = app_icons.write_ico(ICON_SVG, tmp_path / "cmfy-desk.ico", tmp_path / "icons")
    with Image.open(ico) as image:
        sizes = sorted(image.info["sizes"])
        image.size = (16, 16)
        image.load()
        small = image.convert("RGBA")

    assert sizes == [(size, size) for size in app_icons.ICO_SIZES]
    # The 16 px entry is drawn from the SVG: transparent corners, an opaque middle.
    assert small.getpixel((0, 0))[3] == 0
    assert small.getpixel((8, 8))[3] == 255


def test_iconset_names_match_sizes(tmp_path: Path) -> None:
    iconset = app_icons.write_iconset(ICON_SVG, tmp_path / "cmfy-desk.iconset")

    for name, size in app_icons.ICONSET_FILES.items():
        points = int(re.match(r"icon_(\d+)x\d+", name).group(1))  # type: ignore[union-attr]
        assert size == points * (2 if "@2x" in name else 1), name
        with Image.open(iconset / name) as image:
            assert image.size == (size, size), name


def test_iconset_folder_name_checked(tmp_path: Path) -> None:
    with pytest.raises(build.BuildError, match=r"\.iconset"):
        app_icons.write_iconset(ICON_SVG, tmp_path / "icons")


def test_icns_readable(tmp_path: Path) -> None:
    icns = app_icons.write_icns(ICON_SVG, tmp_path / "cmfy-desk.icns", tmp_path / "work")
    with Image.open(icns) as image:
        size = image.size
        sizes = image.info["sizes"]

    assert icns.read_bytes()[:4] == b"icns"
    assert size == (1024, 1024)
    assert (16, 16, 2) in sizes
    assert (512, 512, 2) in sizes


# The Windows installer -------------------------------------------------------------------------

ISS = PACKAGING / "windows" / "cmfy-desk.iss"


def iss_text() -> str:
    return ISS.read_text(encoding="utf-8")


def iss_defines() -> dict[str, str]:
    """Return the script's ``#define NAME "value"`` lines."""
    return dict(re.findall(r'^#define (\w+) "([^"]*)"$', iss_text(), flags=re.MULTILINE))


def iss_section(name: str) -> list[str]:
    """Return the lines of one [Section] without comments and blank lines."""
    lines: list[str] = []
    current = None
    for line in iss_text().splitlines():
        stripped = line.strip()
        if re.fullmatch(r"\[\w+\]", stripped):
            current = stripped[1:-1]
            continue
        if current == name and stripped and not stripped.startswith(";"):
            lines.append(stripped)
    return lines


def iss_setup() -> dict[str, str]:
    return dict(line.split("=", 1) for line in iss_section("Setup"))


def iss_entries(section: str) -> list[dict[str, str]]:
    """Parse the ``Name: "value"; Flags: a b`` entries of a section."""
    entries = []
    for line in iss_section(section):
        entry = {}
        for match in re.finditer(r'(\w+): ("(?:[^"]|"")*"|[^;]+)', line):
            value = match.group(2).strip()
            if value.startswith('"'):
                value = value[1:-1].replace('""', '"')
            entry[match.group(1)] = value
        entries.append(entry)
    return entries


def test_iss_setup_directives() -> None:
    setup = iss_setup()

    assert setup["AppId"].startswith("{{")
    assert setup["AppId"].endswith("}")
    assert setup["AppName"] == "{#AppName}"
    assert setup["AppVersion"] == "{#AppVersion}"
    assert setup["VersionInfoVersion"] == "{#NumericVersion}"
    assert setup["DefaultDirName"] == r"{autopf}\{#AppName}"
    assert setup["PrivilegesRequired"] == "admin"
    assert setup["ArchitecturesAllowed"] == "x64compatible"
    assert setup["ArchitecturesInstallIn64BitMode"] == "x64compatible"
    assert setup["SetupIconFile"] == "{#SetupIcon}"
    assert setup["UninstallDisplayIcon"] == r"{app}\{#WindowedExe}"
    assert setup["ChangesAssociations"] == "yes"
    assert setup["OutputBaseFilename"] == "cmfy-desk-{#AppVersion}-windows-x64-setup"
    assert build.project_version() + "-windows" in windows_installer.installer_name(
        build.project_version()
    )


def test_iss_needs_build_values() -> None:
    text = iss_text()
    command = windows_installer.iscc_command(
        "ISCC.exe", Path("dist/cmfy-desk"), Path("dist"), "0.2.0rc1", Path("icon.ico")
    )

    for name in ("AppVersion", "NumericVersion", "SourceDir", "SetupIcon"):
        assert re.search(rf"#ifndef {name}\n\s+#error ", text), name
        assert any(part.startswith(f"/D{name}=") for part in command), name
    assert "#if VER < EncodeVer(6, 6, 0)" in text
    assert "/DAppVersion=0.2.0rc1" in command
    assert "/DNumericVersion=0.2.0.0" in command
    assert "/Fcmfy-desk-0.2.0rc1-windows-x64-setup" in command
    assert command[-1] == str(ISS)


def test_iss_programs_match_spec() -> None:
    defines = iss_defines()
    constants = spec_constants()

    assert defines["ConsoleExe"] == f"{constants['APP_NAME']}.exe" == windows_installer.PROGRAM
    assert (
        defines["WindowedExe"]
        == f"{constants['WINDOWED_APP_NAME']}.exe"
        == windows_installer.WINDOWED_PROGRAM
    )
    assert defines["AppName"] == build.APP_NAME


def test_iss_installs_whole_build() -> None:
    files = iss_entries("Files")

    assert files == [
        {
            "Source": r"{#SourceDir}\*",
            "DestDir": "{app}",
            "Flags": "ignoreversion recursesubdirs createallsubdirs",
        }
    ]


def test_iss_shortcuts_start_windowed_program() -> None:
    icons = iss_entries("Icons")
    tasks = {entry["Name"]: entry for entry in iss_entries("Tasks")}

    assert [entry["Name"] for entry in icons] == [
        r"{autoprograms}\{#AppName}",
        r"{autodesktop}\{#AppName}",
    ]
    assert {entry["Filename"] for entry in icons} == {r"{app}\{#WindowedExe}"}
    assert icons[1]["Tasks"] == "desktopicon"
    assert tasks["desktopicon"]["Flags"] == "unchecked"
    assert "Flags" not in tasks["openwith"]


def test_iss_open_with_keeps_default() -> None:
    registry = iss_entries("Registry")
    subkeys = {entry["Subkey"] for entry in registry}
    open_with = [entry for entry in registry if entry["Subkey"].endswith("OpenWithProgids")]
    commands = [entry for entry in registry if entry["Subkey"].endswith(r"shell\open\command")]

    assert {entry["Root"] for entry in registry} == {"HKA"}
    assert {entry["Tasks"] for entry in registry} == {"openwith"}
    # The (Default) value of an extension names its default program: never written.
    assert r"Software\Classes\.json" not in subkeys
    assert r"Software\Classes\.png" not in subkeys
    assert [entry["Subkey"] for entry in open_with] == [
        r"Software\Classes\.json\OpenWithProgids",
        r"Software\Classes\.png\OpenWithProgids",
    ]
    for entry in open_with:
        assert entry["ValueName"] == "{#ProgId}"
        assert entry["ValueData"] == ""
        assert entry["Flags"] == "uninsdeletevalue"
    assert len(commands) == 2
    for entry in commands:
        assert entry["ValueData"] == r'"{app}\{#WindowedExe}" "%1"'
    assert re.fullmatch(r"\w+\.\w+\.\d+", iss_defines()["ProgId"])


def test_iss_data_folders_match_app() -> None:
    defines = iss_defines()

    assert defines["DataFolderName"] == paths.APP_DIR_NAME
    assert defines["ImagesFolderName"] == paths.OUTPUT_DIR_NAME
    assert "ExpandConstant('{localappdata}\\{#DataFolderName}')" in iss_text()
    assert "GetShellFolderByCSIDL(CSIDL_MYPICTURES, False)" in iss_text()


def test_windows_data_folder_layout(monkeypatch: pytest.MonkeyPatch) -> None:
    local = r"C:\Users\someone\AppData\Local"
    monkeypatch.setattr(platformdirs.windows, "get_win_folder", lambda _name: local)
    # paths.resolve_paths calls platformdirs with these arguments.
    folders = platformdirs.windows.Windows(paths.APP_DIR_NAME, appauthor=False)
    data = Path(folders.user_data_dir)

    assert data.name == paths.APP_DIR_NAME
    assert str(data.parent) == local
    assert Path(folders.user_log_dir).parent == data
    assert Path(folders.user_cache_dir).parent == data


def test_iss_uninstall_keeps_data_by_default() -> None:
    code = "\n".join(iss_section("Code"))

    assert "Result.Checked := False;" in code
    assert re.search(r"if RemoveData then\s+DelTree\(DataFolder, True, True, True\);", code)
    assert re.search(
        r"if RemoveImages and \(ImagesFolder <> ''\) then\s+DelTree\(ImagesFolder,", code
    )
    assert code.count("DelTree(") == 2
    assert re.search(r"usUninstall:\s+.*\s+if not UninstallSilent then\s+AskWhatToRemove;", code)
    assert "RemoveData := DataBox.Checked;" in code


def test_iss_messages_defined() -> None:
    messages = dict(line.split("=", 1) for line in iss_section("CustomMessages"))
    used = set(re.findall(r"CustomMessage\('(\w+)'\)", iss_text()))
    used |= set(re.findall(r"\{cm:(\w+)\}", iss_text())) - {"CreateDesktopIcon", "AdditionalIcons"}

    assert used <= set(messages)
    assert "%1" not in messages["RemoveDataBox"]


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("0.1.0", (0, 1, 0, 0)),
        ("1.2.0rc1", (1, 2, 0, 0)),
        ("2.0", (2, 0, 0, 0)),
        ("3", (3, 0, 0, 0)),
    ],
)
def test_windows_numeric_version(version: str, expected: tuple[int, ...]) -> None:
    assert windows_installer.numeric_version(version) == expected


def test_windows_version_rejects_bad_version() -> None:
    with pytest.raises(build.BuildError, match="does not start with a number"):
        windows_installer.numeric_version("dev")
    with pytest.raises(build.BuildError, match="above 65535"):
        windows_installer.numeric_version("1.70000")


def test_windows_version_resource() -> None:
    text = windows_installer.version_info_text("0.2.0rc1")
    call = ast.parse(text, mode="eval").body
    strings = dict(re.findall(r"StringStruct\('(\w+)', '([^']*)'\)", text))

    assert isinstance(call, ast.Call)
    assert isinstance(call.func, ast.Name)
    assert call.func.id == "VSVersionInfo"
    assert "filevers=(0, 2, 0, 0)" in text
    assert strings["FileDescription"] == "Cmfy Desk"
    assert strings["ProductVersion"] == "0.2.0rc1"
    assert strings["OriginalFilename"] == windows_installer.PROGRAM


def test_missing_iscc_explained(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(windows_installer.shutil, "which", lambda _name: None)
    for variable in ("PROGRAMFILES(X86)", "PROGRAMFILES", "LOCALAPPDATA"):
        monkeypatch.setenv(variable, str(tmp_path))

    with pytest.raises(build.MissingToolError, match=r"Install Inno Setup 6\.6 or later"):
        windows_installer.require_iscc()


def test_iscc_found_in_default_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    iscc = tmp_path / "Inno Setup 6" / "ISCC.exe"
    iscc.parent.mkdir()
    iscc.write_bytes(b"")
    monkeypatch.setattr(windows_installer.shutil, "which", lambda _name: None)
    monkeypatch.setenv("PROGRAMFILES(X86)", str(tmp_path))

    assert windows_installer.find_iscc() == str(iscc)


def test_installer_needs_windows_build(tmp_path: Path, one_folder_build: Path) -> None:
    with pytest.raises(build.BuildError, match=r"cmfy-desk\.exe is missing"):
        windows_installer.build_installer(
            one_folder_build, tmp_path, "0.1.0", tmp_path / "icon.ico", "ISCC.exe"
        )


# The macOS bundle ------------------------------------------------------------------------------


def test_plist_template_valid() -> None:
    with macos_bundle.INFO_PLIST_TEMPLATE.open("rb") as file:
        template = plistlib.load(file)

    assert template["CFBundleShortVersionString"] == "@VERSION@"
    assert template["CFBundleVersion"] == "@BUNDLE_VERSION@"


def test_plist_rendered_keys() -> None:
    plist = macos_bundle.info_plist("0.2.0rc1")

    assert plist["CFBundleName"] == build.APP_NAME
    assert plist["CFBundleDisplayName"] == build.APP_NAME
    assert re.fullmatch(r"[a-z]+(\.[a-z0-9-]+)+", plist["CFBundleIdentifier"])
    assert plist["CFBundleShortVersionString"] == "0.2.0rc1"
    assert plist["CFBundleVersion"] == "0.2.0"
    assert re.fullmatch(r"\d+\.\d+(\.\d+)?", plist["LSMinimumSystemVersion"])
    assert plist["NSHighResolutionCapable"] is True
    assert plist["NSPrincipalClass"] == "NSApplication"
    assert "@" not in plistlib.dumps(plist).decode("utf-8")
    # Set by PyInstaller's BUNDLE step from the spec's arguments, so not in the template.
    assert "CFBundleExecutable" not in plist
    assert "LSBackgroundOnly" not in plist


def test_plist_document_types() -> None:
    types = macos_bundle.info_plist("0.1.0")["CFBundleDocumentTypes"]
    by_content = {item["LSItemContentTypes"][0]: item for item in types}

    assert sorted(by_content) == ["public.json", "public.png"]
    for item in types:
        assert item["CFBundleTypeRole"] == "Viewer"
        # Alternate: listed under "Open With", never the default for all JSON or PNG files.
        assert item["LSHandlerRank"] == "Alternate"
        assert len(item["LSItemContentTypes"]) == 1
        assert item["CFBundleTypeName"]


def test_plist_written_as_xml(tmp_path: Path) -> None:
    target = macos_bundle.write_info_plist("0.3.0", tmp_path / "Info.plist")
    data = target.read_bytes()

    assert data.startswith(b"<?xml")
    assert plistlib.loads(data, fmt=plistlib.FMT_XML) == macos_bundle.info_plist("0.3.0")


def test_plist_unknown_placeholder(tmp_path: Path) -> None:
    template = tmp_path / "Info.plist"
    template.write_bytes(plistlib.dumps({"CFBundleVersion": "@BUILD@"}))

    with pytest.raises(build.BuildError, match="unknown placeholder @BUILD@"):
        macos_bundle.info_plist("0.1.0", template)


def test_plist_unreadable_template(tmp_path: Path) -> None:
    template = tmp_path / "Info.plist"
    template.write_text("<plist><dict><key>broken", encoding="utf-8")

    with pytest.raises(build.BuildError, match=r"Cannot read the Info\.plist template"):
        macos_bundle.info_plist("0.1.0", template)


@pytest.mark.parametrize(
    ("version", "expected"),
    [("0.1.0", "0.1.0"), ("1.2.0rc1", "1.2.0"), ("2.0.dev3", "2.0"), ("1.2.3.4", "1.2.3")],
)
def test_bundle_version_numeric(version: str, expected: str) -> None:
    assert macos_bundle.bundle_version(version) == expected


def test_spec_bundle_step() -> None:
    text = (PACKAGING / "cmfy-desk.spec").read_text(encoding="utf-8")
    bundle_call = text[text.index("BUNDLE(  # noqa: F821") :]

    assert spec_constants()["BUNDLE_NAME"] == macos_bundle.BUNDLE_NAME == "Cmfy Desk.app"
    assert "name=BUNDLE_NAME" in bundle_call
    assert "info_plist=info_plist" in bundle_call
    assert 'bundle_identifier=info_plist["CFBundleIdentifier"]' in bundle_call
    assert 'version=info_plist["CFBundleShortVersionString"]' in bundle_call
    # A console program's bundle would be LSBackgroundOnly: no Dock icon, no menu bar.
    assert 'console=sys.platform != "darwin"' in text


@pytest.fixture
def app_bundle(tmp_path: Path) -> Path:
    app = tmp_path / "dist" / macos_bundle.BUNDLE_NAME
    (app / "Contents" / "MacOS").mkdir(parents=True)
    (app / "Contents" / "Info.plist").write_bytes(plistlib.dumps(macos_bundle.info_plist("0.1")))
    (app / "Contents" / "MacOS" / "cmfy-desk").write_text("#!/bin/sh\n", encoding="utf-8")
    return app


def test_dmg_staging(app_bundle: Path, tmp_path: Path) -> None:
    staging = macos_bundle.stage_dmg(app_bundle, tmp_path / "dmg")
    link = staging / "Applications"

    assert sorted(path.name for path in staging.iterdir()) == ["Applications", "Cmfy Desk.app"]
    assert link.is_symlink()
    assert os.readlink(link) == "/Applications"
    assert (staging / "Cmfy Desk.app" / "Contents" / "Info.plist").is_file()


def test_dmg_staging_rejects_folder(tmp_path: Path) -> None:
    (tmp_path / "not-an-app").mkdir()

    with pytest.raises(build.BuildError, match="not an app bundle"):
        macos_bundle.stage_dmg(tmp_path / "not-an-app", tmp_path / "dmg")


def test_dmg_command(tmp_path: Path) -> None:
    command = macos_bundle.dmg_command("hdiutil", tmp_path / "dmg", tmp_path / "out.dmg")

    assert command[:2] == ["hdiutil", "create"]
    assert command[command.index("-srcfolder") + 1] == str(tmp_path / "dmg")
    assert command[command.index("-volname") + 1] == "Cmfy Desk"
    assert command[command.index("-format") + 1] == "UDZO"
    assert command[-1] == str(tmp_path / "out.dmg")
    assert macos_bundle.dmg_name("0.1.0", "arm64") == "cmfy-desk-0.1.0-macos-arm64.dmg"


def test_missing_hdiutil_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(macos_bundle.shutil, "which", lambda _name: None)

    with pytest.raises(build.MissingToolError, match="hdiutil is not found"):
        macos_bundle.require_hdiutil()


# The screenshot script -------------------------------------------------------------------------


def test_screenshot_script_needs_build(tmp_path: Path) -> None:
    result = subprocess.run(
        ["bash", PACKAGING / "screenshots.sh", tmp_path / "missing", tmp_path / "shots"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )

    assert result.returncode == 2
    assert "no built program at" in result.stderr
    assert not (tmp_path / "shots").exists()


def test_screenshot_script_expects_every_tour_step() -> None:
    from cmfy_desk.ui.tour import STEPS

    text = (PACKAGING / "screenshots.sh").read_text(encoding="utf-8")
    found = re.search(r"^steps=(\d+)", text, re.MULTILINE)

    assert found is not None
    assert int(found.group(1)) == len(STEPS)


@pytest.mark.parametrize("script", ["screenshots.sh", "ci-check.sh"])
def test_shell_scripts_parse(script: str) -> None:
    result = subprocess.run(
        ["bash", "-n", PACKAGING / script], capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr
