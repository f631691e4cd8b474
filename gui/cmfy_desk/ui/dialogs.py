"""The settings dialog and the About box. Both are opened with ``open()``, never ``exec()``,
because a nested event loop would stall the asyncio loop that qasync runs on Qt's. The batch
dialog is in batch_dialog."""

from __future__ import annotations

import logging
import platform
import sqlite3
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QCoreApplication, Qt, qVersion
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from cmfy_desk import __version__
from cmfy_desk.keystore import ApiKeyStore, validate_api_key
from cmfy_desk.outputs.name_template import (
    DEFAULT_FILE_TEMPLATE,
    DEFAULT_FOLDER_TEMPLATE,
    NameValues,
    accepted_tokens,
    check_template,
    render_folder,
    render_name,
)
from cmfy_desk.settings import Settings
from cmfy_desk.store import StoreError
from cmfy_desk.store.history import PruneResult
from cmfy_desk.ui.connection import API_KEY_ACCOUNT
from cmfy_desk.ui.history import HistoryPruning
from cmfy_desk.ui.notifications import NotificationPreferences, NotificationSettingsGroup
from cmfy_desk.ui.theme import error_style

log = logging.getLogger(__name__)

# The output that the settings dialog's preview names: job 42 of a batch of foxes, made on
# 2025-01-31 at 14:05:09 local time.
_SAMPLE_VALUES = NameValues(
    created_at=time.mktime((2025, 1, 31, 14, 5, 9, 0, 0, -1)),
    workflow="sdxl_txt2img",
    batch="foxes",
    job=42,
    index=0,
    seed=1234,
    model="sdxl_base",
    width=1024,
    height=1024,
    prompt="a red fox in snow",
)

# Checks a tunnel's public address and returns what happened, in words.
TunnelTester = Callable[[str], Coroutine[Any, Any, str]]
Spawn = Callable[[Coroutine[Any, Any, None], str], None]


