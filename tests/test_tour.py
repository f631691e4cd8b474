"""The light and dark themes, and the screenshot tour that shows them in the real window.

The tour runs here from the source tree on Qt's offscreen platform, once inside the test
process (the same code the built program runs) and once as ``python -m cmfy_desk --tour``.
packaging/screenshots.sh runs it from the built program under Xvfb, and
packaging/docs_screenshots.py runs a larger plan of it for the README's pictures.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import shiboken6
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPalette
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QProxyStyle,
    QStyle,
)
from pytestqt.qtbot import QtBot

from cmfy_desk import cli, settings
from cmfy_desk.settings import Setting, Settings
from cmfy_desk.ui import theme
from cmfy_desk.ui.theme import (
    DARK,
    LIGHT,
    SYSTEM,
    THEME_SETTING,
    ThemeStyle,
    apply_theme,
    current_theme,
    dark_palette,
    light_palette,
    resolve_theme,
    theme_choice,
)
from cmfy_desk.ui.tour import STEPS, Tour, TourPlan, run_tour, screenshot_names

PROJECT = Path(__file__).resolve().parent.parent

Role = QPalette.ColorRole
Group = QPalette.ColorGroup

# The entry settings.py declares for the theme (or will, in a version that lacks it).
THEME_SETTING_ENTRY = Setting(
    THEME_SETTING,
    str,
    SYSTEM,
    "Colour theme of the window: follow the system's light or dark mode, or always light or dark",
    choices=(SYSTEM, LIGHT, DARK),
)


@pytest.fixture
def theme_declared(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make sure the settings table declares "appearance.theme"."""
    if THEME_SETTING not in settings._SETTINGS_BY_KEY:
        monkeypatch.setitem(settings._SETTINGS_BY_KEY, THEME_SETTING, THEME_SETTING_ENTRY)


@pytest.fixture
def restore_theme(qapp: QApplication) -> Iterator[QApplication]:
    """Give the test the application, and put back its style, palette and colour scheme."""
    style = qapp.style()
    # ThemeStyle, a proxy, has no name of its own; Qt recreates the style from a name.
    style_name = style.baseStyle().name() if isinstance(style, QProxyStyle) else style.name()
    palette = QPalette(qapp.palette())
    yield qapp
    follower = qapp.findChild(theme._ThemeFollower, theme._ThemeFollower.OBJECT_NAME)
    if follower is not None:
        shiboken6.delete(follower)
    qapp.styleHints().unsetColorScheme()
    qapp.setStyle(style_name)
    qapp.setPalette(palette)


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Undo the tour's logging set-up: its file handler and the root logger's level."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def luminance(color: QColor) -> float:
    """Return the relative luminance of ``color`` (WCAG 2.x)."""

    def channel(value: int) -> float:
        value_f = value / 255
        return value_f / 12.92 if value_f <= 0.03928 else ((value_f + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * channel(color.red())
        + 0.7152 * channel(color.green())
        + 0.0722 * channel(color.blue())
    )


def contrast(first: QColor, second: QColor) -> float:
    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


# Palettes --------------------------------------------------------------------------------------


def test_palettes_differ() -> None:
    light, dark = light_palette(), dark_palette()

    for role in (Role.Window, Role.Base, Role.Text, Role.WindowText, Role.Button):
        assert light.color(role) != dark.color(role), role
    assert luminance(light.color(Role.Window)) > 0.7
    assert luminance(dark.color(Role.Window)) < 0.05
    assert luminance(light.color(Role.Text)) < luminance(light.color(Role.Base))
    assert luminance(dark.color(Role.Text)) > luminance(dark.color(Role.Base))


@pytest.mark.parametrize("palette_name", ["light", "dark"])
@pytest.mark.parametrize(
    ("text", "background", "minimum"),
    [
        (Role.WindowText, Role.Window, 7.0),
        (Role.Text, Role.Base, 7.0),
        (Role.Text, Role.AlternateBase, 7.0),
        (Role.ButtonText, Role.Button, 7.0),
        (Role.ToolTipText, Role.ToolTipBase, 7.0),
        (Role.HighlightedText, Role.Highlight, 4.5),
        (Role.PlaceholderText, Role.Base, 4.5),
        (Role.Link, Role.Base, 4.5),
        (Role.LinkVisited, Role.Base, 4.5),
    ],
)
def test_palette_contrast(palette_name: str, text: Role, background: Role, minimum: float) -> None:
    palette = light_palette() if palette_name == "light" else dark_palette()

    assert contrast(palette.color(text), palette.color(background)) >= minimum


@pytest.mark.parametrize("palette_name", ["light", "dark"])
@pytest.mark.parametrize(
    ("text", "background"),
    [(Role.WindowText, Role.Window), (Role.Text, Role.Base), (Role.ButtonText, Role.Button)],
)
def test_disabled_text_readable(palette_name: str, text: Role, background: Role) -> None:
    palette = light_palette() if palette_name == "light" else dark_palette()
    disabled = palette.color(Group.Disabled, text)

    assert disabled != palette.color(Group.Active, text)
    assert contrast(disabled, palette.color(Group.Disabled, background)) >= 3.0


@pytest.mark.parametrize(
    ("choice", "scheme", "expected"),
    [
        (SYSTEM, Qt.ColorScheme.Dark, DARK),
        (SYSTEM, Qt.ColorScheme.Light, LIGHT),
        (SYSTEM, Qt.ColorScheme.Unknown, LIGHT),
        (LIGHT, Qt.ColorScheme.Dark, LIGHT),
        (DARK, Qt.ColorScheme.Light, DARK),
    ],
)
def test_resolve_theme_cases(choice: str, scheme: Qt.ColorScheme, expected: str) -> None:
    assert resolve_theme(choice, scheme) == expected


# The setting -----------------------------------------------------------------------------------


@pytest.mark.usefixtures("theme_declared")
@pytest.mark.parametrize("value", [SYSTEM, LIGHT, DARK])
def test_theme_choice_from_file(tmp_path: Path, value: str) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({THEME_SETTING: value}), encoding="utf-8")

    assert theme_choice(Settings(path)) == value


