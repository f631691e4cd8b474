"""The image index: one row per image file in ``images``, searched through ``images_fts``.

Gallery wraps one sqlite3 connection, and ``Store.gallery`` is the one on the app's own
connection. A worker thread that scans folders opens a Store of its own, because one connection
cannot run two transactions at once. Rows are written by outputs/index.py and searched with an
ImageQuery (store/image_query.py), which outputs/query.py builds from the text a person types.
Every value reaches SQL as a bound parameter.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cmfy_desk.store.image_query import (
    CASEFOLD_FUNCTION,
    LIST_SEPARATOR,
    ORDER_BY,
    ImageQuery,
    ImageSource,
    ImageStatus,
    build_where,
    match_expressions,
    path_prefix_range,
    seed_from_column,
    seed_to_column,
)

# Rows changed per statement by the bulk setters, well below SQLite's parameter limit.
_CHUNK = 500
# A count walks the list of text matches when it has at most this many entries, and an index
# of a filter otherwise. Each match costs a row lookup of about 0.3 µs (measured with
# tests/benchmarks/search.py on a 2-core machine).
_TEXT_DRIVER_LIMIT = 10_000
# Seconds per slot when counting images by day. A quarter hour divides every UTC offset in use.
_DAY_SLOT = 900

MISSING_MESSAGE = "The file was not found when its folder was last scanned."


@dataclass(frozen=True)
class ImageData:
    """The indexed facts of one image file, as ``upsert`` writes them.

    ``created_at`` is a Unix time. ``file_size`` and ``file_mtime_ns`` are the file's as
    indexed, so a rescan can skip files that did not change.
    """

    path: str
    source: ImageSource
    created_at: float
    output_id: int | None = None
    job_id: int | None = None
    batch_id: int | None = None
    connection: str = ""
    prompt: str = ""
    negative: str = ""
    seed: int | None = None
    steps: int | None = None
    cfg: float | None = None
    sampler: str = ""
    width: int | None = None
    height: int | None = None
    models: tuple[str, ...] = ()
    model_urls: tuple[str, ...] = ()
    workflow_hash: str = ""
    file_size: int = 0
    file_mtime_ns: int = 0
    status: ImageStatus = ImageStatus.OK
    message: str = ""


@dataclass(frozen=True)
class ImageRecord(ImageData):
    """An indexed image: what the indexer wrote plus the person's rating, favourite and tags."""

    id: int = 0
    rating: int = 0
    favourite: bool = False
    tags: tuple[str, ...] = ()
    indexed_at: float = 0.0


@dataclass(frozen=True)
class FileState:
    """The file as last indexed, to decide whether a rescan must read it again."""

    size: int
    mtime_ns: int
    status: ImageStatus
    source: ImageSource


@dataclass(frozen=True)
class BatchFacet:
    batch_id: int
    name: str
    count: int


@dataclass(frozen=True)
class Facets:
    """Counts of a query's images by batch (newest batch first), by connection (largest first)
    and by local calendar day (``YYYY-MM-DD``, newest first)."""

    batches: list[BatchFacet]
    connections: list[tuple[str, int]]
    days: list[tuple[str, int]]


@dataclass(frozen=True)
class WatchedFolder:
    id: int
    path: str
    watch: bool
    last_scan: float | None
    added_at: float


# Columns the indexer owns, in ImageData's field order. rating, favourite and tags belong to the
# person, so an upsert never changes them.
_DATA_COLUMNS = (*(field.name for field in dataclasses.fields(ImageData)), "indexed_at")
_RECORD_FIELDS = tuple(field.name for field in dataclasses.fields(ImageRecord))
_UPSERT_SQL = (
    f"INSERT INTO images ({', '.join(_DATA_COLUMNS)})"
    f" VALUES ({', '.join('?' * len(_DATA_COLUMNS))})"
    " ON CONFLICT (path) DO UPDATE SET "
    + ", ".join(f"{column} = excluded.{column}" for column in _DATA_COLUMNS[1:])
    # A job's own record of how an image was made beats what a folder scan reads from the
    # file, so a scan of an output folder only refreshes the file's state (below).
    + " WHERE images.source = 'folder' OR excluded.source = 'job'"
)
_REFRESH_FILE_SQL = (
    "UPDATE images SET file_size = ?, file_mtime_ns = ?, status = ?, message = ?,"
    " indexed_at = ? WHERE path = ?"
)


