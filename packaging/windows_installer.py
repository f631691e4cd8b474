"""The Windows parts of the build: the programs' version resource and the Inno Setup installer.

PyInstaller writes the version resource into both programs (Explorer shows its FileDescription
as the program's name, in "Open with" too). Inno Setup's command-line compiler, ISCC, then packs
the one-folder build with ``windows/cmfy-desk.iss`` into one setup program.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from recipe_errors import BuildError, MissingToolError

PACKAGING = Path(__file__).resolve().parent
INNO_SCRIPT = PACKAGING / "windows" / "cmfy-desk.iss"
PROGRAM = "cmfy-desk.exe"  # the spec's APP_NAME
WINDOWED_PROGRAM = "cmfy-desk-gui.exe"  # the spec's WINDOWED_APP_NAME
# Inno Setup 6.6 changed CreateCustomForm, which the uninstaller's question uses.
INNO_SETUP_VERSION = "6.6"
INSTALL_INNO_SETUP = (
    f"Install Inno Setup {INNO_SETUP_VERSION} or later ('winget install JRSoftware.InnoSetup' "
    "or 'choco install innosetup') and put the folder of ISCC.exe on PATH, then run this "
    "again. --folder builds only the one-folder build."
)


def numeric_version(version: str) -> tuple[int, int, int, int]:
    """Return ``version`` as the four numbers of a Windows version resource:
    0.2.0rc1 -> (0, 2, 0, 0). Pre-release marks have no place there, so they are dropped."""
    match = re.match(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:\.(\d+))?", version)
    if match is None:
        raise BuildError(f"The version {version!r} does not start with a number")
    numbers = tuple(int(part or 0) for part in match.groups())
    if any(number > 65535 for number in numbers):
        raise BuildError(f"The version {version!r} has a part above 65535")
    return numbers  # type: ignore[return-value]


def version_info_text(version: str) -> str:
    """Return the version resource in the text form PyInstaller's ``version=`` file takes
    (a VSVersionInfo expression, evaluated by PyInstaller on Windows)."""
    numbers = numeric_version(version)
    strings = {
        "CompanyName": "Cmfy Desk developers",
        "FileDescription": "Cmfy Desk",
        "FileVersion": version,
        "InternalName": "cmfy-desk",
        "LegalCopyright": "Cmfy Desk developers, GPL-3.0-or-later",
        "OriginalFilename": PROGRAM,
        "ProductName": "Cmfy Desk",
        "ProductVersion": version,
    }
    string_structs = ",\n".join(
        f"          StringStruct({key!r}, {value!r})" for key, value in strings.items()
    )
    # 040904B0: US English, Unicode (code page 1200), the usual pair for English resources.
    return f"""\
VSVersionInfo(
  ffi=FixedFileInfo(
    filevers={numbers!r},
    prodvers={numbers!r},
    mask=0x3F,
    flags=0x0,
    OS=0x40004,
    fileType=0x1,
    subtype=0x0,
    date=(0, 0),
  ),
  kids=[
    StringFileInfo([
      StringTable(
        '040904B0',
        [
{string_structs},
        ],
      ),
    ]),
    VarFileInfo([VarStruct('Translation', [1033, 1200])]),
  ],
)
"""


def write_version_info(version: str, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(version_info_text(version), encoding="utf-8")
    return target


def installer_name(version: str) -> str:
    return f"cmfy-desk-{version}-windows-x64-setup.exe"


def find_iscc() -> str | None:
    """Return the path of Inno Setup's ISCC.exe: from PATH, else from Inno Setup 6's default
    install folders (per machine and per user), or None."""
    found = shutil.which("ISCC")
    if found is not None:
        return found
    folders = [
        os.environ.get("PROGRAMFILES(X86)"),
        os.environ.get("PROGRAMFILES"),
        os.path.join(os.environ.get("LOCALAPPDATA", ""), "Programs"),
    ]
    for folder in folders:
        if folder:
            candidate = Path(folder) / "Inno Setup 6" / "ISCC.exe"
            if candidate.is_file():
                return str(candidate)
    return None


def require_iscc() -> str:
    iscc = find_iscc()
    if iscc is None:
        raise MissingToolError(f"Inno Setup's ISCC.exe is not found. {INSTALL_INNO_SETUP}")
    return iscc


def iscc_command(
    iscc: str, app_dir: Path, out: Path, version: str, icon: Path, script: Path = INNO_SCRIPT
) -> list[str]:
    """Return the ISCC command that builds ``out/<installer_name(version)>`` from the
    one-folder build ``app_dir``. The /D options set the script's #define values."""
    numbers = ".".join(str(number) for number in numeric_version(version))
    return [
        iscc,
        "/Q",
        f"/DAppVersion={version}",
        f"/DNumericVersion={numbers}",
        f"/DSourceDir={app_dir}",
        f"/DSetupIcon={icon}",
        f"/O{out}",
        f"/F{Path(installer_name(version)).stem}",
        str(script),
    ]


def build_installer(app_dir: Path, out: Path, version: str, icon: Path, iscc: str) -> Path:
    """Compile the installer; returns its path."""
    for program in (PROGRAM, WINDOWED_PROGRAM):
        if not (app_dir / program).is_file():
            raise BuildError(f"{app_dir} is not a Windows one-folder build: {program} is missing")
    command = iscc_command(iscc, app_dir, out, version, icon)
    print(f"Running {' '.join(command)}", flush=True)
    result = subprocess.run(command, check=False)
    if result.returncode != 0:
        raise BuildError(f"ISCC failed with exit status {result.returncode}; its output is above")
    target = out / installer_name(version)
    if not target.is_file():
        raise BuildError(f"ISCC finished but {target} is missing")
    return target
