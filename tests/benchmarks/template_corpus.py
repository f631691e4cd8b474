"""How fast editor-format workflows are read, converted to API format and validated.

Runs over every workflow template in the comfyui-workflow-templates-json package with the
bundled ComfyUI 0.8.0 node definitions: read the file, parse the JSON, convert, validate. A
template that fails with a ConversionError counts too, since telling the user why is also work
the loader does. At the goal of 500 workflows per second, a drop of 100 workflow files on the
window is converted in 0.2 s, before the user sees a delay. The templates are 5 KB to 500 KB.

    python tests/benchmarks/template_corpus.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from importlib.resources import files
from pathlib import Path

from cmfy_desk.workflows.convert import ConversionError, editor_to_api
from cmfy_desk.workflows.definitions import NodeDefinitions
from cmfy_desk.workflows.graph import validate_graph

GOAL = 500.0
NOT_WORKFLOWS = {"index_logo.json", "fuse_options.json"}


def template_files() -> list[Path]:
    folder = Path(str(files("comfyui_workflow_templates_json").joinpath("templates")))
    return [
        path
        for path in sorted(folder.glob("*.json"))
        if not path.name.startswith("index") and path.name not in NOT_WORKFLOWS
    ]


def run_once(paths: list[Path], definitions: NodeDefinitions) -> tuple[float, list[Path]]:
    """Load, convert and validate every file; return the seconds taken and the files that
    converted."""
    converted = []
    started = time.perf_counter()
    for path in paths:
        data = json.loads(path.read_bytes())
        try:
            validate_graph(editor_to_api(data, definitions))
        except ConversionError:
            continue
        converted.append(path)
    return time.perf_counter() - started, converted


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="run 2 rounds instead of 7")
    args = parser.parse_args()

    paths = template_files()
    definitions = NodeDefinitions.bundled()
    rounds = 2 if args.quick else 7
    timings = []
    converted: list[Path] = []
    for _ in range(rounds):
        seconds, converted = run_once(paths, definitions)
        timings.append(seconds)
    # Failures stop early, at the first unknown node, so the files that convert are timed
    # on their own as well.
    converted_timings = [run_once(converted, definitions)[0] for _ in range(rounds)]

    median = statistics.median(timings)
    rate = len(paths) / median
    converted_rate = len(converted) / statistics.median(converted_timings)
    print(f"templates: {len(paths)}, converted: {len(converted)}, rounds: {rounds}")
    print(f"seconds per round: median {median:.3f}, best {min(timings):.3f}")
    print(f"converted templates alone: {converted_rate:.0f} workflows/s")
    print(f"template_corpus: {rate:.0f} workflows/s (goal >= {GOAL:.0f} workflows/s)")
    return 0 if rate >= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
