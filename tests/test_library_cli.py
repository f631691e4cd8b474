"""``cmfy-desk search``, ``index`` and ``metrics`` as subprocesses, over a library made by a real
sandbox run and by folders of real image files, read as the window reads it."""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import logging
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from cmfy_desk.cli import build_gui_parser, build_search_parser, main
from cmfy_desk.connections import COMFYUI, SANDBOX, ConnectionConfig, ConnectionList
from cmfy_desk.library_commands import parse_search_arguments, since_time
from cmfy_desk.metrics import (
    JOB_HISTORY_COLUMNS,
    METRICS_CSV_COLUMNS,
    Advice,
    AdviceCode,
    CacheSource,
    CheckCode,
    FixAction,
    MetricsScope,
    compute_metrics,
    default_download_seconds,
)
from cmfy_desk.metrics_report import report_lines
from cmfy_desk.outputs import folder_scan
from cmfy_desk.outputs.query import parse_query
from cmfy_desk.paths import bundled_workflows
from cmfy_desk.settings import Settings
from cmfy_desk.store import ImageRecord, Store
from tests.test_image_index import sdxl_graph, truncated, write_png

TIMEOUT = 120
DATABASE_NAME = "cmfy-desk.sqlite3"
CHECK_TITLES = (
    "Webhooks in use rather than polling",
    "Model URLs canonical across queued work",
    "Concurrency limits respected",
    "Retries carry idempotency keys",
    "429 responses answered with backoff",
    "Pooled connections",
    "Metrics being recorded",
    "Workflows free of unused nodes",
)