class SettingsDialog(QDialog):
    """Edits the connection, the API key (kept in the OS keyring), the output folder, the
    sandbox and the queue. On accept it writes the settings file and the key; the window then
    compares the connection and queue settings they describe with those in use."""

    def __init__(
        self,
        settings: Settings,
        keystore: ApiKeyStore,
        default_output_dir: Path,
        parent: QWidget | None = None,
        *,
        test_tunnel: TunnelTester | None = None,
        spawn: Spawn | None = None,
        history: HistoryPruning | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Settings"))
        self.setMinimumWidth(560)
        self._settings = settings
        self._keystore = keystore
        self._test_tunnel = test_tunnel
        self._spawn = spawn
        self._history = history
        self.prune_box: QMessageBox | None = None
        # The one-time message that the key is kept for this session only, set on accept.
        self.key_notice: str | None = None

        self.connection = QComboBox()
        self.connection.addItem(self.tr("Sandbox (built-in)"), "sandbox")
        self.connection.addItem(self.tr("cmfy.cloud"), "cmfy")
        self.connection.setCurrentIndex(
            max(self.connection.findData(settings.get("connection.kind")), 0)
        )
        self.connection.currentIndexChanged.connect(self._update_enabled)

        self.base_url = QLineEdit(str(settings.get("connection.base_url")))
        self.api_key = QLineEdit()
        self.api_key.setEchoMode(QLineEdit.EchoMode.Password)
        self._has_key = keystore.get(API_KEY_ACCOUNT) is not None
        self.api_key.setPlaceholderText(
            self.tr("stored; type a new key to replace it")
            if self._has_key
            else self.tr("sk_live_… from the cmfy.cloud portal")
        )

        self.output_folder = QLineEdit(str(settings.get("output.folder")))
        self.output_folder.setPlaceholderText(str(default_output_dir))
        browse = QPushButton(self.tr("Browse…"))
        browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.output_folder, 1)
        folder_row.addWidget(browse)

        self.folder_template = QLineEdit(str(settings.get("output.folder_template")))
        self.folder_template.setPlaceholderText(DEFAULT_FOLDER_TEMPLATE)
        self.file_template = QLineEdit(str(settings.get("output.file_template")))
        self.file_template.setPlaceholderText(DEFAULT_FILE_TEMPLATE)
        template_help = self.tr(
            "Tokens: {tokens}. A / in the folder name makes subfolders. An empty name uses "
            "the default."
        ).format(tokens=accepted_tokens())
        self.folder_template.setToolTip(template_help)
        self.file_template.setToolTip(template_help)
        self.template_preview = QLabel()
        self.template_preview.setWordWrap(True)
        self.template_preview.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.template_error = QLabel()
        self.template_error.setStyleSheet(error_style())
        self.template_error.setWordWrap(True)
        self.template_error.hide()
        self.folder_template.textChanged.connect(self._update_template_preview)
        self.file_template.textChanged.connect(self._update_template_preview)

        self.sandbox_plan = QComboBox()
        for plan in ("free", "pro", "enterprise"):
            self.sandbox_plan.addItem(plan, plan)
        self.sandbox_plan.setCurrentIndex(
            max(self.sandbox_plan.findData(settings.get("sandbox.plan")), 0)
        )
        self.sandbox_speed = QDoubleSpinBox()
        self.sandbox_speed.setRange(0.01, 1000.0)
        self.sandbox_speed.setDecimals(2)
        self.sandbox_speed.setSuffix(" ×")
        self.sandbox_speed.setValue(float(settings.get("sandbox.speed")))
        self.sandbox_speed.setToolTip(
            self.tr("How many times faster than real time the sandbox runs jobs")
        )

        queue_group = self._build_queue_group(settings)
        status_group = self._build_status_group(settings)
        history_group = self._build_history_group(settings)
        self.notifications = NotificationSettingsGroup(
            NotificationPreferences.from_settings(settings)
        )

        self._error = QLabel()
        self._error.setStyleSheet(error_style())
        self._error.setWordWrap(True)
        self._error.hide()

        form = QFormLayout()
        form.addRow(self.tr("Connection:"), self.connection)
        form.addRow(self.tr("Base URL:"), self.base_url)
        form.addRow(self.tr("API key:"), self.api_key)
        form.addRow(self.tr("Output folder:"), folder_row)
        form.addRow(self.tr("Batch folder name:"), self.folder_template)
        form.addRow(self.tr("Output file name:"), self.file_template)
        form.addRow(self.template_preview)
        form.addRow(self.template_error)
        form.addRow(self.tr("Sandbox plan:"), self.sandbox_plan)
        form.addRow(self.tr("Sandbox speed:"), self.sandbox_speed)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)

        # The settings scroll on a screen too short for all of them; the buttons stay in view.
        content = QWidget()
        sections = QVBoxLayout(content)
        sections.setContentsMargins(0, 0, 0, 0)
        sections.addLayout(form)
        sections.addWidget(status_group)
        sections.addWidget(queue_group)
        sections.addWidget(history_group)
        sections.addWidget(self.notifications)
        sections.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(content)

        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(self._error)
        layout.addWidget(buttons)
        self._fit_to_screen(content, scroll)
        self._update_enabled()
        self._update_template_preview()
        self._folder_dialog: QFileDialog | None = None

    def _fit_to_screen(self, content: QWidget, scroll: QScrollArea) -> None:
        """Open tall enough to show every setting when the screen allows, else as tall as the
        screen's free area, with the settings scrolling."""
        hint = content.sizeHint()
        width = hint.width() + scroll.verticalScrollBar().sizeHint().width() + 24
        height = hint.height() + 96
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is not None:
            available = screen.availableGeometry()
            height = min(height, int(available.height() * 0.9))
            width = min(width, int(available.width() * 0.9))
        self.resize(max(width, self.sizeHint().width()), height)

    def _template_problem(self) -> str | None:
        for template in (self.folder_template.text(), self.file_template.text()):
            problem = check_template(template)
            if problem is not None:
                return problem
        return None

    def _update_template_preview(self) -> None:
        """Show the names the templates give a sample output, or what is wrong with them."""
        problem = self._template_problem()
        self.template_error.setText(problem or "")
        self.template_error.setVisible(problem is not None)
        if problem is not None:
            self.template_preview.setText(self.tr("Example: (fix the name template)"))
            return
        folder_template = self.folder_template.text() or DEFAULT_FOLDER_TEMPLATE
        file_template = self.file_template.text() or DEFAULT_FILE_TEMPLATE
        folder = "/".join(render_folder(folder_template, _SAMPLE_VALUES))
        file_name = render_name(file_template, _SAMPLE_VALUES) + ".png"
        self.template_preview.setText(
            self.tr("Example: {path}").format(path=f"{folder}/{file_name}")
        )

    def _build_status_group(self, settings: Settings) -> QGroupBox:
        self.status_mode = QComboBox()
        self.status_mode.addItem(self.tr("Webhooks when a tunnel is set, else polling"), "auto")
        self.status_mode.addItem(self.tr("Webhooks through my tunnel"), "webhook")
        self.status_mode.addItem(self.tr("Polling"), "poll")
        self.status_mode.setCurrentIndex(
            max(self.status_mode.findData(settings.get("connection.status_mode")), 0)
        )
        self.public_url = QLineEdit(str(settings.get("connection.public_base_url")))
        self.public_url.setPlaceholderText(self.tr("https://your-tunnel.example"))
        self.webhook_port = QSpinBox()
        self.webhook_port.setRange(0, 65535)
        self.webhook_port.setSpecialValueText(self.tr("Any free port"))
        self.webhook_port.setValue(int(settings.get("webhooks.port")))
        self.test_tunnel_button = QPushButton(self.tr("Test"))
        self.test_tunnel_button.setToolTip(
            self.tr("Send a request through the public address and time its arrival here")
        )
        self.test_tunnel_button.clicked.connect(self._start_tunnel_test)
        self.test_tunnel_button.setEnabled(self._test_tunnel is not None)
        self.tunnel_result = QLabel()
        self.tunnel_result.setWordWrap(True)
        self.tunnel_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        url_row = QHBoxLayout()
        url_row.addWidget(self.public_url, 1)
        url_row.addWidget(self.test_tunnel_button)
        explanation = QLabel(self._tunnel_explanation(self.webhook_port.value()))
        explanation.setWordWrap(True)
        explanation.setEnabled(False)
        self.webhook_port.valueChanged.connect(
            lambda port: explanation.setText(self._tunnel_explanation(port))
        )
        form = QFormLayout()
        form.addRow(explanation)
        form.addRow(self.tr("Job status:"), self.status_mode)
        form.addRow(self.tr("Public base URL:"), url_row)
        form.addRow(self.tr("Receiver port:"), self.webhook_port)
        form.addRow(self.tunnel_result)
        group = QGroupBox(self.tr("Job status (cmfy.cloud)"))
        group.setLayout(form)
        return group

    def _tunnel_explanation(self, port: int) -> str:
        return self.tr(
            "cmfy.cloud reports finished jobs only to a public HTTPS address, which a desktop "
            "does not have. Run a tunnel (cloudflared, ngrok, Tailscale Funnel) that forwards "
            "to http://127.0.0.1:{port} and enter its public address here; without one, "
            "Cmfy Desk polls."
        ).format(port=port or self.tr("PORT"))

    def _start_tunnel_test(self) -> None:
        url = self.public_url.text().strip()
        if not url or self._test_tunnel is None or self._spawn is None:
            self.tunnel_result.setText(self.tr("Enter the public base URL of your tunnel first."))
            return
        self.test_tunnel_button.setEnabled(False)
        self.tunnel_result.setText(self.tr("Sending a request through {url}…").format(url=url))
        self._spawn(self._run_tunnel_test(url), self.tr("Testing the tunnel"))

    async def _run_tunnel_test(self, url: str) -> None:
        assert self._test_tunnel is not None
        try:
            self.tunnel_result.setText(await self._test_tunnel(url))
        finally:
            self.test_tunnel_button.setEnabled(True)

    def _build_queue_group(self, settings: Settings) -> QGroupBox:
        self.max_running = QSpinBox()
        self.max_running.setRange(0, 1000)
        # Shown in place of 0.
        self.max_running.setSpecialValueText(self.tr("No cap"))
        self.max_running.setValue(int(settings.get("queue.max_running")))
        self.max_running.setToolTip(
            self.tr(
                "Most jobs to run at once, below the plan's limit. 0 means no cap: as many as "
                "the plan allows."
            )
        )
        self.start_paused = QCheckBox(self.tr("Start with the queue paused"))
        self.start_paused.setChecked(bool(settings.get("queue.start_paused")))
        self.failures_before_pause = QSpinBox()
        self.failures_before_pause.setRange(0, 1000)
        self.failures_before_pause.setSpecialValueText(self.tr("Never"))
        self.failures_before_pause.setSuffix(self.tr(" failures in a row"))
        self.failures_before_pause.setValue(int(settings.get("queue.failures_before_pause")))
        self.failures_before_pause.setToolTip(
            self.tr("Pause a batch after this many of its jobs failed in a row; 0 never pauses")
        )
        self.cache_aware = QCheckBox(self.tr("Send jobs that use the same models together"))
        self.cache_aware.setChecked(bool(settings.get("queue.cache_aware")))
        self.cache_aware.setToolTip(
            self.tr(
                "Jobs that load the same model files go one after another, so that they run on "
                "nodes that already hold those models."
            )
        )
        note = QLabel(
            self.tr(
                "Queue settings apply when the queue restarts, which happens on OK unless "
                "jobs are running on the built-in sandbox; then they apply at the next start."
            )
        )
        note.setWordWrap(True)
        note.setEnabled(False)

        form = QFormLayout()
        form.addRow(self.tr("Max running jobs:"), self.max_running)
        form.addRow(self.tr("Pause a batch after:"), self.failures_before_pause)
        form.addRow(self.start_paused)
        form.addRow(self.cache_aware)
        form.addRow(note)
        group = QGroupBox(self.tr("Queue"))
        group.setLayout(form)
        return group

    def _build_history_group(self, settings: Settings) -> QGroupBox:
        self.keep_days = QSpinBox()
        self.keep_days.setRange(0, 36_500)
        # Shown in place of 0.
        self.keep_days.setSpecialValueText(self.tr("Forever"))
        self.keep_days.setSuffix(self.tr(" days"))
        self.keep_days.setValue(int(settings.get("history.keep_days")))
        self.keep_days.setToolTip(
            self.tr(
                "Finished batches older than this are removed from the history at start, with "
                "their jobs. Batches with unfinished jobs always stay."
            )
        )
        self.prune_button = QPushButton(self.tr("Prune now…"))
        self.prune_button.setToolTip(
            self.tr("Remove the finished batches older than the days set, after a confirmation")
        )
        self.prune_button.clicked.connect(self._ask_to_prune)

        self.prune_result = QLabel()
        self.prune_result.setWordWrap(True)
        # Shown once there is a result, so that the dialog stays short.
        self.prune_result.hide()
        self.keep_days.valueChanged.connect(self._update_prune_button)

        row = QHBoxLayout()
        row.addWidget(self.keep_days, 1)
        row.addWidget(self.prune_button)
        note = QLabel(self.tr("Images stay on disk and in the gallery."))
        note.setWordWrap(True)
        note.setEnabled(False)
        form = QFormLayout()
        form.addRow(self.tr("Keep batches for:"), row)
        form.addRow(note)
        form.addRow(self.prune_result)
        group = QGroupBox(self.tr("History"))
        group.setLayout(form)
        self._update_prune_button()
        return group

    def _show_prune_result(self, text: str) -> None:
        self.prune_result.setText(text)
        self.prune_result.show()

    def _update_prune_button(self) -> None:
        self.prune_button.setEnabled(
            self._history is not None and self._spawn is not None and self.keep_days.value() > 0
        )

    def _ask_to_prune(self) -> None:
        """Count what pruning with the days set would remove, and ask before removing it."""
        days = self.keep_days.value()
        if self._history is None or days <= 0 or self.prune_box is not None:
            return
        try:
            preview = self._history.preview_prune(days)
        except (StoreError, sqlite3.Error) as exc:
            self._show_prune_result(
                self.tr("Reading the history failed: {error}").format(error=exc)
            )
            return
        if preview.batches == 0:
            self._show_prune_result(
                self.tr("No finished batch is older than {days} days.").format(days=days)
            )
            return
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(self.tr("Prune the history"))
        box.setText(
            self.tr(
                "Remove {batches} finished batches with {jobs} jobs, created more than {days} "
                "days ago, from the history?"
            ).format(batches=preview.batches, jobs=preview.jobs, days=days)
        )
        box.setInformativeText(self.tr("Images stay on disk and in the gallery."))
        remove = box.addButton(self.tr("Remove"), QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)

        def answered() -> None:
            self.prune_box = None
            box.deleteLater()
            if box.clickedButton() is remove and self._spawn is not None:
                self.prune_button.setEnabled(False)
                self._show_prune_result(self.tr("Pruning the history…"))
                self._spawn(self._prune(days), self.tr("Pruning the history"))

        box.finished.connect(answered)
        self.prune_box = box
        box.open()

    async def _prune(self, days: int) -> None:
        assert self._history is not None
        try:
            result = await self._history.prune(days)
        except (StoreError, sqlite3.Error) as exc:
            self._show_prune_result(
                self.tr("Pruning the history failed: {error}").format(error=exc)
            )
            return
        finally:
            self._update_prune_button()
        self._show_prune_result(_pruned_text(result))

    def accept(self) -> None:
        problem = self._save()
        if problem is not None:
            self._error.setText(problem)
            self._error.show()
            return
        super().accept()

    def _save(self) -> str | None:
        """Write the settings and the key; return what is wrong instead when something is."""
        kind = str(self.connection.currentData())
        base_url = self.base_url.text().strip().rstrip("/")
        key = self.api_key.text()
        public_url = self.public_url.text().strip()
        if public_url and not public_url.startswith(("https://", "http://")):
            return self.tr(
                "The public base URL must start with https://, the address your tunnel gives."
            )
        if self.status_mode.currentData() == "webhook" and not public_url and kind == "cmfy":
            return self.tr(
                "Webhooks need the public base URL of your tunnel. Enter it, or choose polling."
            )
        template_problem = self._template_problem()
        if template_problem is not None:
            return template_problem
        if kind == "cmfy":
            if not base_url.startswith(("https://", "http://")):
                return self.tr(
                    "The base URL must start with https:// (or http:// for a server "
                    "on this computer)."
                )
            if key:
                problem = validate_api_key(key)
                if problem is not None:
                    return problem
            elif not self._has_key:
                return self.tr("Enter the API key shown in the cmfy.cloud portal.")

        try:
            self._settings.set("connection.kind", kind)
            if base_url:
                self._settings.set("connection.base_url", base_url)
            self._settings.set("output.folder", self.output_folder.text().strip())
            self._settings.set(
                "output.folder_template", self.folder_template.text() or DEFAULT_FOLDER_TEMPLATE
            )
            self._settings.set(
                "output.file_template", self.file_template.text() or DEFAULT_FILE_TEMPLATE
            )
            self._settings.set("sandbox.plan", str(self.sandbox_plan.currentData()))
            self._settings.set("sandbox.speed", float(self.sandbox_speed.value()))
            self._settings.set("queue.max_running", self.max_running.value())
            self._settings.set("queue.start_paused", self.start_paused.isChecked())
            self._settings.set("queue.failures_before_pause", self.failures_before_pause.value())
            self._settings.set("queue.cache_aware", self.cache_aware.isChecked())
            self._settings.set("connection.status_mode", str(self.status_mode.currentData()))
            self._settings.set("connection.public_base_url", self.public_url.text().strip())
            self._settings.set("webhooks.port", self.webhook_port.value())
            self._settings.set("history.keep_days", self.keep_days.value())
            self.notifications.preferences().save_to(self._settings)
        except ValueError as exc:
            return str(exc)
        try:
            self._settings.save()
        except OSError as exc:
            return self.tr("Saving the settings to {path} failed: {error}").format(
                path=self._settings.path, error=exc.strerror or exc
            )

        if key:
            self._keystore.set(API_KEY_ACCOUNT, key)
            self.key_notice = self._keystore.take_notice()
        return None

    def _browse(self) -> None:
        dialog = QFileDialog(self, self.tr("Output folder"), self.output_folder.text())
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
        dialog.fileSelected.connect(self.output_folder.setText)
        self._folder_dialog = dialog
        dialog.open()

    def _update_enabled(self) -> None:
        cloud = self.connection.currentData() == "cmfy"
        self.base_url.setEnabled(cloud)
        self.api_key.setEnabled(cloud)
        self.sandbox_plan.setEnabled(not cloud)
        self.sandbox_speed.setEnabled(not cloud)


def _pruned_text(result: PruneResult) -> str:
    return QCoreApplication.translate(
        "SettingsDialog", "Removed {batches} batches with {jobs} jobs from the history."
    ).format(batches=result.batches, jobs=result.jobs)


def open_about_box(parent: QWidget) -> None:
    """Show the version, the licence and the Qt and Python versions, without blocking."""
    box = QMessageBox(parent)
    box.setWindowTitle(QCoreApplication.translate("AboutBox", "About Cmfy Desk"))
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setIconPixmap(parent.windowIcon().pixmap(64, 64))
    box.setText(
        QCoreApplication.translate("AboutBox", "Cmfy Desk {version}").format(version=__version__)
    )
    box.setInformativeText(
        QCoreApplication.translate(
            "AboutBox",
            "Runs ComfyUI workflows in batches on cmfy.cloud or the built-in sandbox.\n\n"
            "Licence: GPL-3.0-or-later\n"
            "Qt {qt} · PySide6 {pyside} · Python {python}",
        ).format(qt=qVersion(), pyside=pyside_version, python=platform.python_version())
    )
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
