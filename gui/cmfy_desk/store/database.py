"""The one SQLite database of the app, in WAL mode.

Every job status change goes through Store.transition, which checks it against the state table
and commits the row and an event in one transaction before returning, so a caller that acts
after the call has its intention on disk first.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import sqlite3
import time
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from cmfy_desk.store.gallery import Gallery
from cmfy_desk.store.migrations import MIGRATIONS, SCHEMA_VERSION
from cmfy_desk.store.models import (
    ALLOWED_TRANSITIONS,
    FINAL_STATUSES,
    Batch,
    InvalidTransition,
    Job,
    JobStatus,
    Output,
    QueueEntry,
    WebhookDelivery,
)

log = logging.getLogger(__name__)

# Job columns a caller may set alongside a transition or through update_job.
_UPDATABLE_JOB_FIELDS = frozenset(
    {
        "remote_id",
        "queue_position",
        "attempts",
        "error_code",
        "error_message",
        "error_request_id",
        "submitted_at",
        "started_at",
        "finished_at",
        "remote_created_at",
        "remote_started_at",
        "remote_completed_at",
        "execution_time_ms",
        "idempotency_key",
        "webhook_token",
        "error_details",
    }
)


class StoreError(RuntimeError):
    """The database could not be opened, migrated or written."""


def new_idempotency_key() -> str:
    return f"cmfy-desk-{uuid.uuid4()}"


class Store:
    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path

    @classmethod
    def open(cls, path: Path) -> Store:
        """Open (creating if needed) and migrate the database at ``path``."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            connection.row_factory = sqlite3.Row
            connection.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode survives an app crash; a power loss may drop the last commits
            # but never corrupts the file.
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("PRAGMA foreign_keys=ON")
            connection.execute("PRAGMA busy_timeout=5000")
        except sqlite3.Error as exc:
            raise StoreError(f"Cannot open the database {path}: {exc}") from exc
        store = cls(connection, path)
        store._migrate()
        return store

    def close(self) -> None:
        self._db.close()

    @property
    def connection(self) -> sqlite3.Connection:
        """The open connection (autocommit mode, rows as sqlite3.Row), for query modules."""
        return self._db

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        version = self.schema_version
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"The database {self.path} has schema version {version}, newer than this "
                f"version of Cmfy Desk understands ({SCHEMA_VERSION}). Update Cmfy Desk."
            )
        for number in range(version, SCHEMA_VERSION):
            log.info("Migrating %s to schema version %d", self.path, number + 1)
            try:
                self._db.executescript(
                    "BEGIN IMMEDIATE;"
                    + MIGRATIONS[number]
                    + f";PRAGMA user_version = {number + 1};COMMIT;"
                )
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise StoreError(f"Migrating {self.path} failed: {exc}") from exc

    # Batches and jobs -------------------------------------------------------------------

    def add_batch(
        self,
        *,
        name: str,
        workflow_name: str,
        workflow_path: str,
        connection: str,
        seed_mode: str,
        output_dir: str,
        jobs: Sequence[tuple[dict[str, Any], str, int | None]],
        parameters: Sequence[dict[str, Any]] | None = None,
        model_keys: Sequence[str] | None = None,
        priority: int = 0,
        prompt_texts: Sequence[str] | None = None,
    ) -> tuple[Batch, list[Job]]:
        """Insert a batch and its jobs (prompt, prompt hash, seed) as QUEUED, in one transaction.

        ``parameters``, one mapping per job, records the values that made each job;
        ``model_keys`` names each job's set of model URLs for cache-aware ordering;
        ``prompt_texts``, when given, is each prompt already encoded as JSON. New jobs go to
        the end of the queue. The returned jobs hold the given prompt and parameter objects.
        """
        now = time.time()
        with self._transaction():
            cursor = self._db.execute(
                "INSERT INTO batches (name, workflow_name, workflow_path, connection, count,"
                " seed_mode, output_dir, created_at, priority)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    name,
                    workflow_name,
                    workflow_path,
                    connection,
                    len(jobs),
                    seed_mode,
                    output_dir,
                    now,
                    priority,
                ),
            )
            batch_id = int(cursor.lastrowid or 0)
            order = self._db.execute("SELECT COALESCE(MAX(queue_order), 0) FROM jobs").fetchone()[0]
            self._db.executemany(
                "INSERT INTO jobs (batch_id, position, connection, workflow_name,"
                " prompt_json, prompt_hash, seed, status, idempotency_key, created_at,"
                " updated_at, parameters_json, model_key, priority, queue_order)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        batch_id,
                        position,
                        connection,
                        workflow_name,
                        prompt_texts[position] if prompt_texts else json.dumps(prompt),
                        prompt_hash,
                        seed,
                        JobStatus.QUEUED.value,
                        new_idempotency_key(),
                        now,
                        now,
                        json.dumps(parameters[position] if parameters else {}),
                        model_keys[position] if model_keys else "",
                        priority,
                        order + position + 1,
                    )
                    for position, (prompt, prompt_hash, seed) in enumerate(jobs)
                ],
            )
            self._db.execute(
                "INSERT INTO job_events (job_id, at, status, detail)"
                " SELECT id, ?, ?, NULL FROM jobs WHERE batch_id = ? ORDER BY position",
                (now, JobStatus.QUEUED.value, batch_id),
            )
        batch = self.get_batch(batch_id)
        created = self._new_jobs(
            batch_id, [job[0] for job in jobs], parameters or [{} for _ in jobs]
        )
        return batch, created

    def _new_jobs(
        self, batch_id: int, prompts: Sequence[dict[str, Any]], parameters: Sequence[dict[str, Any]]
    ) -> list[Job]:
        """Return the jobs of a batch just added, with the prompt and parameter objects given.

        The rows are read back for the values the database set (ids, defaults), as plain
        tuples in the order of Job's fields. That builds a batch of 1,000 jobs in half the
        time that rows by name take, on the UI thread that queues it.
        """
        columns = [name for name in _JOB_FIELDS if name not in ("prompt", "parameters")]
        cursor = self._db.cursor()
        cursor.row_factory = None
        rows = cursor.execute(
            f"SELECT {', '.join(columns)} FROM jobs WHERE batch_id = ? ORDER BY position",
            (batch_id,),
        ).fetchall()
        status_at = columns.index("status")
        prompt_at = _JOB_FIELDS.index("prompt")
        parameters_at = _JOB_FIELDS.index("parameters")
        statuses = {status.value: status for status in JobStatus}
        created = []
        for row, prompt, values in zip(rows, prompts, parameters, strict=True):
            fields = list(row)
            fields[status_at] = statuses[fields[status_at]]
            fields.insert(prompt_at, prompt)
            fields.insert(parameters_at, values)
            created.append(Job(*fields))
        return created

    def get_batch(self, batch_id: int) -> Batch:
        row = self._db.execute("SELECT * FROM batches WHERE id = ?", (batch_id,)).fetchone()
        if row is None:
            raise KeyError(f"No batch {batch_id}")
        return _batch_from_row(row)

    def batches(self) -> list[Batch]:
        rows = self._db.execute("SELECT * FROM batches ORDER BY id").fetchall()
        return [_batch_from_row(row) for row in rows]

    def batch_folders(self) -> set[str]:
        return {row[0] for row in self._db.execute("SELECT output_dir FROM batches")}

    def get_job(self, job_id: int) -> Job:
        row = self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise KeyError(f"No job {job_id}")
        return _job_from_row(row)

    def jobs(
        self,
        statuses: Iterable[JobStatus] | None = None,
        batch_ids: Iterable[int] | None = None,
    ) -> list[Job]:
        """Return jobs in queue order (batch, then position), optionally filtered."""
        clauses: list[str] = []
        values: list[Any] = []
        if statuses is not None:
            wanted = [status.value for status in statuses]
            clauses.append(f"status IN ({','.join('?' * len(wanted))})")
            values.extend(wanted)
        if batch_ids is not None:
            ids = list(batch_ids)
            clauses.append(f"batch_id IN ({','.join('?' * len(ids))})")
            values.extend(ids)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._db.execute(
            f"SELECT * FROM jobs {where} ORDER BY batch_id, position", values
        ).fetchall()
        return [_job_from_row(row) for row in rows]

    def jobs_of_open_batches(self) -> list[Job]:
        """Return every job of the batches that have a job not in a final state."""
        finals = [status.value for status in FINAL_STATUSES]
        rows = self._db.execute(
            "SELECT * FROM jobs WHERE batch_id IN (SELECT DISTINCT batch_id FROM jobs"
            f" WHERE status NOT IN ({','.join('?' * len(finals))}))"
            " ORDER BY batch_id, position",
            finals,
        ).fetchall()
        return [_job_from_row(row) for row in rows]

    def finished_jobs(self, limit: int, after: Job | None = None) -> list[Job]:
        """Return up to ``limit`` jobs in a final state, the most recently finished first.

        Jobs with equal finish times come by id, highest first, and jobs without a finish time
        come last. ``after`` continues from that job, so the finished jobs can be read page by
        page."""
        finals = [status.value for status in FINAL_STATUSES]
        clauses = [f"status IN ({','.join('?' * len(finals))})"]
        values: list[Any] = list(finals)
        if after is not None and after.finished_at is None:
            clauses.append("finished_at IS NULL AND id < ?")
            values.append(after.id)
        elif after is not None:
            clauses.append(
                "(finished_at < ? OR (finished_at = ? AND id < ?) OR finished_at IS NULL)"
            )
            values.extend([after.finished_at, after.finished_at, after.id])
        rows = self._db.execute(
            f"SELECT * FROM jobs WHERE {' AND '.join(clauses)}"
            " ORDER BY finished_at IS NULL, finished_at DESC, id DESC LIMIT ?",
            [*values, limit],
        ).fetchall()
        return [_job_from_row(row) for row in rows]

    def jobs_of_batch(self, batch_id: int) -> list[Job]:
        return self.jobs(batch_ids=[batch_id])

    def queued_candidates(
        self, connection: str, batch_ids: Iterable[int] | None = None, limit: int = 32
    ) -> list[QueueEntry]:
        """Return the first ``limit`` queued jobs of ``connection`` in queue order (priority
        first, then queue position), leaving out paused batches."""
        clauses = ["jobs.status = ?", "jobs.connection = ?", "batches.paused = 0"]
        values: list[Any] = [JobStatus.QUEUED.value, connection]
        if batch_ids is not None:
            ids = list(batch_ids)
            clauses.append(f"jobs.batch_id IN ({','.join('?' * len(ids))})")
            values.extend(ids)
        rows = self._db.execute(
            "SELECT jobs.id, jobs.batch_id, jobs.priority, jobs.queue_order, jobs.model_key"
            " FROM jobs JOIN batches ON batches.id = jobs.batch_id"
            f" WHERE {' AND '.join(clauses)}"
            " ORDER BY jobs.priority DESC, jobs.queue_order, jobs.id LIMIT ?",
            (*values, limit),
        ).fetchall()
        return [QueueEntry(*row) for row in rows]

    def recent_durations(self, connection: str, limit: int = 20) -> list[float]:
        """Return submitted-to-finished seconds of the last ``limit`` succeeded jobs of
        ``connection``, newest first."""
        rows = self._db.execute(
            "SELECT finished_at - submitted_at FROM jobs WHERE status = ? AND connection = ?"
            " AND submitted_at IS NOT NULL AND finished_at IS NOT NULL"
            " ORDER BY finished_at DESC LIMIT ?",
            (JobStatus.SUCCEEDED.value, connection, limit),
        ).fetchall()
        return [float(row[0]) for row in rows]

    def count_unfinished(self, batch_id: int) -> int:
        finals = [status.value for status in FINAL_STATUSES]
        row = self._db.execute(
            f"SELECT COUNT(*) FROM jobs WHERE batch_id = ? AND status NOT IN"
            f" ({','.join('?' * len(finals))})",
            (batch_id, *finals),
        ).fetchone()
        return int(row[0])

    def status_counts(self, batch_id: int) -> dict[JobStatus, int]:
        """Return how many jobs of a batch are in each status (statuses without jobs left out)."""
        rows = self._db.execute(
            "SELECT status, COUNT(*) FROM jobs WHERE batch_id = ? GROUP BY status", (batch_id,)
        ).fetchall()
        return {JobStatus(row[0]): int(row[1]) for row in rows}

    def count_jobs(self, status: JobStatus, connection: str | None = None) -> int:
        if connection is None:
            row = self._db.execute(
                "SELECT COUNT(*) FROM jobs WHERE status = ?", (status.value,)
            ).fetchone()
        else:
            row = self._db.execute(
                "SELECT COUNT(*) FROM jobs WHERE status = ? AND connection = ?",
                (status.value, connection),
            ).fetchone()
        return int(row[0])

    def set_batch_priority(self, batch_id: int, priority: int) -> None:
        """Give a batch and all its jobs ``priority`` (higher runs first)."""
        with self._transaction():
            self._db.execute("UPDATE batches SET priority = ? WHERE id = ?", (priority, batch_id))
            self._db.execute(
                "UPDATE jobs SET priority = ?, updated_at = ? WHERE batch_id = ?",
                (priority, time.time(), batch_id),
            )

    def set_job_priority(self, job_ids: Iterable[int], priority: int) -> None:
        ids = list(job_ids)
        placeholders = ",".join("?" * len(ids))
        with self._transaction():
            self._db.execute(
                f"UPDATE jobs SET priority = ?, updated_at = ? WHERE id IN ({placeholders})",
                (priority, time.time(), *ids),
            )

    def set_batch_paused(self, batch_id: int, paused: bool) -> None:
        with self._transaction():
            self._db.execute("UPDATE batches SET paused = ? WHERE id = ?", (int(paused), batch_id))

    def move_jobs(self, job_ids: Sequence[int], *, to: str) -> None:
        """Move jobs to the ``"top"`` or ``"bottom"`` of the queue, keeping their own order."""
        if to not in ("top", "bottom"):
            raise ValueError(f"Unknown queue position {to!r}: expected 'top' or 'bottom'.")
        with self._transaction():
            low, high = self._db.execute(
                "SELECT MIN(queue_order), MAX(queue_order) FROM jobs"
            ).fetchone()
            start = (low or 0) - len(job_ids) - 1 if to == "top" else (high or 0) + 1
            now = time.time()
            for offset, job_id in enumerate(job_ids):
                self._db.execute(
                    "UPDATE jobs SET queue_order = ?, updated_at = ? WHERE id = ?",
                    (start + offset, now, job_id),
                )

    def move_jobs_before(self, job_ids: Sequence[int], before_job_id: int | None) -> None:
        """Move jobs, in their given order, just before ``before_job_id`` (None: the end)."""
        if before_job_id is None:
            self.move_jobs(job_ids, to="bottom")
            return
        with self._transaction():
            target = self._db.execute(
                "SELECT queue_order FROM jobs WHERE id = ?", (before_job_id,)
            ).fetchone()
            if target is None:
                raise KeyError(f"No job {before_job_id}")
            previous = self._db.execute(
                "SELECT MAX(queue_order) FROM jobs WHERE queue_order < ? AND id NOT IN"
                f" ({','.join('?' * len(job_ids))})",
                (target[0], *job_ids),
            ).fetchone()[0]
            low = previous if previous is not None else target[0] - 1
            step = (target[0] - low) / (len(job_ids) + 1)
            now = time.time()
            for offset, job_id in enumerate(job_ids, start=1):
                self._db.execute(
                    "UPDATE jobs SET queue_order = ?, updated_at = ? WHERE id = ?",
                    (low + step * offset, now, job_id),
                )

    def transition(self, job_id: int, status: JobStatus, **fields: Any) -> Job:
        """Move a job to ``status`` (checked against ALLOWED_TRANSITIONS) and commit it."""
        unknown = set(fields) - _UPDATABLE_JOB_FIELDS
        if unknown:
            raise ValueError(f"Unknown job fields: {sorted(unknown)}")
        now = time.time()
        with self._transaction():
            row = self._db.execute("SELECT status FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                raise KeyError(f"No job {job_id}")
            old = JobStatus(row["status"])
            if status not in ALLOWED_TRANSITIONS[old]:
                raise InvalidTransition(job_id, old, status)
            self._update(job_id, {"status": status.value, **fields}, now)
            detail = fields.get("error_message")
            self._add_event(job_id, status, detail, now)
        return self.get_job(job_id)

    def update_job(self, job_id: int, **fields: Any) -> Job:
        """Set fields of a job without changing its status."""
        unknown = set(fields) - _UPDATABLE_JOB_FIELDS
        if unknown:
            raise ValueError(f"Unknown job fields: {sorted(unknown)}")
        with self._transaction():
            self._update(job_id, fields, time.time())
        return self.get_job(job_id)

    def job_events(self, job_id: int) -> list[tuple[float, JobStatus, str | None]]:
        rows = self._db.execute(
            "SELECT at, status, detail FROM job_events WHERE job_id = ? ORDER BY id", (job_id,)
        ).fetchall()
        return [(row["at"], JobStatus(row["status"]), row["detail"]) for row in rows]

    # Webhooks ---------------------------------------------------------------------------

    def job_for_webhook_token(self, token: str) -> int | None:
        """Return the id of the job that was given ``token``, or None for a token never issued."""
        row = self._db.execute("SELECT id FROM jobs WHERE webhook_token = ?", (token,)).fetchone()
        return int(row["id"]) if row else None

    def record_webhook(self, job_id: int, body: str) -> int:
        """Write a received webhook body and commit it; return the delivery's id."""
        with self._transaction():
            cursor = self._db.execute(
                "INSERT INTO webhook_deliveries (job_id, received_at, body) VALUES (?, ?, ?)",
                (job_id, time.time(), body),
            )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def mark_webhook_handled(self, delivery_id: int) -> None:
        with self._transaction():
            self._db.execute(
                "UPDATE webhook_deliveries SET handled_at = ? WHERE id = ?",
                (time.time(), delivery_id),
            )

    def pending_webhooks(self) -> list[WebhookDelivery]:
        """Deliveries received but not yet applied, oldest first (left by a crash)."""
        rows = self._db.execute(
            "SELECT id, job_id, received_at, body FROM webhook_deliveries"
            " WHERE handled_at IS NULL ORDER BY id"
        ).fetchall()
        return [WebhookDelivery(**dict(row)) for row in rows]

    def count_webhooks(self, job_id: int | None = None) -> int:
        if job_id is None:
            row = self._db.execute("SELECT COUNT(*) FROM webhook_deliveries").fetchone()
        else:
            row = self._db.execute(
                "SELECT COUNT(*) FROM webhook_deliveries WHERE job_id = ?", (job_id,)
            ).fetchone()
        return int(row[0])

    # Outputs ----------------------------------------------------------------------------

    def add_output(
        self,
        job_id: int,
        index: int,
        *,
        remote_url: str,
        local_path: str,
        size: int,
        sha256: str,
        width: int | None,
        height: int | None,
    ) -> Output:
        """Record a downloaded output; recording the same (job, index) again replaces it."""
        with self._transaction():
            self._db.execute(
                "INSERT INTO outputs (job_id, idx, remote_url, local_path, size, sha256, width,"
                " height, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (job_id, idx) DO UPDATE SET remote_url = excluded.remote_url,"
                " local_path = excluded.local_path, size = excluded.size,"
                " sha256 = excluded.sha256, width = excluded.width, height = excluded.height",
                (job_id, index, remote_url, local_path, size, sha256, width, height, time.time()),
            )
        row = self._db.execute(
            "SELECT * FROM outputs WHERE job_id = ? AND idx = ?", (job_id, index)
        ).fetchone()
        return _output_from_row(row)

    def get_output(self, output_id: int) -> Output:
        row = self._db.execute("SELECT * FROM outputs WHERE id = ?", (output_id,)).fetchone()
        if row is None:
            raise KeyError(f"No output {output_id}")
        return _output_from_row(row)

    def outputs(self, job_id: int | None = None) -> list[Output]:
        if job_id is None:
            rows = self._db.execute("SELECT * FROM outputs ORDER BY id").fetchall()
        else:
            rows = self._db.execute(
                "SELECT * FROM outputs WHERE job_id = ? ORDER BY idx", (job_id,)
            ).fetchall()
        return [_output_from_row(row) for row in rows]

    # Images -----------------------------------------------------------------------------

    @functools.cached_property
    def gallery(self) -> Gallery:
        """The image index on this store's connection (see store/gallery.py)."""
        return Gallery(self._db)

    # Helpers ----------------------------------------------------------------------------

    @functools.cache  # noqa: B019 - one entry per store, which lives as long as the app
    def _job_columns_without_json(self) -> tuple[str, ...]:
        """Return the jobs table's columns but its two JSON columns, the costly ones to read."""
        rows = self._db.execute("PRAGMA table_info(jobs)").fetchall()
        return tuple(
            str(row[1]) for row in rows if row[1] not in ("prompt_json", "parameters_json")
        )

    def _update(self, job_id: int, fields: dict[str, Any], now: float) -> None:
        assignments = ", ".join(f"{name} = ?" for name in fields)
        self._db.execute(
            f"UPDATE jobs SET {assignments}, updated_at = ? WHERE id = ?",
            (*fields.values(), now, job_id),
        )

    def _add_event(self, job_id: int, status: JobStatus, detail: str | None, now: float) -> None:
        self._db.execute(
            "INSERT INTO job_events (job_id, at, status, detail) VALUES (?, ?, ?, ?)",
            (job_id, now, status.value, detail),
        )

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back when the block raises."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, traceback: object) -> None:
        if exc_type is None:
            self._db.execute("COMMIT")
        else:
            self._db.execute("ROLLBACK")


def _batch_from_row(row: sqlite3.Row) -> Batch:
    values = dict(row)
    values["paused"] = bool(values["paused"])
    return Batch(**values)


_JOB_FIELDS = tuple(field.name for field in dataclasses.fields(Job))


def _job_from_row(
    row: sqlite3.Row,
    *,
    prompt: dict[str, Any] | None = None,
    parameters: dict[str, Any] | None = None,
) -> Job:
    """Return the Job of a row; ``prompt`` and ``parameters``, when given, stand for the
    decoded JSON columns."""
    values = dict(row)
    prompt_json = values.pop("prompt_json", None)
    parameters_json = values.pop("parameters_json", None)
    values["prompt"] = json.loads(prompt_json) if prompt is None else prompt
    values["status"] = JobStatus(values["status"])
    values["parameters"] = json.loads(parameters_json) if parameters is None else parameters
    return Job(**values)


def _output_from_row(row: sqlite3.Row) -> Output:
    values = dict(row)
    values["index"] = values.pop("idx")
    return Output(**values)
