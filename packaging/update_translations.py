"""Extract the translatable strings of Cmfy Desk for translators, and compile their work.

    python packaging/update_translations.py            # update the .ts files, compile the .qm
    python packaging/update_translations.py --check    # exit 1 when the template is out of date

pyside6-lupdate reads every ``tr()``, ``QCoreApplication.translate()`` and
``QT_TRANSLATE_NOOP()`` call with a literal string in gui/cmfy_desk and writes the template
resources/translations/cmfy_desk.ts, which has no translations. A translator copies it to
cmfy_desk_<locale>.ts (cmfy_desk_de.ts, cmfy_desk_pt_BR.ts) and fills it in with Qt Linguist.
This script then updates those files with new strings, keeping their translations, and
compiles each into a .qm with pyside6-lrelease, which the app loads for a matching system
locale. Strings passed to translate() through a variable are invisible to lupdate.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "gui" / "cmfy_desk"
TRANSLATIONS = ROOT / "resources" / "translations"
TEMPLATE = TRANSLATIONS / "cmfy_desk.ts"
PREFIX = "cmfy_desk_"


def find_tool(name: str) -> Path | None:
    """Return the PySide6 tool ``name`` of this Python's environment, else the one on PATH."""
    scripts = Path(sys.executable).parent
    for candidate in (scripts / name, scripts / f"{name}.exe"):
        if candidate.is_file():
            return candidate
    found = shutil.which(name)
    return Path(found) if found else None


def source_files() -> list[Path]:
    return sorted(SOURCES.rglob("*.py"))


def run_lupdate(lupdate: Path, ts_file: Path, *, drop_obsolete: bool) -> None:
    """Update ``ts_file`` (created when missing) with the strings of every source file."""
    command = [str(lupdate), *map(str, source_files()), "-ts", str(ts_file)]
    command += ["-locations", "absolute", "-silent"]
    if drop_obsolete:
        command.append("-no-obsolete")
    subprocess.run(command, check=True)


def messages(ts_file: Path) -> set[tuple[str, str]]:
    """Return the (context, source text) pairs of a .ts file that are not obsolete."""
    found: set[tuple[str, str]] = set()
    for context in ElementTree.parse(ts_file).getroot().iter("context"):
        name = context.findtext("name") or ""
        for message in context.iter("message"):
            translation = message.find("translation")
            if translation is not None and translation.get("type") in ("obsolete", "vanished"):
                continue
            found.add((name, message.findtext("source") or ""))
    return found


def check_template(lupdate: Path) -> int:
    """Return 0 when the template lists exactly the strings of the sources, else 1."""
    with tempfile.TemporaryDirectory() as folder:
        fresh = Path(folder) / "cmfy_desk.ts"
        run_lupdate(lupdate, fresh, drop_obsolete=True)
        expected = messages(fresh)
    current = messages(TEMPLATE) if TEMPLATE.is_file() else set()
    if current == expected:
        print(f"{TEMPLATE.relative_to(ROOT)} is up to date ({len(expected)} strings).")
        return 0
    print(
        f"{TEMPLATE.relative_to(ROOT)} is out of date: {len(expected - current)} strings "
        f"missing, {len(current - expected)} no longer used. "
        f"Run python packaging/update_translations.py.",
        file=sys.stderr,
    )
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="change nothing; exit 1 when the template misses strings or lists unused ones",
    )
    parser.add_argument(
        "--template",
        type=Path,
        default=TEMPLATE,
        help="write the template here instead (default: resources/translations/cmfy_desk.ts)",
    )
    options = parser.parse_args(argv)

    lupdate = find_tool("pyside6-lupdate")
    if lupdate is None:
        print(
            "pyside6-lupdate was not found next to this Python or on PATH. It comes with "
            "PySide6: install the project's dependencies in this environment.",
            file=sys.stderr,
        )
        return 1
    if options.check:
        return check_template(lupdate)

    options.template.parent.mkdir(parents=True, exist_ok=True)
    run_lupdate(lupdate, options.template, drop_obsolete=True)
    print(f"Wrote {options.template} ({len(messages(options.template))} strings).")

    translations = sorted(TRANSLATIONS.glob(f"{PREFIX}*.ts"))
    for ts_file in translations:
        # Obsolete entries stay in a translator's file, so a string that comes back keeps
        # its translation.
        run_lupdate(lupdate, ts_file, drop_obsolete=False)
        print(f"Updated {ts_file.relative_to(ROOT)}")
    if not translations:
        return 0

    lrelease = find_tool("pyside6-lrelease")
    if lrelease is None:
        print(
            "pyside6-lrelease was not found, so no .qm file was compiled. It comes with "
            "PySide6: install the project's dependencies in this environment.",
            file=sys.stderr,
        )
        return 1
    for ts_file in translations:
        qm_file = ts_file.with_suffix(".qm")
        subprocess.run([str(lrelease), "-silent", str(ts_file), "-qm", str(qm_file)], check=True)
        print(f"Compiled {qm_file.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
