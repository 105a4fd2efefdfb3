"""The domain's front door: what the API layer may use.

Submitting, cancelling and re-running go through `TaskService` (handed out in `Services`); reading through
the history and upload pages; watching through `watch_task` / `watch_owner`; the ComfyUI side starts with
`ComfyRuntime`. The modules behind this door are the domain's own business.
"""

from tasks.api_keys import owner_of
from tasks.backends import BackendKind, BackendPool
from tasks.broker import Broker
from tasks.database import Database
from tasks.errors import DomainError, InvalidRequest, Problem, TaskNotFound
from tasks.estimates import waiting_finish
from tasks.events import EventKind, TaskEvent
from tasks.history import Cursor, history_count, history_page
from tasks.models import StoredImage, Task
from tasks.presets import PresetEntry
from tasks.queueing import queue_position
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
)
from tasks.runtime import ComfyRuntime, RuntimeSettings
from tasks.service import SubmitResult, TaskService
from tasks.services import Services
from tasks.status import TaskStatus
from tasks.uploads import uploads_page
from tasks.watch import watch_owner, watch_task
from tasks.webhook_models import DeliveryStatus, WebhookDelivery
from tasks.webhook_outbox import deliveries_of, oldest_pending_age
from tasks.webhook_sender import message_id
from tasks.webhook_signing import parse_secret
from tasks.webhook_targets import OwnerSettings, WebhookEvent, WebhookTarget

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
    "DomainError",
    "EventKind",
    "GenerationRequest",
    "HistoryQuery",
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
    "TaskStatus",
    "UploadSource",
    "UrlSource",
    "WebhookDelivery",
    "WebhookEvent",
    "WebhookTarget",
    "deliveries_of",
    "history_count",
    "history_page",
    "message_id",
    "oldest_pending_age",
    "owner_of",
    "parse_secret",
    "queue_position",
    "uploads_page",
    "waiting_finish",
    "watch_owner",
    "watch_task",
]
