"""User settings: one declared table of keys, types and defaults, stored as a JSON file.

A bad value in the file is logged and replaced by its default, so a hand-edited or corrupt
file never stops the app from starting. Secrets never go here: API keys live in the OS
keyring (see cmfy_desk.keystore).
"""

from __future__ import annotations

import json
import logging
import os
import re
import reprlib
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cmfy_desk.outputs.name_template import (
    DEFAULT_FILE_TEMPLATE,
    DEFAULT_FOLDER_TEMPLATE,
    check_template,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Setting:
    """One declared setting. ``minimum`` and ``maximum`` bound numeric settings (inclusive).
    ``check``, when given, returns what is wrong with a value of the right type, or None."""

    key: str
    type: type
    default: object
    help: str
    choices: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    check: Callable[[Any], str | None] | None = None


@dataclass(frozen=True)
class InvalidSetting:
    """A value in the settings file that was replaced by its setting's default."""

    key: str
    problem: str
    default: object

    def message(self) -> str:
        """Return a sentence naming the setting, what is wrong and the default used instead."""
        problem = self.problem if self.problem.endswith(".") else self.problem + "."
        return f"Invalid setting {self.key}: {problem} Using the default {self.default!r} instead."


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "connection.kind",
        str,
        "sandbox",
        "Where jobs run by default: the built-in sandbox or cmfy.cloud",
        choices=("sandbox", "cmfy"),
    ),
    Setting(
        "connection.base_url",
        str,
        "https://api.cmfy.cloud",
        "Base URL of the cmfy.cloud API, without the /v1 path",
    ),
    Setting(
        "output.folder",
        str,
        "",
        "Folder where outputs are saved; empty means the default Cmfy Desk pictures folder",
    ),
    Setting(
        "output.folder_template",
        str,
        DEFAULT_FOLDER_TEMPLATE,
        "Name of each batch's folder inside the output folder; / makes subfolders. Tokens: "
        "{date} {time} {batch} {workflow} {seed} {model} {width} {height} {prompt} {prompt:N}",
        check=check_template,
    ),
    Setting(
        "output.file_template",
        str,
        DEFAULT_FILE_TEMPLATE,
        "Name of each output file, without its extension. Tokens: {date} {time} {batch} "
        "{workflow} {job} {index} {seed} {model} {width} {height} {prompt} {prompt:N}",
        check=check_template,
    ),
    Setting(
        "batch.count",
        int,
        4,
        "Number of jobs a new batch makes from one workflow",
        minimum=1,
        maximum=10_000,
    ),
    Setting(
        "batch.seed_mode",
        str,
        "random",
        "How seeds vary across a batch: the same seed, counting up, or random",
        choices=("fixed", "increment", "random"),
    ),
    Setting(
        "sandbox.plan",
        str,
        "free",
        "cmfy.cloud plan whose limits the built-in sandbox imitates",
        choices=("free", "pro", "enterprise"),
    ),
    Setting(
        "sandbox.speed",
        float,
        5.0,
        "How many times faster than real time the built-in sandbox runs jobs",
        minimum=0.01,
        maximum=1000.0,
    ),
    Setting(
        "queue.max_running",
        int,
        0,
        "Most jobs to run at once on the connection, below the plan's limit; 0 means no cap",
        minimum=0,
        maximum=1000,
    ),
    Setting("queue.start_paused", bool, False, "Start with the queue paused"),
    Setting(
        "queue.max_attempts",
        int,
        5,
        "Submissions of one job before it fails on network errors and 5xx answers",
        minimum=1,
        maximum=100,
    ),
    Setting(
        "queue.failures_before_pause",
        int,
        3,
        "Pause a batch after this many of its jobs failed in a row; 0 never pauses",
        minimum=0,
        maximum=1000,
    ),
    Setting(
        "queue.cache_aware",
        bool,
        True,
        "Send jobs that use the same models one after another, so they land on warm nodes",
    ),
    Setting(
        "workflows.definitions_file",
        str,
        "",
        "Node definitions for converting editor-format workflows: a saved GET /object_info "
        "response of your ComfyUI server; empty uses ComfyUI 0.8.0's core nodes, bundled",
    ),
    Setting(
        "connection.status_mode",
        str,
        "auto",
        "How job status arrives: webhooks through your tunnel, polling, or webhooks when a "
        "public base URL is set",
        choices=("auto", "webhook", "poll"),
    ),
    Setting(
        "connection.public_base_url",
        str,
        "",
        "Public HTTPS address of your tunnel (cloudflared, ngrok...) to the webhook receiver",
    ),
    Setting(
        "webhooks.port",
        int,
        8765,
        "Loopback port of the webhook receiver, where your tunnel forwards; 0 picks a free port",
        minimum=0,
        maximum=65535,
    ),
    Setting(
        "notifications.batch_done",
        str,
        "in_app",
        "How to announce a batch whose jobs have all ended, at least one with success: "
        "none, in_app (a notice in the window) or desktop (a desktop notification)",
        choices=("none", "in_app", "desktop"),
    ),
    Setting(
        "notifications.batch_failed",
        str,
        "desktop",
        "How to announce a batch that ended without any success or was paused after failures "
        "in a row: none, in_app or desktop",
        choices=("none", "in_app", "desktop"),
    ),
    Setting(
        "notifications.connection_problem",
        str,
        "in_app",
        "How to announce that the webhook tunnel or a ComfyUI server's websocket went down, or "
        "that connecting failed: none, in_app or desktop",
        choices=("none", "in_app", "desktop"),
    ),
    Setting(
        "notifications.sound",
        bool,
        False,
        "Play the system beep with each notification that is shown",
    ),
    Setting(
        "appearance.theme",
        str,
        "system",
        "Colour theme of the window: follow the system's light or dark mode, or always light "
        "or dark",
        choices=("system", "light", "dark"),
    ),
    Setting(
        "history.keep_days",
        int,
        0,
        "Days to keep finished batches and their jobs in the history; older ones are removed "
        "at start. Images stay on disk and in the gallery. 0 keeps the history forever",
        minimum=0,
        maximum=36_500,
    ),
    Setting("window.geometry", str, "", "Saved main window geometry (Qt's saveGeometry, base64)"),
    Setting("window.state", str, "", "Saved main window layout (Qt's saveState, base64)"),
)

