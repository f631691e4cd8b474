"""The notice that a batch has finished, with the count of each outcome."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from cmfy_desk.store import FINAL_STATUSES, Job, JobStatus


def batch_summary(name: str, jobs: list[Job]) -> str | None:
    """Return "Batch <name> finished: N succeeded, M failed" for the jobs of one batch, or
    None while any of them is not final.

    Lost jobs count as failed. Partial and cancelled jobs are named only when there are any.
    """
    if not jobs or not all(job.is_final for job in jobs):
        return None
    counts = dict.fromkeys(FINAL_STATUSES, 0)
    for job in jobs:
        counts[job.status] += 1

    def tr(text: str) -> str:
        return QCoreApplication.translate("BatchSummary", text)

    text = tr("Batch {name} finished: {succeeded} succeeded, {failed} failed").format(
        name=name,
        succeeded=counts[JobStatus.SUCCEEDED],
        failed=counts[JobStatus.FAILED] + counts[JobStatus.LOST],
    )
    if counts[JobStatus.PARTIAL]:
        text += tr(", {count} partial").format(count=counts[JobStatus.PARTIAL])
    if counts[JobStatus.CANCELLED]:
        text += tr(", {count} cancelled").format(count=counts[JobStatus.CANCELLED])
    return text
