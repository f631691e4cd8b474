"""``cmfy-desk history``: the History tab without a window, and ``cmfy-desk history prune``.

Both read the database the window uses: the data folder comes from ``--data-dir``, else
``$CMFY_DESK_DATA_DIR``, else the user data folder (paths.existing_paths). Neither creates a
database. A data folder without one is an error, so a mistyped folder is not read as an empty
history. Pruning deletes a few batches per transaction, so it can run while the window is open.
Results go to standard output, errors to standard error.
"""

from __future__ import annotations

import argparse
import json
import logging
import sqlite3
import sys
import time
from dataclasses import asdict
from typing import Any, TextIO

from cmfy_desk.cli_output import discard_closed_stdout
from cmfy_desk.logs import setup_logging
from cmfy_desk.paths import NoDatabaseError, existing_paths
from cmfy_desk.store import Store, StoreError
from cmfy_desk.store.history import (
    MAX_KEEP_DAYS,
    BatchSummary,
    DaySummary,
    History,
    JobCounts,
    JobSummary,
    PruneResult,
    days_back_start,
    preview_prune,
    prune_history,
)

log = logging.getLogger(__name__)

EXIT_OK, EXIT_NOT_FOUND, EXIT_USAGE = 0, 1, 2


# Arguments ---------------------------------------------------------------------------------


