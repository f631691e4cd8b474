"""``cmfy-desk search``, ``cmfy-desk index`` and ``cmfy-desk metrics``: the gallery's search line,
its folders of images and the metrics window, without a window.

Each command reads the library the window uses: the data folder comes from ``--data-dir``, else
``$CMFY_DESK_DATA_DIR``, else the user data folder (paths.locate_paths). Only ``index add``
creates the database, because adding a folder is a first use of a new data folder. The other
commands report a data folder without a database as an error and create nothing, so a
mistyped folder is not read as an empty library.

The database is opened with Store.open, so migrations apply. It is in WAL mode and every write
is a short transaction (a folder scan writes SCAN_BATCH_SIZE rows at a time), so a command can
run while the window is open. Results go to standard output, and progress and errors to
standard error.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import logging
import re
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from cmfy_desk.cli_output import discard_closed_stdout
from cmfy_desk.connections import SANDBOX, ConnectionConfig, ConnectionList
from cmfy_desk.logs import setup_logging
from cmfy_desk.metrics import (
    ConnectionFacts,
    MetricsScope,
    compute_metrics,
    connection_facts,
    export_job_history_csv,
    export_metrics_csv,
    production_checklist,
)
from cmfy_desk.metrics_report import local_time, report_document, report_lines
from cmfy_desk.outputs.folder_scan import ScanError, ScanProgress, scan_folder
from cmfy_desk.outputs.index import index_unindexed_outputs
from cmfy_desk.outputs.query import ParseError, parse_query
from cmfy_desk.paths import AppPaths, NoDatabaseError, existing_paths, resolve_paths
from cmfy_desk.settings import Settings
from cmfy_desk.store import (
    Filter,
    Gallery,
    ImageField,
    ImageOrder,
    ImageQuery,
    ImageRecord,
    ImageStatus,
    Operator,
    Store,
    StoreError,
)
from cmfy_desk.store.model_library import ModelLibrary

log = logging.getLogger(__name__)

# Exit statuses as grep has them. 0: the command did what was asked. 1: a search found
# nothing, or a folder could not be scanned. 2: an error, such as an invalid query, a folder
# that does not exist, or a database that cannot be read.
EXIT_OK, EXIT_ERROR, EXIT_INTERRUPTED = 0, 2, 130
EXIT_NO_MATCH = EXIT_SCAN_FAILED = 1
DEFAULT_SEARCH_LIMIT = 100
PROMPT_EXCERPT_LENGTH = 60
# A scan in progress prints a line each time it passes another tenth of its files.
PROGRESS_STEPS = 10
DAMAGED_STATUSES = (ImageStatus.CORRUPT, ImageStatus.UNREADABLE)
# --connection default names the default connection of the settings.
DEFAULT_CONNECTION_NAME = "default"

_RELATIVE_TIME = re.compile(r"([0-9]+)\s*([mhdw])")
_TIME_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


# Arguments ---------------------------------------------------------------------------------


def parse_search_arguments(
    parser: argparse.ArgumentParser, argv: Sequence[str]
) -> argparse.Namespace:
    """Parse ``cmfy-desk search`` arguments, reading words such as ``-blurry`` as part of the
    query (the query language's "leave out") rather than as unknown options."""
    arguments = list(argv)
    end = arguments.index("--") if "--" in arguments else len(arguments)
    # A token right after an option that takes a value is that value, such as the -1 of
    # "--limit -1", which the option then rejects with its own message.
    excluded_positions = {
        position
        for position, token in enumerate(arguments[:end])
        if _is_excluded_word(token)
        and not (position > 0 and arguments[position - 1] in _VALUE_OPTIONS)
    }
    excluded = [arguments[position] for position in sorted(excluded_positions)]
    options_and_words = [
        token
        for position, token in enumerate(arguments[:end])
        if position not in excluded_positions
    ]
    options = parser.parse_args(options_and_words + arguments[end:])
    if excluded:
        options.query = _typed_order(arguments, list(options.query), excluded)
    return options


# The options of ``cmfy-desk search`` that take a value in the next argument.
_VALUE_OPTIONS = frozenset({"--limit", "--order", "--data-dir"})


def _is_excluded_word(token: str) -> bool:
    # Search has no short option but -h, so every other single-dash token is a query word.
    return len(token) > 1 and token[0] == "-" and token[1] != "-" and token != "-h"


def _typed_order(arguments: list[str], query: list[str], excluded: list[str]) -> list[str]:
    """Merge the query words argparse kept with the excluded words, in the order typed, which
    matters because the last word also matches longer words."""
    merged: list[str] = []
    for token in arguments:
        if excluded and token == excluded[0]:
            merged.append(excluded.pop(0))
        elif query and token == query[0]:
            merged.append(query.pop(0))
    return merged + query + excluded


def search_limit(text: str) -> int:
    """Return a --limit value: a whole number, 0 for no limit."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative; use 0 to print every image")
    return value


def since_time(text: str, *, now: float | None = None) -> float:
    """Return the Unix time a --since value means: a date or date and time in ISO 8601 (local
    time unless it has an offset), today, yesterday, or a span back from now such as 30m,
    24h, 7d or 2w."""
    word = text.strip().lower()
    now = time.time() if now is None else now
    relative = _RELATIVE_TIME.fullmatch(word)
    if relative is not None:
        return now - int(relative.group(1)) * _TIME_UNITS[relative.group(2)]
    if word in ("today", "yesterday"):
        day = datetime.fromtimestamp(now).date()
        if word == "yesterday":
            day -= timedelta(days=1)
        return datetime(day.year, day.month, day.day).timestamp()
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date: use 2026-11-24, 2026-11-24T18:00, today, yesterday, or a "
            "span such as 30m, 24h, 7d or 2w"
        ) from None
    return moment.timestamp()


# Opening the library -----------------------------------------------------------------------


def _open_library(data_dir: Path | None, *, create: bool = False) -> tuple[AppPaths, Store] | None:
    """Open the database the window uses; None after printing why it cannot be opened.

    Without ``create``, a data folder that has no database is an error and nothing is created.
    """
    try:
        paths = resolve_paths(data_dir) if create else existing_paths(data_dir)
        setup_logging(paths.log_dir, console_level=logging.ERROR)
        return paths, Store.open(paths.database)
    except (NoDatabaseError, OSError, StoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None


def print_output(lines: Iterable[str]) -> None:
    """Print ``lines`` to standard output. A reader that stops early, such as ``| head``,
    closes the pipe, and the output then ends without a traceback."""
    if isinstance(sys.stdout, io.TextIOWrapper):
        # Output redirected on Windows uses the locale's code page, which lacks characters
        # such as "→" or those of a Chinese prompt. They are escaped rather than fail.
        sys.stdout.reconfigure(errors="backslashreplace")
    try:
        for line in lines:
            print(line)
        sys.stdout.flush()
    except BrokenPipeError:
        discard_closed_stdout()


def _database_failed(exc: sqlite3.Error | StoreError, doing: str) -> int:
    log.warning("%s failed: %s", doing, exc)
    print(
        f"error: {doing} failed: {exc}. If the window is busy with the database, try again.",
        file=sys.stderr,
    )
    return EXIT_ERROR


# Search ------------------------------------------------------------------------------------


def search_command(options: argparse.Namespace) -> int:
    """Run ``cmfy-desk search``: print the images that match the query, newest first unless
    ``--order`` chooses another order.

    The query is read as the gallery's search line reads it, so the last word also matches
    longer words. Returns 0 when images matched, 1 when none did, 2 for an invalid query or a
    data folder without a database.
    """
    text = " ".join(options.query)
    try:
        query = parse_query(text)
    except ParseError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return EXIT_ERROR
    query = dataclasses.replace(query, order=ImageOrder(options.order))
    opened = _open_library(options.data_dir)
    if opened is None:
        return EXIT_ERROR
    _paths, store = opened
    try:
        total = store.gallery.count(query)
        # SQLite reads LIMIT -1 as no limit.
        records = store.gallery.search(query, limit=options.limit or -1)
    except sqlite3.Error as exc:
        return _database_failed(exc, "Searching the images")
    finally:
        store.close()

    if options.json:
        print_output([json.dumps([image_document(record) for record in records], indent=2)])
    else:
        print_output(image_line(record) for record in records)
    if not records:
        if text.strip():
            print(f"No images match '{text}'.", file=sys.stderr)
        else:
            print("The gallery has no images yet.", file=sys.stderr)
        return EXIT_NO_MATCH
    if len(records) < total:
        print(
            f"Showed {len(records)} of {total} matching images; --limit 0 shows all.",
            file=sys.stderr,
        )
    return EXIT_OK


def image_line(record: ImageRecord) -> str:
    """Return an image as one tab-separated line: path, seed, prompt excerpt, models and
    rating ("-" for a missing value)."""
    prompt = " ".join(record.prompt.split())
    if len(prompt) > PROMPT_EXCERPT_LENGTH:
        prompt = prompt[: PROMPT_EXCERPT_LENGTH - 3].rstrip() + "..."
    fields = [
        record.path,
        str(record.seed) if record.seed is not None else "-",
        prompt or "-",
        ", ".join(record.models) or "-",
        f"{record.rating}/5" if record.rating else "-",
    ]
    return "\t".join(fields)


def image_document(record: ImageRecord) -> dict[str, Any]:
    """Return every field of an image record as JSON values."""
    document = dataclasses.asdict(record)
    document["source"] = record.source.value
    document["status"] = record.status.value
    for name in ("models", "model_urls", "tags"):
        document[name] = list(document[name])
    return document


# Folders of images -------------------------------------------------------------------------


def index_command(options: argparse.Namespace) -> int:
    """Run ``cmfy-desk index add FOLDER``, ``index scan [FOLDER...]`` or ``index list``.

    Returns 0 when every folder was scanned, because damaged files are recorded, not errors.
    Returns 1 when a folder could not be scanned, and 2 for a folder that does not exist or is
    not among the gallery's folders, a data folder without a database (scan and list), or a
    database that cannot be read or written.
    """
    if options.action == "add":
        problem = _folder_problem(options.folder)
        if problem:
            print(f"error: {problem}", file=sys.stderr)
            return EXIT_ERROR
    # Scanning and listing work on the folders the database lists, so only adding a folder
    # may start a new database.
    opened = _open_library(options.data_dir, create=options.action == "add")
    if opened is None:
        return EXIT_ERROR
    _paths, store = opened
    try:
        match options.action:
            case "add":
                return _add_folder(store.gallery, options.folder.expanduser().resolve())
            case "scan":
                return _scan_folders(store, options.folders)
            case _:
                return _list_folders(store.gallery)
    except sqlite3.Error as exc:
        return _database_failed(exc, "Updating the image index")
    except KeyboardInterrupt:
        print(
            "Interrupted; the files read so far are indexed. Run 'cmfy-desk index scan' to finish.",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    finally:
        store.close()


def _folder_problem(folder: Path) -> str | None:
    path = folder.expanduser().absolute()
    if not path.exists():
        return f"the folder {path} does not exist. Check the path."
    if not path.is_dir():
        return f"{path} is a file, not a folder. Give the folder that contains the images."
    return None


def _add_folder(gallery: Gallery, path: Path) -> int:
    known = {folder.path for folder in gallery.watched_folders()}
    if str(path) in known:
        print(f"{path} is already among the gallery's folders; scanning it again.")
    else:
        # Not watched: the window's watcher rescans only folders marked watched there.
        gallery.add_watched_folder(str(path), watch=False)
        print(f"Added {path} to the gallery's folders.")
    return EXIT_OK if _scan_one(gallery, path) else EXIT_SCAN_FAILED


def _scan_folders(store: Store, folders: Sequence[Path]) -> int:
    gallery = store.gallery
    known = [Path(folder.path) for folder in gallery.watched_folders()]
    chosen = known
    if folders:
        chosen = [folder.expanduser().resolve() for folder in folders]
        unknown = [str(folder) for folder in chosen if folder not in known]
        if unknown:
            print(
                f"error: not among the gallery's folders: {', '.join(unknown)}. Add a folder "
                "with 'cmfy-desk index add FOLDER'.",
                file=sys.stderr,
            )
            return EXIT_ERROR
    outputs = index_unindexed_outputs(store)
    if outputs:
        print(f"Indexed {outputs} job outputs that had no entry yet.")
    if not chosen:
        print("No folders are in the gallery yet. Add one with 'cmfy-desk index add FOLDER'.")
        return EXIT_OK
    scanned = [_scan_one(gallery, folder) for folder in chosen]
    return EXIT_OK if all(scanned) else EXIT_SCAN_FAILED


def _scan_one(gallery: Gallery, folder: Path) -> bool:
    """Scan ``folder`` and print its counts and damaged files; False after printing why the
    folder could not be scanned."""
    started = time.time()
    try:
        result = scan_folder(gallery, folder, progress=ScanProgressPrinter(sys.stderr))
    except ScanError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return False
    if not result.cancelled:
        gallery.set_last_scan(result.folder, started)
    for problem in result.errors:
        print(f"warning: {problem}", file=sys.stderr)

    counts = Counter(state.status for state in gallery.file_states(result.folder).values())
    damaged = _damaged_images(gallery, result.folder)
    print(
        f"{result.folder}: {result.total} image files, {counts[ImageStatus.OK]} indexed, "
        f"{len(damaged)} damaged or unreadable, {counts[ImageStatus.MISSING]} missing "
        f"(this scan read {result.indexed}, skipped {result.unchanged} unchanged, marked "
        f"{result.missing} missing)"
    )
    for image in damaged:
        print(f"  {image.status.value}: {image.path}: {image.message}")
    return True


def _damaged_images(gallery: Gallery, folder: str) -> list[ImageRecord]:
    damaged: list[ImageRecord] = []
    for status in DAMAGED_STATUSES:
        query = ImageQuery(
            filters=(
                Filter(ImageField.FOLDER, Operator.EQ, folder),
                Filter(ImageField.STATUS, Operator.EQ, status),
            )
        )
        damaged += gallery.search(query, limit=-1)
    return sorted(damaged, key=lambda image: image.path)


def _list_folders(gallery: Gallery) -> int:
    folders = gallery.watched_folders()
    if not folders:
        print("No folders are in the gallery yet. Add one with 'cmfy-desk index add FOLDER'.")
        return EXIT_OK
    for folder in folders:
        counts = Counter(state.status for state in gallery.file_states(folder.path).values())
        damaged = sum(counts[status] for status in DAMAGED_STATUSES)
        last_scan = local_time(folder.last_scan) if folder.last_scan else "never"
        watched = "watched by the window" if folder.watch else "not watched"
        print(
            f"{folder.path}: {counts[ImageStatus.OK]} indexed, {damaged} damaged or "
            f"unreadable, {counts[ImageStatus.MISSING]} missing; last scan {last_scan}; "
            f"{watched}"
        )
    return EXIT_OK


class ScanProgressPrinter:
    """Prints a folder scan's progress to ``stream``: the number of image files when the scan
    starts, then a line each time it passes another tenth of them.

    scan_folder reports at most every PROGRESS_INTERVAL seconds, so a quick scan prints fewer
    lines.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._started = False
        self._step = 0

    def __call__(self, progress: ScanProgress) -> None:
        if progress.finished:
            return
        if not self._started:
            self._started = True
            self._print(f"Scanning {progress.folder}: {progress.total} image files")
            return
        if not progress.total:
            return
        step = progress.done * PROGRESS_STEPS // progress.total
        if step > self._step:
            self._step = step
            percent = progress.done * 100 // progress.total
            self._print(f"  {progress.done} of {progress.total} files ({percent} %)")

    def _print(self, line: str) -> None:
        print(line, file=self._stream, flush=True)


# Metrics -----------------------------------------------------------------------------------


def metrics_command(options: argparse.Namespace) -> int:
    """Run ``cmfy-desk metrics``: print the metrics window's figures, warnings and production
    checklist, and write its CSV exports. Returns 0, or 2 for an unknown connection or batch,
    a CSV file that cannot be written, or a database that does not exist or cannot be read."""
    opened = _open_library(options.data_dir)
    if opened is None:
        return EXIT_ERROR
    paths, store = opened
    try:
        settings = Settings(paths.settings_file)
        saved = ConnectionList.load(paths.connections_file)
        facts_for = facts_provider(settings, saved)
        scope = _metrics_scope(store, options, settings, paths)
        if isinstance(scope, str):
            print(f"error: {scope}", file=sys.stderr)
            return EXIT_ERROR
        facts = facts_for(scope.connection) if scope.connection is not None else None
        # A view over all connections judges cache hits by each one's download time.
        downloads = {
            label: each.download_seconds
            for label in connection_configs(settings, saved)
            if (each := facts_for(label)) is not None
        }
        metrics = compute_metrics(store, scope, facts, download_seconds=downloads)
        library = ModelLibrary(store).canonical_urls()
        checklist = production_checklist(store, scope, facts, metrics, library=library)
        if not _write_exports(store, options, scope, facts_for):
            return EXIT_ERROR
    except sqlite3.Error as exc:
        return _database_failed(exc, "Reading the metrics")
    finally:
        store.close()

    if options.json:
        print_output([json.dumps(report_document(metrics, checklist), indent=2)])
    else:
        print_output(report_lines(_scope_title(scope), metrics, checklist))
    return EXIT_OK


def facts_provider(
    settings: Settings, saved: ConnectionList
) -> Callable[[str], ConnectionFacts | None]:
    """Return a function that returns the facts the settings give about a connection, by the
    name its jobs record, or None for a connection the settings do not describe.

    The window takes the same facts from its running connections, with their counters of
    requests and 429 responses since start. Without them, the figures count from the jobs.
    """
    configs = connection_configs(settings, saved)
    max_running = int(settings.get("queue.max_running") or 0) or None

    def facts_for(label: str) -> ConnectionFacts | None:
        config = configs.get(label)
        return None if config is None else connection_facts(config, max_running=max_running)

    return facts_for


def connection_configs(settings: Settings, saved: ConnectionList) -> dict[str, ConnectionConfig]:
    """Return the connections the settings describe, by the name their jobs record."""
    configs = {SANDBOX: _sandbox_config(settings)}
    default = _default_config(settings)
    configs[default.label] = default
    for config in saved.connections:
        configs[config.label] = config
    return configs


def _sandbox_config(settings: Settings) -> ConnectionConfig:
    return ConnectionConfig(
        kind=SANDBOX,
        plan=str(settings.get("sandbox.plan")),
        status_mode=str(settings.get("connection.status_mode")),
        # The sandbox's speed sets how long its model downloads take, which the inferred
        # cache hit rate needs.
        sandbox_speed=float(settings.get("sandbox.speed")),
    )


def _default_config(settings: Settings) -> ConnectionConfig:
    """Return the default connection as ui/connection.py builds it, without its API key."""
    if settings.get("connection.kind") == SANDBOX:
        return _sandbox_config(settings)
    return ConnectionConfig(
        kind="cmfy",
        base_url=str(settings.get("connection.base_url")),
        status_mode=str(settings.get("connection.status_mode")),
        public_base_url=str(settings.get("connection.public_base_url")).strip(),
    )


def _metrics_scope(
    store: Store, options: argparse.Namespace, settings: Settings, paths: AppPaths
) -> MetricsScope | str:
    """Return the scope the options choose, or a message saying what is wrong."""
    connection: str | None = None
    if options.connection is not None:
        found = _connection_label(store, options.connection, settings, paths)
        if found is None:
            return _unknown_connection(store, options.connection)
        connection = found
    if options.batch is None:
        return MetricsScope(connection=connection, since=options.since)
    try:
        batch = store.get_batch(options.batch)
    except KeyError:
        return (
            f"no batch {options.batch} in {paths.database}. The window's queue shows the "
            "batch numbers."
        )
    if connection is not None and connection != batch.connection:
        return (
            f"batch {batch.id} ran on {batch.connection}, not on {connection}. Leave out "
            "--connection to see it."
        )
    return MetricsScope(connection=batch.connection, batch_id=batch.id, since=options.since)


def _connection_label(store: Store, name: str, settings: Settings, paths: AppPaths) -> str | None:
    """Return the label jobs record for the connection ``name`` (its name, "sandbox", a base
    URL, or "default"), matched without regard to case; None when none is known."""
    if name.casefold() == DEFAULT_CONNECTION_NAME:
        return _default_config(settings).label
    labels = _job_connections(store)
    labels += [config.label for config in ConnectionList.load(paths.connections_file).connections]
    labels += [SANDBOX, _default_config(settings).label]
    if name in labels:
        return name
    return next((label for label in labels if label.casefold() == name.casefold()), None)


def _unknown_connection(store: Store, name: str) -> str:
    labels = _job_connections(store)
    if not labels:
        return f"no connection named {name!r}, and no jobs in the database yet."
    return f"no connection named {name!r}. Connections with jobs: {', '.join(labels)}."


def _job_connections(store: Store) -> list[str]:
    rows = store.connection.execute("SELECT DISTINCT connection FROM jobs ORDER BY 1")
    return [str(row[0]) for row in rows]


def _write_exports(
    store: Store,
    options: argparse.Namespace,
    scope: MetricsScope,
    facts_for: Callable[[str], ConnectionFacts | None],
) -> bool:
    """Write the CSV files the options request; False after printing why one failed."""
    # Each export: the file, the function that writes it, and the noun for its rows.
    exports: list[tuple[Path, Callable[[Path], int], str]] = []
    if options.csv is not None:
        exports.append(
            (
                options.csv,
                lambda path: export_metrics_csv(store, path, facts_for, since=scope.since),
                "rows (one per connection and per batch)",
            )
        )
    if options.history_csv is not None:
        exports.append(
            (options.history_csv, lambda path: export_job_history_csv(store, path, scope), "jobs")
        )
    for path, export, row_noun in exports:
        try:
            rows = export(path)
        except OSError as exc:
            reason = exc.strerror or exc
            print(f"error: writing {path} failed: {reason}. Choose another file.", file=sys.stderr)
            return False
        log.info("Exported %d %s to %s", rows, row_noun, path)
        print(f"Saved {rows} {row_noun} to {path}", file=sys.stderr)
    return True


def _scope_title(scope: MetricsScope) -> str:
    if scope.batch_id is not None:
        title = f"Metrics of batch {scope.batch_id} ({scope.connection})"
    elif scope.connection is not None:
        title = f"Metrics of the connection {scope.connection}"
    else:
        title = "Metrics of every connection"
    if scope.since is not None:
        title += f", jobs active since {local_time(scope.since)}"
    return title
