"""The image viewer: one output shown large, with how it was made and where it is."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QGuiApplication, QImage, QKeySequence, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from cmfy_desk.store import Job, Output
from cmfy_desk.ui.gallery import ImageLoader, open_containing_folder
from cmfy_desk.ui.rerun import RerunAction, rerun_labels


class ImageViewer(QWidget):
    """A separate, non-modal window for one output. The image is decoded on the loader's
    threads, and the window shows "Loading…" until it is ready. Esc and the platform's Close
    keys (Ctrl+W, Ctrl+F4 or Cmd+W) close it. ``rerunRequested(Output, RerunAction)`` requests
    a new run of the output's job."""

    rerunRequested = Signal(object, object)

    def __init__(
        self, output: Output, job: Job | None, loader: ImageLoader, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.output = output
        self._pixmap: QPixmap | None = None
        # Ending in the application name keeps X11 from appending it a second time.
        self.setWindowTitle(self.tr("{name} — Cmfy Desk").format(name=Path(output.local_path).name))
        close_action = QAction(self.tr("Close"), self)
        close_action.setShortcuts(
            [
                *QKeySequence.keyBindings(QKeySequence.StandardKey.Close),
                QKeySequence(Qt.Key.Key_Escape),
            ]
        )
        close_action.triggered.connect(self.close)
        self.addAction(close_action)

        self._image_label = QLabel(self.tr("Loading…"))
        self._image_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._scroll = QScrollArea()
        self._scroll.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._scroll.setWidget(self._image_label)
        self._scroll.setWidgetResizable(True)

        self._fit = QCheckBox(self.tr("Fit to window"))
        self._fit.setChecked(True)
        self._fit.toggled.connect(self._show_pixmap)

        details = QFormLayout()
        workflow = f"{job.workflow_name} #{job.position + 1}" if job else self.tr("unknown")
        seed = str(job.seed) if job and job.seed is not None else self.tr("none")
        if output.width and output.height:
            size = self.tr("{w} × {h} px, {kb:.0f} KB").format(
                w=output.width, h=output.height, kb=output.size / 1024
            )
        else:
            size = self.tr("{kb:.0f} KB").format(kb=output.size / 1024)
        for label, value in (
            (self.tr("Workflow:"), workflow),
            (self.tr("Seed:"), seed),
            (self.tr("Size:"), size),
            (self.tr("Path:"), output.local_path),
        ):
            field = QLabel(value)
            field.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            field.setWordWrap(True)
            details.addRow(label, field)

        open_folder = QPushButton(self.tr("Open containing folder"))
        open_folder.clicked.connect(lambda: open_containing_folder(output.local_path))
        copy_path = QPushButton(self.tr("Copy path"))
        copy_path.clicked.connect(lambda: QGuiApplication.clipboard().setText(output.local_path))
        self.rerun_buttons: dict[RerunAction, QPushButton] = {}
        for action, text in rerun_labels():
            button = QPushButton(text)
            button.setEnabled(job is not None)
            button.clicked.connect(self._rerun_slot(action))
            self.rerun_buttons[action] = button
        buttons = QHBoxLayout()
        buttons.addWidget(self._fit)
        buttons.addStretch(1)
        for button in self.rerun_buttons.values():
            buttons.addWidget(button)
        buttons.addSpacing(12)
        buttons.addWidget(copy_path)
        buttons.addWidget(open_folder)

        layout = QVBoxLayout(self)
        layout.addWidget(self._scroll, 1)
        layout.addLayout(details)
        layout.addLayout(buttons)
        self.resize(900, 760)

        loader.loaded.connect(self._on_loaded)
        loader.request(output.local_path, None, self)

    def _rerun_slot(self, action: RerunAction) -> Callable[[], None]:
        return lambda: self.rerunRequested.emit(self.output, action)

    def _on_loaded(self, path: str, key: object, image: QImage) -> None:
        if key is not self:
            return
        if image.isNull():
            self._image_label.setText(
                self.tr("Cannot read {path}. The file may have been moved or deleted.").format(
                    path=path
                )
            )
            return
        self._pixmap = QPixmap.fromImage(image)
        self._show_pixmap()

    def _show_pixmap(self) -> None:
        if self._pixmap is None:
            return
        fit = self._fit.isChecked()
        self._scroll.setWidgetResizable(fit)
        if fit:
            available = self._scroll.viewport().size()
            self._image_label.setPixmap(
                self._pixmap.scaled(
                    available,
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
                if self._pixmap.width() > available.width()
                or self._pixmap.height() > available.height()
                else self._pixmap
            )
        else:
            self._image_label.setPixmap(self._pixmap)
            self._image_label.adjustSize()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._fit.isChecked():
            self._show_pixmap()
