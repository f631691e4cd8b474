"""One image shown zoomed and panned: decoding off the UI thread, the zoom that one or more
canvases share, the canvas itself, and the keys of the windows that show canvases.

The viewer (ui/viewer.py) shows one canvas, the compare window (ui/compare.py) two or four
that share one ZoomState.
"""

from __future__ import annotations

import itertools
import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import (
    QCoreApplication,
    QObject,
    QPointF,
    QRectF,
    QRunnable,
    QSize,
    Qt,
    QThreadPool,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QBrush,
    QColor,
    QImage,
    QImageReader,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPixmap,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

log = logging.getLogger(__name__)

# Threads that decode images for viewers and compare windows. They are apart from the
# gallery's thumbnail threads, so a viewer's request does not queue behind a page of thumbnails.
DECODE_THREADS = 2
# The maximum memory of one decoded image in MiB (4 bytes a pixel): about 16,000 × 16,000
# pixels. Qt 6 rejects images above 256 MiB by default, which an 8K upscale exceeds.
MAX_DECODE_MIB = 1024
# Halved copies of an image are kept down to this longest side in pixels, so that a zoomed-out
# image is drawn from a copy at most twice its shown size, which smooth scaling renders well.
SMALLEST_LEVEL = 512

# One zoom step (a wheel notch, + or -) multiplies the scale by this.
ZOOM_STEP = 1.25
# Scales in screen pixels per image pixel.
MIN_SCALE = 0.02
MAX_SCALE = 32.0
# From this scale up, pixels are drawn as sharp squares, so a person can inspect them.
SHARP_PIXELS_FROM = 2.0
# An arrow key pans by this fraction of the canvas's width or height.
PAN_STEP = 0.1
# A wheel notch reports an angle of 120 (eighths of a degree).
WHEEL_NOTCH = 120
# Edge length in pixels of the squares drawn behind transparent images.
CHECKER_SIZE = 8


# Decoding -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DecodedImage:
    """An image file decoded for display, or the reason it could not be.

    ``levels`` contains the image at full size (after EXIF orientation) first, then copies that
    halve it each time. ``error`` is a sentence for the person, empty when decoding succeeded.
    """

    path: str
    levels: tuple[QImage, ...] = ()
    error: str = ""

    @property
    def size(self) -> QSize:
        """The image's size in pixels as shown (EXIF orientation applied)."""
        return self.levels[0].size() if self.levels else QSize()

    @property
    def byte_count(self) -> int:
        return sum(level.sizeInBytes() for level in self.levels)


def decode_image(path: str) -> DecodedImage:
    """Decode ``path`` at full size with its EXIF orientation applied, and make the halved
    copies. Blocking: the viewer calls it on ImageDecoder's threads."""
    name = Path(path).name
    reader = QImageReader(path)
    reader.setAutoTransform(True)
    stored = reader.size()
    if not stored.isValid():
        return DecodedImage(path, error=_unreadable(name, reader.errorString()))

    needed_mib = math.ceil(stored.width() * stored.height() * 4 / 2**20)
    if needed_mib > MAX_DECODE_MIB:
        return DecodedImage(
            path,
            error=QCoreApplication.translate(
                "ImageCanvas",
                "{name} is too large to show: {width} × {height} pixels take {needed} MiB, "
                "more than the {limit} MiB the viewer allows. Open it in an image editor.",
            ).format(
                name=name,
                width=stored.width(),
                height=stored.height(),
                needed=needed_mib,
                limit=MAX_DECODE_MIB,
            ),
        )

    image = reader.read()
    if image.isNull():
        return DecodedImage(path, error=_unreadable(name, reader.errorString()))

    # The two formats Qt's painter draws fastest.
    if image.hasAlphaChannel():
        image = image.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
    else:
        image = image.convertToFormat(QImage.Format.Format_RGB32)

    levels = [image]
    while max(levels[-1].width(), levels[-1].height()) > 2 * SMALLEST_LEVEL:
        previous = levels[-1]
        levels.append(
            previous.scaled(
                max(1, previous.width() // 2),
                max(1, previous.height() // 2),
                Qt.AspectRatioMode.IgnoreAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        )
    return DecodedImage(path, tuple(levels))


def _unreadable(name: str, reason: str) -> str:
    return QCoreApplication.translate(
        "ImageCanvas",
        "Cannot show {name}: {reason}. The file may have been moved, deleted or damaged.",
    ).format(name=name, reason=reason)


class _DecodeSignals(QObject):
    # Lives on the UI thread, so a worker's emit is queued to the UI thread.
    decoded = Signal(int, object)


class _DecodeTask(QRunnable):
    def __init__(
        self,
        request_id: int,
        path: str,
        is_pending: Callable[[int], bool],
        signals: _DecodeSignals,
    ) -> None:
        super().__init__()
        self._request_id = request_id
        self._path = path
        self._is_pending = is_pending
        self._signals = signals

    def run(self) -> None:
        if not self._is_pending(self._request_id):
            return
        self._signals.decoded.emit(self._request_id, decode_image(self._path))


class ImageDecoder(QObject):
    """Decodes image files for display on a private pool of DECODE_THREADS threads.

    ``request(path)`` returns a request id, and ``decoded(request_id, DecodedImage)`` follows
    on the UI thread unless ``cancel(request_id)`` came first. Call ``shutdown()`` before the
    decoder is deleted: it drops queued requests and waits for the running decodes (one image
    per thread).

    Creating a decoder raises Qt's process-wide image allocation limit to MAX_DECODE_MIB, so
    that every image reader of the process accepts images up to that size.
    """

    decoded = Signal(int, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        if 0 < QImageReader.allocationLimit() < MAX_DECODE_MIB:
            QImageReader.setAllocationLimit(MAX_DECODE_MIB)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(DECODE_THREADS)
        self._signals = _DecodeSignals(self)
        self._signals.decoded.connect(self._on_decoded)
        self._ids = itertools.count(1)
        # Request ids not yet delivered or cancelled; the worker threads read it.
        self._pending: set[int] = set()
        self._lock = threading.Lock()
        self._closed = False

    def request(self, path: str) -> int:
        request_id = next(self._ids)
        if self._closed:
            return request_id
        with self._lock:
            self._pending.add(request_id)
        self._pool.start(_DecodeTask(request_id, path, self._is_pending, self._signals))
        return request_id

    def cancel(self, request_id: int) -> None:
        """Drop a request: a queued one is never decoded, a running one never delivered."""
        with self._lock:
            self._pending.discard(request_id)

    def shutdown(self) -> None:
        self._closed = True
        with self._lock:
            self._pending.clear()
        self._pool.clear()
        self._pool.waitForDone()

    def _is_pending(self, request_id: int) -> bool:
        with self._lock:
            return request_id in self._pending

    def _on_decoded(self, request_id: int, result: DecodedImage) -> None:
        with self._lock:
            if request_id not in self._pending:
                return
            self._pending.discard(request_id)
        if result.error:
            log.warning("Decoding %s failed: %s", result.path, result.error)
        self.decoded.emit(request_id, result)


# Zoom -----------------------------------------------------------------------------------------


class ZoomState(QObject):
    """The zoom of one or more canvases: each image fitted to its canvas, or all at one
    ``scale`` with the image point ``centre`` in the middle of each canvas. Canvases that share
    a state zoom and pan together.

    ``scale`` is screen pixels per image pixel (1.0 is 100 %). ``centre`` is ``(x, y)`` as
    fractions of the image's width and height, so that images of different sizes stay aligned.
    ``changed()`` follows every change.
    """

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._fit = True
        self._scale = 1.0
        self._centre = (0.5, 0.5)

    @property
    def fit(self) -> bool:
        return self._fit

    @property
    def scale(self) -> float:
        """The shared scale; canvases ignore it while ``fit`` is set."""
        return self._scale

    @property
    def centre(self) -> tuple[float, float]:
        return self._centre

    def fit_to_canvas(self) -> None:
        if not self._fit:
            self._fit = True
            self._centre = (0.5, 0.5)
            self.changed.emit()

    def set_view(self, scale: float, centre: tuple[float, float]) -> None:
        """Show images at ``scale`` (kept between MIN_SCALE and MAX_SCALE) around ``centre``."""
        scale = min(MAX_SCALE, max(MIN_SCALE, scale))
        centre = (min(1.0, max(0.0, centre[0])), min(1.0, max(0.0, centre[1])))
        if self._fit or scale != self._scale or centre != self._centre:
            self._fit = False
            self._scale = scale
            self._centre = centre
            self.changed.emit()


def zoom_text(canvas: ImageCanvas) -> str:
    """Return the zoom of ``canvas`` as a person reads it: "Fit (37 %)" or "150 %"."""
    percent = round(canvas.shown_scale() * 100)
    if canvas.state.fit:
        return QCoreApplication.translate("ImageCanvas", "Fit ({percent} %)").format(
            percent=percent
        )
    return QCoreApplication.translate("ImageCanvas", "{percent} %").format(percent=percent)


# The canvas -----------------------------------------------------------------------------------


class ImageCanvas(QWidget):
    """One image drawn at the zoom of a ZoomState: the wheel zooms around the pointer, dragging
    and the arrow keys pan, and a double-click switches between fit and 100 %.

    Arrow keys that cannot pan, because the whole image is in view, are passed on to the
    parent widget, where the viewer uses them to step through images. Until ``set_image()``
    the canvas shows "Loading…".
    """

    def __init__(self, state: ZoomState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self._image: DecodedImage | None = None
        self._message = self.tr("Loading…")
        self._drag_from: QPointF | None = None
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 120)
        self._checker = _checker_brush()
        state.changed.connect(self._on_state_changed)

    # Content ----------------------------------------------------------------------------------

    def set_loading(self) -> None:
        self._image = None
        self._message = self.tr("Loading…")
        self._on_state_changed()

    def set_image(self, decoded: DecodedImage) -> None:
        """Show ``decoded``, or its error message when it failed."""
        if decoded.error or not decoded.levels:
            self._image = None
            self._message = decoded.error
        else:
            self._image = decoded
            self._message = ""
        self._on_state_changed()

    def has_image(self) -> bool:
        return self._image is not None

    def message(self) -> str:
        """Return the text shown instead of an image: "Loading…" or why it cannot be shown."""
        return self._message

    def image_size(self) -> QSize:
        return self._image.size if self._image is not None else QSize()

    # Geometry ---------------------------------------------------------------------------------

    def fit_scale(self) -> float:
        """Return the scale at which the whole image fits the canvas, at most 1 (100 %)."""
        size = self.image_size()
        if size.isEmpty() or self.width() <= 0 or self.height() <= 0:
            return 1.0
        ratio = self.devicePixelRatioF()
        return min(1.0, self.width() * ratio / size.width(), self.height() * ratio / size.height())

    def shown_scale(self) -> float:
        """Return the scale the image is drawn at, in screen pixels per image pixel."""
        return self.fit_scale() if self.state.fit else self.state.scale

    def shown_centre(self) -> tuple[float, float]:
        """Return the image point drawn in the middle of the canvas, as fractions."""
        if self.state.fit:
            return (0.5, 0.5)
        return self._clamp_centre(self.state.scale, self.state.centre)

    def image_rect(self) -> QRectF:
        """Return where the image is drawn, in the canvas's coordinates."""
        return self._rect_for(self.shown_scale(), self.shown_centre())

    def can_pan(self) -> bool:
        """Return whether part of the image lies outside the canvas."""
        rect = self.image_rect()
        return rect.width() > self.width() + 0.5 or rect.height() > self.height() + 0.5

    def _rect_for(self, scale: float, centre: tuple[float, float]) -> QRectF:
        size = self.image_size()
        logical = scale / self.devicePixelRatioF()
        width, height = size.width() * logical, size.height() * logical
        left = self.width() / 2 - centre[0] * width
        top = self.height() / 2 - centre[1] * height
        return QRectF(left, top, width, height)

    def _clamp_centre(self, scale: float, centre: tuple[float, float]) -> tuple[float, float]:
        """Keep the image's edges from moving inside the canvas: an image narrower than the
        canvas is centred, a wider one covers the canvas from edge to edge."""
        size = self.image_size()
        if size.isEmpty():
            return (0.5, 0.5)
        logical = scale / self.devicePixelRatioF()
        return (
            _clamp_axis(centre[0], size.width() * logical, self.width()),
            _clamp_axis(centre[1], size.height() * logical, self.height()),
        )

    # Zooming and panning ----------------------------------------------------------------------

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        """Multiply the scale by ``factor``, keeping the image point under ``anchor`` (canvas
        coordinates, the middle by default) where it is."""
        self.zoom_to(self.shown_scale() * factor, anchor)

    def zoom_to(self, scale: float, anchor: QPointF | None = None) -> None:
        if not self.has_image():
            return
        scale = min(MAX_SCALE, max(MIN_SCALE, scale))
        if anchor is None:
            anchor = QPointF(self.width() / 2, self.height() / 2)
        before = self.image_rect()
        # The anchor's image point as fractions, then the centre that puts it back there.
        point_x = (anchor.x() - before.left()) / before.width()
        point_y = (anchor.y() - before.top()) / before.height()
        after = self._rect_for(scale, (0.5, 0.5))
        centre = (
            point_x + (self.width() / 2 - anchor.x()) / after.width(),
            point_y + (self.height() / 2 - anchor.y()) / after.height(),
        )
        self.state.set_view(scale, self._clamp_centre(scale, centre))

    def pan_by(self, dx: float, dy: float) -> None:
        """Move the image by ``(dx, dy)`` canvas pixels, as far as its edges allow."""
        if not self.can_pan():
            return
        scale = self.shown_scale()
        rect = self.image_rect()
        centre = self.shown_centre()
        moved = (centre[0] - dx / rect.width(), centre[1] - dy / rect.height())
        self.state.set_view(scale, self._clamp_centre(scale, moved))

    def fit(self) -> None:
        self.state.fit_to_canvas()

    def actual_size(self, anchor: QPointF | None = None) -> None:
        """Show the image at 100 %: one image pixel on one screen pixel."""
        self.zoom_to(1.0, anchor)

    # Events -----------------------------------------------------------------------------------

    def _on_state_changed(self) -> None:
        self._update_cursor()
        self.update()

    def _update_cursor(self) -> None:
        if self._drag_from is not None:
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        elif self.can_pan():
            self.setCursor(Qt.CursorShape.OpenHandCursor)
        else:
            self.unsetCursor()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._update_cursor()

    def wheelEvent(self, event: QWheelEvent) -> None:
        notches = event.angleDelta().y() / WHEEL_NOTCH
        if notches == 0 or not self.has_image():
            event.ignore()
            return
        self.zoom_by(ZOOM_STEP**notches, event.position())
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.can_pan():
            self._drag_from = event.position()
            self._update_cursor()
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag_from is None:
            super().mouseMoveEvent(event)
            return
        delta = event.position() - self._drag_from
        self._drag_from = event.position()
        self.pan_by(delta.x(), delta.y())
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._drag_from is not None:
            self._drag_from = None
            self._update_cursor()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton or not self.has_image():
            super().mouseDoubleClickEvent(event)
            return
        if self.state.fit:
            self.actual_size(event.position())
        else:
            self.fit()
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        steps = {
            Qt.Key.Key_Left: (1, 0),
            Qt.Key.Key_Right: (-1, 0),
            Qt.Key.Key_Up: (0, 1),
            Qt.Key.Key_Down: (0, -1),
        }
        direction = steps.get(Qt.Key(event.key()))
        if direction is None or not self.can_pan():
            # QWidget ignores the event, so it goes on to the parent.
            super().keyPressEvent(event)
            return
        # Right shows more of the right side, so the image moves left.
        self.pan_by(direction[0] * self.width() * PAN_STEP, direction[1] * self.height() * PAN_STEP)
        event.accept()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), _background(self))

        if self._image is None:
            painter.setPen(self.palette().placeholderText().color())
            painter.drawText(
                self.rect().adjusted(12, 12, -12, -12),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                self._message,
            )
            painter.end()
            return

        target = self.image_rect()
        visible = target.intersected(QRectF(self.rect()))
        if visible.isEmpty():
            painter.end()
            return

        # Only the visible part is drawn, from the smallest copy that keeps its detail.
        scale = self.shown_scale()
        level = _level_for(self._image, scale)
        ratio = level.width() / target.width()
        source = QRectF(
            (visible.left() - target.left()) * ratio,
            (visible.top() - target.top()) * ratio,
            visible.width() * ratio,
            visible.height() * ratio,
        )
        if level.hasAlphaChannel():
            painter.fillRect(visible, self._checker)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, scale < SHARP_PIXELS_FROM)
        painter.drawImage(visible, level, source)
        painter.end()


def _clamp_axis(centre: float, extent: float, available: float) -> float:
    if extent <= available:
        return 0.5
    margin = available / 2 / extent
    return min(1.0 - margin, max(margin, centre))


def _level_for(image: DecodedImage, scale: float) -> QImage:
    """Return the smallest copy that is at least as large as the image drawn at ``scale``."""
    full_width = image.levels[0].width()
    chosen = image.levels[0]
    for level in image.levels[1:]:
        if level.width() < full_width * scale:
            break
        chosen = level
    return chosen


def _background(widget: QWidget) -> QColor:
    # A shade of the window colour: dark in the dark theme, light grey in the light one.
    return widget.palette().window().color().darker(115)


def _checker_brush() -> QBrush:
    tile = QPixmap(CHECKER_SIZE * 2, CHECKER_SIZE * 2)
    tile.fill(QColor("#cccccc"))
    painter = QPainter(tile)
    for x, y in ((0, 0), (CHECKER_SIZE, CHECKER_SIZE)):
        painter.fillRect(x, y, CHECKER_SIZE, CHECKER_SIZE, QColor("#ffffff"))
    painter.end()
    return QBrush(tile)


# Keys -----------------------------------------------------------------------------------------


class ViewActions(QObject):
    """The keys of a window that shows canvases, as actions added to ``window``.

    Zoom in (+, =, Ctrl++), zoom out (-, Ctrl+-), fit (Ctrl+0) and 100 % (1) act on the canvas
    that ``canvas()`` returns; with a shared ZoomState every canvas follows. F11 switches full
    screen on and off. Esc leaves full screen, or closes the window when it is not full
    screen, and so do the platform's Close keys (Ctrl+W, Ctrl+F4 or Cmd+W).
    """

    def __init__(self, window: QWidget, canvas: Callable[[], ImageCanvas]) -> None:
        super().__init__(window)
        self._window = window
        self._canvas = canvas
        keys = QKeySequence.StandardKey

        self.zoom_in = self._add(
            self.tr("Zoom in"),
            [
                QKeySequence(Qt.Key.Key_Plus),
                QKeySequence(Qt.Key.Key_Equal),
                QKeySequence(keys.ZoomIn),
            ],
            lambda: canvas().zoom_by(ZOOM_STEP),
        )
        self.zoom_out = self._add(
            self.tr("Zoom out"),
            [QKeySequence(Qt.Key.Key_Minus), QKeySequence(keys.ZoomOut)],
            lambda: canvas().zoom_by(1 / ZOOM_STEP),
        )
        self.fit = self._add(
            self.tr("Fit to window"), [QKeySequence(self.tr("Ctrl+0"))], lambda: canvas().fit()
        )
        self.actual_size = self._add(
            self.tr("Actual size (100 %)"),
            [QKeySequence(Qt.Key.Key_1)],
            lambda: canvas().actual_size(),
        )

        self.full_screen = self._add(
            self.tr("Full screen"), [QKeySequence(keys.FullScreen)], self.toggle_full_screen
        )
        if QKeySequence(Qt.Key.Key_F11) not in self.full_screen.shortcuts():
            self.full_screen.setShortcuts(
                [*self.full_screen.shortcuts(), QKeySequence(Qt.Key.Key_F11)]
            )
        self.escape = self._add(
            self.tr("Leave full screen or close"),
            [QKeySequence(Qt.Key.Key_Escape)],
            self.leave_full_screen_or_close,
        )
        self.close = self._add(self.tr("Close"), QKeySequence.keyBindings(keys.Close), window.close)

    def _add(self, text: str, shortcuts: list[QKeySequence], slot: Callable[[], object]) -> QAction:
        action = QAction(text, self._window)
        action.setShortcuts([key for key in shortcuts if not key.isEmpty()])
        action.triggered.connect(slot)
        self._window.addAction(action)
        return action

    def toggle_full_screen(self) -> None:
        # Toggling the flag keeps "maximized", so leaving full screen restores it.
        window = self._window
        window.setWindowState(window.windowState() ^ Qt.WindowState.WindowFullScreen)

    def leave_full_screen_or_close(self) -> None:
        if self._window.isFullScreen():
            self.toggle_full_screen()
        else:
            self._window.close()
