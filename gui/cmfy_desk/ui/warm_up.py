"""Work done once, soon after the window is built, so that its first use stalls nothing.

The thumbnail worker processes start (a process and Pillow's import take a few hundred
milliseconds), and the bundled node definitions are parsed on a thread (tens of
milliseconds, otherwise spent on the UI thread when the first batch dialog opens).
"""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import QObject, QTimer

from cmfy_desk.outputs.thumbnail_workers import shared_workers
from cmfy_desk.workflows.definitions import NodeDefinitions

log = logging.getLogger(__name__)

# After the first paints of the window, which need the CPU more.
WARM_UP_DELAY_MS = 500


def warm_up_later(owner: QObject) -> None:
    """Warm up once, WARM_UP_DELAY_MS from now, unless ``owner`` is deleted first."""
    QTimer.singleShot(WARM_UP_DELAY_MS, owner, _warm_up)


def _warm_up() -> None:
    shared_workers().start()
    threading.Thread(target=_load_definitions, name="warm-up", daemon=True).start()


def _load_definitions() -> None:
    try:
        NodeDefinitions.bundled()
    except Exception:
        # The same error comes back, with its message, when a workflow needs the definitions.
        log.exception("Reading the bundled node definitions failed")
