"""Connections: the default one described by the settings, and saved named ones.

Named connections (more cmfy.cloud accounts, ComfyUI servers, sandboxes) live in
``connections.json`` beside the settings, shared by the window and the command line. The
engine serves them beside the default connection, and each batch goes to the one the user
picks. Secrets never go there: a connection's API key (or the value of a ComfyUI server's auth
header) is kept in the OS keyring under the account ``connection:<name>``.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cmfy_desk.keystore import ApiKeyStore

log = logging.getLogger(__name__)

SANDBOX = "sandbox"
CMFY = "cmfy"
COMFYUI = "comfyui"
KINDS = (SANDBOX, CMFY, COMFYUI)
STATUS_MODES = ("auto", "webhook", "poll")
DEFAULT_CLOUD_URL = "https://api.cmfy.cloud"
DEFAULT_COMFYUI_URL = "http://127.0.0.1:8188"
# The keyring account of the default connection's cmfy.cloud key.
LEGACY_KEY_ACCOUNT = "cmfy"
# Names that mean the default connection on the command line.
RESERVED_NAMES = frozenset({"default", SANDBOX})
_NAME_PATTERN = re.compile(r"[\w .@()-]{1,60}")


@dataclass(frozen=True)
class ConnectionConfig:
    """One connection. ``kind`` "sandbox" starts the built-in sandbox on a loopback port.

    ``api_key`` is the cmfy.cloud key, or for a ComfyUI server behind a proxy the value of the
    header ``auth_header_name``. It is filled from the keyring and never saved with the rest.
    """

    kind: str = SANDBOX
    base_url: str = DEFAULT_CLOUD_URL
    api_key: str | None = None
    plan: str = "free"
    sandbox_speed: float = 5.0
    # A saved GET /object_info response to convert and check workflows with. Empty uses the
    # bundled definitions of ComfyUI's core nodes, or a ComfyUI server's own.
    definitions_file: str = ""
    name: str = ""
    # How job status arrives: webhooks through the user's tunnel, polling, or webhooks when a
    # public base URL is set (always for the sandbox, which reaches the receiver on loopback).
    status_mode: str = "auto"
    public_base_url: str = ""
    auth_header_name: str = ""
    # Prompts kept waiting on a ComfyUI server besides the one it runs.
    queue_depth: int = 1

    @property
    def label(self) -> str:
        """The name jobs and batches record as their connection."""
        if self.name:
            return self.name
        return SANDBOX if self.kind == SANDBOX else self.base_url

    @property
    def needs_secret(self) -> bool:
        return self.kind == CMFY


class InvalidConnection(ValueError):
    """A connection's fields are invalid. The message names the field and the fix."""


def check_connection(config: ConnectionConfig) -> str | None:
    """Return what is wrong with ``config``'s fields, or None."""
    if config.kind not in KINDS:
        return f"Unknown connection kind {config.kind!r}; use one of {', '.join(KINDS)}."
    if config.name and not _NAME_PATTERN.fullmatch(config.name):
        return (
            f"The connection name {config.name!r} is not allowed: use up to 60 letters, "
            "digits, spaces and . @ ( ) - _"
        )
    if config.status_mode not in STATUS_MODES:
        return f"Unknown status mode {config.status_mode!r}; use auto, webhook or poll."
    if config.kind != SANDBOX:
        problem = _url_problem(config.base_url)
        if problem:
            return f"The server address of {config.label}: {problem}"
    if config.public_base_url:
        problem = _url_problem(config.public_base_url)
        if problem:
            return f"The public webhook address of {config.label}: {problem}"
    if config.kind == CMFY and config.status_mode == "webhook" and not config.public_base_url:
        return (
            f"{config.label} receives status by webhook but has no public base URL. Enter the "
            "address of your tunnel, or choose polling."
        )
    if config.kind == COMFYUI and config.auth_header_name and ":" in config.auth_header_name:
        return "Enter the auth header's name without a colon, for example Authorization."
    return None


def _url_problem(url: str) -> str | None:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{url!r} is not an http:// or https:// address."
    return None


def secret_account(name: str) -> str:
    return f"connection:{name}"


class ConnectionList:
    """The saved named connections."""

    def __init__(self, path: Path, connections: list[ConnectionConfig]) -> None:
        self.path = path
        self.connections = connections

    @classmethod
    def load(cls, path: Path) -> ConnectionList:
        """Read ``path``. A missing file is an empty list. An unreadable one is logged and
        read as empty, and it is replaced only when the user saves."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls(path, [])
        except (OSError, ValueError) as exc:
            log.warning("Reading %s failed (%s); no saved connections", path, exc)
            return cls(path, [])
        connections: list[ConnectionConfig] = []
        known = {field.name for field in fields(ConnectionConfig)} - {"api_key"}
        entries = data.get("connections", []) if isinstance(data, dict) else []
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict):
                continue
            try:
                config = ConnectionConfig(**{k: v for k, v in entry.items() if k in known})
            except TypeError as exc:
                log.warning("Skipping a connection in %s: %s", path, exc)
                continue
            problem = check_connection(config) or (None if config.name else "it has no name")
            if problem:
                log.warning("Skipping a connection in %s: %s", path, problem)
                continue
            if all(other.name != config.name for other in connections):
                connections.append(config)
        return cls(path, connections)

    def get(self, name: str) -> ConnectionConfig | None:
        folded = name.casefold()
        return next((c for c in self.connections if c.name.casefold() == folded), None)

    def put(self, config: ConnectionConfig, *, replacing: str | None = None) -> None:
        """Add ``config``, or replace the connection named ``replacing`` (or its own name).
        Raises InvalidConnection for invalid fields or a name taken by another one."""
        problem = check_connection(config)
        if problem:
            raise InvalidConnection(problem)
        if not config.name:
            raise InvalidConnection("Give the connection a name.")
        if config.name.casefold() in RESERVED_NAMES:
            raise InvalidConnection(
                f"The name {config.name!r} is taken by the default connection; choose another."
            )
        old = replacing or config.name
        clash = self.get(config.name)
        if clash is not None and clash.name != old:
            raise InvalidConnection(f"A connection named {config.name!r} exists already.")
        config = replace(config, api_key=None)
        for index, existing in enumerate(self.connections):
            if existing.name == old:
                self.connections[index] = config
                return
        self.connections.append(config)

    def remove(self, name: str) -> None:
        self.connections = [c for c in self.connections if c.name != name]

    def save(self) -> None:
        """Write the list atomically; raises OSError when the folder is not writable."""
        entries = []
        for config in self.connections:
            entry: dict[str, Any] = asdict(config)
            entry.pop("api_key", None)
            entries.append(entry)
        text = json.dumps({"connections": entries}, indent=2) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(
            prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent
        )
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                file.write(text)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp_name, self.path)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise


def with_secret(config: ConnectionConfig, keystore: ApiKeyStore) -> ConnectionConfig:
    """Return the named ``config`` with its secret from the keyring."""
    if config.kind == SANDBOX or not config.name:
        return config
    return replace(config, api_key=keystore.get(secret_account(config.name)))
