"""The ``cmfy-desk`` command: the window (default), ``run`` (headless) and ``sandbox``."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from cmfy_desk import __version__
from cmfy_desk.workflow_commands import add_definitions_argument, add_plan_arguments

EXIT_OK = 0
EXIT_JOBS_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

_PLANS = ("free", "pro", "enterprise")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be greater than 0")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= 10000:
        raise argparse.ArgumentTypeError(f"{value} is outside 1..10000")
    return value


def _add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="folder for the database, settings and logs (default: the user data folder, "
        "or $CMFY_DESK_DATA_DIR)",
    )


def _add_target_arguments(parser: argparse.ArgumentParser, sandbox_help: str) -> None:
    """Add the ways a headless command picks its server, and how job status arrives."""
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--sandbox", action="store_true", help=sandbox_help)
    target.add_argument(
        "--base-url",
        help="API base URL (default: the setting, https://api.cmfy.cloud); the API key comes "
        "from $CMFY_API_KEY or the keyring",
    )
    target.add_argument(
        "--comfyui",
        metavar="URL",
        help="run on a ComfyUI server, for example http://127.0.0.1:8188; for a server behind "
        "an auth proxy add --auth-header NAME and put the header's value in "
        "$CMFY_COMFYUI_AUTH",
    )
    target.add_argument(
        "--connection",
        metavar="NAME",
        help="run on a connection saved in the window (File → Connections…)",
    )
    parser.add_argument(
        "--auth-header",
        metavar="NAME",
        default="",
        help="with --comfyui: the header that carries $CMFY_COMFYUI_AUTH",
    )
    parser.add_argument(
        "--status",
        choices=("auto", "webhook", "poll"),
        default=None,
        help="how job status arrives from cmfy.cloud or the sandbox: webhooks through "
        "--public-url (with --sandbox, straight to the local receiver), polling, or webhooks "
        "when available (default: the connection's choice, else auto)",
    )
    parser.add_argument(
        "--public-url",
        metavar="URL",
        default=None,
        help="the public HTTPS address of your tunnel to the webhook receiver",
    )
    parser.add_argument(
        "--webhook-port",
        type=int,
        default=None,
        help="loopback port of the webhook receiver (default: the setting; 0 picks a free one)",
    )


def build_gui_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cmfy-desk",
        description="Run ComfyUI workflows in batches on cmfy.cloud or the built-in sandbox. "
        "Other commands: 'cmfy-desk run --help' (headless), 'cmfy-desk check --help', "
        "'cmfy-desk convert --help', 'cmfy-desk resume --help', "
        "'cmfy-desk queue --help', 'cmfy-desk sandbox --help', 'cmfy-desk search --help' "
        "(the gallery), 'cmfy-desk index --help' (folders of images), "
        "'cmfy-desk metrics --help', 'cmfy-desk history --help'.",
    )
    parser.add_argument("--version", action="version", version=f"cmfy-desk {__version__}")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="start the built-in sandbox on a free loopback port, connect to it, and offer "
        "the sample workflows; needs no account",
    )
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check this installation: open the window in demo mode, run one sample job on the "
        "built-in sandbox, close the window; exit status 0 if it worked, 1 if not (data in a "
        "temporary folder unless --data-dir is given)",
    )
    # Hidden: the screenshot tour that packaging/screenshots.sh runs on a built program.
    parser.add_argument("--tour", type=Path, default=None, metavar="DIR", help=argparse.SUPPRESS)
    parser.add_argument("--theme", choices=("light", "dark"), default=None, help=argparse.SUPPRESS)
    _add_data_dir(parser)
    parser.add_argument("workflows", nargs="*", type=Path, help="workflow files to add")
    return parser


def build_run_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cmfy-desk run",
        description="Run workflows without a window: each file becomes a batch of --count "
        "jobs. Exit status: 0 all jobs succeeded, 1 some failed, 2 bad usage or input.",
    )
    _add_target_arguments(parser, "start a private sandbox and run the jobs there")
    parser.add_argument("--count", type=_count, default=1, help="jobs per workflow (default 1)")
    parser.add_argument(
        "--seed-mode",
        choices=("fixed", "increment", "random"),
        default="increment",
        help="how each job's seed is chosen (default increment from the workflow's seed)",
    )
    parser.add_argument(
        "--seed", type=int, default=None, help="first seed (default: the workflow's)"
    )
    parser.add_argument("--out", type=Path, default=None, help="output folder for the images")
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object per event instead of lines"
    )
    parser.add_argument(
        "--speed",
        type=_positive_float,
        default=None,
        help="with --sandbox: divide every simulated duration by this factor",
    )
    parser.add_argument("--plan", choices=_PLANS, default=None, help="with --sandbox: its plan")
    add_plan_arguments(parser)
    _add_data_dir(parser)
    parser.add_argument(
        "workflows",
        nargs="+",
        type=Path,
        metavar="WORKFLOW",
        help="workflow files (API or editor format, or PNG/WEBP/JPEG images that carry one) "
        "or folders of them",
    )
    return parser


def build_check_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cmfy-desk check",
        description="Check workflows before they cost money: errors, unused nodes, cost, and "
        "model URLs that would miss cmfy.cloud's node cache. Exit status 1 when any file has "
        "an error.",
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument(
        "--json",
        action="store_true",
        help='one JSON object per file: {"file", "format", "errors", "warnings", ...}',
    )
    add_definitions_argument(parser)
    _add_data_dir(parser)
    return parser


def build_convert_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cmfy-desk convert",
        description="Write the API-format graph of a workflow file (editor format, API format, "
        "or an image that carries a workflow).",
    )
    parser.add_argument("file", type=Path, metavar="FILE")
    parser.add_argument(
        "-o", "--output", type=Path, default=None, help="file to write (default: standard output)"
    )
    add_definitions_argument(parser)
    return parser


def build_resume_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cmfy-desk resume",
        description="Finish the jobs the database still contains (queued, or cut short by a "
        "crash), with the same recovery the window does at start. Exit status: 0 all of them "
        "succeeded, 1 some failed, 2 bad usage.",
    )
    _add_target_arguments(parser, "run them on a new built-in sandbox")
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object per event instead of lines"
    )
    _add_data_dir(parser)
    return parser


def build_queue_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cmfy-desk queue",
        description="Export the queued jobs to a JSON file, or import such a file as new "
        "queued batches (with new idempotency keys, so nothing is submitted twice).",
    )
    parser.add_argument("action", choices=("export", "import"))
    parser.add_argument("file", type=Path, help="the queue file to write or read")
    parser.add_argument(
        "--connection",
        default=None,
        help="export only this connection's jobs, or send imported jobs there "
        "('sandbox' or a base URL)",
    )
    _add_data_dir(parser)
    return parser


def build_search_parser() -> argparse.ArgumentParser:
    from cmfy_desk.library_commands import DEFAULT_SEARCH_LIMIT, search_limit
    from cmfy_desk.outputs.query import FIELD_HELP
    from cmfy_desk.store import ImageOrder

    parser = argparse.ArgumentParser(
        prog="cmfy-desk search",
        description="Search the gallery's images as its search line does, for example "
        "'cmfy-desk search red fox seed:1234 steps:>20 rating:>=4'. Prints one tab-separated "
        "line per image: path, seed, prompt, models, rating. Exit status: 0 images matched, "
        "1 none matched (as grep), 2 an error such as an invalid query.",
    )
    parser.add_argument(
        "query",
        nargs="*",
        metavar="QUERY",
        help='words that must all match (the last also matches longer words), "a phrase", '
        "-word to leave out, and FIELD:VALUE filters with FIELD one of "
        + ", ".join(FIELD_HELP)
        + ". Quote the whole query to keep its quotes. No query lists every image.",
    )
    parser.add_argument(
        "--limit",
        type=search_limit,
        default=DEFAULT_SEARCH_LIMIT,
        metavar="N",
        help="print at most N images (default: %(default)s; 0 prints all)",
    )
    parser.add_argument(
        "--order",
        choices=[order.value for order in ImageOrder],
        default=ImageOrder.NEWEST.value,
        help="order of the images (default: %(default)s)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print a JSON array with every field of each image"
    )
    _add_data_dir(parser)
    return parser


def build_index_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cmfy-desk index",
        description="Add folders of images from elsewhere to the gallery and keep their index "
        "up to date. A scan reads each image's prompt, seed and models, records damaged files "
        "with the reason and goes on, and prints its progress on standard error. Exit status: "
        "0 done, 1 a folder could not be scanned, 2 an error such as a folder that does not "
        "exist.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add FOLDER to the gallery's folders and scan it")
    add.add_argument("folder", type=Path, metavar="FOLDER")
    _add_data_dir(add)
    scan = actions.add_parser(
        "scan",
        help="rescan the gallery's folders, or only the FOLDERs given, and index job outputs "
        "that have no entry yet",
    )
    scan.add_argument("folders", nargs="*", type=Path, metavar="FOLDER")
    _add_data_dir(scan)
    listing = actions.add_parser("list", help="list the gallery's folders with their counts")
    _add_data_dir(listing)
    return parser


def build_metrics_parser() -> argparse.ArgumentParser:
    from cmfy_desk.library_commands import since_time

    parser = argparse.ArgumentParser(
        prog="cmfy-desk metrics",
        description="Print the metrics window's figures (queue, execution and total time, "
        "throughput, cache hits, 429 responses, failures by cause), its warnings with their "
        "fixes and the production checklist, read from the database.",
    )
    parser.add_argument(
        "--connection",
        metavar="NAME",
        help="only the jobs of this connection: a saved connection's name, 'sandbox', a base "
        "URL, or 'default' (default: every connection)",
    )
    parser.add_argument("--batch", type=int, metavar="ID", help="only the jobs of this batch")
    parser.add_argument(
        "--since",
        type=since_time,
        metavar="DATE",
        help="only jobs active since DATE: 2026-11-24, 2026-11-24T18:00 (local time), today, "
        "yesterday, or a span back from now such as 24h or 7d",
    )
    parser.add_argument(
        "--csv",
        type=Path,
        metavar="FILE",
        help="also write the figures of every connection and every batch (since DATE) to FILE, "
        "as the window's metrics export does",
    )
    parser.add_argument(
        "--history-csv",
        type=Path,
        metavar="FILE",
        help="also write one row per chosen job to FILE, with every time in ISO 8601 (UTC)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    _add_data_dir(parser)
    return parser


def build_history_parser() -> argparse.ArgumentParser:
    from cmfy_desk.history_commands import day_count

    parser = argparse.ArgumentParser(
        prog="cmfy-desk history",
        description="List the history's days with their batches, job counts and times, or "
        "with --batch one batch's jobs with their errors and times. To remove old batches "
        "see 'cmfy-desk history prune --help'. Exit status: 0 listed, 1 no such batch, "
        "2 the data folder has no database, or it cannot be read.",
    )
    parser.add_argument(
        "--days", type=day_count, metavar="N", help="only the last N days, today included"
    )
    parser.add_argument("--batch", type=int, metavar="ID", help="list the jobs of batch ID")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    _add_data_dir(parser)
    return parser


def build_history_prune_parser() -> argparse.ArgumentParser:
    from cmfy_desk.history_commands import day_count

    parser = argparse.ArgumentParser(
        prog="cmfy-desk history prune",
        description="Remove finished batches older than DAYS days from the history, with "
        "their jobs, events and output records. Batches with unfinished jobs stay, and so do "
        "image files and the gallery's entries. Without --yes, print what would go and "
        "change nothing.",
    )
    parser.add_argument(
        "--older-than",
        type=day_count,
        required=True,
        metavar="DAYS",
        help="remove batches created more than DAYS days ago (a whole number, 1 or more)",
    )
    parser.add_argument("--yes", action="store_true", help="remove them, without asking")
    _add_data_dir(parser)
    return parser


def build_sandbox_parser() -> argparse.ArgumentParser:
    from cmfy_desk.sandbox.faults import add_fault_arguments

    parser = argparse.ArgumentParser(
        prog="cmfy-desk sandbox",
        description="Serve the cmfy.cloud API on loopback with simulated GPUs, for demos and "
        "tests. Prints its URL and a sk_test_ key; stop it with Ctrl+C.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    parser.add_argument(
        "--port", type=int, default=8787, help="port, 0 picks a free one (default: %(default)s)"
    )
    parser.add_argument(
        "--plan", choices=_PLANS, default="free", help="limits to enforce (default: %(default)s)"
    )
    parser.add_argument(
        "--speed",
        type=_positive_float,
        default=1.0,
        help="divide every simulated duration by this factor, so 10 runs ten times faster "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--limit-mode",
        choices=("queue", "reject"),
        default="queue",
        help="beyond the running-job limit, queue jobs (default) or respond with 429 "
        "concurrent_limit_reached",
    )
    add_fault_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "run":
        from cmfy_desk.headless import run_command

        options = build_run_parser().parse_args(args[1:])
        return run_command(options)
    if args and args[0] in ("check", "convert"):
        from cmfy_desk.workflow_commands import check_command, convert_command

        if args[0] == "check":
            return check_command(build_check_parser().parse_args(args[1:]))
        return convert_command(build_convert_parser().parse_args(args[1:]))
    if args and args[0] == "resume":
        from cmfy_desk.headless import resume_command

        return resume_command(build_resume_parser().parse_args(args[1:]))
    if args and args[0] == "queue":
        from cmfy_desk.headless import queue_command

        return queue_command(build_queue_parser().parse_args(args[1:]))
    if args and args[0] in ("search", "index", "metrics"):
        from cmfy_desk import library_commands

        if args[0] == "search":
            return library_commands.search_command(
                library_commands.parse_search_arguments(build_search_parser(), args[1:])
            )
        if args[0] == "index":
            return library_commands.index_command(build_index_parser().parse_args(args[1:]))
        return library_commands.metrics_command(build_metrics_parser().parse_args(args[1:]))
    if args and args[0] == "history":
        from cmfy_desk import history_commands

        if args[1:2] == ["prune"]:
            prune_options = build_history_prune_parser().parse_args(args[2:])
            return history_commands.prune_command(prune_options)
        return history_commands.history_command(build_history_parser().parse_args(args[1:]))
    if args and args[0] == "sandbox":
        from cmfy_desk.sandbox import run_sandbox_command

        options = build_sandbox_parser().parse_args(args[1:])
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
        return run_sandbox_command(
            options.host,
            options.port,
            options.plan,
            options.speed,
            options.limit_mode,
            faults=options.faults,
            fault_seed=options.fault_seed,
        )
    gui_parser = build_gui_parser()
    options = gui_parser.parse_args(args)
    if options.theme is not None and options.tour is None:
        gui_parser.error("--theme is used only with --tour DIR")
    if options.data_dir is not None:
        os.environ["CMFY_DESK_DATA_DIR"] = str(options.data_dir)
    if options.tour is not None:
        from cmfy_desk.ui.tour import run_tour

        return run_tour(options.tour, options.theme or "light", options.data_dir)
    if options.self_test:
        from cmfy_desk.selftest import run_self_test

        return run_self_test(options.data_dir)
    from cmfy_desk.ui.main import run_gui

    return run_gui(options)
