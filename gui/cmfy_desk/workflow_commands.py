"""``cmfy-desk check`` and ``cmfy-desk convert``, and the batch options of ``cmfy-desk run``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from cmfy_desk.paths import NoDatabaseError, existing_paths
from cmfy_desk.planning import seed_model_library
from cmfy_desk.store import Store, StoreError
from cmfy_desk.store.model_library import ModelLibrary
from cmfy_desk.workflows.batch import SeedMode
from cmfy_desk.workflows.batch_files import (
    parse_axis,
    read_csv_rows,
    read_image_folder,
    read_prompt_list,
)
from cmfy_desk.workflows.definitions import NodeDefinitions
from cmfy_desk.workflows.expansion import BatchPlan
from cmfy_desk.workflows.formats import WorkflowLoadError, load_workflow_file, scan_workflow_paths
from cmfy_desk.workflows.parameters import parse_assignment
from cmfy_desk.workflows.preflight import PreflightReport, check_graph

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
# SQLite's name for a database that lives in memory only.
IN_MEMORY_DATABASE = ":memory:"


def add_definitions_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--definitions",
        type=Path,
        default=None,
        help="node definitions to convert and check with: a saved GET /object_info response "
        "of your ComfyUI server (default: ComfyUI 0.8.0's core nodes, bundled)",
    )


def add_plan_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``run`` that shape the batch beyond count and seeds."""
    group = parser.add_argument_group("batch contents")
    group.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NODE.INPUT=VALUE",
        help="set an input of every job; NODE is a node id or title (repeatable)",
    )
    group.add_argument("--prompt", help="positive prompt text of every job")
    group.add_argument("--negative", help="negative prompt text of every job")
    group.add_argument("--steps", help="sampling steps of every job")
    group.add_argument("--cfg", help="CFG scale of every job")
    group.add_argument("--size", metavar="WxH", help="image size of every job, e.g. 768x512")
    group.add_argument("--seeds", help="explicit seeds, comma-separated (one job each)")
    group.add_argument(
        "--prompts", type=Path, help="text file with one prompt per line (one job each)"
    )
    group.add_argument(
        "--csv", type=Path, help="CSV file whose columns name parameters (one job per row)"
    )
    group.add_argument(
        "--images",
        type=Path,
        metavar="FOLDER",
        help="one job per picture in FOLDER, for the workflow's LoadImage node (needs a "
        "service that accepts uploads)",
    )
    group.add_argument("--x", metavar="PARAM=V1,V2,...", help="XY grid: the values along x")
    group.add_argument("--y", metavar="PARAM=V1,V2,...", help="XY grid: the values along y")
    group.add_argument(
        "--yes", action="store_true", help="queue batches of more than 500 jobs without asking"
    )
    add_definitions_argument(parser)


def build_plan(options: argparse.Namespace) -> BatchPlan:
    """Return the batch plan the options describe; raises ValueError or OSError naming the bad
    option or file."""
    values: dict[str, Any] = {}
    for assignment in options.set:
        key, value = parse_assignment(assignment)
        values[key] = value
    for shortcut in ("prompt", "negative", "steps", "cfg", "size"):
        value = getattr(options, shortcut)
        if value is not None:
            values[shortcut] = value
    seeds: tuple[int, ...] = ()
    seed_mode = SeedMode(options.seed_mode)
    if options.seeds:
        try:
            seeds = tuple(int(part) for part in options.seeds.split(",") if part.strip())
        except ValueError:
            raise ValueError(
                f"--seeds {options.seeds!r} must be whole numbers separated by commas."
            ) from None
        seed_mode = SeedMode.LIST
    return BatchPlan(
        count=options.count if not seeds else 1,
        seed_mode=seed_mode,
        base_seed=options.seed,
        seeds=seeds,
        prompts=tuple(read_prompt_list(options.prompts)) if options.prompts else (),
        rows=tuple(read_csv_rows(options.csv)) if options.csv else (),
        x_axis=parse_axis(options.x) if options.x else None,
        y_axis=parse_axis(options.y) if options.y else None,
        values=values,
        input_images=tuple(read_image_folder(options.images)) if options.images else (),
    )


