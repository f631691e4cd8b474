"""Ending a command's output quietly when its reader closes the pipe, as ``| head`` does."""

from __future__ import annotations

import os
import sys


def discard_closed_stdout() -> None:
    """Point standard output at the null device after its reader closed the pipe, because
    Python flushes standard output again at exit, which must not fail a second time."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
