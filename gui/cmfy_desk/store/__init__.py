"""The SQLite database: schema, migrations and queries. Imports nothing else of ours."""

from cmfy_desk.store.database import Store, StoreError
from cmfy_desk.store.models import (
    ACTIVE_STATUSES,
    FINAL_STATUSES,
    IN_FLIGHT_STATUSES,
    Batch,
    InvalidTransition,
    Job,
    JobStatus,
    Output,
    QueueEntry,
    WebhookDelivery,
)

__all__ = [
    "ACTIVE_STATUSES",
    "FINAL_STATUSES",
    "IN_FLIGHT_STATUSES",
    "Batch",
    "InvalidTransition",
    "Job",
    "JobStatus",
    "Output",
    "QueueEntry",
    "Store",
    "StoreError",
    "WebhookDelivery",
]
