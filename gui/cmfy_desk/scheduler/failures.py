"""Failed jobs grouped by cause, so a person can retry the transient ones and fix the rest."""

from __future__ import annotations

from enum import StrEnum

from cmfy_desk.store import Job, JobStatus


class FailureCause(StrEnum):
    VALIDATION = "validation"  # the service rejected the workflow: fix it before retrying
    TRANSIENT = "transient"  # network errors, timeouts, 5xx after every retry, downloads
    SERVER = "server"  # the job ran and failed on the GPU node (execution_* codes)
    LOST = "lost"  # the service no longer knows the job
    AUTH = "auth"  # the key or the account was rejected
    CANCELLED = "cancelled"


_TRANSIENT_CODES = frozenset(
    {"NetworkError", "ServerError", "server_error", "download_failed", "timeout"}
)
_AUTH_CODES = frozenset(
    {
        "missing_auth",
        "invalid_auth_format",
        "invalid_api_key",
        "revoked_api_key",
        "account_suspended",
        "insufficient_permissions",
    }
)


def failure_cause(job: Job) -> FailureCause | None:
    """Return why a job ended without success, or None for a job that did not fail."""
    if job.status is JobStatus.LOST:
        return FailureCause.LOST
    if job.status is JobStatus.CANCELLED:
        return FailureCause.CANCELLED
    if job.status not in (JobStatus.FAILED, JobStatus.PARTIAL):
        return None
    code = job.error_code or ""
    if code.startswith("execution_"):
        return FailureCause.SERVER
    if code in _AUTH_CODES:
        return FailureCause.AUTH
    if code in _TRANSIENT_CODES or job.status is JobStatus.PARTIAL:
        return FailureCause.TRANSIENT
    return FailureCause.VALIDATION


def group_failures(jobs: list[Job]) -> dict[FailureCause, list[Job]]:
    groups: dict[FailureCause, list[Job]] = {}
    for job in jobs:
        cause = failure_cause(job)
        if cause is not None:
            groups.setdefault(cause, []).append(job)
    return groups