def day_count(text: str) -> int:
    """Return a number of days for --days or --older-than: a whole number from 1 to
    MAX_KEEP_DAYS."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a whole number of days, for example 30"
        ) from None
    if not 1 <= value <= MAX_KEEP_DAYS:
        raise argparse.ArgumentTypeError(f"{value} is outside 1..{MAX_KEEP_DAYS} days")
    return value


# Commands ----------------------------------------------------------------------------------


def history_command(options: argparse.Namespace) -> int:
    """Run ``cmfy-desk history``: list days and batches, or one batch's jobs with --batch."""
    store = _open_store(options)
    if store is None:
        return EXIT_USAGE
    try:
        history = History(store.connection)
        if options.batch is not None:
            status = _print_batch(history, options.batch, options.json, sys.stdout)
            sys.stdout.flush()
            return status
        since = days_back_start(options.days) if options.days is not None else None
        _print_days(history, since, options.json, sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:
        # A reader that stops early, such as ``| head``, closed the pipe, so the output ends.
        discard_closed_stdout()
    except sqlite3.Error as exc:
        print(f"error: reading the history from {store.path} failed: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        store.close()
    return EXIT_OK


def prune_command(options: argparse.Namespace) -> int:
    """Run ``cmfy-desk history prune``: list what would go, and with --yes remove it."""
    store = _open_store(options)
    if store is None:
        return EXIT_USAGE
    days = options.older_than
    try:
        if not options.yes:
            preview = preview_prune(store, days)
            print(_prune_text(preview, days, done=False))
            if preview.batches:
                print("Nothing was changed. Run again with --yes to remove them.")
            return EXIT_OK
        result = prune_history(store, days)
    except (sqlite3.Error, RuntimeError) as exc:
        print(f"error: pruning the history in {store.path} failed: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        store.close()
    log.info("Pruned %d batches (%d jobs) older than %d days", result.batches, result.jobs, days)
    print(_prune_text(result, days, done=True))
    return EXIT_OK


def _open_store(options: argparse.Namespace) -> Store | None:
    """Open the existing database; None after printing why it cannot be opened."""
    try:
        paths = existing_paths(options.data_dir)
    except NoDatabaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None
    try:
        setup_logging(paths.log_dir, console_level=logging.ERROR)
    except OSError as exc:
        print(f"error: cannot create the log folder: {exc}", file=sys.stderr)
        return None
    try:
        return Store.open(paths.database)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None


# Listing -----------------------------------------------------------------------------------


def _print_days(history: History, since: float | None, as_json: bool, out: TextIO) -> None:
    days = history.days(since)
    if as_json:
        document = [
            {
                **_day_document(day),
                "batches": [
                    _batch_document(batch) for batch in history.batches(day.start, day.end)
                ],
            }
            for day in days
        ]
        json.dump(document, out, indent=2)
        out.write("\n")
        return
    if not days:
        out.write("No batches in the history.\n")
        return
    for day in days:
        out.write(
            f"{day.day}: {_plural(day.batch_count, 'batch', 'batches')}, "
            f"{_counts_text(day.counts)}\n"
        )
        for batch in history.batches(day.start, day.end):
            out.write(f"  {_batch_line(batch)}\n")


def _print_batch(history: History, batch_id: int, as_json: bool, out: TextIO) -> int:
    batch = history.batch(batch_id)
    if batch is None:
        print(f"error: no batch {batch_id} in the history", file=sys.stderr)
        return EXIT_NOT_FOUND
    jobs = history.jobs(batch_id)
    if as_json:
        document = _batch_document(batch)
        document["jobs"] = [
            {
                **_job_document(job),
                "outputs": [output.local_path for output in history.outputs(job.id)],
            }
            for job in jobs
        ]
        json.dump(document, out, indent=2)
        out.write("\n")
        return EXIT_OK
    out.write(
        f"Batch {batch.id} '{batch.name}': workflow {batch.workflow_name}, "
        f"connection {batch.connection}\n"
    )
    out.write(f"Created {_date_time(batch.created_at)}, ")
    out.write(
        f"finished {_date_time(batch.finished_at)}\n" if batch.finished_at else "not finished\n"
    )
    out.write(f"{_counts_text(batch.counts)}\n")
    out.write(
        f"Mean run time {_seconds(batch.mean_run_seconds)}, total {_seconds(batch.total_seconds)}, "
        f"{_plural(batch.output_count, 'output', 'outputs')} in {batch.output_dir}\n"
    )
    for job in jobs:
        out.write(f"  {_job_line(job)}\n")
    return EXIT_OK


def _batch_line(batch: BatchSummary) -> str:
    parts = [
        f"batch {batch.id} '{batch.name}'",
        batch.workflow_name,
        batch.connection,
        time.strftime("%H:%M:%S", time.localtime(batch.created_at)),
        _counts_text(batch.counts),
        f"mean run {_seconds(batch.mean_run_seconds)}",
        f"total {_seconds(batch.total_seconds)}",
        _plural(batch.output_count, "output", "outputs"),
    ]
    return "  ".join(parts)


def _job_line(job: JobSummary) -> str:
    parts = [
        f"job {job.id}",
        f"#{job.position + 1}",
        job.status.value,
        f"seed {job.seed}" if job.seed is not None else "no seed",
        f"run {_seconds(job.run_seconds)}",
        f"total {_seconds(job.total_seconds)}",
        _plural(job.output_count, "output", "outputs"),
    ]
    error = ": ".join(part for part in (job.error_code, _one_line(job.error_message)) if part)
    if error:
        parts.append(f"error {error}")
    return "  ".join(parts)


def _counts_text(counts: JobCounts) -> str:
    text = (
        f"{_plural(counts.total, 'job', 'jobs')}: {counts.succeeded} succeeded, "
        f"{counts.failed} failed, {counts.cancelled} cancelled"
    )
    if counts.other:
        text += f", {counts.other} partial or lost"
    if counts.unfinished:
        text += f", {counts.unfinished} unfinished"
    return text


def _day_document(day: DaySummary) -> dict[str, Any]:
    return {"day": day.day, "batch_count": day.batch_count, "jobs": _counts_document(day.counts)}


def _batch_document(batch: BatchSummary) -> dict[str, Any]:
    return {
        "id": batch.id,
        "name": batch.name,
        "workflow": batch.workflow_name,
        "workflow_path": batch.workflow_path,
        "connection": batch.connection,
        "output_dir": batch.output_dir,
        "created_at": batch.created_at,
        "finished_at": batch.finished_at,
        "jobs": _counts_document(batch.counts),
        "mean_run_seconds": batch.mean_run_seconds,
        "total_seconds": batch.total_seconds,
        "output_count": batch.output_count,
    }


def _job_document(job: JobSummary) -> dict[str, Any]:
    document = asdict(job)
    document["status"] = job.status.value
    document["run_seconds"] = job.run_seconds
    document["total_seconds"] = job.total_seconds
    return document


def _counts_document(counts: JobCounts) -> dict[str, int]:
    return {**asdict(counts), "total": counts.total}


# Pruning -----------------------------------------------------------------------------------


def _prune_text(result: PruneResult, days: int, *, done: bool) -> str:
    if not result.batches:
        return f"No finished batch is older than {_plural(days, 'day', 'days')}."
    what = (
        f"{_plural(result.batches, 'finished batch', 'finished batches')} with "
        f"{_plural(result.jobs, 'job', 'jobs')} and "
        f"{_plural(result.outputs, 'output record', 'output records')}, created before "
        f"{_date_time(result.cutoff)}"
    )
    if done:
        return f"Removed {what}. Images stay on disk and in the gallery."
    return (
        f"Would remove {what}: batches {_id_list(result.batch_ids)}. "
        "Images stay on disk and in the gallery."
    )


def _id_list(ids: tuple[int, ...], shown: int = 20) -> str:
    text = ", ".join(str(batch_id) for batch_id in ids[:shown])
    return text + (f" and {len(ids) - shown} more" if len(ids) > shown else "")


# Formatting --------------------------------------------------------------------------------


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _seconds(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _date_time(timestamp: float | None) -> str:
    if timestamp is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp))


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())
