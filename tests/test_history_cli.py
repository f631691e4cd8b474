"""``cmfy-desk history`` and ``cmfy-desk history prune`` as subprocesses over a real database."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cmfy_desk.store import JobStatus, Store
from cmfy_desk.store.history import local_day
from tests.test_cli import _cmfy_desk
from tests.test_history import make_batch, noon


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data folder whose database contains two batches: 'old' (40 days ago: one succeeded and
    one failed job) and 'today' (one succeeded job, one still queued)."""
    folder = tmp_path / "data"
    store = Store.open(folder / "cmfy-desk.sqlite3")
    make_batch(store, tmp_path / "out", "old", [JobStatus.SUCCEEDED, JobStatus.FAILED], noon(40))
    make_batch(store, tmp_path / "out", "today", [JobStatus.SUCCEEDED, JobStatus.QUEUED], noon(0))
    store.close()
    return folder


def batch_names(data_dir: Path) -> list[str]:
    store = Store.open(data_dir / "cmfy-desk.sqlite3")
    try:
        return [batch.name for batch in store.batches()]
    finally:
        store.close()


def test_history_lists_days_and_batches(data_dir: Path) -> None:
    result = _cmfy_desk("history", data_dir=data_dir)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    today = "1 batch, 2 jobs: 1 succeeded, 0 failed, 0 cancelled, 1 unfinished"
    assert lines[0] == f"{local_day(noon(0))}: {today}"
    assert lines[1].startswith("  batch 2 'today'  sdxl_txt2img  sandbox  12:00:00  2 jobs")
    assert lines[2] == f"{local_day(noon(40))}: 1 batch, 2 jobs: 1 succeeded, 1 failed, 0 cancelled"
    assert "mean run 1.5 s  total 20.0 s  1 output" in lines[3]


def test_history_days_limits_listing(data_dir: Path) -> None:
    result = _cmfy_desk("history", "--days", "7", "--json", data_dir=data_dir)

    assert result.returncode == 0, result.stderr
    days = json.loads(result.stdout)
    assert [day["day"] for day in days] == [local_day(noon(0))]
    assert [batch["name"] for batch in days[0]["batches"]] == ["today"]
    assert days[0]["jobs"] == {
        "succeeded": 1,
        "failed": 0,
        "cancelled": 0,
        "other": 0,
        "unfinished": 1,
        "total": 2,
    }


def test_history_batch_shows_jobs_and_errors(data_dir: Path) -> None:
    text = _cmfy_desk("history", "--batch", "1", data_dir=data_dir)
    document = _cmfy_desk("history", "--batch", "1", "--json", data_dir=data_dir)

    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("Batch 1 'old': workflow sdxl_txt2img, connection sandbox\n")
    job_lines = [line for line in text.stdout.splitlines() if line.startswith("  job ")]
    assert len(job_lines) == 2
    assert "succeeded  seed 0  run 1.5 s  total 10.0 s  1 output" in job_lines[0]
    assert job_lines[0].startswith("  job 1  #1  ")
    assert job_lines[1].startswith("  job 2  #2  ")
    assert job_lines[1].endswith("0 outputs  error node_error: KSampler: out of memory")
    batch = json.loads(document.stdout)
    assert batch["name"] == "old"
    assert batch["finished_at"] == pytest.approx(noon(40) + 20)
    failed = batch["jobs"][1]
    assert failed["status"] == "failed"
    assert failed["error_code"] == "node_error"
    assert failed["error_message"] == "KSampler: out of\nmemory"
    assert Path(batch["jobs"][0]["outputs"][0]).name == "job1.png"


def test_history_output_closed_early_ends_quietly(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    store = Store.open(folder / "cmfy-desk.sqlite3")
    # Enough batches that the listing is larger than a pipe's buffer (64 KiB on Linux).
    for number in range(300):
        make_batch(store, tmp_path / "out", f"batch {number}", [JobStatus.FAILED], noon(0))
    store.close()
    command = [sys.executable, "-m", "cmfy_desk", "history", "--json", "--data-dir", str(folder)]
    # A reader that takes one line and closes the pipe, as ``| head -1`` does.
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None
    process.stdout.readline()
    process.stdout.close()
    _, errors = process.communicate(timeout=60)

    assert process.returncode == 0
    assert b"Traceback" not in errors


def test_history_unknown_batch_exits_1(data_dir: Path) -> None:
    result = _cmfy_desk("history", "--batch", "99", data_dir=data_dir)

    assert result.returncode == 1
    assert "no batch 99 in the history" in result.stderr


def test_history_empty_database(tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    Store.open(folder / "cmfy-desk.sqlite3").close()
    result = _cmfy_desk("history", data_dir=folder)
    pruned = _cmfy_desk("history", "prune", "--older-than", "1", "--yes", data_dir=folder)

    assert result.returncode == 0, result.stderr
    assert result.stdout == "No batches in the history.\n"
    assert pruned.returncode == 0, pruned.stderr
    assert pruned.stdout == "No finished batch is older than 1 day.\n"


@pytest.mark.parametrize(
    "args",
    [
        ("history",),
        ("history", "--batch", "1", "--json"),
        ("history", "prune", "--older-than", "30"),
        ("history", "prune", "--older-than", "30", "--yes"),
    ],
)
def test_history_missing_data_folder_exits_2(tmp_path: Path, args: tuple[str, ...]) -> None:
    typo = tmp_path / "dta"
    result = _cmfy_desk(*args, data_dir=typo)

    assert result.returncode == 2
    assert f"no Cmfy Desk database in {typo} (the folder does not exist)" in result.stderr
    assert "Check --data-dir" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_prune_without_yes_changes_nothing(data_dir: Path) -> None:
    result = _cmfy_desk("history", "prune", "--older-than", "30", data_dir=data_dir)

    assert result.returncode == 0, result.stderr
    assert "Would remove 1 finished batch with 2 jobs and 1 output record" in result.stdout
    assert "batches 1." in result.stdout
    assert "Nothing was changed. Run again with --yes to remove them." in result.stdout
    assert batch_names(data_dir) == ["old", "today"]


def test_prune_with_yes_removes_old_batches(data_dir: Path, tmp_path: Path) -> None:
    result = _cmfy_desk("history", "prune", "--older-than", "30", "--yes", data_dir=data_dir)
    again = _cmfy_desk("history", "prune", "--older-than", "30", "--yes", data_dir=data_dir)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Removed 1 finished batch with 2 jobs")
    assert batch_names(data_dir) == ["today"]
    assert (tmp_path / "out" / "old" / "job1.png").is_file()
    assert again.stdout == "No finished batch is older than 30 days.\n"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "'abc' is not a whole number of days, for example 30"),
        ("2.5", "'2.5' is not a whole number of days"),
        ("0", "0 is outside 1..100000 days"),
        ("-3", "-3 is outside 1..100000 days"),
    ],
)
def test_prune_bad_older_than_exits_2(data_dir: Path, value: str, message: str) -> None:
    result = _cmfy_desk("history", "prune", f"--older-than={value}", "--yes", data_dir=data_dir)

    assert result.returncode == 2
    assert "argument --older-than" in result.stderr
    assert message in result.stderr
    assert batch_names(data_dir) == ["old", "today"]


def test_prune_needs_older_than(data_dir: Path) -> None:
    result = _cmfy_desk("history", "prune", "--yes", data_dir=data_dir)

    assert result.returncode == 2
    assert "the following arguments are required: --older-than" in result.stderr
