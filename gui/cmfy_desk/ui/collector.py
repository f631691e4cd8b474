"""Python's cyclic garbage collection, run on the Qt thread only.

The automatic collector runs on whichever thread happens to allocate, and worker threads
(downloads, renders, the image index) allocate all the time. A Qt object freed there is
destroyed off its thread, which Qt does not allow and which can crash the process. So the
automatic collector is switched off while the window runs, and a timer on the Qt thread
collects each generation when its threshold is reached, as the automatic one would.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

CHECK_INTERVAL_MS = 500


class MainThreadCollector(QObject):
    """Replaces automatic garbage collection with collection from a Qt timer."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(CHECK_INTERVAL_MS)
        self._timer.timeout.connect(self.check)
        self._was_enabled = gc.isenabled()

    def start(self) -> None:
        gc.disable()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        if self._was_enabled:
            gc.enable()

    def check(self) -> int:
        """Collect the oldest generation whose count passed its threshold; return how many
        objects were freed."""
        thresholds = gc.get_threshold()
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > thresholds[generation]:
                return gc.collect(generation)
        return 0
