"""The production checklist: the state of each practice that cmfy.cloud advises (webhooks,
canonical model URLs, concurrency, idempotency keys, backoff, pooling, recording, unused nodes),
judged from the store and the connection's facts."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cmfy_desk.connections import COMFYUI
from cmfy_desk.metrics.compute import compute_metrics
from cmfy_desk.metrics.model import (
    SUCCESS_STATUSES,
    CheckCode,
    ChecklistItem,
    CheckState,
    ConnectionFacts,
    FixAction,
    Metrics,
    MetricsScope,
    RateLimitFigures,
)
from cmfy_desk.metrics.timings import JobTiming, load_timings, scope_clause
from cmfy_desk.store import ACTIVE_STATUSES, FINAL_STATUSES, JobStatus, Store
from cmfy_desk.workflows.graph import Graph
from cmfy_desk.workflows.model_urls import (
    canonical_form,
    model_inputs,
    parse_model_reference,
    same_model,
)
from cmfy_desk.workflows.preflight import remove_unused_nodes

if TYPE_CHECKING:
    from cmfy_desk.workflows.definitions import NodeDefinitions

log = logging.getLogger(__name__)

# Share of finished jobs with every timestamp the figures need, from which recording is OK.
RECORDED_SHARE_OK = 0.95
# Graphs read from the store for the URL and unused-node checks, newest first.
MAX_GRAPHS_CHECKED = 200
MAX_EXAMPLES = 3


def production_checklist(
    store: Store,
    scope: MetricsScope,
    facts: ConnectionFacts | None,
    metrics: Metrics | None = None,
    *,
    library: Mapping[str, str] | None = None,
    definitions: NodeDefinitions | None = None,
) -> tuple[ChecklistItem, ...]:
    """Judge each practice of the production checklist for the jobs in ``scope``.

    ``facts`` are those of the scope's connection (None where unknown, for example over all
    connections); ``metrics`` are the scope's figures, computed when not given. ``library``
    maps model file names to the URL the model library uses for them.
    """
    if metrics is None:
        metrics = compute_metrics(store, scope, facts)
    timings = load_timings(store, scope)
    graphs, queued_only = _recent_graphs(store, scope)
    return (
        _check_webhooks(store, scope, timings, facts),
        _check_model_urls(graphs, queued_only, library),
        _check_concurrency(timings, facts, metrics.rate_limits),
        _check_idempotency(store, scope, timings, facts if scope.whole_connection else None),
        _check_backoff(metrics.rate_limits),
        _check_pooling(facts),
        _check_recording(timings),
        _check_unused_nodes(graphs, definitions),
    )


@dataclass(frozen=True)
class _StoredGraph:
    workflow_name: str
    graph: Graph


def _recent_graphs(store: Store, scope: MetricsScope) -> tuple[list[_StoredGraph], bool]:
    """Return the graphs of the scope's queued work, else of its newest jobs (at most
    MAX_GRAPHS_CHECKED), and whether they are queued work."""
    where, values = scope_clause(scope)
    active = [status.value for status in ACTIVE_STATUSES]
    active_clause = f"jobs.status IN ({','.join('?' * len(active))})"
    queued_where = (where + " AND " if where else " WHERE ") + active_clause
    query = "SELECT workflow_name, prompt_json FROM jobs{} ORDER BY id DESC LIMIT ?"
    rows = store.connection.execute(
        query.format(queued_where), (*values, *active, MAX_GRAPHS_CHECKED)
    ).fetchall()
    queued_only = bool(rows)
    if not rows:
        rows = store.connection.execute(
            query.format(where), (*values, MAX_GRAPHS_CHECKED)
        ).fetchall()
    graphs: list[_StoredGraph] = []
    for row in rows:
        try:
            graph = json.loads(row["prompt_json"])
        except ValueError:
            log.warning("Skipping a stored prompt that is not valid JSON in the checklist")
            continue
        if isinstance(graph, dict):
            graphs.append(_StoredGraph(row["workflow_name"], graph))
    return graphs, queued_only


def _check_webhooks(
    store: Store,
    scope: MetricsScope,
    timings: Sequence[JobTiming],
    facts: ConnectionFacts | None,
) -> ChecklistItem:
    code = CheckCode.WEBHOOKS
    if facts is not None and facts.kind == COMFYUI:
        return ChecklistItem(code, CheckState.OK, "websocket")
    finished = {
        t.job_id
        for t in timings
        if t.submitted_at is not None and t.status in FINAL_STATUSES | {JobStatus.DOWNLOADING}
    }
    where, values = scope_clause(scope)
    rows = store.connection.execute(
        "SELECT DISTINCT webhook_deliveries.job_id FROM webhook_deliveries"
        " JOIN jobs ON jobs.id = webhook_deliveries.job_id" + where,
        values,
    ).fetchall()
    delivered = len(finished & {row[0] for row in rows})

    counts = {"with_webhook": delivered, "finished": len(finished)}
    configured = facts.webhooks_configured if facts is not None else None
    if configured is False:
        return ChecklistItem(
            code, CheckState.AMBER, "polling_chosen", counts, FixAction.CONNECTION_SETTINGS
        )
    if not finished:
        if configured:
            return ChecklistItem(code, CheckState.OK, "configured", counts)
        return ChecklistItem(code, CheckState.UNKNOWN, "no_jobs", counts)
    if delivered == 0:
        return ChecklistItem(
            code, CheckState.AMBER, "no_deliveries", counts, FixAction.CONNECTION_SETTINGS
        )
    return ChecklistItem(code, CheckState.OK, "in_use", counts)


def _check_model_urls(
    graphs: Sequence[_StoredGraph], queued_only: bool, library: Mapping[str, str] | None
) -> ChecklistItem:
    code = CheckCode.CANONICAL_URLS
    urls: set[str] = set()
    for stored in graphs:
        for _node_id, _name, value in model_inputs(stored.graph):
            if parse_model_reference(value).is_url:
                urls.add(value.strip())
    if not urls:
        return ChecklistItem(code, CheckState.UNKNOWN, "no_model_urls", {"queued": queued_only})

    not_canonical = sorted(url for url in urls if canonical_form(url) != url)
    references = [parse_model_reference(url) for url in sorted(urls)]
    conflicting: set[str] = set()
    for index, first in enumerate(references):
        for second in references[index + 1 :]:
            if same_model(first, second):
                conflicting |= {first.url, second.url}
    off_library = sorted(
        reference.url
        for reference in references
        if library
        and reference.file_name in library
        and canonical_form(library[reference.file_name]) != canonical_form(reference.url)
    )

    values: dict[str, Any] = {
        "queued": queued_only,
        "urls": len(urls),
        "not_canonical": len(not_canonical),
        "conflicting": len(conflicting),
        "off_library": len(off_library),
        "examples": list(dict.fromkeys(not_canonical + sorted(conflicting) + off_library))[
            :MAX_EXAMPLES
        ],
    }
    if not_canonical or conflicting or off_library:
        return ChecklistItem(
            code, CheckState.AMBER, "not_canonical", values, FixAction.MODEL_LIBRARY
        )
    return ChecklistItem(code, CheckState.OK, "canonical", values)


def peak_running(timings: Iterable[JobTiming]) -> int:
    """Return the most runs of one connection that overlapped in time; a run that ends when
    another starts does not overlap it."""
    peak = 0
    by_connection: dict[str, list[tuple[float, int]]] = {}
    for timing in timings:
        start, end = timing.run_started_at, timing.run_ended_at
        if start is None or end is None or end < start:
            continue
        edges = by_connection.setdefault(timing.connection, [])
        edges += [(start, 1), (end, -1)]
    for edges in by_connection.values():
        running = 0
        # Ends sort before starts at the same moment.
        for _moment, step in sorted(edges):
            running += step
            peak = max(peak, running)
    return peak


def _check_concurrency(
    timings: Sequence[JobTiming], facts: ConnectionFacts | None, limits: RateLimitFigures
) -> ChecklistItem:
    code = CheckCode.CONCURRENCY
    peak = peak_running(timings)
    bounds = [] if facts is None else [facts.running_limit, facts.max_running]
    known = [bound for bound in bounds if bound]
    limit = min(known) if known else None
    rejected = limits.by_code.get("concurrent_limit_reached", 0)
    queue_full = limits.by_code.get("queue_full", 0)
    values = {"peak": peak, "limit": limit, "rejected": rejected, "queue_full": queue_full}
    if limit is not None and peak > limit:
        return ChecklistItem(code, CheckState.AMBER, "over_limit", values, FixAction.QUEUE_SETTINGS)
    if rejected or queue_full:
        return ChecklistItem(code, CheckState.AMBER, "rejected", values, FixAction.QUEUE_SETTINGS)
    if limit is None:
        return ChecklistItem(code, CheckState.UNKNOWN, "limit_unknown", values)
    return ChecklistItem(code, CheckState.OK, "within_limit", values)


def _check_idempotency(
    store: Store,
    scope: MetricsScope,
    timings: Sequence[JobTiming],
    counters: ConnectionFacts | None,
) -> ChecklistItem:
    code = CheckCode.IDEMPOTENCY
    where, values = scope_clause(scope)
    missing = store.connection.execute(
        "SELECT COUNT(*) FROM jobs"
        + (where + " AND " if where else " WHERE ")
        + "TRIM(jobs.idempotency_key) = ''",
        values,
    ).fetchone()[0]
    retried = sum(1 for t in timings if t.attempts > 1)
    duplicates = 0
    if counters is not None and counters.sandbox_stats is not None:
        runs = counters.sandbox_stats.get("runs_per_job", {})
        duplicates = sum(1 for count in runs.values() if int(count) > 1)
    counts = {"retried": retried, "missing": int(missing), "duplicates": duplicates}
    if missing:
        return ChecklistItem(code, CheckState.AMBER, "missing_keys", counts)
    if duplicates:
        return ChecklistItem(code, CheckState.AMBER, "duplicate_runs", counts)
    return ChecklistItem(code, CheckState.OK, "keys_stored", counts)


def _check_backoff(limits: RateLimitFigures) -> ChecklistItem:
    code = CheckCode.BACKOFF
    values = {
        "total": limits.total,
        "avoidable": limits.avoidable,
        "without_backoff": limits.without_backoff,
        "source": limits.source,
    }
    if limits.without_backoff:
        return ChecklistItem(code, CheckState.AMBER, "no_backoff", values, FixAction.QUEUE_SETTINGS)
    if limits.total == 0:
        return ChecklistItem(code, CheckState.OK, "no_429", values)
    if limits.avoidable:
        return ChecklistItem(code, CheckState.AMBER, "avoidable", values, FixAction.QUEUE_SETTINGS)
    return ChecklistItem(code, CheckState.OK, "backed_off", values)


def _check_pooling(facts: ConnectionFacts | None) -> ChecklistItem:
    code = CheckCode.POOLING
    if facts is None or facts.pooled_http is None:
        return ChecklistItem(code, CheckState.UNKNOWN, "unknown")
    if facts.pooled_http:
        return ChecklistItem(code, CheckState.OK, "pooled")
    return ChecklistItem(code, CheckState.AMBER, "not_pooled")


def _check_recording(timings: Sequence[JobTiming]) -> ChecklistItem:
    code = CheckCode.RECORDING
    done = [t for t in timings if t.status in SUCCESS_STATUSES]
    complete = sum(
        1
        for t in done
        if t.submitted_at is not None
        and t.run_started_at is not None
        and t.finished_at is not None
        and t.execution_seconds is not None
    )
    values = {"complete": complete, "finished": len(done)}
    if not done:
        return ChecklistItem(code, CheckState.UNKNOWN, "no_jobs", values)
    if complete / len(done) >= RECORDED_SHARE_OK:
        return ChecklistItem(code, CheckState.OK, "recorded", values)
    return ChecklistItem(code, CheckState.AMBER, "incomplete", values)


def _check_unused_nodes(
    graphs: Sequence[_StoredGraph], definitions: NodeDefinitions | None
) -> ChecklistItem:
    code = CheckCode.UNUSED_NODES
    if not graphs:
        return ChecklistItem(code, CheckState.UNKNOWN, "no_jobs")
    with_unused = 0
    unused_total = 0
    workflows: list[str] = []
    for stored in graphs:
        unused = len(stored.graph) - len(remove_unused_nodes(stored.graph, definitions))
        if unused:
            with_unused += 1
            unused_total += unused
            if stored.workflow_name not in workflows:
                workflows.append(stored.workflow_name)
    values = {
        "checked": len(graphs),
        "with_unused": with_unused,
        "unused_nodes": unused_total,
        "workflows": workflows[:MAX_EXAMPLES],
    }
    if with_unused:
        return ChecklistItem(code, CheckState.AMBER, "unused_nodes", values)
    return ChecklistItem(code, CheckState.OK, "none_unused", values)
