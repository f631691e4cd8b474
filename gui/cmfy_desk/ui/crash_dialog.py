"""The dialog shown for an error nothing else handled, and the hooks that catch such errors.

``CrashReporter.install()`` replaces ``sys.excepthook`` (exceptions raised in Qt slots and event
handlers arrive there), ``threading.excepthook`` and the asyncio loop's exception handler
(callbacks that raised, and tasks whose exception was never retrieved). Each error is logged with
its traceback and shown in a ``CrashDialog`` whose report passes through ``logs.redact``, so an
API key in a message or log line never reaches it.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import traceback
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from cmfy_desk.logs import last_log_lines, redact
from cmfy_desk.ui.about_dialog import open_log_folder, versions_text

log = logging.getLogger(__name__)

REPORT_LOG_LINES = 50

ExceptHook = Callable[[type[BaseException], BaseException, TracebackType | None], Any]
LoopHandler = Callable[[asyncio.AbstractEventLoop, dict[str, Any]], object]


def crash_report(error: BaseException, where: str, log_file: Path | None) -> str:
    """Return the text of a report on ``error``: versions, OS, the traceback and the last
    REPORT_LOG_LINES lines of ``log_file``, with every API key and bearer token redacted."""
    lines = [
        versions_text(),
        f"Time: {datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"Where: {where}",
        "",
        "Traceback (most recent call last):"
        if error.__traceback__ is not None
        else "Exception (no traceback):",
    ]
    formatted = traceback.format_exception(type(error), error, error.__traceback__)
    # format_exception() starts with its own "Traceback ..." line when there is a traceback.
    if formatted and formatted[0].startswith("Traceback"):
        formatted = formatted[1:]
    lines.append("".join(formatted).rstrip("\n"))
    lines.append("")
    if log_file is None:
        lines.append("No log file.")
    else:
        tail = last_log_lines(log_file, REPORT_LOG_LINES)
        lines.append(f"Last {len(tail)} lines of {log_file.name}:")
        lines.extend(tail)
    return redact("\n".join(lines))


class CrashDialog(QDialog):
    """Shows a crash report with Copy report, Open log folder, Quit and Continue.

    ``quitRequested`` is emitted when the person chooses Quit. Errors reported while the
    dialog is open are counted in it with ``add_later_error()`` instead of opening more.
    """

    quitRequested = Signal()

    def __init__(self, report: str, log_folder: Path | None, parent: QWidget | None = None):
        super().__init__(parent)
        self.report = report
        self._log_folder = log_folder
        self.later_errors = 0
        self.setWindowTitle(self.tr("Cmfy Desk ran into an error"))

        icon = QLabel()
        icon.setPixmap(
            self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical).pixmap(48, 48)
        )
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        message = QLabel(
            self.tr(
                "An unexpected error occurred, and the log file records it. You can continue "
                "working, but if Cmfy Desk misbehaves, quit and start it again: queued jobs "
                "stay in the queue.\n\nTo report the problem, copy the report below. API keys "
                "are removed from it."
            )
        )
        message.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(icon)
        top.addWidget(message, 1)

        self.text = QPlainTextEdit(report)
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.hide()

        buttons = QDialogButtonBox()
        self.copy_button = QPushButton(self.tr("Copy report"))
        self.log_button = QPushButton(self.tr("Open log folder"))
        self.quit_button = QPushButton(self.tr("Quit"))
        self.continue_button = QPushButton(self.tr("Continue"))
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.log_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.quit_button, QDialogButtonBox.ButtonRole.DestructiveRole)
        buttons.addButton(self.continue_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.continue_button.setDefault(True)
        self.log_button.setEnabled(log_folder is not None)
        self.copy_button.clicked.connect(self.copy_report)
        self.log_button.clicked.connect(self._open_log_folder)
        self.quit_button.clicked.connect(self._quit)
        self.continue_button.clicked.connect(self.accept)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self.resize(760, 520)

    def copy_report(self) -> None:
        QGuiApplication.clipboard().setText(self.report)
        self._show_status(self.tr("The report is copied to the clipboard."))

    def add_later_error(self) -> None:
        self.later_errors += 1
        if self.later_errors == 1:
            text = self.tr("1 more error occurred since; the log file records it.")
        else:
            text = self.tr("{count} more errors occurred since; the log file records them.")
        self._show_status(text.format(count=self.later_errors))

    def _show_status(self, text: str) -> None:
        self.status.setText(text)
        self.status.show()

    def _open_log_folder(self) -> None:
        if self._log_folder is not None and not open_log_folder(self._log_folder):
            self._show_status(
                self.tr("The log folder could not be opened. It is {folder}").format(
                    folder=self._log_folder
                )
            )

    def _quit(self) -> None:
        self.accept()
        self.quitRequested.emit()


class CrashReporter(QObject):
    """Catches unhandled errors, logs them and shows them in one CrashDialog at a time.

    ``log_file`` is the file whose last lines go into reports. ``quit_app`` is called when the
    person chooses Quit in the dialog. ``parent_widget()`` returns the widget to centre the
    dialog on, or None. Errors raised in other threads are shown from the loop's thread.
    """

    def __init__(
        self,
        log_file: Path | None,
        quit_app: Callable[[], object],
        parent_widget: Callable[[], QWidget | None] = lambda: None,
    ) -> None:
        super().__init__()
        self.log_file = log_file
        self._quit_app = quit_app
        self._parent_widget = parent_widget
        self.dialog: CrashDialog | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._previous_excepthook: ExceptHook | None = None
        self._previous_thread_hook: Callable[[threading.ExceptHookArgs], Any] | None = None
        self._previous_loop_handler: LoopHandler | None = None
        self._reporting = False

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        """Replace the exception hooks of Python, threads and ``loop`` with this reporter's."""
        self._loop = loop
        self._previous_excepthook = sys.excepthook
        self._previous_thread_hook = threading.excepthook
        self._previous_loop_handler = loop.get_exception_handler()
        sys.excepthook = self.handle_exception
        threading.excepthook = self.handle_thread_exception
        loop.set_exception_handler(self.handle_loop_error)

    def uninstall(self) -> None:
        """Put back the hooks that install() replaced."""
        if self._previous_excepthook is not None:
            sys.excepthook = self._previous_excepthook
        if self._previous_thread_hook is not None:
            threading.excepthook = self._previous_thread_hook
        if self._loop is not None and not self._loop.is_closed():
            self._loop.set_exception_handler(self._previous_loop_handler)
        self._previous_excepthook = self._previous_thread_hook = None
        self._previous_loop_handler = None
        self._loop = None

    def handle_exception(
        self,
        exc_type: type[BaseException],
        error: BaseException,
        tb: TracebackType | None,
    ) -> None:
        """Report an exception that reached ``sys.excepthook``. Ctrl+C (KeyboardInterrupt)
        goes to the previous hook unchanged."""
        if issubclass(exc_type, KeyboardInterrupt) and self._previous_excepthook is not None:
            self._previous_excepthook(exc_type, error, tb)
            return
        if error.__traceback__ is None:
            error = error.with_traceback(tb)
        self._report_from_any_thread(error, "unhandled exception")

    def handle_thread_exception(self, args: threading.ExceptHookArgs) -> None:
        """Report an exception that ended a thread (``threading.excepthook``)."""
        if args.exc_value is None or issubclass(args.exc_type, SystemExit):
            return
        name = args.thread.name if args.thread is not None else "unknown"
        self._report_from_any_thread(args.exc_value, f"thread {name}")

    def handle_loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """The asyncio loop's exception handler.

        A context without an exception (a resource not closed, for example) and OSError from
        a transport are logged only: they are network or cleanup problems, not bugs.
        """
        message = str(context.get("message") or "Unhandled error in the event loop")
        error = context.get("exception")
        if not isinstance(error, BaseException):
            log.warning("asyncio: %s (%s)", message, _describe_context(context))
            return
        if isinstance(error, OSError):
            log.warning("asyncio: %s: %s", message, error)
            return
        self.report(error, message)

    def _report_from_any_thread(self, error: BaseException, where: str) -> None:
        if threading.current_thread() is threading.main_thread():
            self.report(error, where)
            return
        loop = self._loop
        if loop is None or loop.is_closed():
            log.critical("Unhandled error (%s)", where, exc_info=error)
            return
        loop.call_soon_threadsafe(self.report, error, where)

    def report(self, error: BaseException, where: str) -> None:
        """Log ``error`` and show it: in a new dialog, or counted in the one already open."""
        # The report takes the log's last lines before this error is added to it.
        text = crash_report(error, where, self.log_file)
        log.critical("Unhandled error (%s)", where, exc_info=error)
        if self._reporting or QApplication.instance() is None:
            return
        self._reporting = True
        try:
            if self.dialog is not None and self.dialog.isVisible():
                self.dialog.add_later_error()
                return
            self._open_dialog(text)
        except Exception:
            # A failure here must not recurse into this hook.
            log.exception("Showing the error dialog failed")
        finally:
            self._reporting = False

    def _open_dialog(self, text: str) -> None:
        folder = self.log_file.parent if self.log_file is not None else None
        dialog = CrashDialog(text, folder, self._parent_widget())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.quitRequested.connect(self._quit_app)
        dialog.finished.connect(lambda _result: self._forget(dialog))
        self.dialog = dialog
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()

    def _forget(self, dialog: CrashDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None


def _describe_context(context: dict[str, Any]) -> str:
    parts = [f"{key}={value!r}" for key, value in context.items() if key != "message"]
    return redact(", ".join(parts)) or "no details"
