"""The history's queries and pruning on a real database (store/history.py)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from cmfy_desk.outputs.index import index_output
from cmfy_desk.store import Batch, JobStatus, Store
from cmfy_desk.store.history import (
    MAX_KEEP_DAYS,
    History,
    JobCounts,
    day_bounds,
    days_back_start,
    local_day,
    preview_prune,
    prune_cutoff,
    prune_history,
    remove_batches,
)
from cmfy_desk.store.migrations import MIGRATIONS, SCHEMA_VERSION
from tests.test_image_index import save_output, sdxl_graph, write_png

DAY = 86_400
# The steps from QUEUED to each final status, as the scheduler takes them.
_PATHS = {
    JobStatus.SUCCEEDED: [
        JobStatus.SUBMITTING,
        JobStatus.SUBMITTED,
        JobStatus.RUNNING,
        JobStatus.DOWNLOADING,
        JobStatus.SUCCEEDED,
    ],
    JobStatus.PARTIAL: [
        JobStatus.SUBMITTING,
        JobStatus.RUNNING,
        JobStatus.DOWNLOADING,
        JobStatus.PARTIAL,
    ],
    JobStatus.FAILED: [JobStatus.SUBMITTING, JobStatus.SUBMITTED, JobStatus.FAILED],
    JobStatus.CANCELLED: [JobStatus.CANCELLED],
    JobStatus.LOST: [JobStatus.SUBMITTING, JobStatus.SUBMITTED, JobStatus.LOST],
    JobStatus.QUEUED: [],
    JobStatus.RUNNING: [JobStatus.SUBMITTING, JobStatus.SUBMITTED, JobStatus.RUNNING],
}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "data" / "cmfy-desk.sqlite3")
    yield opened
    opened.close()


def make_batch(
    store: Store,
    folder: Path,
    name: str,
    statuses: Sequence[JobStatus],
    created_at: float,
    *,
    webhooks: int = 1,
) -> Batch:
    """Add a batch whose jobs end in ``statuses``: each job runs 2 s (execution time 1.5 s)
    and ends 10 s after the previous one. Succeeded jobs get a PNG output, indexed in the
    gallery, and every job ``webhooks`` webhook deliveries."""
    batch, jobs = store.add_batch(
        name=name,
        workflow_name="sdxl_txt2img",
        workflow_path="sdxl_txt2img.json",
        connection="sandbox",
        seed_mode="increment",
        output_dir=str(folder / name),
        jobs=[(sdxl_graph(name, seed), "hash", seed) for seed in range(len(statuses))],
    )
    store.connection.execute(
        "UPDATE batches SET created_at = ? WHERE id = ?", (created_at, batch.id)
    )
    store.connection.execute(
        "UPDATE jobs SET created_at = ? WHERE batch_id = ?", (created_at, batch.id)
    )
    for number, (job, status) in enumerate(zip(jobs, statuses, strict=True)):
        finished = created_at + 10 * (number + 1)
        for step in _PATHS[status]:
            fields: dict[str, object] = {}
            if step is JobStatus.RUNNING:
                fields["started_at"] = finished - 2
            if step in (JobStatus.SUCCEEDED, JobStatus.PARTIAL):
                fields.update(finished_at=finished, execution_time_ms=1500)
            if step in (JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.LOST):
                fields["finished_at"] = finished
            if step is JobStatus.FAILED:
                fields.update(error_code="node_error", error_message="KSampler: out of\nmemory")
            store.transition(job.id, step, **fields)
        if status is JobStatus.SUCCEEDED:
            picture = write_png(folder / name / f"job{job.id}.png", sdxl_graph(name, job.seed))
            index_output(store, save_output(store, job, picture))
        for _ in range(webhooks):
            store.record_webhook(job.id, "{}")
    return store.get_batch(batch.id)


def count(store: Store, table: str) -> int:
    return int(store.connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def noon(days_ago: int) -> float:
    """Return the Unix time of local noon ``days_ago`` days before today."""
    day = date.today() - timedelta(days=days_ago)
    return datetime(day.year, day.month, day.day, 12).timestamp()


# Listing ----------------------------------------------------------------------------------


def test_days_newest_first_with_counts(store: Store, tmp_path: Path) -> None:
    ok, failed, cancelled = JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED
    make_batch(store, tmp_path, "old", [ok, failed], noon(3))
    make_batch(store, tmp_path, "morning", [ok, ok, cancelled], noon(0) - 3600)
    make_batch(store, tmp_path, "running", [ok, JobStatus.RUNNING, JobStatus.LOST], noon(0))

    days = History(store.connection).days()

    assert [day.day for day in days] == [local_day(noon(0)), local_day(noon(3))]
    assert [day.batch_count for day in days] == [2, 1]
    assert days[0].counts == JobCounts(succeeded=3, cancelled=1, other=1, unfinished=1)
    assert days[1].counts == JobCounts(succeeded=1, failed=1)
    assert (days[1].start, days[1].end) == day_bounds(local_day(noon(3)))


def test_days_since_leaves_out_older(store: Store, tmp_path: Path) -> None:
    make_batch(store, tmp_path, "old", [JobStatus.SUCCEEDED], noon(10))
    make_batch(store, tmp_path, "new", [JobStatus.SUCCEEDED], noon(1))

    recent = History(store.connection).days(since=days_back_start(2))

    assert [day.day for day in recent] == [local_day(noon(1))]


def test_day_summary_and_missing_day(store: Store, tmp_path: Path) -> None:
    make_batch(store, tmp_path, "one", [JobStatus.SUCCEEDED, JobStatus.FAILED], noon(0))
    history = History(store.connection)

    today = history.day(local_day(noon(0)))
    empty = history.day(local_day(noon(5)))

    assert today is not None
    assert today.batch_count == 1
    assert today.counts == JobCounts(succeeded=1, failed=1)
    assert empty is None
    with pytest.raises(ValueError):
        history.day("31/01/2025")


def test_batches_of_day_counts_and_times(store: Store, tmp_path: Path) -> None:
    created = noon(0)
    statuses = [JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.SUCCEEDED, JobStatus.PARTIAL]
    finished = make_batch(store, tmp_path, "foxes", statuses, created)
    running = make_batch(
        store, tmp_path, "later", [JobStatus.SUCCEEDED, JobStatus.QUEUED], created + 60
    )

    batches = History(store.connection).batches_of_day(local_day(created))

    assert [batch.id for batch in batches] == [running.id, finished.id]
    later, foxes = batches
    assert foxes.name == "foxes"
    assert foxes.workflow_name == "sdxl_txt2img"
    assert foxes.connection == "sandbox"
    assert foxes.output_dir == str(tmp_path / "foxes")
    assert foxes.counts == JobCounts(succeeded=2, failed=1, other=1)
    # Succeeded and partial jobs report 1.5 s; the failed one has no run time.
    assert foxes.mean_run_seconds == pytest.approx(1.5)
    assert foxes.finished_at == pytest.approx(created + 40)
    assert foxes.total_seconds == pytest.approx(40)
    assert foxes.output_count == 2
    assert later.counts == JobCounts(succeeded=1, unfinished=1)
    assert later.finished_at is None
    assert later.total_seconds is None


def test_jobs_in_pages_with_errors(store: Store, tmp_path: Path) -> None:
    statuses = [JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.QUEUED]
    batch = make_batch(store, tmp_path, "paged", statuses, noon(0))
    history = History(store.connection)

    first = history.jobs(batch.id, limit=2)
    rest = history.jobs(batch.id, after_position=first[-1].position, limit=2)
    every = history.jobs(batch.id)

    assert [job.position for job in first] == [0, 1]
    assert [job.position for job in rest] == [2, 3]
    assert every == first + rest
    succeeded, failed, cancelled, queued = every
    assert succeeded.status is JobStatus.SUCCEEDED
    assert succeeded.seed == 0
    assert succeeded.output_count == 1
    assert succeeded.run_seconds == pytest.approx(1.5)
    assert succeeded.total_seconds == pytest.approx(10)
    assert failed.error_code == "node_error"
    assert failed.error_message == "KSampler: out of\nmemory"
    assert failed.output_count == 0
    assert failed.run_seconds is None
    assert cancelled.is_final
    assert not queued.is_final
    assert queued.total_seconds is None
    assert history.job(failed.id) == failed
    assert history.job(10_000) is None


def test_errors_counted_by_message(store: Store, tmp_path: Path) -> None:
    statuses = [JobStatus.FAILED, JobStatus.SUCCEEDED, JobStatus.FAILED]
    batch = make_batch(store, tmp_path, "errors", statuses, noon(0))

    errors = History(store.connection).errors(batch.id)

    assert [(error.code, error.jobs) for error in errors] == [("node_error", 2)]
    assert errors[0].message == "KSampler: out of\nmemory"


def test_outputs_of_job_and_batch(store: Store, tmp_path: Path) -> None:
    batch = make_batch(store, tmp_path, "pics", [JobStatus.SUCCEEDED] * 3, noon(0))
    history = History(store.connection)
    jobs = history.jobs(batch.id)

    first = history.outputs(jobs[0].id)
    strip = history.batch_outputs(batch.id, limit=2)

    assert [Path(output.local_path).name for output in first] == [f"job{jobs[0].id}.png"]
    assert [output.job_id for output in strip] == [jobs[0].id, jobs[1].id]
    assert Path(strip[0].local_path).is_file()


def test_listing_reads_counts_from_index(store: Store) -> None:
    plan = store.connection.execute(
        "EXPLAIN QUERY PLAN SELECT batches.id, batches.created_at, jobs.status, COUNT(jobs.id)"
        " FROM batches LEFT JOIN jobs ON jobs.batch_id = batches.id"
        " GROUP BY batches.id, jobs.status"
    ).fetchall()
    details = " ".join(row["detail"] for row in plan)

    assert "COVERING INDEX jobs_batch_status" in details


# Pruning ----------------------------------------------------------------------------------


def test_prune_removes_old_finished_batches(store: Store, tmp_path: Path) -> None:
    statuses = [JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED]
    old = make_batch(store, tmp_path, "old", statuses, noon(40), webhooks=2)
    new = make_batch(store, tmp_path, "new", [JobStatus.SUCCEEDED], noon(1))
    old_image = store.gallery.get_by_path(str(tmp_path / "old" / "job1.png"))
    assert old_image is not None and old_image.batch_id == old.id

    result = prune_history(store, 30)

    assert result.batch_ids == (old.id,)
    assert (result.jobs, result.outputs) == (3, 1)
    assert result.cutoff == pytest.approx(time.time() - 30 * DAY, abs=5)
    assert [batch.id for batch in store.batches()] == [new.id]
    assert {job.batch_id for job in store.jobs()} == {new.id}
    job_ids = [job.id for job in store.jobs()]
    events = store.connection.execute("SELECT DISTINCT job_id FROM job_events").fetchall()
    assert [row[0] for row in events] == job_ids
    assert count(store, "outputs") == 1
    assert count(store, "webhook_deliveries") == 1
    # The image file and its row in the gallery stay, no longer tied to the batch.
    kept = store.gallery.get(old_image.id)
    assert Path(kept.path).is_file()
    assert (kept.batch_id, kept.job_id, kept.output_id) == (None, None, None)
    assert kept.prompt == old_image.prompt
    assert store.gallery.count_all() == 2


def test_prune_keeps_unfinished_batch(store: Store, tmp_path: Path) -> None:
    statuses = [JobStatus.SUCCEEDED, JobStatus.QUEUED]
    unfinished = make_batch(store, tmp_path, "waiting", statuses, noon(400))
    running = make_batch(store, tmp_path, "running", [JobStatus.RUNNING], noon(400))

    preview = preview_prune(store, 1)
    result = prune_history(store, 1)
    removed = remove_batches(store, [unfinished.id, running.id])

    assert preview.batches == 0
    assert result.batches == 0
    assert removed.batches == 0
    assert {batch.id for batch in store.batches()} == {unfinished.id, running.id}
    assert len(store.jobs()) == 3


def test_prune_preview_changes_nothing(store: Store, tmp_path: Path) -> None:
    old = make_batch(store, tmp_path, "old", [JobStatus.SUCCEEDED] * 2, noon(10))
    make_batch(store, tmp_path, "new", [JobStatus.SUCCEEDED], noon(0))

    preview = preview_prune(store, 5)

    assert preview.batch_ids == (old.id,)
    assert (preview.jobs, preview.outputs) == (2, 2)
    assert len(store.batches()) == 2
    assert len(store.jobs()) == 3


def test_prune_at_a_given_time(store: Store, tmp_path: Path) -> None:
    batch = make_batch(store, tmp_path, "dated", [JobStatus.SUCCEEDED], 1_000_000.0)

    kept = prune_history(store, 2, now=1_000_000.0 + 2 * DAY - 1)
    removed = prune_history(store, 2, now=1_000_000.0 + 2 * DAY + 1)

    assert kept.batches == 0
    assert removed.batch_ids == (batch.id,)


@pytest.mark.parametrize("days", [0, -3, MAX_KEEP_DAYS + 1, True, 1.5, "7"])
def test_prune_rejects_invalid_days(store: Store, days: object) -> None:
    with pytest.raises(ValueError, match="Invalid number of days"):
        prune_cutoff(days)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Invalid number of days"):
        prune_history(store, days)  # type: ignore[arg-type]


def test_remove_batches_without_foreign_keys_raises(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    store = Store.open(path)
    batch = make_batch(store, tmp_path, "kept", [JobStatus.SUCCEEDED], noon(50))
    store.close()
    # A connection of someone else's, opened without PRAGMA foreign_keys.
    connection = sqlite3.connect(path, isolation_level=None)

    with pytest.raises(RuntimeError, match="Foreign keys are off"):
        History(connection).delete_finished([batch.id])

    assert connection.execute("SELECT COUNT(*) FROM jobs").fetchone()[0] == 1
    connection.close()


def test_remove_batches_by_id(store: Store, tmp_path: Path) -> None:
    first = make_batch(store, tmp_path, "first", [JobStatus.FAILED], noon(0))
    second = make_batch(store, tmp_path, "second", [JobStatus.SUCCEEDED], noon(0))

    result = remove_batches(store, [first.id])

    assert result.batch_ids == (first.id,)
    assert result.jobs == 1
    assert result.cutoff is None
    assert [batch.id for batch in store.batches()] == [second.id]


def test_prune_many_batches_in_chunks(store: Store, tmp_path: Path) -> None:
    batches = [
        make_batch(store, tmp_path, f"b{number}", [JobStatus.CANCELLED], noon(60))
        for number in range(45)
    ]

    result = prune_history(store, 30)

    assert result.batch_ids == tuple(batch.id for batch in batches)
    assert count(store, "jobs") == 0
    assert count(store, "job_events") == 0


# Schema -----------------------------------------------------------------------------------


def test_version_5_database_gets_history_indexes(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    connection = sqlite3.connect(path)
    for number, script in enumerate(MIGRATIONS[:5], start=1):
        connection.executescript(script + f";PRAGMA user_version = {number};")
    connection.execute(
        "INSERT INTO batches (id, name, workflow_name, workflow_path, connection, count,"
        " seed_mode, output_dir, created_at) VALUES (1, 'b', 'w', 'p', 'cloud', 1, 'fixed', 'o', 0)"
    )
    connection.execute(
        "INSERT INTO jobs (id, batch_id, position, connection, workflow_name, prompt_json,"
        " prompt_hash, seed, status, idempotency_key, created_at, updated_at)"
        " VALUES (1, 1, 0, 'cloud', 'w', '{}', 'h', 7, 'failed', 'k', 0, 0)"
    )
    connection.execute(
        "INSERT INTO webhook_deliveries (job_id, received_at, body) VALUES (1, 0, '{}')"
    )
    connection.commit()
    connection.close()

    store = Store.open(path)
    indexes = {
        row[0]
        for row in store.connection.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
    }
    days = History(store.connection).days()
    result = prune_history(store, 1)
    store.close()

    assert SCHEMA_VERSION >= 6
    assert {"webhook_deliveries_job", "jobs_batch_status"} <= indexes
    assert days[0].counts == JobCounts(failed=1)
    assert result.batch_ids == (1,)
