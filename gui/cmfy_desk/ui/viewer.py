"""The image viewer: one output at a time, zoomed and panned, beside how it was made.

The caller gives the output to show. To step through a list of outputs in any model's order,
it also gives two callables. ``neighbour(output_id, step)`` returns the id of the output
``step`` places away (+1 the next, -1 the previous), or None past either end.
``lookup(output_id)`` returns that output's OutputDetails, or None when it is gone.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, Qt, QUrl, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDesktopServices,
    QGuiApplication,
    QKeyEvent,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QAbstractButton,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from cmfy_desk.store import Output
from cmfy_desk.ui.image_canvas import (
    DecodedImage,
    ImageCanvas,
    ImageDecoder,
    ViewActions,
    ZoomState,
    zoom_text,
)
from cmfy_desk.ui.image_details import MetadataPanel, OutputDetails
from cmfy_desk.ui.rerun import RerunAction, rerun_labels

# Neighbours are decoded ahead of time when their decoded size is at most this many bytes
# (16 megapixels at 4 bytes each). An 8K image takes 256 MiB, so larger ones are decoded only
# when shown, and dropped when the viewer steps away.
PREFETCH_MAX_BYTES = 64 * 2**20

NeighbourFunction = Callable[[int, int], int | None]
LookupFunction = Callable[[int], OutputDetails | None]


class ImageViewer(QWidget):
    """A separate, non-modal window that shows one output at a time.

    The image is decoded on ``decoder``'s threads, and the canvas shows "Loading…" until then.
    The wheel, + and - zoom. Ctrl+0 fits and 1 shows 100 %. Dragging and the arrow keys pan a
    zoomed image. PageUp and PageDown step through the caller's list, and so do Left and Right
    while the image is not zoomed. I shows or hides the metadata panel. F11 switches full
    screen, and Esc leaves full screen or closes the window.

    ``rerunRequested(Output, RerunAction)`` requests a new run of the shown output's job, and
    ``outputChanged(Output)`` follows every step to another output.
    """

    rerunRequested = Signal(object, object)
    outputChanged = Signal(object)

    def __init__(
        self,
        details: OutputDetails,
        decoder: ImageDecoder,
        *,
        neighbour: NeighbourFunction | None = None,
        lookup: LookupFunction | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        if (neighbour is None) != (lookup is None):
            raise ValueError("Pass neighbour and lookup together, or neither, to ImageViewer.")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._details = details
        self._decoder = decoder
        self._neighbour = neighbour
        self._lookup = lookup
        # The request of the shown image, while it is being decoded.
        self._request: int | None = None
        # Decoded images by path: the shown one and its neighbours.
        self._decoded: dict[str, DecodedImage] = {}
        # Neighbours being decoded ahead: request id → path.
        self._prefetching: dict[int, str] = {}

        self.zoom_state = ZoomState(self)
        self.canvas = ImageCanvas(self.zoom_state)
        self.metadata = MetadataPanel()
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.canvas)
        self.splitter.addWidget(self.metadata)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 0)
        self.splitter.setCollapsible(0, False)
        self.splitter.setSizes([760, 340])

        self.view_actions = ViewActions(self, lambda: self.canvas)
        self.previous_action = self._add_action(
            self.tr("Previous image"), QKeySequence(Qt.Key.Key_PageUp), lambda: self.step(-1)
        )
        self.previous_action.setToolTip(self.tr("Previous image (Left or PageUp)"))
        self.next_action = self._add_action(
            self.tr("Next image"), QKeySequence(Qt.Key.Key_PageDown), lambda: self.step(1)
        )
        self.next_action.setToolTip(self.tr("Next image (Right or PageDown)"))
        self.metadata_action = self._add_action(
            self.tr("Details"), QKeySequence(Qt.Key.Key_I), self._show_metadata
        )
        self.metadata_action.setCheckable(True)
        self.metadata_action.setChecked(True)
        self.metadata_action.setToolTip(self.tr("Show or hide how the image was made (I)"))

        self.bottom_bar = self._build_bottom_bar()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.bottom_bar)
        self.resize(1100, 760)

        decoder.decoded.connect(self._on_decoded)
        self.zoom_state.changed.connect(self._update_zoom_label)
        self.show_output(details)
        self.canvas.setFocus()

    def _add_action(self, text: str, key: QKeySequence, slot: Callable[[], object]) -> QAction:
        action = QAction(text, self)
        action.setShortcut(key)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_bottom_bar(self) -> QWidget:
        previous_button = QToolButton()
        previous_button.setDefaultAction(self.previous_action)
        previous_button.setArrowType(Qt.ArrowType.LeftArrow)
        next_button = QToolButton()
        next_button.setDefaultAction(self.next_action)
        next_button.setArrowType(Qt.ArrowType.RightArrow)
        self.zoom_label = QLabel()
        self.zoom_label.setMinimumWidth(90)
        fit_button = QToolButton()
        fit_button.setDefaultAction(self.view_actions.fit)
        fit_button.setText(self.tr("Fit"))
        actual_button = QToolButton()
        actual_button.setDefaultAction(self.view_actions.actual_size)
        actual_button.setText(self.tr("100 %"))
        self.status_label = QLabel()

        self.rerun_buttons: dict[RerunAction, QPushButton] = {}
        for action, text in rerun_labels():
            button = QPushButton(text)
            button.clicked.connect(self._rerun_slot(action))
            self.rerun_buttons[action] = button
        copy_path = QPushButton(self.tr("Copy path"))
        copy_path.clicked.connect(
            lambda: QGuiApplication.clipboard().setText(self.output.local_path)
        )
        open_folder = QPushButton(self.tr("Open containing folder"))
        open_folder.clicked.connect(self._open_folder)
        metadata_button = QToolButton()
        metadata_button.setDefaultAction(self.metadata_action)

        bar = QWidget()
        row = QHBoxLayout(bar)
        row.setContentsMargins(0, 0, 0, 0)
        for widget in (previous_button, next_button, self.zoom_label, fit_button, actual_button):
            row.addWidget(widget)
        row.addWidget(self.status_label, 1)
        for button in self.rerun_buttons.values():
            row.addWidget(button)
        row.addSpacing(12)
        row.addWidget(copy_path)
        row.addWidget(open_folder)
        row.addWidget(metadata_button)
        # The canvas keeps the keyboard focus, so that the arrow keys pan and step.
        for bar_button in bar.findChildren(QAbstractButton):
            bar_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        return bar

    # The shown output -------------------------------------------------------------------------

    @property
    def details(self) -> OutputDetails:
        return self._details

    @property
    def output(self) -> Output:
        return self._details.output

    def show_output(self, details: OutputDetails) -> None:
        """Show ``details``: its image (decoded ahead when it was a neighbour) and metadata.
        The zoom stays as it was, so that a detail can be compared across a batch."""
        if self._request is not None:
            self._decoder.cancel(self._request)
            self._request = None
        self._details = details
        path = details.output.local_path
        # X11 appends " — <application display name>" to a title that does not end with it.
        self.setWindowTitle(self.tr("{name} — Cmfy Desk").format(name=Path(path).name))
        self.metadata.show_details(details)
        for button in self.rerun_buttons.values():
            button.setEnabled(details.job is not None)
        self.status_label.clear()

        # Images too large to decode ahead are kept only while shown, so that two of them are
        # never in memory at once.
        for cached_path, cached in list(self._decoded.items()):
            if cached_path != path and cached.levels[0].sizeInBytes() > PREFETCH_MAX_BYTES:
                del self._decoded[cached_path]
        decoded = self._decoded.get(path)
        if decoded is not None:
            self.canvas.set_image(decoded)
            self._prefetch_neighbours()
        else:
            self.canvas.set_loading()
            prefetched = [
                request_id
                for request_id, prefetch_path in self._prefetching.items()
                if prefetch_path == path
            ]
            if prefetched:
                # Decoding ahead has started, so the viewer waits for that request.
                self._request = prefetched[0]
                del self._prefetching[self._request]
            else:
                self._request = self._decoder.request(path)
        self._update_navigation()
        self._update_zoom_label()
        self.outputChanged.emit(details.output)

    def step(self, delta: int) -> bool:
        """Show the output ``delta`` places away in the caller's list; return whether there
        was one. At either end the output stays and the status line shows a message."""
        if self._neighbour is None or self._lookup is None:
            return False
        target = self._neighbour(self.output.id, delta)
        if target is None:
            self.status_label.setText(
                self.tr("This is the last image.")
                if delta > 0
                else self.tr("This is the first image.")
            )
            return False
        details = self._lookup(target)
        if details is None:
            self.status_label.setText(
                self.tr("Output {id} is no longer in the library.").format(id=target)
            )
            return False
        self.show_output(details)
        return True

    def _update_navigation(self) -> None:
        enabled = self._neighbour is not None
        self.previous_action.setEnabled(enabled)
        self.next_action.setEnabled(enabled)

    def _update_zoom_label(self) -> None:
        self.zoom_label.setText(zoom_text(self.canvas) if self.canvas.has_image() else "")

    # Decoding ---------------------------------------------------------------------------------

    def _on_decoded(self, request_id: int, decoded: DecodedImage) -> None:
        if request_id == self._request:
            self._request = None
            if not decoded.error:
                self._decoded[decoded.path] = decoded
            self.canvas.set_image(decoded)
            self._update_zoom_label()
            self._prefetch_neighbours()
        elif request_id in self._prefetching:
            path = self._prefetching.pop(request_id)
            if not decoded.error:
                self._decoded[path] = decoded

    def _prefetch_neighbours(self) -> None:
        """Decode the previous and next outputs ahead, and drop other decoded images."""
        kept_paths = {self.output.local_path}
        if self._neighbour is not None and self._lookup is not None:
            for delta in (1, -1):
                target = self._neighbour(self.output.id, delta)
                details = self._lookup(target) if target is not None else None
                if details is not None and _prefetch_allowed(details.output):
                    kept_paths.add(details.output.local_path)
        for path in list(self._decoded):
            if path not in kept_paths:
                del self._decoded[path]
        for request_id, path in list(self._prefetching.items()):
            if path not in kept_paths:
                self._decoder.cancel(request_id)
                del self._prefetching[request_id]
        pending = set(self._prefetching.values()) | set(self._decoded)
        for path in sorted(kept_paths - pending):
            if path != self.output.local_path:
                self._prefetching[self._decoder.request(path)] = path

    # Actions ----------------------------------------------------------------------------------

    def _rerun_slot(self, action: RerunAction) -> Callable[[], None]:
        return lambda: self.rerunRequested.emit(self.output, action)

    def _open_folder(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(self.output.local_path).parent)))

    def _show_metadata(self) -> None:
        self.metadata.setVisible(self.metadata_action.isChecked())

    # Events -----------------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Left and Right reach the window when the canvas cannot pan with them.
        if event.key() == Qt.Key.Key_Left:
            self.step(-1)
        elif event.key() == Qt.Key.Key_Right:
            self.step(1)
        else:
            super().keyPressEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.WindowStateChange:
            self.bottom_bar.setVisible(not self.isFullScreen())

    def closeEvent(self, event: QCloseEvent) -> None:
        for request_id in self._prefetching:
            self._decoder.cancel(request_id)
        self._prefetching.clear()
        if self._request is not None:
            self._decoder.cancel(self._request)
            self._request = None
        super().closeEvent(event)


def _prefetch_allowed(output: Output) -> bool:
    if output.width is None or output.height is None:
        return False
    return output.width * output.height * 4 <= PREFETCH_MAX_BYTES