@pytest.mark.usefixtures("theme_declared")
def test_theme_choice_defaults(tmp_path: Path) -> None:
    missing = Settings(tmp_path / "none.json")
    bad_path = tmp_path / "bad.json"
    bad_path.write_text(json.dumps({THEME_SETTING: "sepia"}), encoding="utf-8")

    assert theme_choice(missing) == SYSTEM
    assert theme_choice(Settings(bad_path)) == SYSTEM


def test_theme_choice_undeclared_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(settings._SETTINGS_BY_KEY, THEME_SETTING, raising=False)
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({THEME_SETTING: DARK}), encoding="utf-8")

    assert theme_choice(Settings(path)) == SYSTEM


# Applying a theme ------------------------------------------------------------------------------


def test_apply_theme_sets_palette(restore_theme: QApplication) -> None:
    app = restore_theme

    apply_theme(app, DARK)
    dark_window = app.palette().color(Role.Window)
    dark_style = app.style()
    apply_theme(app, LIGHT)

    assert dark_window == dark_palette().color(Role.Window)
    assert isinstance(dark_style, ThemeStyle)
    assert dark_style.baseStyle().name().lower() == "fusion"
    # Applying a theme again keeps the style, so widgets are not restyled.
    assert app.style() is dark_style
    assert app.palette().color(Role.Window) == light_palette().color(Role.Window)
    assert current_theme(app) == LIGHT


def test_system_theme_follows_scheme(restore_theme: QApplication) -> None:
    app = restore_theme
    hints = app.styleHints()

    apply_theme(app, SYSTEM)
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    after_dark = app.palette().color(Role.Window)
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
    after_light = app.palette().color(Role.Window)

    assert after_dark == dark_palette().color(Role.Window)
    assert after_light == light_palette().color(Role.Window)


def test_fixed_theme_ignores_scheme(restore_theme: QApplication) -> None:
    app = restore_theme

    apply_theme(app, SYSTEM)
    apply_theme(app, LIGHT)
    app.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)

    assert app.palette().color(Role.Window) == light_palette().color(Role.Window)
    assert len(app.findChildren(theme._ThemeFollower)) == 1


def test_unknown_theme_uses_system(
    restore_theme: QApplication, caplog: pytest.LogCaptureFixture
) -> None:
    app = restore_theme

    with caplog.at_level(logging.WARNING, logger="cmfy_desk.ui.theme"):
        apply_theme(app, "sepia")
    app.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)

    assert "Unknown theme 'sepia'" in caplog.text
    assert app.palette().color(Role.Window) == dark_palette().color(Role.Window)


# Dock widget title bar buttons -----------------------------------------------------------------


