"""Python's cyclic garbage collection, run on the Qt thread only.

The automatic collector runs on whichever thread happens to allocate, and worker threads
(downloads, renders, the image index) allocate all the time. A Qt object freed there is
destroyed off its thread, which Qt does not allow and which can crash the process. So the
automatic collector is switched off while the window runs, and a timer on the Qt thread
collects each generation when its threshold is reached, as the automatic one would.

A collection of the oldest generation walks every object the program holds, which took 86 ms
with 1,000 jobs in the window (tests/benchmarks/ui_stall.py). Two things keep that off the
UI thread's critical path: ``freeze()`` moves what exists once the window is up (modules,
the first rows) out of the collector's sight, and a full collection runs at most once per
FULL_COLLECTION_INTERVAL_S. CPython's automatic collector postpones most full collections
too: it runs one only when a quarter of the long-lived objects are new.
"""

from __future__ import annotations

import gc
import time

from PySide6.QtCore import QObject, QTimer

CHECK_INTERVAL_MS = 500
FULL_COLLECTION_INTERVAL_S = 60.0


class MainThreadCollector(QObject):
    """Replaces automatic garbage collection with collection from a Qt timer."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(CHECK_INTERVAL_MS)
        self._timer.timeout.connect(self.check)
        self._was_enabled = gc.isenabled()
        self._last_full = time.monotonic()

    def start(self) -> None:
        gc.disable()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        gc.unfreeze()
        if self._was_enabled:
            gc.enable()

    def freeze(self) -> None:
        """Leave every object that exists now out of later collections. Objects that become
        garbage later are still freed by reference counting; only cycles among them stay."""
        gc.freeze()

    def check(self) -> int:
        """Collect the oldest generation whose count passed its threshold; return how many
        objects were freed. The oldest generation waits for FULL_COLLECTION_INTERVAL_S to pass
        since the last full collection; until then the middle one is collected instead."""
        thresholds = gc.get_threshold()
        counts = gc.get_count()
        now = time.monotonic()
        if counts[2] > thresholds[2] and now - self._last_full >= FULL_COLLECTION_INTERVAL_S:
            self._last_full = now
            return gc.collect(2)
        for generation in (1, 0):
            if counts[generation] > thresholds[generation]:
                return gc.collect(generation)
        return 0
