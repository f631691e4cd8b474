"""Light and dark colour themes on Qt's Fusion style, chosen by the "appearance.theme" setting.

"system" follows the operating system's colour scheme (``QStyleHints.colorScheme()``, Qt 6.5
and later) and switches palettes when it changes. "light" and "dark" fix the palette. Fusion is
used on every system because it draws with the palette alone, so both themes look the same
everywhere (the native Windows and macOS styles ignore parts of a custom palette). Fusion's
float and close icons of dock widget title bars are fixed dark pixmaps, nearly invisible on
the dark palette, so ThemeStyle draws those two in the palette's text colour.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QIconEngine, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle, QStyleOption, QWidget

from cmfy_desk.settings import Settings

log = logging.getLogger(__name__)

THEME_SETTING = "appearance.theme"
SYSTEM = "system"
LIGHT = "light"
DARK = "dark"
THEMES = (SYSTEM, LIGHT, DARK)
FUSION_STYLE = "Fusion"

_Role = QPalette.ColorRole
# The outline of check boxes and radio buttons: the text colour at this opacity (0-255).
INDICATOR_OUTLINE_ALPHA = 150
_Group = QPalette.ColorGroup

# Colours per role. Text, window text and button text have a contrast ratio of at least 7:1
# with their backgrounds (WCAG's AAA level), selected text, links and placeholder text at least
# 4.5:1 (AA), and disabled text at least 3:1. tests/test_tour.py checks these ratios.
_LIGHT_COLORS: dict[QPalette.ColorRole, str] = {
    _Role.Window: "#efefef",
    _Role.WindowText: "#1b1b1b",
    _Role.Base: "#ffffff",
    _Role.AlternateBase: "#f4f4f4",
    _Role.ToolTipBase: "#ffffdc",
    _Role.ToolTipText: "#1b1b1b",
    _Role.PlaceholderText: "#6b6b6b",
    _Role.Text: "#1b1b1b",
    _Role.Button: "#e8e8e8",
    _Role.ButtonText: "#1b1b1b",
    _Role.BrightText: "#ffffff",
    _Role.Light: "#ffffff",
    _Role.Midlight: "#d8d8d8",
    _Role.Mid: "#b8b8b8",
    _Role.Dark: "#9f9f9f",
    _Role.Shadow: "#767676",
    _Role.Highlight: "#1f6fb8",
    _Role.HighlightedText: "#ffffff",
    _Role.Link: "#1558a8",
    _Role.LinkVisited: "#6a3d9a",
    _Role.Accent: "#1f6fb8",
}
_LIGHT_DISABLED: dict[QPalette.ColorRole, str] = {
    _Role.WindowText: "#7a7a7a",
    _Role.Text: "#7a7a7a",
    _Role.ButtonText: "#7a7a7a",
    _Role.Base: "#f4f4f4",
    _Role.Highlight: "#a8a8a8",
}
_DARK_COLORS: dict[QPalette.ColorRole, str] = {
    _Role.Window: "#2b2b2b",
    _Role.WindowText: "#e8e8e8",
    _Role.Base: "#1f1f1f",
    _Role.AlternateBase: "#262626",
    _Role.ToolTipBase: "#3b3b3b",
    _Role.ToolTipText: "#e8e8e8",
    _Role.PlaceholderText: "#9a9a9a",
    _Role.Text: "#e8e8e8",
    _Role.Button: "#363636",
    _Role.ButtonText: "#e8e8e8",
    _Role.BrightText: "#ffffff",
    _Role.Light: "#4a4a4a",
    _Role.Midlight: "#3e3e3e",
    _Role.Mid: "#2f2f2f",
    _Role.Dark: "#1a1a1a",
    _Role.Shadow: "#0a0a0a",
    _Role.Highlight: "#2f74c0",
    _Role.HighlightedText: "#ffffff",
    _Role.Link: "#7ab8ff",
    _Role.LinkVisited: "#c69cf5",
    _Role.Accent: "#2f74c0",
}
_DARK_DISABLED: dict[QPalette.ColorRole, str] = {
    _Role.WindowText: "#8c8c8c",
    _Role.Text: "#8c8c8c",
    _Role.ButtonText: "#8c8c8c",
    _Role.Base: "#262626",
    _Role.Button: "#303030",
    _Role.Highlight: "#4a4a4a",
}


def light_palette() -> QPalette:
    """Return the light theme's palette."""
    return _palette(_LIGHT_COLORS, _LIGHT_DISABLED)


