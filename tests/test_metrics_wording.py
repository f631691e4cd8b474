"""The sentences of the metrics: one source for the window and ``cmfy-desk metrics``, translated
in the window only, every one of them in the translation template, and the command line free of
Qt."""

from __future__ import annotations

import ast
import dataclasses
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QTranslator
from PySide6.QtWidgets import QApplication

from cmfy_desk.metrics import (
    Advice,
    AdviceCode,
    CacheFigures,
    CacheSource,
    CheckCode,
    ChecklistItem,
    CheckState,
    FixAction,
    MetricsScope,
    compute_metrics,
)
from cmfy_desk.metrics.wording import MetricsWording
from cmfy_desk.metrics_report import report_document, report_lines
from cmfy_desk.store import Store
from cmfy_desk.ui.metrics_text import WORDING, figure_rows
from tests.test_metrics import SANDBOX_RUN, T0, add_batch, quick_jobs, run_with_start_delay

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "gui" / "cmfy_desk"
METRICS_SOURCES = [
    PACKAGE / "metrics" / "wording.py",
    PACKAGE / "ui" / "metrics_text.py",
    PACKAGE / "ui" / "metrics_dialog.py",
    PACKAGE / "ui" / "charts.py",
]
TEMPLATE = ROOT / "resources" / "translations" / "cmfy_desk.ts"

GERMAN = {
    ("MetricsWording", "Throughput"): "Durchsatz",
    ("MetricsWording", "Not enough data"): "Zu wenig Daten",
    ("MetricsWording", "No 429 responses."): "Keine 429-Antworten.",
}


class FakeTranslator(QTranslator):
    """Translates the texts of GERMAN and leaves every other text as it is."""

    def translate(  # type: ignore[override]
        self, context: str, source: str, disambiguation: str | None = None, n: int = -1
    ) -> str:
        return GERMAN.get((context, source), source)

    def isEmpty(self) -> bool:
        return False


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "cmfy-desk.sqlite3")
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def german(qapp: QApplication) -> Iterator[FakeTranslator]:
    translator = FakeTranslator()
    qapp.installTranslator(translator)
    try:
        yield translator
    finally:
        qapp.removeTranslator(translator)


# One source, translated in the window ---------------------------------------------------------


def test_window_translates_shared_sentences(store: Store, german: FakeTranslator) -> None:
    quick_jobs(store)
    metrics = compute_metrics(store, MetricsScope(connection="sandbox"), now=T0 + 10)
    backoff = ChecklistItem(CheckCode.BACKOFF, CheckState.OK, "no_429")

    rows, _tips = figure_rows(metrics)
    window = {name: value for name, value in rows}
    lines = report_lines("title", metrics, [backoff])

    assert window["Durchsatz"] == "Zu wenig Daten"
    assert WORDING.check_text(backoff) == ("Keine 429-Antworten.", "")
    assert "Throughput: Not enough data" in lines
    assert "  green    429 responses answered with backoff: No 429 responses." in lines


def test_command_line_prints_window_sentences(store: Store) -> None:
    quick_jobs(store)
    metrics = compute_metrics(store, MetricsScope(connection="sandbox"), now=T0 + 10)
    advice = Advice(
        AdviceCode.CACHE_HIT_RATE,
        {"rate": 0.25, "threshold": 0.5, "source": CacheSource.INFERRED},
        FixAction.MODEL_LIBRARY,
    )
    metrics = dataclasses.replace(metrics, advice=(advice,))

    document = report_document(metrics, [])
    lines = report_lines("title", metrics, [])

    message, fix = WORDING.advice_text(advice)
    assert document["warnings"][0]["message"] == message
    assert document["warnings"][0]["fix"] == fix
    assert f"  warning: {message}" in lines
    assert message == (
        "Only 25 % of model lookups hit the node cache (inferred from start delays), below 50 %."
    )
    assert document["cache"]["explanation"] == WORDING.cache_source_text(metrics.cache)