_SETTINGS_BY_KEY = {setting.key: setting for setting in SETTINGS}

# The form of a cmfy.cloud API key, checked so that a key pasted into the wrong field is never
# written to the settings file in plain text.
_API_KEY_PATTERN = re.compile(r"sk_(?:live|test)_[A-Za-z0-9]{20,}")

_short_repr = reprlib.Repr()
_short_repr.maxstring = 60
_short_repr.maxother = 60


class Settings:
    """Settings read from and saved to one JSON file of ``{key: value}``.

    Keys in the file that this version does not declare are kept and written back on save,
    because a newer version may have written them.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._values: dict[str, Any] = {}
        # The declared settings whose value in the file was invalid, in file order.
        self.invalid: list[InvalidSetting] = []
        for key, value in self._read_file().items():
            setting = _SETTINGS_BY_KEY.get(key)
            if setting is None:
                self._values[key] = value
                continue
            problem = _problem(setting, value)
            if problem is not None:
                logger.warning(
                    "Setting %s in %s is invalid (%s); using the default %r",
                    key,
                    path,
                    problem,
                    setting.default,
                )
                self.invalid.append(InvalidSetting(key, problem, setting.default))
                continue
            self._values[key] = _normalize(setting, value)

    def get(self, key: str) -> Any:
        """Return the value of a declared setting, or its default when it was never set."""
        setting = _declared(key)
        return self._values.get(key, setting.default)

    def set(self, key: str, value: Any) -> None:
        """Set a declared setting in memory; call save() to write it.

        Raises KeyError for an undeclared key and ValueError for a value of the wrong type,
        outside the choices or range, or one that looks like an API key.
        """
        setting = _declared(key)
        problem = _problem(setting, value)
        if problem is not None:
            raise ValueError(f"Invalid value for setting {key}: {problem}.")
        self._values[key] = _normalize(setting, value)

    def save(self) -> None:
        """Write the settings atomically: to a temporary file, then renamed over the old one.

        Raises OSError when the folder is not writable; the old file is then left as it was.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self._values, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
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

    def _read_file(self) -> dict[str, Any]:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            logger.warning("Cannot read settings file %s (%s); using defaults", self.path, exc)
            return {}

        try:
            document = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            self._set_aside(f"not valid JSON: {exc}")
            return {}
        if not isinstance(document, dict):
            self._set_aside(f"a JSON {type(document).__name__}, not an object")
            return {}
        return document

    def _set_aside(self, problem: str) -> None:
        """Rename a corrupt settings file to ``*.bad`` so that the next save does not lose it."""
        bad_path = self.path.with_name(self.path.name + ".bad")
        try:
            os.replace(self.path, bad_path)
        except OSError as exc:
            logger.warning(
                "Settings file %s is %s, and renaming it failed (%s); using defaults",
                self.path,
                problem,
                exc,
            )
            return
        logger.warning(
            "Settings file %s is %s; moved it to %s and using defaults",
            self.path,
            problem,
            bad_path,
        )


def _declared(key: str) -> Setting:
    setting = _SETTINGS_BY_KEY.get(key)
    if setting is None:
        raise KeyError(f"Unknown setting {key!r}")
    return setting


def _problem(setting: Setting, value: object) -> str | None:
    """Return what is wrong with ``value`` for ``setting``, or None when it is valid."""
    expected = setting.type.__name__
    if setting.type is float:
        valid_type = isinstance(value, int | float) and not isinstance(value, bool)
    elif setting.type is int:
        valid_type = isinstance(value, int) and not isinstance(value, bool)
    else:
        valid_type = isinstance(value, setting.type)
    if not valid_type:
        return f"expected {expected}, got {type(value).__name__} {_short_repr.repr(value)}"

    if setting.choices is not None and value not in setting.choices:
        return f"expected one of {', '.join(setting.choices)}, got {_short_repr.repr(value)}"
    if isinstance(value, int | float):
        if value != value:  # NaN
            return f"expected a {expected} number, got NaN"
        if setting.minimum is not None and value < setting.minimum:
            return f"expected at least {setting.minimum:g}, got {value}"
        if setting.maximum is not None and value > setting.maximum:
            return f"expected at most {setting.maximum:g}, got {value}"
    if isinstance(value, str) and _API_KEY_PATTERN.search(value):
        # Deliberately no repr of the value here: it may be a secret.
        return "the value looks like an API key, which is stored only in the system keyring"
    if setting.check is not None:
        return setting.check(value)
    return None


def _normalize(setting: Setting, value: Any) -> Any:
    if setting.type is float:
        return float(value)
    return value