def dark_palette() -> QPalette:
    """Return the dark theme's palette."""
    return _palette(_DARK_COLORS, _DARK_DISABLED)


def _palette(
    colors: dict[QPalette.ColorRole, str], disabled: dict[QPalette.ColorRole, str]
) -> QPalette:
    palette = QPalette()
    for role, color in colors.items():
        palette.setColor(role, QColor(color))
    for role, color in disabled.items():
        palette.setColor(_Group.Disabled, role, QColor(color))
    return palette


def theme_choice(settings: Settings) -> str:
    """Return the "appearance.theme" setting: system, light or dark, "system" by default.

    The default also applies when this version's settings table does not declare the key, or
    when the value is not one of the three.
    """
    try:
        value = settings.get(THEME_SETTING)
    except KeyError:
        return SYSTEM
    if value not in THEMES:
        log.warning("Setting %s is %r, not one of %s; using system", THEME_SETTING, value, THEMES)
        return SYSTEM
    return str(value)


def resolve_theme(choice: str, scheme: Qt.ColorScheme) -> str:
    """Return the palette, light or dark, that ``choice`` selects under the system's ``scheme``.

    "system" is dark only when the system reports a dark scheme; an unknown scheme (older
    systems, Qt's offscreen platform) gives light.
    """
    if choice == SYSTEM:
        return DARK if scheme == Qt.ColorScheme.Dark else LIGHT
    return DARK if choice == DARK else LIGHT


def apply_theme(app: QApplication, choice: str) -> None:
    """Set Fusion and the palette that ``choice`` (system, light or dark) selects on ``app``.

    With "system", the palette follows the system's colour scheme from now on; a later call
    with "light" or "dark" stops that. An unknown ``choice`` is logged and treated as
    "system". Call it again when the setting changes.
    """
    if choice not in THEMES:
        log.warning("Unknown theme %r, expected one of %s; using system", choice, THEMES)
        choice = SYSTEM
    follower = app.findChild(_ThemeFollower, _ThemeFollower.OBJECT_NAME)
    if follower is None:
        follower = _ThemeFollower(app)
    follower.follow(choice)


def current_theme(app: QApplication) -> str | None:
    """Return the palette, light or dark, that ``apply_theme`` last set on ``app``, or None."""
    follower = app.findChild(_ThemeFollower, _ThemeFollower.OBJECT_NAME)
    return follower.applied if follower is not None else None


class _ThemeFollower(QObject):
    """Owns the theme of one application: one per QApplication, found by its object name, so
    repeated apply_theme() calls never connect the colour scheme signal twice."""

    OBJECT_NAME = "cmfy-desk-theme"

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self.setObjectName(self.OBJECT_NAME)
        self._app = app
        self.choice = SYSTEM
        self.applied: str | None = None
        app.styleHints().colorSchemeChanged.connect(self._on_scheme_changed)

    def follow(self, choice: str) -> None:
        self.choice = choice
        hints = self._app.styleHints()
        # Tell the platform too, so that native parts (title bars on Windows and macOS) match
        # the palette. Platforms that cannot change their scheme ignore the request.
        if choice == SYSTEM:
            hints.unsetColorScheme()
        else:
            hints.setColorScheme(Qt.ColorScheme.Dark if choice == DARK else Qt.ColorScheme.Light)
        self._apply(resolve_theme(choice, hints.colorScheme()))

    def _on_scheme_changed(self, scheme: Qt.ColorScheme) -> None:
        if self.choice == SYSTEM:
            self._apply(resolve_theme(SYSTEM, scheme))

    def _apply(self, theme: str) -> None:
        if not isinstance(self._app.style(), ThemeStyle):
            self._app.setStyle(ThemeStyle())
        palette = dark_palette() if theme == DARK else light_palette()
        self._app.setPalette(palette)
        if theme != self.applied:
            log.info("Theme %s (setting %s)", theme, self.choice)
        self.applied = theme


