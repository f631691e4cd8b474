"""The Models column of the job table: a short label for a job's set of model files, the
full list, and a colour that is the same for every job with the same set."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap


def model_file_name(url: str) -> str:
    """Return the file name at the end of a model URL, or the URL when its path has none."""
    path = urlsplit(url).path.rstrip("/")
    name = unquote(path.rsplit("/", 1)[-1]) if path else ""
    return name or url


class ModelSet:
    """The Models cell of one set of model URLs: a label, the URLs for the tooltip, and a
    coloured icon (None for no models)."""

    def __init__(self, key: str, urls: list[str]) -> None:
        self.urls = urls
        if not urls:
            self.label = ""
        elif len(urls) == 1:
            self.label = model_file_name(urls[0])
        else:
            self.label = f"{model_file_name(urls[0])} +{len(urls) - 1}"
        self.icon = _model_icon(key) if urls else None


def model_color(key: str) -> QColor:
    """Return the colour that marks one set of models, the same for the same key."""
    try:
        number = int(key[:8], 16)
    except ValueError:
        number = sum(key.encode("utf-8"))
    return QColor.fromHsv(number % 360, 150, 215)


def _model_icon(key: str, size: int = 12) -> QIcon:
    color = model_color(key)
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(color.darker(140))
    painter.setBrush(color)
    painter.drawRoundedRect(1, 1, size - 2, size - 2, 2, 2)
    painter.end()
    return QIcon(pixmap)
