"""The domain's front door: what the API layer may use.

Submitting, cancelling and re-running go through `TaskService` (handed out in `Services`); reading through
the history and upload pages; watching through `watch_task` / `watch_owner`; the ComfyUI side starts with
`ComfyRuntime`. The modules behind this door are the domain's own business.
"""

from tasks.api_keys import owner_of
from tasks.errors import DomainError, InvalidRequest, Problem, TaskNotFound
from tasks.events.broker import Broker
from tasks.events.watch import DirectDelivery, watch_owner, watch_task
from tasks.presets import PresetEntry
from tasks.requests import (
    DEFAULT_WORKFLOW,
    AsyncReadable,
    Base64Source,
    GenerationRequest,
    HistoryQuery,
    ImageSource,
    StoredImageSource,
    UploadSource,
    UrlSource,
    WebhookEvent,
    WebhookTarget,
)
from tasks.runtime.assembly import ComfyRuntime, RuntimeSettings
from tasks.runtime.backends import BackendKind, BackendPool
from tasks.runtime.estimates import waiting_finish
from tasks.service import Services, SubmitResult, TaskService
from tasks.status import TaskStatus
from tasks.store.database import Database
from tasks.store.history import (
    Cursor,
    HistoryPage,
    ImageRecord,
    ImageRelation,
    Task,
    history_count,
    history_page,
    owned_task_with_images,
    owned_tasks,
    queue_position,
    tasks_by_status,
    uploads_page,
)
from tasks.store.images import StoredImage, bytes_by_kind, images_by_id, owned_image
from tasks.store.snapshots import EventKind, TaskEvent, TaskSnapshot
from tasks.store.webhooks import (
    DeliveryStatus,
    WebhookDelivery,
    deliveries_of,
    oldest_pending_age,
)
from tasks.webhooks.sender import message_id
from tasks.webhooks.signing import parse_secret
from tasks.webhooks.targets import OwnerSettings

__all__ = [
    "DEFAULT_WORKFLOW",
    "AsyncReadable",
    "BackendKind",
    "BackendPool",
    "Base64Source",
    "Broker",
    "ComfyRuntime",
    "Cursor",
    "Database",
    "DeliveryStatus",
    "DirectDelivery",
    "DomainError",
    "EventKind",
    "GenerationRequest",
    "HistoryPage",
    "HistoryQuery",
    "ImageRecord",
    "ImageRelation",
    "ImageSource",
    "InvalidRequest",
    "OwnerSettings",
    "PresetEntry",
    "Problem",
    "RuntimeSettings",
    "Services",
    "StoredImage",
    "StoredImageSource",
    "SubmitResult",
    "Task",
    "TaskEvent",
    "TaskNotFound",
    "TaskService",
    "TaskSnapshot",
    "TaskStatus",
    "UploadSource",
    "UrlSource",
    "WebhookDelivery",
    "WebhookEvent",
    "WebhookTarget",
    "bytes_by_kind",
    "deliveries_of",
    "history_count",
    "history_page",
    "images_by_id",
    "message_id",
    "oldest_pending_age",
    "owned_image",
    "owned_task_with_images",
    "owned_tasks",
    "owner_of",
    "parse_secret",
    "queue_position",
    "tasks_by_status",
    "uploads_page",
    "waiting_finish",
    "watch_owner",
    "watch_task",
]
