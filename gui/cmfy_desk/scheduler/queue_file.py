"""The queue as a JSON file: export the queued jobs, import them as new batches elsewhere."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from cmfy_desk.store import Batch, JobStatus, Store
from cmfy_desk.workflows.definitions import NodeDefinitions
from cmfy_desk.workflows.graph import GraphError, graph_hash, validate_graph
from cmfy_desk.workflows.preflight import check_graph

FORMAT = "cmfy-desk-queue"
VERSION = 1


class QueueFileError(ValueError):
    """A queue file that cannot be imported; nothing of it was added."""


def export_queue(store: Store, connection: str | None = None) -> dict[str, Any]:
    """Return the queued jobs (of one connection, or all), grouped by batch.

    Jobs already submitted are left out: importing them again would run them twice.
    """
    queued = store.jobs(statuses=[JobStatus.QUEUED])
    batches: dict[int, dict[str, Any]] = {}
    for job in queued:
        if connection is not None and job.connection != connection:
            continue
        entry = batches.get(job.batch_id)
        if entry is None:
            batch = store.get_batch(job.batch_id)
            entry = {
                "name": batch.name,
                "workflow_name": batch.workflow_name,
                "workflow_path": batch.workflow_path,
                "connection": batch.connection,
                "seed_mode": batch.seed_mode,
                "output_dir": batch.output_dir,
                "priority": batch.priority,
                "paused": batch.paused,
                "jobs": [],
            }
            batches[job.batch_id] = entry
        entry["jobs"].append(
            {
                "prompt": job.prompt,
                "seed": job.seed,
                "parameters": job.parameters,
                "model_key": job.model_key,
                "priority": job.priority,
            }
        )
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "batches": list(batches.values()),
    }


def write_queue_file(store: Store, path: Path, connection: str | None = None) -> int:
    """Write the queue to ``path`` (temporary name, then rename); return the number of jobs."""
    document = export_queue(store, connection)
    partial = path.with_name(path.name + ".part")
    partial.write_text(json.dumps(document, indent=1), encoding="utf-8")
    partial.replace(path)
    return sum(len(batch["jobs"]) for batch in document["batches"])


def import_queue(store: Store, document: object, connection: str | None = None) -> list[Batch]:
    """Add the batches of an exported queue as new queued batches, with new idempotency keys.

    ``connection``, when given, sends every imported job there instead of to the connection it
    was exported from. Raises QueueFileError before adding anything when any part is invalid.
    """
    batches = _check_document(document)
    added: list[Batch] = []
    for entry in batches:
        jobs = entry["jobs"]
        batch, _jobs = store.add_batch(
            name=str(entry.get("name") or entry["workflow_name"]),
            workflow_name=str(entry["workflow_name"]),
            workflow_path=str(entry.get("workflow_path", "")),
            connection=connection or str(entry["connection"]),
            seed_mode=str(entry.get("seed_mode", "fixed")),
            output_dir=str(entry["output_dir"]),
            jobs=[(job["prompt"], graph_hash(job["prompt"]), job.get("seed")) for job in jobs],
            parameters=[job.get("parameters") or {} for job in jobs],
            model_keys=[str(job.get("model_key") or "") for job in jobs],
            priority=int(entry.get("priority", 0)),
        )
        for job, stored in zip(jobs, _jobs, strict=True):
            priority = int(job.get("priority", batch.priority))
            if priority != batch.priority:
                store.set_job_priority([stored.id], priority)
        if entry.get("paused"):
            store.set_batch_paused(batch.id, True)
        added.append(store.get_batch(batch.id))
    return added


def read_queue_file(store: Store, path: Path, connection: str | None = None) -> list[Batch]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise QueueFileError(f"{path.name}: cannot be read: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise QueueFileError(
            f"{path.name}: is not valid JSON (line {exc.lineno}, column {exc.colno}). "
            "Export the queue again."
        ) from exc
    try:
        return import_queue(store, document, connection)
    except QueueFileError as exc:
        raise QueueFileError(f"{path.name}: {exc}") from exc


def _check_document(document: object) -> list[dict[str, Any]]:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise QueueFileError(f'is not a Cmfy Desk queue file (no "format": "{FORMAT}").')
    if document.get("version") != VERSION:
        raise QueueFileError(
            f"has queue file version {document.get('version')!r}; this version of Cmfy Desk "
            f"reads version {VERSION}."
        )
    batches = document.get("batches")
    if not isinstance(batches, list):
        raise QueueFileError('has no "batches" list.')
    for number, entry in enumerate(batches, start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get("jobs"), list):
            raise QueueFileError(f'batch {number} has no "jobs" list.')
        for key in ("workflow_name", "connection", "output_dir"):
            if not isinstance(entry.get(key), str):
                raise QueueFileError(f"batch {number} has no {key!r} text.")
        for index, job in enumerate(entry["jobs"], start=1):
            if not isinstance(job, dict):
                raise QueueFileError(f"batch {number}, job {index} is not an object.")
            try:
                graph = validate_graph(job.get("prompt"))
            except GraphError as exc:
                raise QueueFileError(f"batch {number}, job {index}: {exc.message}") from exc
            # The same values the window and the command line reject (out of range, missing
            # required inputs) are rejected here, before anything is added.
            report = check_graph(graph, NodeDefinitions.bundled(), for_cloud=False)
            if report.errors:
                raise QueueFileError(f"batch {number}, job {index}: {report.errors[0].message}")
    return batches
