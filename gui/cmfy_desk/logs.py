"""Logging: a rotating file in the log folder, and redaction that keeps API keys out of it."""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
from pathlib import Path

LOG_FILE_NAME = "cmfy-desk.log"
LOG_FILE_BYTES = 2 * 1024 * 1024
LOG_FILE_COUNT = 5

_SECRET_PATTERNS = (
    re.compile(r"sk_(live|test)_[A-Za-z0-9]{8,}"),
    re.compile(r"(Bearer\s+)\S+", re.IGNORECASE),
)


def redact(text: str) -> str:
    """Replace anything that looks like an API key or a bearer token."""
    text = _SECRET_PATTERNS[0].sub(r"sk_\1_[redacted]", text)
    return _SECRET_PATTERNS[1].sub(r"\1[redacted]", text)


class RedactingFilter(logging.Filter):
    """Rewrites each record's final message with its secrets replaced."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True


class RedactingFormatter(logging.Formatter):
    """Formats a record and then redacts the whole text, including the traceback and stack,
    which a filter never sees: an exception's message may quote a request header."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def setup_logging(log_dir: Path, *, console_level: int | None = logging.WARNING) -> Path:
    """Send the app's log to a rotating file and, optionally, warnings to stderr."""
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / LOG_FILE_NAME
    root = logging.getLogger()
    root.setLevel(logging.DEBUG)
    for handler in list(root.handlers):
        if getattr(handler, "_cmfy_desk", False):
            root.removeHandler(handler)
            handler.close()
    file_handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=LOG_FILE_BYTES, backupCount=LOG_FILE_COUNT, encoding="utf-8"
    )
    file_handler.setLevel(logging.DEBUG)
    file_handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handlers: list[logging.Handler] = [file_handler]
    if console_level is not None:
        console = logging.StreamHandler()
        console.setLevel(console_level)
        console.setFormatter(RedactingFormatter("%(levelname)s %(name)s: %(message)s"))
        handlers.append(console)
    for handler in handlers:
        handler.addFilter(RedactingFilter())
        handler._cmfy_desk = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    # httpx and h2 log every frame at DEBUG; one line per request is ours to write.
    # qasync logs every callback at DEBUG, including whole workflow graphs in their arguments.
    for noisy in ("httpx", "httpcore", "hpack", "h2", "aiohttp.access", "asyncio", "qasync"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return path


def current_log_file() -> Path | None:
    """Return the file that setup_logging() sends the log to, or None before it ran."""
    for handler in logging.getLogger().handlers:
        if getattr(handler, "_cmfy_desk", False) and isinstance(handler, logging.FileHandler):
            return Path(handler.baseFilename)
    return None


def last_log_lines(path: Path, count: int, *, max_bytes: int = 256 * 1024) -> list[str]:
    """Return the last ``count`` lines of the log file at ``path``, redacted.

    Reads at most ``max_bytes`` from the end of the file, so a long line cut at that boundary
    comes back without its start. Returns an empty list when the file cannot be read.
    """
    try:
        with path.open("rb") as file:
            size = file.seek(0, os.SEEK_END)
            file.seek(max(0, size - max_bytes))
            data = file.read()
    except OSError:
        return []
    lines = data.decode("utf-8", errors="replace").splitlines()
    return [redact(line) for line in lines[-count:]] if count > 0 else []