def icon_contrast(button: QAbstractButton, background: QColor) -> float:
    """Return the highest contrast of a pixel of ``button``'s grabbed picture with
    ``background``: the contrast of its icon's strokes."""
    image = button.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    best = 1.0
    for y in range(image.height()):
        for x in range(image.width()):
            best = max(best, contrast(image.pixelColor(x, y), background))
    return best


def dock_buttons(qtbot: QtBot, app: QApplication) -> tuple[QMainWindow, list[QAbstractButton]]:
    """Show a window with a dock widget like the Notices panel, and return its float and
    close buttons."""
    window = QMainWindow()
    qtbot.addWidget(window)
    dock = QDockWidget("Notices", window)
    dock.setWidget(QLabel("Notices: 1"))
    window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
    window.resize(400, 200)
    window.show()
    app.processEvents()
    buttons = [
        button
        for button in dock.findChildren(QAbstractButton)
        if button.objectName() in ("qt_dockwidget_floatbutton", "qt_dockwidget_closebutton")
    ]
    return window, buttons


@pytest.mark.parametrize("theme_name", [LIGHT, DARK])
def test_dock_buttons_visible(restore_theme: QApplication, qtbot: QtBot, theme_name: str) -> None:
    apply_theme(restore_theme, theme_name)
    _window, buttons = dock_buttons(qtbot, restore_theme)
    background = restore_theme.palette().color(Role.Window)

    assert len(buttons) == 2
    for button in buttons:
        assert button.isVisible(), button.objectName()
        # WCAG 2.1 (success criterion 1.4.11) requires 3:1 for the parts of a control that a
        # person must see.
        assert icon_contrast(button, background) >= 3.0, button.objectName()


def test_dock_buttons_follow_theme(restore_theme: QApplication, qtbot: QtBot) -> None:
    apply_theme(restore_theme, LIGHT)
    _window, buttons = dock_buttons(qtbot, restore_theme)
    apply_theme(restore_theme, DARK)
    restore_theme.processEvents()
    background = restore_theme.palette().color(Role.Window)

    for button in buttons:
        assert icon_contrast(button, background) >= 3.0, button.objectName()


def test_title_bar_icons_drawn(restore_theme: QApplication) -> None:
    apply_theme(restore_theme, DARK)
    style = restore_theme.style()
    text = dark_palette().color(Role.WindowText)

    for shape in (
        QStyle.StandardPixmap.SP_TitleBarNormalButton,
        QStyle.StandardPixmap.SP_DockWidgetCloseButton,
    ):
        image = style.standardIcon(shape).pixmap(10, 10).toImage()
        colors = {
            image.pixelColor(x, y).rgb()
            for y in range(image.height())
            for x in range(image.width())
            if image.pixelColor(x, y).alpha() == 255
        }
        # Solid strokes in the palette's text colour, on a transparent ground.
        assert text.rgb() in colors, shape
        assert image.pixelColor(0, 0).alpha() == 0, shape


# The tour --------------------------------------------------------------------------------------


