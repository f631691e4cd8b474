"""Error text and empty check boxes stay visible in the light and the dark theme."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QCheckBox, QStyle, QStyleOptionButton

from cmfy_desk.ui.theme import (
    ERROR_ON_DARK,
    ERROR_ON_LIGHT,
    ThemeStyle,
    dark_palette,
    error_style,
    light_palette,
)


def _luminance(colour: QColor) -> float:
    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * channel(colour.redF())
        + 0.7152 * channel(colour.greenF())
        + 0.0722 * channel(colour.blueF())
    )


def _contrast(one: QColor, other: QColor) -> float:
    high, low = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_error_colour_follows_the_palette(qapp: QApplication) -> None:
    previous = qapp.palette()
    try:
        for palette, expected in (
            (light_palette(), ERROR_ON_LIGHT),
            (dark_palette(), ERROR_ON_DARK),
        ):
            qapp.setPalette(palette)
            window = palette.color(QPalette.ColorRole.Window)
            assert error_style() == f"color: {expected}"
            assert _contrast(QColor(expected), window) >= 4.5
    finally:
        qapp.setPalette(previous)


def _indicator_contrast(palette: QPalette) -> float:
    """Render an empty check box and return the contrast of its outline with the window."""
    style = ThemeStyle()
    box = QCheckBox("Favourites only")
    box.setStyle(style)
    box.setPalette(palette)
    box.resize(box.sizeHint())
    image = box.grab().toImage()
    option = QStyleOptionButton()
    box.initStyleOption(option)
    rect = style.subElementRect(QStyle.SubElement.SE_CheckBoxIndicator, option, box)
    window = palette.color(QPalette.ColorRole.Window)
    # The outline is the ring of pixels along the indicator's edge.
    ring = [QColor(image.pixel(rect.left(), y)) for y in range(rect.top() + 2, rect.bottom() - 1)]
    return max(_contrast(colour, window) for colour in ring)


def test_empty_check_box_visible_in_dark_theme(qapp: QApplication) -> None:
    assert _indicator_contrast(dark_palette()) >= 3.0


def test_check_box_outline_kept_in_light_theme(qapp: QApplication) -> None:
    assert _indicator_contrast(light_palette()) >= 3.0
