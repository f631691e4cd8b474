"""Write-ahead log checkpoints on a thread of their own, away from the connection's thread.

In WAL mode a commit appends to the log and, with synchronous=NORMAL, waits for no disk
flush. Every thousand pages or so SQLite copies the log into the database file and flushes it,
during the commit that crossed the limit. On the engine's connection, which the UI thread
uses, that commit then waited tens of milliseconds for the disk. BackgroundCheckpoints turns
the automatic checkpoint off on that connection and runs it from a thread with a connection
of its own. sqlite3 releases the interpreter lock while it works.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger(__name__)

# How often the thread looks at the log, in seconds.
CHECKPOINT_INTERVAL = 2.0
# SQLite's own default for wal_autocheckpoint, in pages; restored when the thread stops.
DEFAULT_AUTOCHECKPOINT_PAGES = 1000


class BackgroundCheckpoints:
    """Checkpoints the database at ``path`` every CHECKPOINT_INTERVAL seconds on a thread,
    in place of the automatic checkpoints of ``connection``."""

    def __init__(
        self, path: Path, connection: sqlite3.Connection, interval: float = CHECKPOINT_INTERVAL
    ) -> None:
        self.path = path
        self.interval = interval
        self.checkpoints = 0
        self._connection = connection
        self._last_result: tuple[int, int] = (0, 0)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._connection.execute("PRAGMA wal_autocheckpoint=0")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="checkpoints", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread after one last checkpoint, and give the automatic checkpoints back
        to the connection."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        thread.join()
        try:
            self._connection.execute(f"PRAGMA wal_autocheckpoint={DEFAULT_AUTOCHECKPOINT_PAGES}")
        except sqlite3.Error as exc:
            log.debug("Cannot restore automatic checkpoints on %s: %s", self.path, exc)

    def _run(self) -> None:
        try:
            connection = sqlite3.connect(self.path, check_same_thread=False)
        except sqlite3.Error as exc:
            log.warning("No checkpoint thread for %s: %s", self.path, exc)
            return
        try:
            connection.execute("PRAGMA busy_timeout=5000")
            while not self._stop.wait(self.interval):
                self._checkpoint(connection)
            self._checkpoint(connection)
        finally:
            connection.close()

    def _checkpoint(self, connection: sqlite3.Connection) -> None:
        try:
            # PASSIVE does not wait for readers or writers (SQLite's documentation of
            # wal_checkpoint): what it cannot copy now, it copies at the next turn.
            _busy, log_pages, copied = connection.execute(
                "PRAGMA wal_checkpoint(PASSIVE)"
            ).fetchone()
        except sqlite3.Error as exc:
            log.warning("Checkpoint of %s failed: %s", self.path, exc)
            return
        # Until the next write, the log keeps its pages and every checkpoint reports them
        # again, so only a change counts.
        if log_pages > 0 and (log_pages, copied) != self._last_result:
            self.checkpoints += 1
            log.debug("Checkpoint of %s: %d of %d log pages copied", self.path, copied, log_pages)
        self._last_result = (log_pages, copied)