def check_screenshots(folder: Path, theme_name: str) -> None:
    """Assert that ``folder`` contains the tour's screenshots in ``theme_name``, each a real
    picture of the window in that theme."""
    names = sorted(path.name for path in folder.glob(f"*-{theme_name}.png"))
    assert names == sorted(screenshot_names(theme_name))
    for name in names:
        with Image.open(folder / name) as image:
            image.load()
            width, height = image.size
            colors = image.convert("RGB").getcolors(maxcolors=1_000_000)
            corner = image.convert("RGB").getpixel((width - 2, height // 2))
        assert image.format == "PNG", name
        assert width >= 600, name
        assert height >= 400, name
        # A window with text and widgets, not one flat colour.
        assert colors is None or len(colors) > 20, name
        if name.startswith(("01-", "03-", "04-", "05-", "07-")):
            # The window's background at its right edge follows the theme.
            level = luminance(QColor(*corner))
            assert (level > 0.5) if theme_name == LIGHT else (level < 0.1), (name, corner)


@pytest.mark.asyncio
@pytest.mark.qt_loop
@pytest.mark.timeout(240)
@pytest.mark.parametrize("theme_name", [LIGHT, DARK])
@pytest.mark.usefixtures("restore_logging")
async def test_tour_saves_every_step(
    restore_theme: QApplication,
    tmp_path: Path,
    theme_name: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "screenshots"
    out.mkdir()
    apply_theme(restore_theme, theme_name)

    status = await Tour(out, theme_name, tmp_path / "data", step_timeout=60).run()
    printed = capsys.readouterr()

    assert status == 0, printed.err
    assert "Tour passed" in printed.out
    for step in STEPS:
        assert f"tour: {step.number:02d} {step.name}" in printed.out
    check_screenshots(out, theme_name)
    assert list(out.glob("*-failed.png")) == []


@pytest.mark.asyncio
@pytest.mark.qt_loop
@pytest.mark.timeout(240)
@pytest.mark.usefixtures("restore_logging")
async def test_tour_plan_and_output_folder(
    restore_theme: QApplication, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "screenshots"
    out.mkdir()
    data = tmp_path / "data"
    data.mkdir()
    pictures = tmp_path / "Pictures" / "Cmfy Desk"
    user_settings = Settings(data / "settings.json")
    user_settings.set("output.folder", str(pictures))
    user_settings.save()
    apply_theme(restore_theme, LIGHT)

    # Three workflows, one batch each: the search matches two batches, the click keeps one.
    tour = Tour(out, LIGHT, data, step_timeout=60, plan=TourPlan(3, 1, 50.0))
    status = await tour.run()
    printed = capsys.readouterr()

    assert status == 0, printed.err
    check_screenshots(out, LIGHT)
    assert len(list(pictures.rglob("*.png"))) == 3
    assert not (data / "outputs").exists()


@pytest.mark.asyncio
@pytest.mark.qt_loop
@pytest.mark.timeout(120)
@pytest.mark.usefixtures("restore_logging")
async def test_tour_names_failed_step(
    restore_theme: QApplication, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "screenshots"
    out.mkdir()
    apply_theme(restore_theme, LIGHT)

    # With no time to wait, step 01 passes (the window is shown before its first check) and
    # step 02 fails: the dropped files load on a worker thread before the dialog opens.
    status = await Tour(out, LIGHT, tmp_path / "data", step_timeout=0).run()
    printed = capsys.readouterr()

    assert status == 1
    assert "Tour failed: step 02 (batch-dialog) failed:" in printed.err
    assert "was not reached within 0 s (seen: no batch dialog is open)" in printed.err
    assert (out / "01-window-light.png").is_file()
    assert (out / "02-batch-dialog-light-failed.png").is_file()
    assert not (out / "02-batch-dialog-light.png").exists()


def test_tour_rejects_unknown_theme(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = run_tour(tmp_path / "screenshots", "sepia")

    assert status == 2
    assert "unknown theme 'sepia'" in capsys.readouterr().err
    assert not (tmp_path / "screenshots").exists()


def test_tour_rejects_unwritable_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")

    status = run_tour(blocker / "screenshots", LIGHT)

    assert status == 2
    assert "cannot create the folder" in capsys.readouterr().err


@pytest.mark.timeout(200)
def test_tour_command_from_source(tmp_path: Path) -> None:
    out = tmp_path / "screenshots"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cmfy_desk",
            "--tour",
            str(out),
            "--theme",
            "dark",
            "--data-dir",
            str(tmp_path / "data"),
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        timeout=180,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    check_screenshots(out, DARK)
    # --data-dir keeps the tour's database and images.
    assert len(list((tmp_path / "data" / "outputs").rglob("*.png"))) == 4


def test_docs_script_rejects_used_home(tmp_path: Path) -> None:
    home = tmp_path / "artist"
    home.mkdir()
    (home / "notes.txt").write_text("someone's file", encoding="utf-8")

    result = subprocess.run(
        [
            sys.executable,
            PROJECT / "packaging" / "docs_screenshots.py",
            "--home",
            home,
            "--out",
            tmp_path / "pictures",
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        timeout=60,
    )

    assert result.returncode == 2, result.stdout + result.stderr
    assert "is not an empty folder" in result.stderr
    assert not (tmp_path / "pictures").exists()
    assert [path.name for path in home.iterdir()] == ["notes.txt"]


def test_theme_needs_tour(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--theme", "dark"])

    assert exit_info.value.code == 2
    assert "--theme is used only with --tour DIR" in capsys.readouterr().err


def test_tour_options_hidden() -> None:
    help_text = cli.build_gui_parser().format_help()
    options = cli.build_gui_parser().parse_args(["--tour", "shots", "--theme", "light"])

    assert "--tour" not in help_text
    assert "--theme" not in help_text
    assert options.tour == Path("shots")
    assert options.theme == "light"