class ThemeStyle(QProxyStyle):
    """Fusion, with the dock widgets' float and close icons drawn in the palette's text
    colour (TitleBarIconEngine), so that they stay visible on the dark palette. Check boxes
    and radio buttons get an outline in the text colour: Fusion's own differs from the window
    by less than 3:1 in both palettes, and on the dark one an empty box was barely visible."""

    INDICATORS = (
        QStyle.PrimitiveElement.PE_IndicatorCheckBox,
        QStyle.PrimitiveElement.PE_IndicatorRadioButton,
    )

    def __init__(self) -> None:
        super().__init__(FUSION_STYLE)

    def drawPrimitive(
        self,
        element: QStyle.PrimitiveElement,
        option: QStyleOption,
        painter: QPainter,
        widget: QWidget | None = None,
    ) -> None:
        super().drawPrimitive(element, option, painter, widget)
        if element not in self.INDICATORS:
            return
        outline = QColor(option.palette.color(_Role.WindowText))
        outline.setAlpha(INDICATOR_OUTLINE_ALPHA)
        rect = QRectF(option.rect).adjusted(0.5, 0.5, -0.5, -0.5)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(outline, 1.0))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if element is QStyle.PrimitiveElement.PE_IndicatorRadioButton:
            painter.drawEllipse(rect)
        else:
            painter.drawRoundedRect(rect, 2.0, 2.0)
        painter.restore()

    def standardIcon(
        self,
        standardIcon: QStyle.StandardPixmap,
        option: QStyleOption | None = None,
        widget: QWidget | None = None,
    ) -> QIcon:
        if standardIcon in TitleBarIconEngine.SHAPES:
            return QIcon(TitleBarIconEngine(standardIcon))
        return super().standardIcon(standardIcon, option, widget)


class TitleBarIconEngine(QIconEngine):
    """Draws a title bar button's icon, the float button's two windows or the close
    button's cross, in the application palette's window text colour at paint time, so that
    the icon follows a later change of theme."""

    SHAPES = (
        QStyle.StandardPixmap.SP_TitleBarNormalButton,
        QStyle.StandardPixmap.SP_DockWidgetCloseButton,
        QStyle.StandardPixmap.SP_TitleBarCloseButton,
    )

    def __init__(self, shape: QStyle.StandardPixmap) -> None:
        super().__init__()
        self.shape = shape

    def clone(self) -> QIconEngine:
        return TitleBarIconEngine(self.shape)

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        pixmap = QPixmap(size)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        try:
            self.paint(painter, QRect(0, 0, size.width(), size.height()), mode, state)
        finally:
            painter.end()
        return pixmap

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        palette = QApplication.palette()
        group = _Group.Disabled if mode is QIcon.Mode.Disabled else _Group.Active
        color = palette.color(group, _Role.WindowText)
        # The shapes sit on a grid of 10 x 10 units. Fusion requests the dock title bar icons
        # at 10 x 10 pixels (measured with PySide6 6.11), so a unit is one pixel there. Lines
        # are one unit wide and centred on half units, so that they cover whole pixels.
        side = min(rect.width(), rect.height())
        unit = side / 10
        left = rect.x() + (rect.width() - side) / 2
        top = rect.y() + (rect.height() - side) / 2

        def square(x: float, y: float, size: float) -> QRectF:
            return QRectF(left + x * unit, top + y * unit, size * unit, size * unit)

        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if self.shape is QStyle.StandardPixmap.SP_TitleBarNormalButton:
            # Two windows with a title bar each: the back one up and right, the front one
            # down and left, covering the back one's corner.
            pen = QPen(color, unit)
            pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
            painter.setPen(pen)
            back, front = square(3.5, 1.5, 5), square(1.5, 3.5, 5)
            self._draw_window(painter, back, color, unit)
            painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Clear)
            painter.fillRect(front.adjusted(-unit / 2, -unit / 2, unit / 2, unit / 2), color)
            painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceOver)
            self._draw_window(painter, front, color, unit)
        else:
            pen = QPen(color, 1.5 * unit)
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            painter.setPen(pen)
            cross = square(2, 2, 6)
            painter.drawLine(cross.topLeft(), cross.bottomRight())
            painter.drawLine(cross.topRight(), cross.bottomLeft())
        painter.restore()

    @staticmethod
    def _draw_window(painter: QPainter, frame: QRectF, color: QColor, unit: float) -> None:
        painter.drawRect(frame)
        # The title bar: the top edge one unit thicker.
        painter.fillRect(
            QRectF(frame.left() - unit / 2, frame.top() - unit / 2, frame.width() + unit, 2 * unit),
            color,
        )


# Error text colours with a contrast of at least 4.5:1 on the light and the dark window colour.
ERROR_ON_LIGHT = "#c62828"
ERROR_ON_DARK = "#ff8a80"


def error_style() -> str:
    """Return a style sheet for error text that stays readable in the current palette."""
    app = QApplication.instance()
    window = app.palette().window().color() if isinstance(app, QApplication) else None
    dark = window is not None and window.lightness() < 128
    return f"color: {ERROR_ON_DARK if dark else ERROR_ON_LIGHT}"
