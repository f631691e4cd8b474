"""A check that an installed or packaged copy works: the window runs one sample job to the end.

``cmfy-desk --self-test`` calls ``run_self_test()``. It needs no account and no network: the
window opens in demo mode over the built-in sandbox, so a build can be checked on a server
without a display (QT_QPA_PLATFORM=offscreen) in a few seconds. It also checks that the Qt
plugins a package must ship are there: the image formats of outputs and the SVG icon.
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
from pathlib import Path

import qasync
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage, QImageReader
from PySide6.QtWidgets import QApplication

from cmfy_desk import APP_NAME, __version__
from cmfy_desk.app import Engine, scheduler_options
from cmfy_desk.keystore import ApiKeyStore
from cmfy_desk.logs import setup_logging
from cmfy_desk.paths import bundled_workflows, resolve_paths
from cmfy_desk.settings import Settings
from cmfy_desk.store import Job, JobStatus, Output
from cmfy_desk.ui.connection import connection_from_settings
from cmfy_desk.ui.main import app_icon
from cmfy_desk.ui.main_window import MainWindow
from cmfy_desk.workflows.batch import SeedMode
from cmfy_desk.workflows.formats import load_workflow_file

log = logging.getLogger(__name__)

SELF_TEST_TIMEOUT = 60.0  # seconds from the start to the closed window
CLEANUP_TIMEOUT = 15.0  # seconds to stop the engine after a failure
# Seconds for the first thumbnail, which starts a worker process first.
THUMBNAIL_TIMEOUT_SECONDS = 20.0
# The sandbox's simulated job takes seconds at speed 1; this brings it well under one.
SANDBOX_SPEED = 50.0
# Outputs are PNG, JPEG or WEBP, and the app icon is SVG. PNG is built into QtGui, the others
# are plugins that a package can leave out by mistake.
REQUIRED_IMAGE_FORMATS = ("png", "jpeg", "webp", "svg")


class SelfTestError(Exception):
    """A step of the self-test failed; the message names the step and the cause."""


@dataclasses.dataclass
class _Progress:
    """The step under way, for the message when the time runs out, and the log file."""

    step: str = "starting"
    started: float = dataclasses.field(default_factory=time.monotonic)
    log_file: Path | None = None

    def begin(self, step: str) -> None:
        self.step = step
        print(f"self-test: {step}", flush=True)


def run_self_test(data_dir: Path | None = None, *, timeout: float = SELF_TEST_TIMEOUT) -> int:
    """Open the window in demo mode with its data in ``data_dir``, run one job of the first
    sample workflow on the built-in sandbox, check that its image is on disk, and close the
    window.

    ``data_dir`` None uses a temporary folder, removed afterwards unless the test failed.
    Prints each step to stdout. Returns 0 when the test passed, or prints what failed to stderr
    and returns 1, also when ``timeout`` seconds pass first. QT_QPA_PLATFORM is respected; on
    Linux without it and without a display, the offscreen platform is used.
    """
    if data_dir is None:
        folder = Path(tempfile.mkdtemp(prefix="cmfy-desk-self-test-"))
        status = run_self_test(folder, timeout=timeout)
        if status == 0:
            shutil.rmtree(folder, ignore_errors=True)
        return status

    if (
        sys.platform.startswith("linux")
        and not os.environ.get("QT_QPA_PLATFORM")
        and not os.environ.get("DISPLAY")
        and not os.environ.get("WAYLAND_DISPLAY")
    ):
        # Without a display Qt aborts the process, so the test could not report anything.
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    # As in the real start-up: the window's close event ends the test, which then stops the
    # engine on a running loop.
    app.setQuitOnLastWindowClosed(False)

    if sys.version_info >= (3, 12):
        return asyncio.run(_main(data_dir, timeout), loop_factory=qasync.QEventLoop)
    return int(qasync.run(_main(data_dir, timeout)))


async def _main(data_dir: Path, timeout: float) -> int:
    progress = _Progress()
    window: MainWindow | None = None
    engine: Engine | None = None
    failure: str | None = None
    output: Output | None = None
    try:
        async with asyncio.timeout(timeout) as scope:
            window, engine = await _open_window(data_dir, progress)
            output = await _run_sample_job(window, engine, progress)
            progress.begin("closing the window")
            window.close()
            if window.isVisible():
                raise SelfTestError("the window did not close although no job is running")
    except TimeoutError:
        if not scope.expired():
            raise
        failure = f"timed out after {timeout:g} s while {progress.step}"
    except SelfTestError as exc:
        failure = str(exc)
    except Exception as exc:  # every other error is a failed self-test, reported the same way
        log.exception("The self-test failed while %s", progress.step)
        failure = f"{progress.step} failed: {type(exc).__name__}: {exc}"

    try:
        async with asyncio.timeout(CLEANUP_TIMEOUT):
            await _clean_up(window, engine)
    except TimeoutError:
        failure = failure or f"stopping the engine took more than {CLEANUP_TIMEOUT:g} s"

    if failure is not None:
        log.error("Self-test failed: %s", failure)
        print(f"Self-test failed: {failure}", file=sys.stderr, flush=True)
        if progress.log_file is not None:
            print(f"The log is in {progress.log_file}", file=sys.stderr, flush=True)
        return 1
    assert output is not None
    elapsed = time.monotonic() - progress.started
    print(
        f"Self-test passed in {elapsed:.1f} s: job {output.job_id} saved "
        f"{Path(output.local_path).name} ({output.size} bytes)",
        flush=True,
    )
    return 0


async def _open_window(data_dir: Path, progress: _Progress) -> tuple[MainWindow, Engine]:
    progress.begin(
        f"opening the window in demo mode on Qt's {QApplication.platformName()} platform "
        f"(data in {data_dir})"
    )
    paths = resolve_paths(data_dir)
    # Warnings go to the log file only: the test prints its own steps and failure.
    progress.log_file = setup_logging(paths.log_dir, console_level=None)
    log.info("Self-test of Cmfy Desk %s, data folder %s", __version__, paths.data_dir)
    _check_qt_plugins()

    settings = Settings(paths.settings_file)
    keystore = ApiKeyStore()
    config = connection_from_settings(settings, keystore, force_sandbox=True)
    config = dataclasses.replace(config, sandbox_speed=SANDBOX_SPEED)
    engine = Engine(
        paths.database, paths.default_output_dir, config, options=scheduler_options(settings)
    )
    try:
        await engine.start()
        window = MainWindow(engine, settings, keystore, True)
    except BaseException:
        await engine.stop()
        raise
    window.show()
    return window, engine


def _check_qt_plugins() -> None:
    readable = {
        bytes(name.data()).decode("ascii").lower() for name in QImageReader.supportedImageFormats()
    }
    missing = [name for name in REQUIRED_IMAGE_FORMATS if name not in readable]
    if missing:
        raise SelfTestError(
            f"Qt cannot read {', '.join(missing)} images: the imageformats plugins are missing "
            f"(Qt reads: {', '.join(sorted(readable))})"
        )
    if app_icon().pixmap(QSize(64, 64)).isNull():
        raise SelfTestError(
            "the app icon (SVG) did not render: its file or Qt's SVG icon engine is missing"
        )


async def _run_sample_job(window: MainWindow, engine: Engine, progress: _Progress) -> Output:
    workflows = bundled_workflows()
    if not workflows:
        raise SelfTestError("no sample workflows were found in the app's resources")
    progress.begin(f"queueing one job of {workflows[0].name}")
    workflow = await asyncio.to_thread(load_workflow_file, workflows[0], engine.definitions)
    _batch, jobs = engine.add_batch(workflow, 1, SeedMode.FIXED)
    job_id = jobs[0].id

    progress.begin(f"waiting for job {job_id} on the built-in sandbox")
    ended: asyncio.Future[Job] = asyncio.get_running_loop().create_future()

    def on_job_changed(job: Job) -> None:
        if job.id == job_id and job.is_final and not ended.done():
            ended.set_result(job)

    window.signals.jobChanged.connect(on_job_changed)
    try:
        job = await ended
    finally:
        window.signals.jobChanged.disconnect(on_job_changed)
    if job.status is not JobStatus.SUCCEEDED:
        raise SelfTestError(
            f"job {job_id} ended {job.status.value}: {job.error_message or 'no error message'}"
        )

    progress.begin("checking the image and the window")
    output = _check_outputs(window, engine, job_id)
    progress.begin(f"waiting for the thumbnail of job {job_id}")
    await _wait_for_thumbnail(window, job_id)
    return output


def _check_outputs(window: MainWindow, engine: Engine, job_id: int) -> Output:
    outputs = engine.store.outputs(job_id)
    if not outputs:
        raise SelfTestError(f"job {job_id} succeeded but has no output in the database")
    output = outputs[0]
    path = Path(output.local_path)
    if not path.is_file():
        raise SelfTestError(f"the image of job {job_id} is not on disk: {path}")
    if QImage(str(path)).isNull():
        raise SelfTestError(f"Qt cannot read the image of job {job_id}: {path}")
    shown = window.job_model.job(job_id)
    if shown is None or shown.status is not JobStatus.SUCCEEDED:
        raise SelfTestError(
            f"the job table shows job {job_id} as "
            f"{'missing' if shown is None else shown.status.value}, not succeeded"
        )
    if window.gallery_model.rowCount() < 1:
        raise SelfTestError(f"the gallery does not show the image of job {job_id}")
    return output


async def _wait_for_thumbnail(window: MainWindow, job_id: int) -> None:
    """Wait until the gallery shows the first image's thumbnail, made by a worker process."""
    model = window.gallery_model
    # Asking for the picture requests the thumbnail, as painting the grid does.
    model.data(model.index(0, 0), Qt.ItemDataRole.DecorationRole)
    deadline = time.monotonic() + THUMBNAIL_TIMEOUT_SECONDS
    while not model.thumbnail_ready(0):
        if time.monotonic() > deadline:
            raise SelfTestError(
                f"the gallery made no thumbnail of the image of job {job_id} "
                f"in {THUMBNAIL_TIMEOUT_SECONDS:.0f} s"
            )
        await asyncio.sleep(0.05)
    problem = model.thumbnail_error(0)
    if problem:
        raise SelfTestError(
            f"the gallery made no thumbnail of the image of job {job_id}: {problem}"
        )


async def _clean_up(window: MainWindow | None, engine: Engine | None) -> None:
    if window is None:
        if engine is not None:
            await engine.stop()
        return
    # After a failure the window may still be open, with the job running: hide it rather than
    # answer the quit question. shutdown() stops the engine either way.
    window.hide()
    await window.shutdown()
    window.deleteLater()
    try:
        window.settings.save()
    except OSError as exc:
        log.warning("Saving settings to %s failed: %s", window.settings.path, exc)