def _cmfy_desk(
    *args: str, data_dir: Path | None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the command line; without ``data_dir`` it finds its folder as the window does."""
    hidden = ("CMFY_API_KEY", "CMFY_DESK_DATA_DIR")
    environment = {k: v for k, v in os.environ.items() if k not in hidden}
    environment.update(env or {})
    data_args = ["--data-dir", str(data_dir)] if data_dir is not None else []
    return subprocess.run(
        [sys.executable, "-m", "cmfy_desk", *args, *data_args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=environment,
        check=False,
    )


@dataclasses.dataclass(frozen=True)
class SandboxLibrary:
    """A data folder filled by ``cmfy-desk run --sandbox``: 10 jobs in 5 batches, 8 images."""

    data_dir: Path
    out: Path

    def open_store(self) -> Store:
        return Store.open(self.data_dir / DATABASE_NAME)


@pytest.fixture(scope="module")
def sandbox_library(tmp_path_factory: pytest.TempPathFactory) -> SandboxLibrary:
    root = tmp_path_factory.mktemp("library")
    sd15 = next(path for path in bundled_workflows() if path.stem == "sd15_txt2img")
    unused = json.loads(sd15.read_text(encoding="utf-8"))
    unused["2"]["inputs"]["text"] = "a snowy owl on a fence post"
    unused["5"]["inputs"]["seed"] = 4242
    unused["99"] = {"class_type": "CLIPTextEncode", "inputs": {"text": "spare", "clip": ["1", 1]}}
    (root / "unused.json").write_text(json.dumps(unused), encoding="utf-8")
    (root / "failing.json").write_text(
        json.dumps(sdxl_graph("SANDBOX_FAIL a castle", seed=7)), encoding="utf-8"
    )
    library = SandboxLibrary(root / "data", root / "out")
    result = _cmfy_desk(
        "run",
        "--sandbox",
        "--speed",
        "50",
        "--count",
        "2",
        "--out",
        str(library.out),
        *map(str, bundled_workflows()),
        str(root / "unused.json"),
        str(root / "failing.json"),
        data_dir=library.data_dir,
    )
    # The sandbox fails the two jobs whose prompt contains SANDBOX_FAIL.
    assert result.returncode == 1, result.stderr
    assert "8 of 10 jobs succeeded" in result.stdout
    return library


def _gallery_paths(library: SandboxLibrary, text: str) -> list[str]:
    store = library.open_store()
    try:
        return [record.path for record in store.gallery.search(parse_query(text), limit=-1)]
    finally:
        store.close()


def _fields(line: str) -> list[str]:
    fields = line.split("\t")
    assert len(fields) == 5, line
    return fields


# Search --------------------------------------------------------------------------------------


def test_search_prints_one_line_per_image(sandbox_library: SandboxLibrary) -> None:
    result = _cmfy_desk("search", "red fox", "steps:20", data_dir=sandbox_library.data_dir)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    store = sandbox_library.open_store()
    try:
        for line in lines:
            path, seed, prompt, models, rating = _fields(line)
            record = store.gallery.get_by_path(path)
            assert record is not None
            assert Path(path).is_file()
            assert seed == str(record.seed)
            assert prompt.startswith("a red fox curled up in fresh snow")
            assert prompt.endswith("...")
            assert models == "v1-5-pruned-emaonly.safetensors"
            assert rating == "-"
    finally:
        store.close()


@pytest.mark.parametrize(
    "query",
    [
        ["fox"],
        ["model:sdxl"],
        ["steps:>10", "cfg:<7"],
        ["-fox", "-lighthouse"],
        ["owl", "sampler:euler"],
        ["connection:sandbox", "is:job", "negative:blurry"],
        ["nook", "date:today"],
    ],
)
def test_search_matches_the_gallery(sandbox_library: SandboxLibrary, query: list[str]) -> None:
    result = _cmfy_desk("search", *query, "--limit", "0", data_dir=sandbox_library.data_dir)
    expected = _gallery_paths(sandbox_library, " ".join(query))
    assert expected, "the query should match some images"
    assert result.returncode == 0, result.stderr
    assert [_fields(line)[0] for line in result.stdout.splitlines()] == expected


def test_search_leaves_out_excluded_words(sandbox_library: SandboxLibrary) -> None:
    result = _cmfy_desk("search", "-fox", "-lighthouse", data_dir=sandbox_library.data_dir)
    assert result.returncode == 0, result.stderr
    prompts = [_fields(line)[2] for line in result.stdout.splitlines()]
    assert len(prompts) == 4
    assert not any("fox" in prompt or "lighthouse" in prompt for prompt in prompts)
    after_separator = _cmfy_desk(
        "search",
        "--",
        "-fox",
        "-lighthouse",
        data_dir=None,
        env={"CMFY_DESK_DATA_DIR": str(sandbox_library.data_dir)},
    )
    assert after_separator.stdout == result.stdout


def test_search_json_has_full_records(sandbox_library: SandboxLibrary) -> None:
    store = sandbox_library.open_store()
    try:
        owl = store.gallery.search(parse_query("owl"), limit=1)[0]
    finally:
        store.close()
    result = _cmfy_desk("search", f"seed:{owl.seed}", "--json", data_dir=sandbox_library.data_dir)
    assert result.returncode == 0, result.stderr
    records = json.loads(result.stdout)
    assert len(records) == 1
    record = records[0]
    assert set(record) == {field.name for field in dataclasses.fields(ImageRecord)}
    assert record["path"] == owl.path
    assert record["seed"] == owl.seed
    assert record["prompt"].startswith("a snowy owl on a fence post")
    assert record["models"] == ["v1-5-pruned-emaonly.safetensors"]
    assert record["source"] == "job"
    assert record["status"] == "ok"
    assert record["job_id"] == owl.job_id
    assert record["seed"] in (4242, 4243)
    assert record["steps"] == 20


def test_search_json_without_match_is_empty(sandbox_library: SandboxLibrary) -> None:
    result = _cmfy_desk("search", "zebra", "--json", data_dir=sandbox_library.data_dir)
    assert result.returncode == 1
    assert json.loads(result.stdout) == []


def test_search_limit_reports_the_rest(sandbox_library: SandboxLibrary) -> None:
    result = _cmfy_desk("search", "--limit", "3", data_dir=sandbox_library.data_dir)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 3
    assert "Showed 3 of 8 matching images" in result.stderr


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("steps:>abc", ["'steps:>abc' is not a whole number", "steps takes a whole number"]),
        ("colour:red", ["Unknown field 'colour'", "Fields: seed"]),
        ("seed:>5", ["'seed:>5'", "a seed matches one exact value"]),
        ("date:2026-13", ["'date:2026-13'", "not a calendar date"]),
    ],
)
def test_search_invalid_query_exits_2(
    sandbox_library: SandboxLibrary, query: str, expected: list[str]
) -> None:
    result = _cmfy_desk("search", "fox", query, data_dir=sandbox_library.data_dir)
    assert result.returncode == 2
    assert result.stdout == ""
    for text in expected:
        assert text in result.stderr


def test_search_without_match_exits_1(sandbox_library: SandboxLibrary) -> None:
    result = _cmfy_desk("search", "zebra", "steps:20", data_dir=sandbox_library.data_dir)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "No images match 'zebra steps:20'." in result.stderr


def test_search_sees_window_ratings(sandbox_library: SandboxLibrary) -> None:
    # The window keeps its own connection open; the command reads beside it.
    store = sandbox_library.open_store()
    lighthouse = store.gallery.search(parse_query("lighthouse"), limit=1)[0]
    try:
        store.gallery.set_rating([lighthouse.id], 4)
        result = _cmfy_desk("search", "rating:>=4", data_dir=sandbox_library.data_dir)
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert len(lines) == 1
        assert _fields(lines[0])[0] == lighthouse.path
        assert _fields(lines[0])[4] == "4/5"
    finally:
        store.gallery.set_rating([lighthouse.id], 0)
        store.close()


def test_search_output_escapes_unencodable_text(tmp_path: Path) -> None:
    folder = tmp_path / "pictures"
    write_png(folder / "fox.png", sdxl_graph("狐 in the snow", seed=21))
    data = tmp_path / "data"
    assert _cmfy_desk("index", "add", str(folder), data_dir=data).returncode == 0

    # An output encoding without these characters, as a redirected Windows console has.
    result = _cmfy_desk("search", "snow", data_dir=data, env={"PYTHONIOENCODING": "ascii"})
    assert result.returncode == 0, result.stderr
    assert "\\u72d0 in the snow" in result.stdout


def test_data_folder_from_environment(sandbox_library: SandboxLibrary) -> None:
    result = _cmfy_desk(
        "search",
        "lighthouse",
        data_dir=None,
        env={"CMFY_DESK_DATA_DIR": str(sandbox_library.data_dir)},
    )
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 2


# Folders of images ---------------------------------------------------------------------------


def _image_folder(root: Path) -> Path:
    write_png(root / "castle.png", sdxl_graph("a castle on a hill", seed=11))
    write_png(root / "sub" / "owl.png", sdxl_graph("an owl at night", seed=12))
    write_png(root / "plain.png")
    noise = root / "noise.tmp"
    Image.effect_noise((256, 256), 60).convert("RGB").save(noise, format="PNG")
    truncated(noise, root / "cut.png")
    noise.unlink()
    (root / "notes.txt").write_text("not an image", encoding="utf-8")
    return root.resolve()


def test_index_add_lists_damaged_files(tmp_path: Path) -> None:
    folder = _image_folder(tmp_path / "pictures")
    data = tmp_path / "data"
    result = _cmfy_desk("index", "add", str(folder), data_dir=data)
    assert result.returncode == 0, result.stderr
    # Adding a folder is a first use, so it creates the database in a new data folder.
    assert (data / DATABASE_NAME).is_file()
    lines = result.stdout.splitlines()
    assert lines[0] == f"Added {folder} to the gallery's folders."
    assert lines[1].startswith(
        f"{folder}: 4 image files, 3 indexed, 1 damaged or unreadable, 0 missing"
    )
    assert lines[2].startswith(f"  corrupt: {folder / 'cut.png'}: ")
    assert "truncated" in lines[2]
    assert len(lines) == 3
    assert f"Scanning {folder}: 4 image files" in result.stderr
    assert "Scanning" not in result.stdout

    found = _cmfy_desk("search", "castle", "seed:11", data_dir=data)
    assert found.returncode == 0, found.stderr
    assert [_fields(line)[0] for line in found.stdout.splitlines()] == [str(folder / "castle.png")]
    damaged = _cmfy_desk("search", "is:corrupt", data_dir=data)
    assert [_fields(line)[0] for line in damaged.stdout.splitlines()] == [str(folder / "cut.png")]

    listed = _cmfy_desk("index", "list", data_dir=data)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.startswith(f"{folder}: 3 indexed, 1 damaged or unreadable, 0 missing")
    assert "last scan never" not in listed.stdout
    assert "not watched" in listed.stdout


def test_index_scan_reads_only_changed_files(tmp_path: Path) -> None:
    folder = _image_folder(tmp_path / "pictures")
    data = tmp_path / "data"
    assert _cmfy_desk("index", "add", str(folder), data_dir=data).returncode == 0
    write_png(folder / "tower.png", sdxl_graph("a tower", seed=13))
    (folder / "sub" / "owl.png").unlink()

    result = _cmfy_desk("index", "scan", data_dir=data)
    assert result.returncode == 0, result.stderr
    assert (
        f"{folder}: 4 image files, 3 indexed, 1 damaged or unreadable, 1 missing (this scan "
        "read 1, skipped 3 unchanged, marked 1 missing)"
    ) in result.stdout
    assert _cmfy_desk("search", "owl", data_dir=data).returncode == 1
    assert _cmfy_desk("search", "tower", data_dir=data).returncode == 0


def test_index_scan_indexes_unindexed_outputs(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = _cmfy_desk(
        "run",
        "--sandbox",
        "--speed",
        "50",
        "--out",
        str(tmp_path / "out"),
        str(bundled_workflows()[0]),
        data_dir=data,
    )
    assert result.returncode == 0, result.stderr
    store = Store.open(data / DATABASE_NAME)
    try:
        removed = store.connection.execute("DELETE FROM images").rowcount
    finally:
        store.close()
    assert removed == 1

    scanned = _cmfy_desk("index", "scan", data_dir=data)
    assert scanned.returncode == 0, scanned.stderr
    assert "Indexed 1 job outputs that had no entry yet." in scanned.stdout
    assert "No folders are in the gallery yet" in scanned.stdout
    assert _cmfy_desk("search", "nook", data_dir=data).returncode == 0


def test_index_add_missing_folder_exits_2(tmp_path: Path) -> None:
    data = tmp_path / "data"
    missing = tmp_path / "nowhere"
    result = _cmfy_desk("index", "add", str(missing), data_dir=data)
    assert result.returncode == 2
    assert f"the folder {missing} does not exist" in result.stderr
    assert result.stdout == ""

    note = tmp_path / "notes.txt"
    note.write_text("hello", encoding="utf-8")
    result = _cmfy_desk("index", "add", str(note), data_dir=data)
    assert result.returncode == 2
    assert f"{note} is a file, not a folder" in result.stderr

    # Neither rejected folder started a database in the new data folder.
    assert not data.exists()


def test_vanished_folder_scan_exits_1(tmp_path: Path) -> None:
    data = tmp_path / "data"
    vanished = _image_folder(tmp_path / "vanished")
    remaining = _image_folder(tmp_path / "remaining")
    assert _cmfy_desk("index", "add", str(vanished), data_dir=data).returncode == 0
    assert _cmfy_desk("index", "add", str(remaining), data_dir=data).returncode == 0
    shutil.rmtree(vanished)

    result = _cmfy_desk("index", "scan", data_dir=data)
    assert result.returncode == 1
    assert f"{vanished} is not a folder that can be scanned" in result.stderr
    assert f"{remaining}: 4 image files, 3 indexed" in result.stdout
    # The rows of an unreachable folder stay as they were, not marked missing.
    assert _cmfy_desk("search", "folder:" + str(vanished), data_dir=data).returncode == 0


def test_index_scan_unknown_folder_exits_2(tmp_path: Path) -> None:
    folder = _image_folder(tmp_path / "pictures")
    data = tmp_path / "data"
    Store.open(data / DATABASE_NAME).close()
    result = _cmfy_desk("index", "scan", str(folder), data_dir=data)
    assert result.returncode == 2
    assert f"not among the gallery's folders: {folder}" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("search", "fox"),
        ("search", "--json"),
        ("index", "list"),
        ("index", "scan"),
        ("index", "scan", "{root}/pictures"),
        ("metrics",),
        ("metrics", "--json", "--csv", "{root}/metrics.csv", "--history-csv", "{root}/jobs.csv"),
    ],
)
def test_missing_data_folder_exits_2(tmp_path: Path, args: tuple[str, ...]) -> None:
    pictures = _image_folder(tmp_path / "pictures")
    before = sorted(tmp_path.rglob("*"))
    typo = tmp_path / "dta"
    result = _cmfy_desk(*[arg.format(root=tmp_path) for arg in args], data_dir=typo)

    assert result.returncode == 2
    assert f"no Cmfy Desk database in {typo} (the folder does not exist)" in result.stderr
    assert "Check --data-dir" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert sorted(tmp_path.rglob("*")) == before
    assert pictures.is_dir()


def test_read_commands_on_empty_database(tmp_path: Path) -> None:
    data = tmp_path / "data"
    Store.open(data / DATABASE_NAME).close()

    searched = _cmfy_desk("search", data_dir=data)
    assert searched.returncode == 1
    assert "The gallery has no images yet." in searched.stderr
    listed = _cmfy_desk("index", "list", data_dir=data)
    assert listed.returncode == 0, listed.stderr
    assert "No folders are in the gallery yet" in listed.stdout
    scanned = _cmfy_desk("index", "scan", data_dir=data)
    assert scanned.returncode == 0, scanned.stderr
    assert "No folders are in the gallery yet" in scanned.stdout
    measured = _cmfy_desk("metrics", "--json", data_dir=data)
    assert measured.returncode == 0, measured.stderr
    assert isinstance(json.loads(measured.stdout), dict)


@pytest.fixture
def app_logging() -> Iterator[None]:
    """Remove the log handlers that an in-process command adds to the root logger."""
    yield
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_cmfy_desk", False):
            root.removeHandler(handler)
            handler.close()


@pytest.mark.usefixtures("app_logging")
def test_scan_progress_goes_to_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Report every file, as a scan long enough to pass PROGRESS_INTERVAL would.
    monkeypatch.setattr(folder_scan, "PROGRESS_INTERVAL", 0.0)
    folder = tmp_path / "many"
    for number in range(20):
        write_png(folder / f"image{number:02}.png", sdxl_graph(f"picture {number}", seed=number))

    status = main(["index", "add", str(folder), "--data-dir", str(tmp_path / "data")])
    captured = capsys.readouterr()
    assert status == 0
    progress = [line.strip() for line in captured.err.splitlines() if "files (" in line]
    assert progress == [f"{2 * step} of 20 files ({10 * step} %)" for step in range(1, 11)]
    assert "%" not in captured.out
    assert f"{folder.resolve()}: 20 image files, 20 indexed" in captured.out


# Metrics -------------------------------------------------------------------------------------


def test_metrics_prints_figures_and_checklist(sandbox_library: SandboxLibrary) -> None:
    result = _cmfy_desk("metrics", data_dir=sandbox_library.data_dir)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Metrics of every connection"
    assert lines[1] == "Jobs: 10 (8 succeeded, 2 failed)"
    table = {line.split("  ")[0]: line for line in lines}
    assert table["Duration"].split() == ["Duration", "Jobs", "Mean", "p50", "p95", "Max"]
    for name in ("Queue time", "Execution time", "Total time"):
        assert name in table
        assert table[name].endswith(" s")
    # Failed jobs end too, so all 10 have a total time.
    assert table["Total time"].split()[2] == "10"
    # The sandbox ran the 10 jobs in seconds, too short a window for a rate.
    throughput = lines.index("Throughput: Not enough data")
    assert "needs at least 60 s" in lines[throughput + 1]
    cache = next(i for i, line in enumerate(lines) if line.startswith("Cache hit rate: "))
    assert lines[cache + 1].startswith("  Inferred from start delays")
    limits = lines.index("429 responses: 0")
    assert lines[limits + 1].startswith("  Submissions put back in the queue after a 429")
    failures = lines.index("Failures by cause:")
    assert lines[failures + 1] == "  Failed on the GPU node: 2"
    assert "Warnings:" in lines

    checklist = lines[lines.index("Production checklist:") + 1 :]
    for title in CHECK_TITLES:
        matching = [line for line in checklist if f"  {title}: " in line]
        assert len(matching) == 1, title
        assert matching[0].split()[0] in ("green", "amber", "unknown")
    unused = next(line for line in checklist if "Workflows free of unused nodes" in line)
    assert unused.split()[0] == "amber"
    assert "Graphs with nodes that lead to no output: 2 of 10" in unused
    fix = checklist[checklist.index(unused) + 1]
    assert fix.strip().startswith("fix: Remove them")


def test_metrics_of_one_batch_as_json(sandbox_library: SandboxLibrary) -> None:
    store = sandbox_library.open_store()
    try:
        batch = next(batch for batch in store.batches() if batch.workflow_name == "unused")
    finally:
        store.close()
    result = _cmfy_desk(
        "metrics", "--batch", str(batch.id), "--json", data_dir=sandbox_library.data_dir
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["scope"] == {"connection": "sandbox", "batch_id": batch.id, "since": None}
    assert document["jobs"] == 2
    assert document["by_status"] == {"succeeded": 2}
    assert document["queue_seconds"]["count"] == 2
    assert document["total_seconds"]["max"] >= document["total_seconds"]["p50"]
    assert document["cache"]["source"] in {source.value for source in CacheSource}
    assert document["failures"] == {}
    items = {item["code"]: item for item in document["checklist"]}
    assert list(items) == [code.value for code in CheckCode]
    assert items["unused_nodes"]["state"] == "amber"
    assert items["unused_nodes"]["fix"].startswith("Remove them")
    assert items["pooling"]["state"] == "green"
    assert all(item["message"] for item in items.values())


def test_metrics_writes_csv_files(sandbox_library: SandboxLibrary, tmp_path: Path) -> None:
    figures, history = tmp_path / "metrics.csv", tmp_path / "jobs.csv"
    result = _cmfy_desk(
        "metrics",
        "--connection",
        "sandbox",
        "--csv",
        str(figures),
        "--history-csv",
        str(history),
        data_dir=sandbox_library.data_dir,
    )
    assert result.returncode == 0, result.stderr
    assert f"Saved 6 rows (one per connection and per batch) to {figures}" in result.stderr
    assert f"Saved 10 jobs to {history}" in result.stderr
    assert result.stdout.startswith("Metrics of the connection sandbox")

    with figures.open(encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    with figures.open(encoding="utf-8", newline="") as file:
        assert next(csv.reader(file)) == list(METRICS_CSV_COLUMNS)
    assert [row["scope"] for row in rows] == ["connection"] + ["batch"] * 5
    assert rows[0]["connection"] == "sandbox"
    assert rows[0]["jobs"] == "10"
    assert rows[0]["failures_server"] == "2"

    with history.open(encoding="utf-8", newline="") as file:
        assert next(csv.reader(file)) == list(JOB_HISTORY_COLUMNS)
    with history.open(encoding="utf-8", newline="") as file:
        jobs = list(csv.DictReader(file))
    assert Counter(job["status"] for job in jobs) == {"succeeded": 8, "failed": 2}
    assert {job["failure_cause"] for job in jobs if job["status"] == "failed"} == {"server"}
    assert all(job["queue_seconds"] for job in jobs)


def test_metrics_since_leaves_out_older_jobs(sandbox_library: SandboxLibrary) -> None:
    later = _cmfy_desk(
        "metrics", "--since", "2099-01-01", "--json", data_dir=sandbox_library.data_dir
    )
    assert later.returncode == 0, later.stderr
    assert json.loads(later.stdout)["jobs"] == 0
    recent = _cmfy_desk("metrics", "--since", "1h", "--json", data_dir=sandbox_library.data_dir)
    assert json.loads(recent.stdout)["jobs"] == 10


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--connection", "studio"],
            "no connection named 'studio'. Connections with jobs: sandbox",
        ),
        (["--batch", "999"], "no batch 999"),
        (["--since", "lastweek"], "'lastweek' is not a date"),
    ],
)
def test_metrics_bad_choice_exits_2(
    sandbox_library: SandboxLibrary, args: list[str], expected: str
) -> None:
    result = _cmfy_desk("metrics", *args, data_dir=sandbox_library.data_dir)
    assert result.returncode == 2
    assert expected in result.stderr
    assert result.stdout == ""


def test_metrics_of_a_saved_connection(sandbox_library: SandboxLibrary) -> None:
    saved = ConnectionList(sandbox_library.data_dir / "connections.json", [])
    saved.put(ConnectionConfig(kind=COMFYUI, name="render-farm", base_url="http://127.0.0.1:9"))
    saved.save()

    result = _cmfy_desk(
        "metrics", "--connection", "Render-Farm", "--json", data_dir=sandbox_library.data_dir
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["scope"]["connection"] == "render-farm"
    assert document["jobs"] == 0
    webhooks = document["checklist"][0]
    assert (webhooks["code"], webhooks["state"], webhooks["reason"]) == (
        "webhooks",
        "green",
        "websocket",
    )

    other = _cmfy_desk(
        "metrics", "--batch", "1", "--connection", "render-farm", data_dir=sandbox_library.data_dir
    )
    assert other.returncode == 2
    assert "batch 1 ran on sandbox, not on render-farm" in other.stderr


def test_metrics_unwritable_csv_exits_2(sandbox_library: SandboxLibrary, tmp_path: Path) -> None:
    target = tmp_path / "missing folder" / "metrics.csv"
    result = _cmfy_desk("metrics", "--csv", str(target), data_dir=sandbox_library.data_dir)
    assert result.returncode == 2
    assert f"writing {target} failed" in result.stderr
    assert not target.exists()


def test_every_warning_prints_its_fix(sandbox_library: SandboxLibrary) -> None:
    store = sandbox_library.open_store()
    try:
        metrics = compute_metrics(store, MetricsScope())
    finally:
        store.close()
    advice = (
        Advice(AdviceCode.QUEUE_P95, {"p95": 45.0, "threshold": 30.0}, FixAction.QUEUE_SETTINGS),
        Advice(
            AdviceCode.CACHE_HIT_RATE,
            {"rate": 0.25, "threshold": 0.5, "source": CacheSource.INFERRED},
            FixAction.MODEL_LIBRARY,
        ),
        Advice(
            AdviceCode.FREQUENT_429,
            {"count": 12, "share": None, "per_minute": 3.0},
            FixAction.QUEUE_SETTINGS,
        ),
    )
    assert {item.code for item in advice} == set(AdviceCode)
    lines = report_lines("title", dataclasses.replace(metrics, advice=advice), ())
    warnings = [line for line in lines if line.startswith("  warning: ")]
    fixes = [line for line in lines if line.startswith("    fix: ")]
    assert len(warnings) == 3
    assert len(fixes) == 3
    assert "queue time is 45.0 s, above 30.0 s" in warnings[0]
    assert "Only 25 % of model lookups" in warnings[1]
    assert "12 requests with 429 (3.0 per minute)" in warnings[2]
    assert "No warnings" not in "\n".join(lines)


# Arguments -----------------------------------------------------------------------------------


def test_since_time_forms() -> None:
    now = datetime(2026, 11, 24, 18, 30).timestamp()
    assert since_time("2026-11-24") == datetime(2026, 11, 24).timestamp()
    assert since_time("2026-11-24T18:00") == datetime(2026, 11, 24, 18).timestamp()
    assert (
        since_time("2026-11-24T18:00+01:00") == datetime(2026, 11, 24, 17, tzinfo=UTC).timestamp()
    )
    assert since_time("24h", now=now) == now - 86400
    assert since_time("30m", now=now) == now - 1800
    assert since_time("2w", now=now) == now - 14 * 86400
    assert since_time("today", now=now) == datetime(2026, 11, 24).timestamp()
    assert since_time("yesterday", now=now) == datetime(2026, 11, 23).timestamp()
    with pytest.raises(argparse.ArgumentTypeError, match="not a date"):
        since_time("soon")


@pytest.mark.parametrize(
    ("argv", "query", "limit"),
    [
        (["fox", "-blurry", "--limit", "5", "-x"], ["fox", "-blurry", "-x"], 5),
        (["-blurry", "red", "fox"], ["-blurry", "red", "fox"], 100),
        (["--limit", "0", "--", "-fox", "--json"], ["-fox", "--json"], 0),
    ],
)
def test_search_arguments_keep_excluded_words(
    argv: list[str], query: list[str], limit: int
) -> None:
    options = parse_search_arguments(build_search_parser(), argv)
    assert options.query == query
    assert options.limit == limit
    assert not options.json


def test_search_negative_limit_named_in_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        parse_search_arguments(build_search_parser(), ["--limit", "-1", "fox"])

    assert stopped.value.code == 2
    assert "-1 is negative; use 0 to print every image" in capsys.readouterr().err


def test_window_help_names_the_commands() -> None:
    text = build_gui_parser().description or ""
    for command in ("search", "index", "metrics"):
        assert f"cmfy-desk {command} --help" in text


def test_metrics_cache_margin_follows_the_sandbox_speed_setting(
    sandbox_library: SandboxLibrary,
) -> None:
    settings_file = sandbox_library.data_dir / "settings.json"
    saved = settings_file.read_bytes() if settings_file.exists() else None
    settings = Settings(settings_file)
    settings.set("sandbox.speed", 4.0)
    settings.save()
    try:
        result = _cmfy_desk(
            "metrics", "--connection", "sandbox", "--json", data_dir=sandbox_library.data_dir
        )
    finally:
        if saved is None:
            settings_file.unlink()
        else:
            settings_file.write_bytes(saved)
    assert result.returncode == 0, result.stderr
    margin = json.loads(result.stdout)["cache"]["miss_margin_seconds"]
    # Half a download, which at speed 4 takes a quarter of its time at speed 1.
    assert margin == pytest.approx(default_download_seconds(SANDBOX, 4.0) / 2)
    assert margin != pytest.approx(default_download_seconds(SANDBOX, 1.0) / 2)
