"""A screenshot tour of the real window: ``cmfy-desk --tour DIR --theme light|dark``.

The tour opens the window in demo mode over the built-in sandbox, with its data in a temporary
folder. Then it does what a person trying the app does. It drops two sample workflows on the
window, queues the batch dialog's batches and waits for the jobs to finish. Then it enlarges
the gallery, opens the first image in the viewer with its metadata panel, and last searches
the gallery with a typed query and a clicked batch filter. After each step it saves a
screenshot of the window that step shows as ``DIR/NN-STEP-THEME.png``. A step whose expected
state is not reached within the timeout ends the tour with exit status 1 and a message naming
the step, and its screenshot is saved as ``NN-STEP-THEME-failed.png``.

packaging/screenshots.sh runs it from the built program under Xvfb in both themes, and
packaging/docs_screenshots.py runs a larger plan of it for the README's pictures.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import qasync
from PySide6.QtCore import (
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QMimeData,
    QPointF,
    Qt,
    QUrl,
)
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QKeyEvent, QMouseEvent
from PySide6.QtWidgets import QApplication, QListWidget, QWidget

from cmfy_desk import APP_NAME, __version__
from cmfy_desk.app import Engine, scheduler_options
from cmfy_desk.keystore import ApiKeyStore
from cmfy_desk.logs import setup_logging
from cmfy_desk.outputs.query import parse_query
from cmfy_desk.paths import bundled_workflows, resolve_paths
from cmfy_desk.settings import Settings
from cmfy_desk.store import ImageRecord, JobStatus
from cmfy_desk.ui.compare import CompareWindow
from cmfy_desk.ui.connection import connection_from_settings, output_root_from_settings
from cmfy_desk.ui.gallery_search import image_count_text
from cmfy_desk.ui.main import app_icon
from cmfy_desk.ui.main_window import MainWindow
from cmfy_desk.ui.metrics_dialog import MetricsDialog
from cmfy_desk.ui.theme import DARK, LIGHT, apply_theme
from cmfy_desk.ui.viewer import ImageViewer

log = logging.getLogger(__name__)

TOUR_THEMES = (LIGHT, DARK)
STEP_TIMEOUT = 60.0  # seconds for one step to reach its expected state
CLEANUP_TIMEOUT = 15.0  # seconds to stop the engine at the end
POLL_INTERVAL = 0.05  # seconds between two checks of a step's state
# The gallery's share of the window's height in the gallery step, as a person would drag the
# splitter to see more images.
GALLERY_SHARE = 0.7
# The filter lists may take at most this share of the gallery's width when the search step
# widens them to show whole batch names.
FILTERS_MAX_SHARE = 0.4
# The search step's query: a word and a field. "light" is in the prompts of all three sample
# workflows, and "steps:>=20" leaves out the LoRA workflow's 6-step images.
SEARCH_TEXT = "light steps:>=20"
SEARCH_WORD = "light"
SEARCH_MIN_STEPS = 20

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


@dataclasses.dataclass(frozen=True)
class TourPlan:
    """The work the tour queues: the first ``workflow_count`` sample workflows, each as a
    batch of ``jobs_per_workflow`` jobs, on a sandbox that runs ``sandbox_speed`` times
    faster than its simulated GPUs."""

    workflow_count: int = 2
    jobs_per_workflow: int = 2
    # The sandbox's simulated jobs take seconds at speed 1; at 50 the batch ends in a few
    # seconds.
    sandbox_speed: float = 50.0

    @property
    def jobs(self) -> int:
        return self.workflow_count * self.jobs_per_workflow


TOUR_PLAN = TourPlan()


@dataclasses.dataclass(frozen=True)
class TourStep:
    """One step: its number and name (in the screenshot's file name) and what it expects."""

    number: int
    name: str
    expected: str

    def file_name(self, theme: str, *, failed: bool = False) -> str:
        suffix = "-failed" if failed else ""
        return f"{self.number:02d}-{self.name}-{theme}{suffix}.png"


STEPS = (
    TourStep(1, "window", "the window shows the empty queue"),
    TourStep(2, "batch-dialog", "the batch dialog lists both dropped workflows with their cost"),
    TourStep(3, "queued", "the batch dialog closed and the queue lists every job"),
    TourStep(
        4,
        "finished",
        "every job succeeded, the gallery shows each image and no job counts as running",
    ),
    TourStep(5, "gallery", "the gallery is taller than the queue, its first image selected"),
    TourStep(6, "viewer", "the viewer shows the first image beside its metadata"),
    TourStep(7, "search", "the gallery shows the images of one batch that match the search"),
    TourStep(8, "compare", "a compare window shows the two newest images side by side"),
    TourStep(9, "metrics", "the metrics window shows the figures of every job of the tour"),
)


class TourError(Exception):
    """A step did not reach its expected state; the message names the step and what it saw."""

    def __init__(self, step: TourStep, message: str) -> None:
        super().__init__(f"step {step.number:02d} ({step.name}) failed: {message}")
        self.step = step


class _Unreachable(Exception):
    """A step's expected state can no longer be reached (a job failed, for example)."""


def screenshot_names(theme: str) -> list[str]:
    """Return the file names of the screenshots a complete tour in ``theme`` saves, in order."""
    return [step.file_name(theme) for step in STEPS]


def run_tour(
    out_dir: Path,
    theme: str,
    data_dir: Path | None = None,
    *,
    step_timeout: float = STEP_TIMEOUT,
    plan: TourPlan = TOUR_PLAN,
) -> int:
    """Run the tour in ``theme`` (light or dark) and save its screenshots into ``out_dir``.

    ``data_dir`` None uses a temporary data folder, removed afterwards unless the tour failed.
    The images go to the output folder that the settings in the data folder name, by default
    ``outputs`` inside it. ``plan`` sets the workflows and jobs queued.

    Prints each step to stdout. Returns 0 when every step reached its expected state, 1 when
    one did not within ``step_timeout`` seconds (the message on stderr names it), and 2 for an
    unknown theme or an output folder that cannot be created. QT_QPA_PLATFORM is respected;
    on Linux without it and without a display, Qt's offscreen platform is used.
    """
    if theme not in TOUR_THEMES:
        print(f"Tour failed: unknown theme {theme!r}; use light or dark", file=sys.stderr)
        return EXIT_USAGE
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"Tour failed: cannot create the folder {out_dir}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if data_dir is None:
        folder = Path(tempfile.mkdtemp(prefix="cmfy-desk-tour-"))
        status = run_tour(out_dir, theme, folder, step_timeout=step_timeout, plan=plan)
        if status == EXIT_OK:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            print(f"The tour's data folder is kept: {folder}", file=sys.stderr)
        return status

    if (
        sys.platform.startswith("linux")
        and not os.environ.get("QT_QPA_PLATFORM")
        and not os.environ.get("DISPLAY")
        and not os.environ.get("WAYLAND_DISPLAY")
    ):
        # Without a display Qt aborts the process, so the tour could not report anything.
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setWindowIcon(app_icon())
    # As in the real start-up: the tour closes the window and then stops the engine on a
    # running loop.
    app.setQuitOnLastWindowClosed(False)
    apply_theme(app, theme)

    tour = Tour(out_dir, theme, data_dir, step_timeout=step_timeout, plan=plan)
    if sys.version_info >= (3, 12):
        return asyncio.run(tour.run(), loop_factory=qasync.QEventLoop)
    return int(qasync.run(tour.run()))


class Tour:
    """The tour's steps over one window; ``run()`` returns the exit status.

    The QApplication and its theme are the caller's; ``run()`` needs a running qasync loop.
    """

    def __init__(
        self,
        out_dir: Path,
        theme: str,
        data_dir: Path,
        *,
        step_timeout: float = STEP_TIMEOUT,
        plan: TourPlan = TOUR_PLAN,
    ) -> None:
        self.out_dir = out_dir
        self.theme = theme
        self.data_dir = data_dir
        self.step_timeout = step_timeout
        self.plan = plan
        self.saved: list[Path] = []
        self.window: MainWindow | None = None
        self.engine: Engine | None = None
        self._current = STEPS[0]
        self._started = time.monotonic()

    async def run(self) -> int:
        failure: str | None = None
        try:
            await self._steps()
        except TourError as exc:
            failure = str(exc)
        except Exception as exc:  # every other error fails the step under way, reported alike
            log.exception("The tour failed in step %s", self._current.name)
            failure = (
                f"step {self._current.number:02d} ({self._current.name}) failed: "
                f"{type(exc).__name__}: {exc}"
            )
        if failure is not None:
            self._save_failure_screenshot()
        try:
            async with asyncio.timeout(CLEANUP_TIMEOUT):
                await self._clean_up()
        except TimeoutError:
            failure = failure or f"stopping the engine took more than {CLEANUP_TIMEOUT:g} s"

        if failure is not None:
            log.error("Tour failed: %s", failure)
            print(f"Tour failed: {failure}", file=sys.stderr, flush=True)
            return EXIT_FAILED
        elapsed = time.monotonic() - self._started
        print(
            f"Tour passed in {elapsed:.1f} s: {len(self.saved)} screenshots in {self.out_dir}",
            flush=True,
        )
        return EXIT_OK

    # Steps ------------------------------------------------------------------------------------

    async def _steps(self) -> None:
        step = self._begin(1)
        window = await self._open_window()
        await self._reach(step, lambda: _empty_window_state(window))
        self._save(step, window)

        step = self._begin(2)
        plan = self.plan
        workflows = bundled_workflows()[: plan.workflow_count]
        if len(workflows) < plan.workflow_count:
            raise TourError(
                step,
                f"the app ships {len(workflows)} sample workflows, not {plan.workflow_count}",
            )
        drop_files(window, workflows)
        await self._reach(step, lambda: _batch_dialog_state(window, plan.workflow_count))
        dialog = window.batch_dialog
        assert dialog is not None
        self._save(step, dialog)

        step = self._begin(3)
        jobs = plan.jobs
        dialog.queue_button.click()
        await self._reach(step, lambda: _queued_state(window, jobs))
        self._save(step, window)

        step = self._begin(4)
        await self._reach(step, lambda: _finished_state(window, jobs, plan.workflow_count))
        self._save(step, window)

        step = self._begin(5)
        show_gallery(window)
        await self._reach(step, lambda: _gallery_state(window))
        self._save(step, window)

        step = self._begin(6)
        double_click_first_image(window)
        await self._reach(step, lambda: _viewer_state(window))
        self._save(step, window.viewers()[0])

        step = self._begin(7)
        for viewer in window.viewers():
            viewer.close()
        search = window.gallery_panel.search
        # Ctrl+F, as a person would press it, puts the keyboard focus into the search line.
        window.gallery_panel.find_action.trigger()
        type_text(search.edit, SEARCH_TEXT)
        await self._reach(step, lambda: _searched_state(window, jobs))
        batches = window.gallery_panel.filters.batches
        widen_filters(window)
        batch_id = batches.item(1).data(Qt.ItemDataRole.UserRole)
        click_list_item(batches, 1)
        await self._reach(step, lambda: _batch_filtered_state(window, batch_id))
        self._save(step, window)

        step = self._begin(8)
        # The search may leave one image, so the comparison is of the whole gallery's newest.
        window.gallery_panel.search.clear()
        click_list_item(batches, 0)
        await self._reach(step, lambda: _unfiltered_state(window, jobs))
        select_first_images(window, 2)
        window.gallery_panel.image_actions.compare_action.trigger()
        await self._reach(step, lambda: _compare_state(window, 2))
        self._save(step, _compare_windows(window)[0])

        step = self._begin(9)
        for compare_window in _compare_windows(window):
            compare_window.close()
        window.metrics_action.trigger()
        await self._reach(step, lambda: _metrics_state(window, jobs))
        self._save(step, _metrics_dialogs(window)[0])

    def _begin(self, number: int) -> TourStep:
        self._current = STEPS[number - 1]
        print(f"tour: {self._current.number:02d} {self._current.name}", flush=True)
        return self._current

    async def _open_window(self) -> MainWindow:
        paths = resolve_paths(self.data_dir)
        setup_logging(paths.log_dir, console_level=None)
        log.info("Tour of Cmfy Desk %s in the %s theme", __version__, self.theme)
        settings = Settings(paths.settings_file)
        # A small batch per workflow keeps the tour short; the dialog opens with this count.
        settings.set("batch.count", self.plan.jobs_per_workflow)
        keystore = ApiKeyStore()
        config = connection_from_settings(settings, keystore, force_sandbox=True)
        config = dataclasses.replace(config, sandbox_speed=self.plan.sandbox_speed)
        # As in the real start-up, the output folder setting wins over the default folder.
        output_root = output_root_from_settings(settings, paths.default_output_dir)
        engine = Engine(paths.database, output_root, config, options=scheduler_options(settings))
        self.engine = engine
        await engine.start()
        window = MainWindow(engine, settings, keystore, True)
        self.window = window
        window.show()
        # After show() the filter column's scroll area fits the filters to its width on the
        # event loop, after it shows or hides its scroll bar. The first step's check does not
        # wait for it, so that it passes even with no time to wait.
        deadline = time.monotonic() + self.step_timeout
        while _filters_fit_state(window) is not None and time.monotonic() < deadline:
            await asyncio.sleep(POLL_INTERVAL)
        return window

    async def _reach(self, step: TourStep, state: Callable[[], str | None]) -> None:
        """Wait until ``state()`` returns None (the step's expected state), polling the window.

        Until then ``state()`` returns a description of the window's current state, for the
        message when the time runs out. It raises _Unreachable when the state can no longer be
        reached.
        """
        deadline = time.monotonic() + self.step_timeout
        while True:
            try:
                seen = state()
            except _Unreachable as exc:
                raise TourError(step, str(exc)) from None
            if seen is None:
                return
            if time.monotonic() >= deadline:
                raise TourError(
                    step,
                    f"{step.expected} was not reached within {self.step_timeout:g} s "
                    f"(seen: {seen})",
                )
            await asyncio.sleep(POLL_INTERVAL)

    def _save(self, step: TourStep, widget: QWidget) -> None:
        path = self.out_dir / step.file_name(self.theme)
        if not widget.grab().save(str(path), "PNG"):
            raise TourError(step, f"writing the screenshot {path} failed")
        self.saved.append(path)

    def _save_failure_screenshot(self) -> None:
        widget = self._top_widget()
        if widget is None:
            return
        path = self.out_dir / self._current.file_name(self.theme, failed=True)
        if widget.grab().save(str(path), "PNG"):
            print(f"The window at the failure: {path}", file=sys.stderr, flush=True)

    def _top_widget(self) -> QWidget | None:
        window = self.window
        if window is None:
            return None
        viewers = [viewer for viewer in window.viewers() if viewer.isVisible()]
        if viewers:
            return viewers[0]
        dialog = window.batch_dialog
        if dialog is not None and dialog.isVisible():
            return dialog
        return window

    async def _clean_up(self) -> None:
        window, engine = self.window, self.engine
        if window is None:
            if engine is not None:
                await engine.stop()
            return
        for viewer in window.viewers():
            viewer.close()
        # Hidden rather than closed: a failed tour may leave jobs running, and closing would
        # ask whether to quit. shutdown() stops the engine either way.
        window.hide()
        await window.shutdown()
        window.deleteLater()


# What a person does ---------------------------------------------------------------------------


def drop_files(target: QWidget, paths: list[Path]) -> None:
    """Drag ``paths`` onto the middle of ``target`` and drop them, as a file manager does:
    a QDragEnterEvent, then a QDropEvent, both with the files' URLs."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path)) for path in paths])
    center = QPointF(target.rect().center())
    enter = _drag_enter_event(center, mime)
    QApplication.sendEvent(target, enter)
    if not enter.isAccepted():
        raise RuntimeError("the window did not accept the dragged files")
    drop = QDropEvent(
        center,
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(target, drop)


def _drag_enter_event(position: QPointF, mime: QMimeData) -> QDragEnterEvent:
    buttons = Qt.MouseButton.LeftButton
    modifiers = Qt.KeyboardModifier.NoModifier
    # The QPoint constructor exists in every supported PySide6 (6.12 adds a QPointF one).
    return QDragEnterEvent(position.toPoint(), Qt.DropAction.CopyAction, mime, buttons, modifiers)


def show_gallery(window: MainWindow) -> None:
    """Drag the splitter so that the gallery takes most of the window and select its first
    image."""
    total = sum(window.splitter.sizes())
    gallery_height = int(total * GALLERY_SHARE)
    window.splitter.setSizes([total - gallery_height, gallery_height])
    window.gallery.setFocus()
    window.gallery.setCurrentIndex(window.gallery_model.index(0, 0))


def widen_filters(window: MainWindow) -> None:
    """Drag the splitter beside the gallery's filter lists until the Batch list shows its
    longest entry, as a person does to read the batch names and their counts. The lists
    take at most FILTERS_MAX_SHARE of the gallery's width."""
    splitter = window.gallery_panel.splitter
    batches = window.gallery_panel.filters.batches
    filters_width, images_width = splitter.sizes()
    missing = batches.sizeHintForColumn(0) - batches.viewport().width()
    if missing <= 0:
        return
    total = filters_width + images_width
    # A few pixels more than the text, for the item's own margins.
    width = min(filters_width + missing + 8, int(total * FILTERS_MAX_SHARE))
    splitter.setSizes([width, total - width])


def select_first_images(window: MainWindow, count: int) -> None:
    """Select the gallery's first ``count`` images, as a Shift+click would."""
    model = window.gallery_model
    selection = QItemSelection(model.index(0, 0), model.index(count - 1, 0))
    window.gallery.selectionModel().select(
        selection, QItemSelectionModel.SelectionFlag.ClearAndSelect
    )


def type_text(target: QWidget, text: str) -> None:
    """Type ``text`` into ``target`` one key press and release per character. Only
    characters whose key code is their upper-case ASCII code (letters, digits, spaces and
    the punctuation of search fields) are supported."""
    for character in text:
        key = Qt.Key(ord(character.upper()))
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            event = QKeyEvent(kind, key, Qt.KeyboardModifier.NoModifier, character)
            QApplication.sendEvent(target, event)


def click_list_item(widget: QListWidget, row: int) -> None:
    """Click the item in ``row`` of ``widget`` with the left mouse button."""
    item = widget.item(row)
    if item is None:
        raise RuntimeError(f"the list has no row {row}")
    widget.scrollToItem(item)
    _click(widget.viewport(), QPointF(widget.visualItemRect(item).center()))


def _click(target: QWidget, point: QPointF) -> None:
    global_point = QPointF(target.mapToGlobal(point.toPoint()))
    left = Qt.MouseButton.LeftButton
    for kind, buttons in (
        (QEvent.Type.MouseButtonPress, left),
        (QEvent.Type.MouseButtonRelease, Qt.MouseButton.NoButton),
    ):
        event = QMouseEvent(
            kind, point, global_point, left, buttons, Qt.KeyboardModifier.NoModifier
        )
        QApplication.sendEvent(target, event)


def double_click_first_image(window: MainWindow) -> None:
    """Double-click the gallery's first thumbnail with the left mouse button."""
    gallery = window.gallery
    point = QPointF(gallery.visualRect(window.gallery_model.index(0, 0)).center())
    viewport = gallery.viewport()
    global_point = QPointF(viewport.mapToGlobal(point.toPoint()))
    left = Qt.MouseButton.LeftButton
    none = Qt.MouseButton.NoButton
    for kind, buttons in (
        (QEvent.Type.MouseButtonPress, left),
        (QEvent.Type.MouseButtonRelease, none),
        (QEvent.Type.MouseButtonDblClick, left),
        (QEvent.Type.MouseButtonRelease, none),
    ):
        event = QMouseEvent(
            kind, point, global_point, left, buttons, Qt.KeyboardModifier.NoModifier
        )
        QApplication.sendEvent(viewport, event)


# Expected states: None when reached, else what the window shows ------------------------------


def _empty_window_state(window: MainWindow) -> str | None:
    if not window.isVisible():
        return "the window is not visible"
    if window.job_model.rowCount() != 0:
        return f"the queue lists {window.job_model.rowCount()} jobs"
    return None


def _batch_dialog_state(window: MainWindow, workflow_count: int) -> str | None:
    dialog = window.batch_dialog
    if dialog is None or not dialog.isVisible():
        return "no batch dialog is open"
    if len(dialog.workflows) != workflow_count:
        return f"the batch dialog lists {len(dialog.workflows)} workflows"
    blocked = dialog.blocking_error()
    if blocked is not None:
        return f"the batch dialog cannot queue: {blocked}"
    if not dialog.queue_button.isEnabled():
        return f"the Queue button is disabled: {dialog.summary.text()}"
    # The summary's tooltip is set once the planner has estimated the cost.
    if not dialog.summary.toolTip():
        return f"the summary is not final: {dialog.summary.text()}"
    return None


def _queued_state(window: MainWindow, jobs: int) -> str | None:
    dialog = window.batch_dialog
    if dialog is not None:
        return f"the batch dialog is still open: {dialog.error.text() or dialog.summary.text()}"
    if window.job_model.rowCount() != jobs:
        return f"the queue lists {window.job_model.rowCount()} of {jobs} jobs"
    return None


def _finished_state(window: MainWindow, jobs: int, batches: int) -> str | None:
    """Return None once all ``jobs`` succeeded, the gallery shows their thumbnails, the Batch
    list lists the ``batches`` and the status bar counts no running job."""
    listed = window.job_model.jobs()
    failed = [job for job in listed if job.is_final and job.status is not JobStatus.SUCCEEDED]
    if failed:
        job = failed[0]
        raise _Unreachable(
            f"job {job.id} ended {job.status.value}: {job.error_message or 'no error message'}"
        )
    succeeded = sum(job.status is JobStatus.SUCCEEDED for job in listed)
    if succeeded != jobs:
        return f"{succeeded} of {jobs} jobs succeeded"
    model = window.gallery_model
    if model.rowCount() != jobs:
        return f"the gallery shows {model.rowCount()} of {jobs} images"
    decoded = sum(model.thumbnail_ready(row) for row in range(model.rowCount()))
    if decoded != jobs:
        return f"{decoded} of {jobs} thumbnails are decoded"
    # The first entry is "All batches".
    listed_batches = window.gallery_panel.filters.batches.count() - 1
    if listed_batches != batches:
        return f"the Batch list lists {listed_batches} of {batches} batches"
    limits = window.limits_label.text()
    if not limits.startswith("0/"):
        return f"the status bar shows {limits!r}"
    return None


def _gallery_state(window: MainWindow) -> str | None:
    queue_height, gallery_height = window.splitter.sizes()
    if gallery_height <= queue_height:
        return f"the gallery is {gallery_height} px high, the queue {queue_height} px"
    if window.gallery.currentIndex().row() != 0:
        return "the first image is not selected"
    return _filters_fit_state(window)


def _filters_fit_state(window: MainWindow) -> str | None:
    """Return None when the filter column's scroll area has laid out the filters for its
    width after a splitter moved, so that no filter is cut off at the right."""
    filters = window.gallery_panel.filters
    viewport = filters.parentWidget()
    if viewport is not None and filters.width() > viewport.width():
        return f"the filters are {filters.width()} px wide in a {viewport.width()} px column"
    return None


def _viewer_state(window: MainWindow) -> str | None:
    viewers = [viewer for viewer in window.viewers() if viewer.isVisible()]
    if not viewers:
        return "no viewer is open"
    viewer = viewers[0]
    if not _shows_image(viewer):
        return "the viewer shows no image yet"
    if not viewer.metadata.isVisible():
        return "the metadata panel is hidden"
    fields = viewer.metadata.fields
    for key in ("prompt", "models", "run", "path"):
        if not fields[key].text():
            return f"the metadata panel shows no {key}"
    if "https://" not in fields["models"].text():
        return "the metadata panel shows no model URL"
    return None


def _unfiltered_state(window: MainWindow, jobs: int) -> str | None:
    model = window.gallery_model
    if model.searching:
        return "the gallery is searching"
    typed = window.gallery_panel.search.edit.text()
    if typed:
        return f"the search line still reads {typed!r}"
    if model.rowCount() < jobs:
        return f"the gallery shows {model.rowCount()} of the {jobs} images"
    return None


def _compare_windows(window: MainWindow) -> list[CompareWindow]:
    return [opened for opened in window.findChildren(CompareWindow) if opened.isVisible()]


def _compare_state(window: MainWindow, count: int) -> str | None:
    compare_windows = _compare_windows(window)
    if not compare_windows:
        return "no compare window is open"
    panes = compare_windows[0].panes
    if len(panes) != count:
        return f"the compare window shows {len(panes)} images, not {count}"
    waiting = sum(not pane.canvas.has_image() for pane in panes)
    if waiting:
        return f"{waiting} of the compared images are not decoded yet"
    return None


def _metrics_dialogs(window: MainWindow) -> list[MetricsDialog]:
    return [opened for opened in window.findChildren(MetricsDialog) if opened.isVisible()]


def _metrics_state(window: MainWindow, jobs: int) -> str | None:
    dialogs = _metrics_dialogs(window)
    if not dialogs:
        return "the metrics window is not open"
    metrics = dialogs[0].metrics
    if metrics is None:
        return "the metrics window has not read the jobs yet"
    if metrics.jobs != jobs:
        return f"the metrics window counts {metrics.jobs} jobs, not {jobs}"
    return None


def _searched_state(window: MainWindow, jobs: int) -> str | None:
    """Return None once the gallery shows the search line's matches, fewer than the
    ``jobs`` images, with their batches in the Batch list. Until then, return what it shows."""
    panel = window.gallery_panel
    search = panel.search
    if search.error:
        raise _Unreachable(f"the search line cannot read {SEARCH_TEXT!r}: {search.error}")
    if search.query != parse_query(SEARCH_TEXT):
        return f"the search line shows {search.edit.text()!r}"
    seen = _gallery_search_state(window)
    if seen is not None:
        return seen
    matched = window.gallery_model.rowCount()
    if not 0 < matched < jobs:
        raise _Unreachable(f"the search found {matched} of {jobs} images")
    if panel.filters.batches.count() < 2:
        return "the Batch list lists no batch"
    return None


def _batch_filtered_state(window: MainWindow, batch_id: object) -> str | None:
    """Return None once the gallery shows only the search's matches from batch
    ``batch_id``, and the batch's entry in the Batch list counts them."""
    filters = window.gallery_panel.filters
    if filters.state().batch_id != batch_id:
        return f"the Batch filter is {filters.state().batch_id}, not {batch_id}"
    seen = _gallery_search_state(window)
    if seen is not None:
        return seen
    model = window.gallery_model
    records = [model.record_at(row) for row in range(model.rowCount())]
    if not records:
        raise _Unreachable(f"batch {batch_id} has no image that matches the search")
    other = [record for record in records if record is None or record.batch_id != batch_id]
    if other:
        return f"{len(other)} images shown are not of batch {batch_id}"
    current = filters.batches.currentItem()
    if current is None or not current.text().endswith(f"({len(records)})"):
        text = current.text() if current is not None else "nothing"
        return f"the Batch list's selected entry is {text!r}"
    return None


def _gallery_search_state(window: MainWindow) -> str | None:
    """Return None when the gallery shows the result of its search line and filters: each
    image a match of SEARCH_TEXT with its thumbnail decoded, and their count beside the
    search line. Otherwise return what is still missing."""
    panel = window.gallery_panel
    model = window.gallery_model
    if model.searching or model.query != panel.filter_state().apply(panel.search.query):
        return "the search is running"
    for row in range(model.rowCount()):
        record = model.record_at(row)
        if record is None or not _matches_search(record):
            return f"image {row + 1} of the gallery does not match {SEARCH_TEXT!r}"
        if not model.thumbnail_ready(row):
            return f"the thumbnail of image {row + 1} is not decoded"
    count = panel.search.count_label.text()
    if count != image_count_text(model.rowCount()):
        return f"the count beside the search line is {count!r}"
    return _filters_fit_state(window)


def _matches_search(record: ImageRecord) -> bool:
    return (
        SEARCH_WORD in record.prompt.casefold()
        and record.steps is not None
        and record.steps >= SEARCH_MIN_STEPS
    )


def _shows_image(viewer: ImageViewer) -> bool:
    return viewer.canvas.has_image()