def test_command_line_loads_no_qt() -> None:
    code = (
        "import sys\n"
        "import cmfy_desk.library_commands, cmfy_desk.metrics_report\n"
        "from cmfy_desk.metrics.wording import MetricsWording\n"
        "MetricsWording().format_duration(200.0)\n"
        "print(sorted(name for name in sys.modules if name.startswith('PySide6')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# Throughput and cache wording ------------------------------------------------------------------


def test_throughput_not_enough_data(store: Store) -> None:
    quick_jobs(store)
    wording = MetricsWording()
    quick = compute_metrics(store, MetricsScope(connection="sandbox"), now=T0 + 10)
    nothing = compute_metrics(store, MetricsScope(connection="nowhere"), now=T0 + 10)

    assert wording.throughput_text(quick) == "Not enough data"
    assert wording.throughput_note(quick) == (
        "The jobs span 0.5 s. Throughput needs at least 60 s to be a rate."
    )
    assert wording.throughput_text(nothing) == "—"
    assert wording.throughput_note(nothing) == "No job in this view was submitted."


def test_cache_wording_says_inferred_and_how(store: Store) -> None:
    jobs = add_batch(store, len(SANDBOX_RUN), connection="sandbox")
    for index, (job_id, (delay, gpu)) in enumerate(zip(jobs, SANDBOX_RUN, strict=True)):
        run_with_start_delay(store, job_id, start=T0 + 5 * index, delay=delay, gpu=gpu)
    wording = MetricsWording()
    cache = compute_metrics(store, MetricsScope()).cache
    mixed = CacheFigures(3, 1, CacheSource.INFERRED, None)
    counted = CacheFigures(7, 3, CacheSource.SANDBOX)

    assert wording.cache_text(cache) == "67 % (8 hits, 4 misses, inferred)"
    assert wording.cache_source_text(cache).startswith("Inferred from start delays")
    assert "fastest start by more than 0.8 s, half a model download" in (
        wording.cache_source_text(cache)
    )
    assert "more than half a model download there" in wording.cache_source_text(mixed)
    assert wording.cache_text(counted) == (
        "70 % (7 hits, 3 misses of model URLs, counted by the sandbox)"
    )
    assert wording.cache_source_text(counted).startswith("Counted by the sandbox")


def test_model_url_examples_on_own_lines(store: Store) -> None:
    quick_jobs(store)
    metrics = compute_metrics(store, MetricsScope(connection="sandbox"), now=T0 + 10)
    examples = ["https://a.example/x.safetensors", "https://b.example/x.safetensors"]
    item = ChecklistItem(
        CheckCode.CANONICAL_URLS,
        CheckState.AMBER,
        "not_canonical",
        {"urls": 2, "conflicting": 2, "examples": examples},
        FixAction.MODEL_LIBRARY,
    )

    message, _fix = MetricsWording().check_text(item)
    lines = report_lines("title", metrics, [item])

    assert message.split("\n") == [
        "Model URLs checked: 2. Naming a file that another URL also names: 2.",
        "For example:",
        *examples,
    ]
    first = next(i for i, line in enumerate(lines) if "Model URLs checked: 2." in line)
    assert lines[first].startswith("  amber    Model URLs canonical across queued work: ")
    assert [line.strip() for line in lines[first + 1 : first + 4]] == ["For example:", *examples]
    assert lines[first + 1].startswith(" " * 11)
    assert lines[first + 4].strip().startswith("fix: Use one canonical URL per model")


# The translation template ---------------------------------------------------------------------


# Functions that translate a text: the forms lupdate extracts, and private helpers it does not.
EXTRACTED_CALLS = ("tr", "translate")
HELPER_CALLS = ("_tr", "_translate")


def translated_texts(path: Path) -> list[tuple[str, ast.Call]]:
    """Return the class (the context of self.tr()) and the call of every call in ``path`` that
    translates a text. The body of a method named tr, which hands its text on, is skipped."""
    found: list[tuple[str, ast.Call]] = []

    def visit(node: ast.AST, context: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, child.name)
                continue
            if isinstance(child, ast.FunctionDef) and child.name == "tr":
                continue
            if isinstance(child, ast.Call) and call_name(child) in EXTRACTED_CALLS + HELPER_CALLS:
                found.append((context, child))
            visit(child, context)

    visit(ast.parse(path.read_text(encoding="utf-8")), "")
    return found


def call_name(call: ast.Call) -> str:
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return call.func.id if isinstance(call.func, ast.Name) else ""


def literal_message(context: str, call: ast.Call) -> tuple[str, str] | None:
    """Return the (context, text) that lupdate extracts from ``call``, None when it extracts
    nothing: a private helper, or a text or context that is not a literal."""
    arguments = call.args
    name = call_name(call)
    if name not in EXTRACTED_CALLS:
        return None
    if name == "translate" and len(arguments) >= 2:
        context_node, text_node = arguments[0], arguments[1]
        if not (isinstance(context_node, ast.Constant) and isinstance(context_node.value, str)):
            return None
        context = context_node.value
    elif arguments:
        text_node = arguments[0]
    else:
        return None
    if isinstance(text_node, ast.Constant) and isinstance(text_node.value, str):
        return context, text_node.value
    return None


def test_template_lists_every_metrics_sentence() -> None:
    sys.path.insert(0, str(ROOT / "packaging"))
    try:
        from update_translations import messages
    finally:
        sys.path.remove(str(ROOT / "packaging"))
    template = messages(TEMPLATE)

    extracted: set[tuple[str, str]] = set()
    for path in METRICS_SOURCES:
        for context, call in translated_texts(path):
            message = literal_message(context, call)
            # lupdate skips such a call, so its text would stay in English.
            assert message is not None, f"{path.name}:{call.lineno} is not extracted"
            extracted.add(message)
    listed = {message for message in template if message[0].startswith("Metrics")}

    assert len(extracted) > 100
    assert ("MetricsWording", "Not enough data") in extracted
    assert ("MetricsWording", "Jobs the sandbox ran more than once: {duplicates}.") in extracted
    assert ("MetricsDialog", "Check model URLs…") in extracted
    assert extracted == listed
