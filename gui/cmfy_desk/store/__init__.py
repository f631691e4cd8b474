"""The SQLite database: schema, migrations and queries. Imports nothing else of ours."""

from cmfy_desk.store.database import Store, StoreError
from cmfy_desk.store.gallery import (
    BatchFacet,
    Facets,
    FileState,
    Gallery,
    ImageData,
    ImageRecord,
    WatchedFolder,
)
from cmfy_desk.store.image_query import (
    Filter,
    ImageField,
    ImageOrder,
    ImageQuery,
    ImageSource,
    ImageStatus,
    Operator,
    TextTerm,
)
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
    "BatchFacet",
    "Facets",
    "FileState",
    "Filter",
    "Gallery",
    "ImageData",
    "ImageField",
    "ImageOrder",
    "ImageQuery",
    "ImageRecord",
    "ImageSource",
    "ImageStatus",
    "InvalidTransition",
    "Job",
    "JobStatus",
    "Operator",
    "Output",
    "QueueEntry",
    "Store",
    "StoreError",
    "TextTerm",
    "WatchedFolder",
    "WebhookDelivery",
]
