"""The packaging recipe without PyInstaller: the spec, the .deb's staged tree, the self-test.

The real build and its checks run in packaging/ci-check.sh. These tests cover what can be
checked in seconds: the spec's contents and the .deb layout built around a fake one-folder
build. When dpkg-deb and shared-mime-info are installed, the tree is also packed and typed.
The self-test that the packaged program runs is run here from the source.
"""

from __future__ import annotations

import ast
import configparser
import importlib.util
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

import pytest
from PIL import Image

import cmfy_desk

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
    files = {
        path for path in resources.rglob("*") if path.is_file() and "__pycache__" not in path.parts
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
    hook = (PACKAGING / "pyinstaller-hooks" / "hook-PySide6.QtGui.py").read_text(encoding="utf-8")

    ast.parse((PACKAGING / "cmfy-desk.spec").read_text(encoding="utf-8"))
    assert "def hook(hook_api)" in hook
    ast.parse(hook)


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
