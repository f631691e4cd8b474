"""Parsers of a ComfyUI server's responses and messages into RemoteJobs and readable text.

The shapes follow ComfyUI's ``server.py`` and ``execution.py``. A history entry is
``{"prompt": [number, prompt_id, prompt, extra_data, outputs_to_execute], "outputs": {node:
{key: [file, ...]}}, "status": {"status_str", "completed", "messages": [[event, data], ...]}}``;
a queue item is the same five-element prompt list; message timestamps are Unix milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from cmfy_desk.backends.base import RemoteJob

FINAL_REMOTE_STATUSES = frozenset({"completed", "failed", "cancelled"})
# Keys of a node's output that are flags, not lists of files (SaveAnimatedWEBP sets it).
_NOT_FILES = frozenset({"animated"})


def node_label(
    node_id: object, prompt: Mapping[str, Any] | None = None, class_type: object = None
) -> str:
    """Return ``node 9 (SaveImage)``, taking the class from ``class_type`` or the prompt."""
    if not isinstance(class_type, str) and prompt is not None:
        node = prompt.get(str(node_id))
        class_type = node.get("class_type") if isinstance(node, dict) else None
    if isinstance(class_type, str) and class_type:
        return f"node {node_id} ({class_type})"
    return f"node {node_id}"


def iso_from_milliseconds(value: object) -> str | None:
    """Return ComfyUI's millisecond Unix timestamps as ISO-8601 UTC, like cmfy.cloud's times."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    moment = datetime.fromtimestamp(value / 1000.0, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def remote_job_from_error(prompt_id: str, data: Mapping[str, Any], **times: Any) -> RemoteJob:
    """Build the failed RemoteJob of an ``execution_error`` message (websocket or history)."""
    exception_type = data.get("exception_type") or "an exception"
    exception_message = str(data.get("exception_message") or "").strip()
    node = node_label(data.get("node_id", "?"), class_type=data.get("node_type"))
    message = f"{node} raised {exception_type}"
    if exception_message:
        message += f": {exception_message}"
    traceback = data.get("traceback")
    if isinstance(traceback, list):
        details: str | None = "".join(str(line) for line in traceback) or None
    else:
        details = traceback if isinstance(traceback, str) and traceback else None
    return RemoteJob(
        job_id=prompt_id,
        status="failed",
        error_code="execution_error",
        error_message=message,
        error_details=details,
        raw=dict(data),
        **times,
    )


def describe_node_errors(node_errors: Mapping[str, Any]) -> list[str]:
    """Return one line per problem of ``node_errors``, naming the node, its class and input:
    ``node 3 (KSampler), input steps: Value 0 smaller than min of 1``."""
    lines: list[str] = []
    for node_id, entry in node_errors.items():
        if not isinstance(entry, dict):
            continue
        label = node_label(node_id, class_type=entry.get("class_type"))
        reasons = [_describe_reason(reason) for reason in _reasons(entry)]
        if not reasons:
            lines.append(f"{label}: invalid")
        for input_name, text in reasons:
            if input_name:
                lines.append(f"{label}, input {input_name}: {text}")
            else:
                lines.append(f"{label}: {text}")
    return lines


def skipped_output_warnings(
    node_errors: Mapping[str, Any], prompt: Mapping[str, Any]
) -> tuple[str, ...]:
    """Return a warning per invalid node of an accepted prompt, naming the output nodes that
    the server skips because they depend on it."""
    warnings: list[str] = []
    for node_id, entry in node_errors.items():
        if not isinstance(entry, dict):
            continue
        outputs = [str(output) for output in entry.get("dependent_outputs") or ()]
        skipped = ", ".join(node_label(output, prompt) for output in outputs) or "no output"
        reasons = [
            f"input {input_name}: {text}" if input_name else text
            for input_name, text in map(_describe_reason, _reasons(entry))
        ]
        node = node_label(node_id, prompt, entry.get("class_type"))
        reason_text = "; ".join(reasons) or "no reason given"
        warnings.append(f"The server will skip {skipped}: {node} is invalid ({reason_text}).")
    return tuple(warnings)


