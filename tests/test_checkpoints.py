"""Checkpoints of the write-ahead log run on their own thread, not in the engine's commits."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from cmfy_desk.store import Store
from cmfy_desk.store.checkpoints import DEFAULT_AUTOCHECKPOINT_PAGES, BackgroundCheckpoints


def autocheckpoint(connection: sqlite3.Connection) -> int:
    return int(connection.execute("PRAGMA wal_autocheckpoint").fetchone()[0])


def write_pages(connection: sqlite3.Connection, rows: int) -> None:
    connection.execute("CREATE TABLE IF NOT EXISTS filler (data BLOB)")
    for _ in range(rows):
        connection.execute("INSERT INTO filler VALUES (randomblob(8000))")


def test_log_is_copied_by_the_thread(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "db.sqlite3")
    checkpoints = BackgroundCheckpoints(store.path, store.connection, interval=0.05)
    checkpoints.start()
    try:
        assert autocheckpoint(store.connection) == 0
        # About 2,000 pages of 4 KB: past the automatic limit, which would have run in a commit.
        write_pages(store.connection, 1000)
        deadline = time.monotonic() + 10
        while checkpoints.checkpoints == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert checkpoints.checkpoints >= 1
    finally:
        checkpoints.stop()
    assert autocheckpoint(store.connection) == DEFAULT_AUTOCHECKPOINT_PAGES
    count = store.connection.execute("SELECT COUNT(*) FROM filler").fetchone()[0]
    store.close()
    reopened = sqlite3.connect(tmp_path / "db.sqlite3")
    assert reopened.execute("SELECT COUNT(*) FROM filler").fetchone()[0] == count == 1000
    reopened.close()


def test_stop_copies_what_is_left(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "db.sqlite3")
    checkpoints = BackgroundCheckpoints(store.path, store.connection, interval=60)
    checkpoints.start()
    write_pages(store.connection, 50)
    checkpoints.stop()
    assert checkpoints.checkpoints == 1
    # Everything is in the database file: every page of the log is copied.
    busy, log_pages, copied = store.connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert busy == 0
    assert log_pages == copied
    store.close()


def test_unopenable_database_stops_the_thread_quietly(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "db.sqlite3")
    checkpoints = BackgroundCheckpoints(tmp_path / "missing" / "db.sqlite3", store.connection)
    checkpoints.start()
    checkpoints.stop()
    assert checkpoints.checkpoints == 0
    # The engine's connection still works and checkpoints itself again.
    write_pages(store.connection, 5)
    assert autocheckpoint(store.connection) == DEFAULT_AUTOCHECKPOINT_PAGES
    store.close()


def test_idle_database_counts_one_checkpoint(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "db.sqlite3")
    # About 40 pages: far below the automatic limit, so they wait in the log for the thread.
    write_pages(store.connection, 20)
    checkpoints = BackgroundCheckpoints(store.path, store.connection, interval=0.02)
    checkpoints.start()
    time.sleep(0.5)
    checkpoints.stop()
    # About 25 turns looked at the same log after the writes; only the first copied anything.
    assert checkpoints.checkpoints == 1
    store.close()