def load_definitions(path: Path | None) -> NodeDefinitions:
    return NodeDefinitions.from_file(path) if path else NodeDefinitions.bundled()


def check_command(options: argparse.Namespace) -> int:
    """Print the pre-flight findings of each file; exit 1 when any file has an error."""
    try:
        definitions = load_definitions(options.definitions)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    library = _model_library(options.data_dir)
    files, scan_errors = scan_workflow_paths(options.files)
    any_error = bool(scan_errors)
    for error in scan_errors:
        _print_check(options.json, str(error.path), None, [str(error)], [], [])
    for path in files:
        try:
            workflow = load_workflow_file(path, definitions)
        except WorkflowLoadError as exc:
            any_error = True
            _print_check(options.json, str(path), None, [str(exc)], [], [])
            continue
        report = check_graph(workflow.graph, definitions, library, for_cloud=True)
        any_error = any_error or bool(report.errors)
        _print_check(
            options.json,
            str(path),
            workflow.source_format,
            [_finding_text(f) for f in report.errors],
            [_finding_text(f) for f in report.warnings],
            [_finding_text(f) for f in report.infos],
            report,
        )
    return EXIT_FINDINGS if any_error else EXIT_OK


def convert_command(options: argparse.Namespace) -> int:
    """Write the API-format graph of any supported input file."""
    try:
        definitions = load_definitions(options.definitions)
        workflow = load_workflow_file(options.file, definitions)
    except (ValueError, WorkflowLoadError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    text = json.dumps(workflow.graph, indent=2, ensure_ascii=False) + "\n"
    if options.output is None:
        sys.stdout.write(text)
        return EXIT_OK
    try:
        partial = options.output.with_name(options.output.name + ".part")
        partial.write_text(text, encoding="utf-8")
        partial.replace(options.output)
    except OSError as exc:
        print(f"error: cannot write {options.output}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(
        f"Wrote the API-format graph of {options.file.name} ({len(workflow.graph)} nodes) "
        f"to {options.output}",
        file=sys.stderr,
    )
    return EXIT_OK


def _model_library(data_dir: Path | None) -> dict[str, str]:
    """Return the model library's canonical URLs. A data folder without a database gets the
    library a new database starts with, kept in memory, so checking creates nothing."""
    try:
        database = existing_paths(data_dir).database
    except NoDatabaseError:
        database = Path(IN_MEMORY_DATABASE)
    try:
        store = Store.open(database)
    except StoreError as exc:
        print(
            f"warning: no model library ({exc}); model URLs are checked without it", file=sys.stderr
        )
        return {}
    try:
        library = ModelLibrary(store)
        seed_model_library(library)
        return library.canonical_urls()
    finally:
        store.close()


def _finding_text(finding: Any) -> str:
    return f"{finding.message} (fix: {finding.fix})" if finding.fix else str(finding.message)


def _print_check(
    as_json: bool,
    file: str,
    source_format: str | None,
    errors: list[str],
    warnings: list[str],
    infos: list[str],
    report: PreflightReport | None = None,
) -> None:
    if as_json:
        document: dict[str, Any] = {
            "file": file,
            "format": source_format,
            "errors": errors,
            "warnings": warnings,
            "infos": infos,
        }
        if report is not None:
            document["node_count"] = report.node_count
            document["unused_nodes"] = list(report.unused_nodes)
            document["relative_cost"] = round(report.relative_cost, 2)
        print(json.dumps(document), flush=True)
        return
    state = "error" if errors else "ok"
    summary = f"{file}: {state}"
    if report is not None:
        summary += (
            f" ({source_format}, {report.node_count} nodes, relative cost "
            f"{report.relative_cost:.1f}x)"
        )
    print(summary)
    for label, lines in (("error", errors), ("warning", warnings), ("note", infos)):
        for line in lines:
            print(f"  {label}: {line}")