def _reasons(entry: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [reason for reason in entry.get("errors") or () if isinstance(reason, dict)]


def _describe_reason(reason: Mapping[str, Any]) -> tuple[str | None, str]:
    """Return the input a validation reason is about (or None) and its message."""
    message = str(reason.get("message") or reason.get("type") or "invalid")
    details = reason.get("details")
    details_text = str(details) if details not in (None, "") else ""
    extra = reason.get("extra_info")
    input_name = extra.get("input_name") if isinstance(extra, dict) else None
    if isinstance(input_name, str) and input_name:
        # Most reasons repeat the input name as their details, so only longer details are kept.
        if details_text and details_text != input_name:
            message += f" ({details_text})"
        return input_name, message
    return None, f"{message}: {details_text}" if details_text else message


def summarize_system_stats(stats: Mapping[str, Any]) -> str:
    """Return one line of ``GET /system_stats``: ComfyUI version, Python, PyTorch, devices."""
    system = stats.get("system")
    system = system if isinstance(system, dict) else {}
    parts = [f"ComfyUI {system.get('comfyui_version') or 'of unknown version'}"]
    python = system.get("python_version")
    if isinstance(python, str) and python:
        parts.append(f"Python {python.split()[0]}")
    pytorch = system.get("pytorch_version")
    if isinstance(pytorch, str) and pytorch:
        parts.append(f"PyTorch {pytorch}")
    devices: list[str] = []
    for device in stats.get("devices") or ():
        if not isinstance(device, dict):
            continue
        name = str(device.get("name") or device.get("type") or "unknown device")
        # CUDA device names end with the allocator: "cuda:0 NVIDIA ... : cudaMallocAsync".
        name = name.split(" : ")[0]
        vram = device.get("vram_total")
        if device.get("type") != "cpu" and isinstance(vram, int | float) and vram > 0:
            name += f" ({vram / 2**30:.1f} GiB VRAM)"
        devices.append(name)
    parts.append(f"devices: {'; '.join(devices)}" if devices else "no devices listed")
    return ", ".join(parts)


def finished_job(
    prompt_id: str, entry: Mapping[str, Any], view_url: Callable[[str, str, object], str]
) -> RemoteJob:
    """Build the RemoteJob of a history entry: completed, failed or cancelled."""
    prompt, extra_data, promised = unpack_prompt(entry.get("prompt"))
    outputs = entry.get("outputs")
    outputs = outputs if isinstance(outputs, dict) else {}
    status_info = entry.get("status")
    status_info = status_info if isinstance(status_info, dict) else {}
    messages = dict(_status_messages(status_info))
    started = messages.get("execution_start", {}).get("timestamp")
    ended = next(
        (
            messages[name].get("timestamp")
            for name in ("execution_success", "execution_error", "execution_interrupted")
            if name in messages
        ),
        None,
    )
    times: dict[str, Any] = {
        "created_at": iso_from_milliseconds(extra_data.get("create_time")),
        "started_at": iso_from_milliseconds(started),
        "completed_at": iso_from_milliseconds(ended),
        "execution_time_ms": (
            int(ended - started)
            if isinstance(started, int | float) and isinstance(ended, int | float)
            else None
        ),
    }
    if "execution_interrupted" in messages:
        return RemoteJob(prompt_id, "cancelled", raw=dict(entry), **times)
    if "execution_error" in messages:
        return remote_job_from_error(prompt_id, messages["execution_error"], **times)
    if status_info.get("status_str") == "error":
        return RemoteJob(
            prompt_id,
            "failed",
            error_code="execution_error",
            error_message="The ComfyUI server reported an error without details.",
            raw=dict(entry),
            **times,
        )
    missing = tuple(
        node_label(node_id, prompt)
        for node_id in promised
        if not _has_outputs(outputs.get(str(node_id)))
    )
    return RemoteJob(
        prompt_id,
        "completed",
        images=output_urls(outputs, view_url),
        missing_outputs=missing,
        raw=dict(entry),
        **times,
    )


def output_urls(
    outputs: Mapping[str, Any], view_url: Callable[[str, str, object], str]
) -> tuple[str, ...]:
    """Return the /view URL of every file of every node in ``outputs``, under any key
    (images, gifs, video, audio...) and of any type (output, temp)."""
    return tuple(
        view_url(item["filename"], str(item.get("subfolder") or ""), item.get("type"))
        for item in _output_files(outputs)
    )


def unpack_prompt(value: object) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """Return the prompt, extra_data and output node ids of a history entry's prompt tuple."""
    items = value if isinstance(value, list) else []
    prompt = items[2] if len(items) > 2 and isinstance(items[2], dict) else {}
    extra_data = items[3] if len(items) > 3 and isinstance(items[3], dict) else {}
    promised = items[4] if len(items) > 4 and isinstance(items[4], list) else []
    return prompt, extra_data, [str(node_id) for node_id in promised]


def _status_messages(status_info: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for entry in status_info.get("messages") or ():
        if isinstance(entry, list | tuple) and len(entry) >= 2 and isinstance(entry[1], dict):
            yield str(entry[0]), entry[1]


def _output_files(outputs: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    for node_output in outputs.values():
        if not isinstance(node_output, dict):
            continue
        for key, items in node_output.items():
            if key in _NOT_FILES or not isinstance(items, list):
                continue
            for item in items:
                filename = item.get("filename") if isinstance(item, dict) else None
                if isinstance(filename, str) and filename:
                    yield item


def _has_outputs(node_output: object) -> bool:
    """Return whether an output node produced anything: files, text or other values."""
    if not isinstance(node_output, dict):
        return False
    return any(
        isinstance(items, list) and items
        for key, items in node_output.items()
        if key not in _NOT_FILES
    )


def find_item(items: list[Any], prompt_id: str) -> list[Any] | None:
    for item in items:
        if isinstance(item, list) and len(item) > 1 and item[1] == prompt_id:
            return item
    return None


def job_in_queue(prompt_id: str, running: list[Any], pending: list[Any]) -> RemoteJob | None:
    """Return the prompt's state from the queue: running, or queued with its 1-based place
    among the pending prompts (the server runs the lowest number first)."""
    item = find_item(running, prompt_id)
    if item is not None:
        return RemoteJob(prompt_id, "running", created_at=_created_at(item))
    item = find_item(pending, prompt_id)
    if item is None:
        return None
    number = item[0] if isinstance(item[0], int | float) else 0
    ahead = sum(
        1
        for other in pending
        if isinstance(other, list)
        and other
        and isinstance(other[0], int | float)
        and other[0] < number
    )
    return RemoteJob(prompt_id, "queued", queue_position=ahead + 1, created_at=_created_at(item))


def _created_at(item: list[Any]) -> str | None:
    extra_data = item[3] if len(item) > 3 and isinstance(item[3], dict) else {}
    return iso_from_milliseconds(extra_data.get("create_time"))