class Gallery:
    """Reads and writes the image index through ``connection`` (autocommit mode)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection
        connection.create_function(CASEFOLD_FUNCTION, 1, _casefold, deterministic=True)

    # Writing ----------------------------------------------------------------------------

    def upsert(self, images: Iterable[ImageData]) -> int:
        """Insert or update images by path in one transaction; return how many were written.

        The person's rating, favourite and tags stay as they were. A row that came from a job
        keeps its parameters when a folder scan finds the same file. Only its file size,
        modification time, status and message change then.
        """
        now = time.time()
        written = 0
        with self._transaction():
            for image in images:
                cursor = self._db.execute(_UPSERT_SQL, _data_values(image, now))
                if cursor.rowcount == 0:
                    self._db.execute(
                        _REFRESH_FILE_SQL,
                        (
                            image.file_size,
                            image.file_mtime_ns,
                            image.status.value,
                            image.message,
                            now,
                            image.path,
                        ),
                    )
                written += 1
        return written

    def set_rating(self, image_ids: Iterable[int], rating: int) -> None:
        """Give every image in ``image_ids`` ``rating`` stars (0 clears the rating)."""
        if not 0 <= rating <= 5:
            raise ValueError(f"Invalid rating {rating}: expected 0 to 5 stars.")
        self._update_each(image_ids, "rating = ?", (rating,))

    def set_favourite(self, image_ids: Iterable[int], favourite: bool) -> None:
        self._update_each(image_ids, "favourite = ?", (int(favourite),))

    def add_tags(self, image_ids: Iterable[int], tags: Iterable[str]) -> None:
        """Add ``tags`` to every image that lacks them, keeping each image's other tags."""
        added = normalize_tags(tags)
        self._change_tags(image_ids, lambda current: normalize_tags([*current, *added]))

    def remove_tags(self, image_ids: Iterable[int], tags: Iterable[str]) -> None:
        unwanted = {tag.casefold() for tag in normalize_tags(tags)}
        self._change_tags(
            image_ids, lambda current: [tag for tag in current if tag.casefold() not in unwanted]
        )

    def set_tags(self, image_ids: Iterable[int], tags: Iterable[str]) -> None:
        """Replace the tags of every image in ``image_ids`` with ``tags``."""
        new_tags = normalize_tags(tags)
        self._change_tags(image_ids, lambda _current: new_tags)

    def remove(self, image_ids: Iterable[int]) -> int:
        """Delete the rows (never the files) of ``image_ids``; return how many were deleted.

        The job outputs among them are recorded in ``removed_outputs``, so that indexing the
        outputs without an image row leaves them out. The outputs' own rows stay.
        """
        deleted = 0
        now = time.time()
        with self._transaction():
            for chunk in _chunks(image_ids):
                self._db.execute(
                    "INSERT OR IGNORE INTO removed_outputs (output_id, removed_at)"
                    " SELECT output_id, ? FROM images"
                    f" WHERE output_id IS NOT NULL AND id IN ({_placeholders(chunk)})",
                    (now, *chunk),
                )
                cursor = self._db.execute(
                    f"DELETE FROM images WHERE id IN ({_placeholders(chunk)})", chunk
                )
                deleted += cursor.rowcount
        return deleted

    def remove_folder_images(self, folder: str) -> int:
        """Delete the rows of images found by folder scans in ``folder`` and its subfolders."""
        low, high = path_prefix_range(folder)
        with self._transaction():
            cursor = self._db.execute(
                "DELETE FROM images WHERE path >= ? AND path < ? AND source = ?",
                (low, high, ImageSource.FOLDER.value),
            )
        return cursor.rowcount

    def mark_missing(self, paths: Iterable[str]) -> int:
        """Set the status of ``paths`` to missing; return how many rows changed."""
        changed = 0
        now = time.time()
        with self._transaction():
            for chunk in _chunks(paths):
                cursor = self._db.execute(
                    "UPDATE images SET status = ?, message = ?, indexed_at = ?"
                    f" WHERE status != ? AND path IN ({_placeholders(chunk)})",
                    (
                        ImageStatus.MISSING.value,
                        MISSING_MESSAGE,
                        now,
                        ImageStatus.MISSING.value,
                        *chunk,
                    ),
                )
                changed += cursor.rowcount
        return changed

    def analyze(self) -> None:
        """Refresh the statistics SQLite's query planner keeps on the image tables.

        With them a search walks the most selective index. Without them SQLite guesses, and a
        query that combines words and filters can take twice as long. It takes about 60 ms per
        100,000 images (tests/benchmarks/search.py on a 2-core machine).
        """
        self._db.execute("ANALYZE images")
        self._db.execute("ANALYZE image_model_sets")

    # Reading ----------------------------------------------------------------------------

    def get(self, image_id: int) -> ImageRecord:
        row = self._db.execute("SELECT * FROM images WHERE id = ?", (image_id,)).fetchone()
        if row is None:
            raise KeyError(f"No image {image_id}")
        return _record_from_row(row)

    def get_by_path(self, path: str) -> ImageRecord | None:
        row = self._db.execute("SELECT * FROM images WHERE path = ?", (path,)).fetchone()
        return _record_from_row(row) if row is not None else None

    def count_all(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM images").fetchone()[0])

    def file_states(self, folder: str) -> dict[str, FileState]:
        """Return the indexed state of every image under ``folder``, by path."""
        low, high = path_prefix_range(folder)
        rows = self._db.execute(
            "SELECT path, file_size, file_mtime_ns, status, source FROM images"
            " WHERE path >= ? AND path < ?",
            (low, high),
        )
        return {
            path: FileState(size, mtime_ns, ImageStatus(status), ImageSource(source))
            for path, size, mtime_ns, status, source in rows
        }

    def unindexed_outputs(self) -> list[int]:
        """Return the ids of recorded job outputs that have no image row, oldest first.

        Outputs whose image record a person removed (see remove()) are left out.
        """
        rows = self._db.execute(
            "SELECT outputs.id FROM outputs WHERE NOT EXISTS"
            " (SELECT 1 FROM images WHERE images.output_id = outputs.id)"
            " AND NOT EXISTS"
            " (SELECT 1 FROM removed_outputs WHERE removed_outputs.output_id = outputs.id)"
            " ORDER BY outputs.id"
        )
        return [int(row[0]) for row in rows]

    def is_output_removed(self, output_id: int) -> bool:
        """Return whether a person removed the image record of job output ``output_id``."""
        row = self._db.execute(
            "SELECT 1 FROM removed_outputs WHERE output_id = ?", (output_id,)
        ).fetchone()
        return row is not None

    def search(self, query: ImageQuery, limit: int = 200, offset: int = 0) -> list[ImageRecord]:
        """Return one page of the images that match ``query``, in its order."""
        where, values = build_where(query, self._has_missing(), drive_by_text=False)
        order = ORDER_BY[query.order]
        # The inner query sorts ids only; sorting whole rows, prompts included, costs several
        # times more when thousands of rows match.
        rows = self._db.execute(
            "SELECT images.* FROM images WHERE images.id IN (SELECT images.id FROM images"
            f" WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?) ORDER BY {order}",
            (*values, limit, offset),
        ).fetchall()
        return [_record_from_row(row) for row in rows]

    def search_ids(self, query: ImageQuery) -> list[int]:
        """Return the ids of every image that matches ``query``, in its order."""
        where, values = build_where(query, self._has_missing(), drive_by_text=False)
        rows = self._db.execute(
            f"SELECT images.id FROM images WHERE {where} ORDER BY {ORDER_BY[query.order]}",
            values,
        )
        return [int(row[0]) for row in rows]

    def count(self, query: ImageQuery) -> int:
        has_missing = self._has_missing()
        match, excluded = match_expressions(query.terms)
        if not query.filters and not has_missing:
            # Without filters or missing files to leave out, the count of full-text matches is
            # the result, and FTS5 counts them without reading a single image row.
            total = self._count_matches(match) if match else self.count_all()
            return total - self._count_matches(excluded) if excluded else total
        drive_by_text = bool(match) and self._count_matches(match) <= _TEXT_DRIVER_LIMIT
        where, values = build_where(query, has_missing, drive_by_text=drive_by_text)
        row = self._db.execute(f"SELECT COUNT(*) FROM images WHERE {where}", values).fetchone()
        return int(row[0])

    def facets(self, query: ImageQuery) -> Facets:
        """Count the images that match ``query`` by batch, connection and day."""
        where, values = build_where(query, self._has_missing(), drive_by_text=True)
        batch_rows = self._db.execute(
            "SELECT images.batch_id, COALESCE(batches.name, ''), COUNT(*) FROM images"
            " LEFT JOIN batches ON batches.id = images.batch_id"
            f" WHERE images.batch_id IS NOT NULL AND {where}"
            " GROUP BY images.batch_id ORDER BY images.batch_id DESC",
            values,
        )
        batches = [BatchFacet(int(batch_id), name, count) for batch_id, name, count in batch_rows]
        connection_rows = self._db.execute(
            "SELECT images.connection, COUNT(*) AS images_count FROM images"
            f" WHERE images.connection != '' AND {where}"
            " GROUP BY images.connection ORDER BY images_count DESC, images.connection",
            values,
        )
        connections = [(str(name), int(count)) for name, count in connection_rows]
        return Facets(batches, connections, self._day_counts(where, values))

    def _day_counts(self, where: str, values: list[Any]) -> list[tuple[str, int]]:
        """Count images by local calendar day, the day in which outputs/query.py's date: filter
        places them.

        SQLite counts per 15 minutes and Python assigns each slot its local day. That is
        several times faster than SQLite's date(..., 'localtime') on every row. It is right in
        every time zone, because every UTC offset in use today is a whole number of quarter
        hours.
        """
        rows = self._db.execute(
            f"SELECT CAST(images.created_at / {_DAY_SLOT} AS INTEGER) AS slot, COUNT(*)"
            f" FROM images WHERE {where} GROUP BY slot",
            values,
        )
        days: dict[str, int] = {}
        for slot, count in rows:
            day = datetime.fromtimestamp(slot * _DAY_SLOT).strftime("%Y-%m-%d")
            days[day] = days.get(day, 0) + count
        return sorted(days.items(), reverse=True)

    def _has_missing(self) -> bool:
        # status != 'ok' repeats the condition of the partial index images_status, so that
        # SQLite uses it and reads no table row.
        row = self._db.execute(
            "SELECT EXISTS (SELECT 1 FROM images WHERE status != 'ok' AND status = 'missing')"
        ).fetchone()
        return bool(row[0])

    def _count_matches(self, expression: str) -> int:
        row = self._db.execute(
            "SELECT COUNT(*) FROM images_fts WHERE images_fts MATCH ?", (expression,)
        ).fetchone()
        return int(row[0])

    def tag_counts(self) -> list[tuple[str, int]]:
        """Return every tag in use with its number of images, most used first."""
        counts: dict[str, tuple[str, int]] = {}
        for (text,) in self._db.execute("SELECT tags FROM images WHERE tags != ''"):
            for tag in _split(text):
                name, count = counts.get(tag.casefold(), (tag, 0))
                counts[tag.casefold()] = (name, count + 1)
        return sorted(counts.values(), key=lambda item: (-item[1], item[0].casefold()))

    # Watched folders --------------------------------------------------------------------

    def watched_folders(self) -> list[WatchedFolder]:
        rows = self._db.execute("SELECT * FROM watched_folders ORDER BY path").fetchall()
        return [_folder_from_row(row) for row in rows]

    def add_watched_folder(self, path: str, watch: bool = True) -> WatchedFolder:
        """Add ``path`` to the scanned folders, or set its watch flag when it is there."""
        with self._transaction():
            self._db.execute(
                "INSERT INTO watched_folders (path, watch, added_at) VALUES (?, ?, ?)"
                " ON CONFLICT (path) DO UPDATE SET watch = excluded.watch",
                (path, int(watch), time.time()),
            )
        row = self._db.execute("SELECT * FROM watched_folders WHERE path = ?", (path,)).fetchone()
        return _folder_from_row(row)

    def set_watch(self, path: str, watch: bool) -> None:
        with self._transaction():
            self._db.execute(
                "UPDATE watched_folders SET watch = ? WHERE path = ?", (int(watch), path)
            )

    def set_last_scan(self, path: str, when: float) -> None:
        with self._transaction():
            self._db.execute(
                "UPDATE watched_folders SET last_scan = ? WHERE path = ?", (when, path)
            )

    def remove_watched_folder(self, path: str, *, remove_images: bool = False) -> None:
        """Stop scanning ``path``; with ``remove_images``, also drop the rows its scans made."""
        with self._transaction():
            self._db.execute("DELETE FROM watched_folders WHERE path = ?", (path,))
        if remove_images:
            self.remove_folder_images(path)

    # Helpers ----------------------------------------------------------------------------

    def _update_each(
        self, image_ids: Iterable[int], assignment: str, values: tuple[Any, ...]
    ) -> None:
        with self._transaction():
            for chunk in _chunks(image_ids):
                self._db.execute(
                    f"UPDATE images SET {assignment} WHERE id IN ({_placeholders(chunk)})",
                    (*values, *chunk),
                )

    def _change_tags(
        self, image_ids: Iterable[int], change: Callable[[list[str]], list[str]]
    ) -> None:
        with self._transaction():
            for chunk in _chunks(image_ids):
                rows = self._db.execute(
                    f"SELECT id, tags FROM images WHERE id IN ({_placeholders(chunk)})", chunk
                ).fetchall()
                for image_id, text in rows:
                    current = _split(text)
                    new = LIST_SEPARATOR.join(change(current))
                    if new != text:
                        self._db.execute("UPDATE images SET tags = ? WHERE id = ?", (new, image_id))

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")


def normalize_tags(tags: Iterable[str]) -> list[str]:
    """Strip tags, drop empty ones and later duplicates that differ only in case.

    A tag cannot contain a line break (tags are stored one per line), so line breaks become
    spaces.
    """
    result: list[str] = []
    seen: set[str] = set()
    for tag in tags:
        cleaned = " ".join(tag.split())
        if cleaned and cleaned.casefold() not in seen:
            seen.add(cleaned.casefold())
            result.append(cleaned)
    return result


# Rows and values ------------------------------------------------------------------------


def _data_values(image: ImageData, now: float) -> tuple[Any, ...]:
    values = {field.name: getattr(image, field.name) for field in dataclasses.fields(ImageData)}
    values["source"] = image.source.value
    values["status"] = image.status.value
    values["seed"] = seed_to_column(image.seed) if image.seed is not None else None
    values["models"] = LIST_SEPARATOR.join(image.models)
    values["model_urls"] = LIST_SEPARATOR.join(image.model_urls)
    return (*values.values(), now)


def _record_from_row(row: sqlite3.Row) -> ImageRecord:
    # Only the record's own fields, so that a column added by a later migration is ignored.
    values = {name: row[name] for name in _RECORD_FIELDS}
    seed = values["seed"]
    values["seed"] = seed_from_column(seed) if seed is not None else None
    values["source"] = ImageSource(values["source"])
    values["status"] = ImageStatus(values["status"])
    values["favourite"] = bool(values["favourite"])
    for name in ("models", "model_urls", "tags"):
        values[name] = tuple(_split(values[name]))
    return ImageRecord(**values)


def _folder_from_row(row: sqlite3.Row) -> WatchedFolder:
    return WatchedFolder(
        id=row["id"],
        path=row["path"],
        watch=bool(row["watch"]),
        last_scan=row["last_scan"],
        added_at=row["added_at"],
    )


def _casefold(text: object) -> str | None:
    return text.casefold() if isinstance(text, str) else None


def _split(text: str) -> list[str]:
    return [item for item in text.split(LIST_SEPARATOR) if item]


def _chunks(items: Iterable[Any]) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == _CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _placeholders(chunk: Sequence[Any]) -> str:
    return ",".join("?" * len(chunk))
