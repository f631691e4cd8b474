"""Named connections: more cmfy.cloud accounts, ComfyUI servers and sandboxes.

The list is saved beside the settings; each secret goes to the keyring. On accept the window
restarts the engine so that it serves the saved list. A ComfyUI server can be tested here:
the dialog reads its ``/system_stats`` and shows the version and devices.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from cmfy_desk.connections import (
    CMFY,
    COMFYUI,
    DEFAULT_CLOUD_URL,
    DEFAULT_COMFYUI_URL,
    SANDBOX,
    ConnectionConfig,
    ConnectionList,
    InvalidConnection,
    secret_account,
)
from cmfy_desk.keystore import ApiKeyStore, validate_api_key
from cmfy_desk.ui.theme import error_style

log = logging.getLogger(__name__)

Spawn = Callable[[Coroutine[Any, Any, None], str], None]


class ConnectionsDialog(QDialog):
    """Edits the saved connections. ``saved`` is written on accept; secrets typed here go to
    the keyring then. ``spawn`` runs the connection test without blocking the window."""

    def __init__(
        self,
        saved: ConnectionList,
        keystore: ApiKeyStore,
        spawn: Spawn,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Connections"))
        self.setMinimumSize(720, 420)
        self._saved = saved
        self._keystore = keystore
        self._spawn = spawn
        self._working = list(saved.connections)
        self._secrets: dict[str, str] = {}
        self._renamed: dict[str, str] = {}
        self._current: int | None = None
        self.key_notice: str | None = None

        self.list = QListWidget()
        self.list.currentRowChanged.connect(self._show)
        self.add_button = QPushButton(self.tr("Add"))
        self.add_button.clicked.connect(self._add)
        self.remove_button = QPushButton(self.tr("Remove"))
        self.remove_button.clicked.connect(self._remove)
        list_buttons = QHBoxLayout()
        list_buttons.addWidget(self.add_button)
        list_buttons.addWidget(self.remove_button)
        left = QVBoxLayout()
        left.addWidget(self.list, 1)
        left.addLayout(list_buttons)

        self.name = QLineEdit()
        self.kind = QComboBox()
        self.kind.addItem(self.tr("ComfyUI server"), COMFYUI)
        self.kind.addItem(self.tr("cmfy.cloud account"), CMFY)
        self.kind.addItem(self.tr("Sandbox (built-in)"), SANDBOX)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.url = QLineEdit()
        self.secret = QLineEdit()
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.auth_header = QLineEdit()
        self.auth_header.setPlaceholderText(
            self.tr("only behind an auth proxy, e.g. Authorization")
        )
        self.plan = QComboBox()
        for plan in ("free", "pro", "enterprise"):
            self.plan.addItem(plan, plan)
        self.status_mode = QComboBox()
        self.status_mode.addItem(self.tr("Webhooks when a tunnel is set, else polling"), "auto")
        self.status_mode.addItem(self.tr("Webhooks through my tunnel"), "webhook")
        self.status_mode.addItem(self.tr("Polling"), "poll")
        self.public_url = QLineEdit()
        self.public_url.setPlaceholderText("https://…")
        self.queue_depth = QSpinBox()
        self.queue_depth.setRange(0, 50)
        self.queue_depth.setToolTip(
            self.tr(
                "Prompts kept waiting on the server besides the one it runs, so the next one "
                "starts at once"
            )
        )
        self.test_button = QPushButton(self.tr("Test connection"))
        self.test_button.clicked.connect(self._test)
        self.test_result = QLabel()
        self.test_result.setWordWrap(True)
        self.test_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.form = QFormLayout()
        self.form.addRow(self.tr("Name:"), self.name)
        self.form.addRow(self.tr("Kind:"), self.kind)
        self.form.addRow(self.tr("Server address:"), self.url)
        self.form.addRow(self.tr("Auth header:"), self.auth_header)
        self.form.addRow(self.tr("API key or header value:"), self.secret)
        self.form.addRow(self.tr("Plan:"), self.plan)
        self.form.addRow(self.tr("Job status:"), self.status_mode)
        self.form.addRow(self.tr("Public base URL:"), self.public_url)
        self.form.addRow(self.tr("Prompts waiting:"), self.queue_depth)
        self.form.addRow(self.test_button, self.test_result)
        self.editor = QWidget()
        self.editor.setLayout(self.form)

        self.error = QLabel()
        self.error.setStyleSheet(error_style())
        self.error.setWordWrap(True)
        self.error.hide()
        hint = QLabel(
            self.tr(
                "The default connection is set in Settings. Connections listed here run at "
                "the same time; choose one for each batch in the batch dialog."
            )
        )
        hint.setWordWrap(True)
        hint.setEnabled(False)

        columns = QHBoxLayout()
        columns.addLayout(left, 1)
        columns.addWidget(self.editor, 2)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(hint)
        layout.addLayout(columns, 1)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

        for config in self._working:
            self.list.addItem(QListWidgetItem(config.name))
        if self._working:
            self.list.setCurrentRow(0)
        self._update_enabled()

    # Editing -------------------------------------------------------------------------------

    def _show(self, row: int) -> None:
        if self._current is not None and self._current != row and not self._store_form():
            self.list.blockSignals(True)
            self.list.setCurrentRow(self._current)
            self.list.blockSignals(False)
            return
        self._current = row if 0 <= row < len(self._working) else None
        self._update_enabled()
        if self._current is None:
            return
        config = self._working[self._current]
        self.name.setText(config.name)
        self.kind.setCurrentIndex(max(self.kind.findData(config.kind), 0))
        self.url.setText(config.base_url)
        self.auth_header.setText(config.auth_header_name)
        self.secret.clear()
        has_secret = self._keystore.get(secret_account(config.name)) is not None
        self.secret.setPlaceholderText(
            self.tr("stored; type a new one to replace it") if has_secret else ""
        )
        self.plan.setCurrentIndex(max(self.plan.findData(config.plan), 0))
        self.status_mode.setCurrentIndex(max(self.status_mode.findData(config.status_mode), 0))
        self.public_url.setText(config.public_base_url)
        self.queue_depth.setValue(config.queue_depth)
        self.test_result.clear()
        self._kind_changed()

    def _form_config(self) -> ConnectionConfig:
        kind = str(self.kind.currentData())
        return ConnectionConfig(
            kind=kind,
            name=self.name.text().strip(),
            base_url=self.url.text().strip().rstrip("/") if kind != SANDBOX else "",
            plan=str(self.plan.currentData()),
            status_mode=str(self.status_mode.currentData()) if kind != COMFYUI else "auto",
            public_base_url=self.public_url.text().strip() if kind != COMFYUI else "",
            auth_header_name=self.auth_header.text().strip() if kind == COMFYUI else "",
            queue_depth=self.queue_depth.value(),
        )

    def _store_form(self) -> bool:
        """Check the form and keep it in the working list; False (with the error shown) when
        it is invalid."""
        if self._current is None:
            return True
        config = self._form_config()
        old = self._working[self._current]
        scratch = ConnectionList(self._saved.path, list(self._working))
        try:
            scratch.put(config, replacing=old.name)
        except InvalidConnection as exc:
            return self._fail(str(exc))
        secret = self.secret.text()
        if secret and config.kind == CMFY:
            problem = validate_api_key(secret)
            if problem:
                return self._fail(problem)
        if secret:
            self._secrets[config.name] = secret
            self.secret.clear()
        if old.name and old.name != config.name:
            self._renamed[old.name] = config.name
        self._working[self._current] = config
        item = self.list.item(self._current)
        if item is not None:
            item.setText(config.name)
        self.error.hide()
        return True

    def _fail(self, message: str) -> bool:
        self.error.setText(message)
        self.error.show()
        return False

    def _add(self) -> None:
        if not self._store_form():
            return
        taken = {config.name.casefold() for config in self._working}
        number = 1
        while f"comfyui {number}" in taken:
            number += 1
        config = ConnectionConfig(
            kind=COMFYUI, name=f"ComfyUI {number}", base_url=DEFAULT_COMFYUI_URL
        )
        self._working.append(config)
        self.list.addItem(QListWidgetItem(config.name))
        self._current = None
        self.list.setCurrentRow(len(self._working) - 1)
        self.name.setFocus()
        self.name.selectAll()

    def _remove(self) -> None:
        if self._current is None:
            return
        name = self._working[self._current].name
        answer = QMessageBox.question(
            self,
            self.tr("Remove connection"),
            self.tr(
                "Remove the connection {name}? Its jobs stay in the history; queued ones "
                "wait until a connection of that name exists again."
            ).format(name=name),
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        row = self._current
        del self._working[row]
        self._current = None
        self.list.takeItem(row)
        self._show(self.list.currentRow())

    def _kind_changed(self) -> None:
        kind = self.kind.currentData()
        cloud, comfy = kind == CMFY, kind == COMFYUI
        for widget, visible in (
            (self.url, kind != SANDBOX),
            (self.auth_header, comfy),
            (self.secret, kind != SANDBOX),
            (self.plan, not comfy),
            (self.status_mode, not comfy),
            (self.public_url, not comfy),
            (self.queue_depth, comfy),
            (self.test_button, comfy),
            (self.test_result, comfy),
        ):
            self.form.setRowVisible(widget, visible)
        if not self.url.text().strip() or self.url.text() in (
            DEFAULT_CLOUD_URL,
            DEFAULT_COMFYUI_URL,
        ):
            self.url.setText(DEFAULT_CLOUD_URL if cloud else DEFAULT_COMFYUI_URL)
        self.secret.setToolTip(
            self.tr("The sk_live_… key from the cmfy.cloud portal")
            if cloud
            else self.tr("The value of the auth header, kept in the keyring")
        )

    def _update_enabled(self) -> None:
        self.editor.setEnabled(self._current is not None)
        self.remove_button.setEnabled(self._current is not None)

    # Testing -------------------------------------------------------------------------------

    def _test(self) -> None:
        config = self._form_config()
        secret = self.secret.text() or self._keystore.get(secret_account(config.name))
        self.test_result.setText(self.tr("Connecting…"))
        self.test_button.setEnabled(False)
        self._spawn(self._run_test(replace(config, api_key=secret)), self.tr("Testing"))

    async def _run_test(self, config: ConnectionConfig) -> None:
        from cmfy_desk.backends.comfyui import ComfyUIClient
        from cmfy_desk.backends.errors import BackendError

        auth = (
            (config.auth_header_name, config.api_key)
            if config.auth_header_name and config.api_key
            else None
        )
        client = ComfyUIClient(config.base_url, client_id="cmfy-desk-test", auth_header=auth)
        try:
            stats = await asyncio.wait_for(client.system_stats(), timeout=15)
            text = describe_server(stats)
        except (BackendError, TimeoutError) as exc:
            text = self.tr("{url} did not answer as a ComfyUI server: {error}").format(
                url=config.base_url, error=exc
            )
        finally:
            await client.aclose()
        self.test_result.setText(text)
        self.test_button.setEnabled(True)

    # Saving --------------------------------------------------------------------------------

    def accept(self) -> None:
        if not self._store_form():
            return
        self._saved.connections = list(self._working)
        try:
            self._saved.save()
        except OSError as exc:
            self._fail(
                self.tr("Saving {path} failed: {error}").format(
                    path=self._saved.path, error=exc.strerror or exc
                )
            )
            return
        for old, new in self._renamed.items():
            secret = self._keystore.get(secret_account(old))
            if secret is not None and new not in self._secrets:
                self._secrets[new] = secret
        for name, secret in self._secrets.items():
            self._keystore.set(secret_account(name), secret)
        self.key_notice = self._keystore.take_notice()
        super().accept()


def describe_server(stats: dict[str, Any]) -> str:
    """One line about a ComfyUI server from its ``/system_stats``: version, Python, devices."""
    system = stats.get("system")
    system = system if isinstance(system, dict) else {}
    devices = stats.get("devices")
    names = [
        str(device.get("name"))
        for device in (devices if isinstance(devices, list) else [])
        if isinstance(device, dict)
    ]
    return QCoreApplication.translate(
        "ConnectionsDialog", "ComfyUI {version}, Python {python}, devices: {devices}"
    ).format(
        version=system.get("comfyui_version") or "?",
        python=str(system.get("python_version") or "?").split(" ")[0],
        devices=", ".join(names) or QCoreApplication.translate("ConnectionsDialog", "none listed"),
    )
