"""The domain services an application hands to its API layer, built once per application."""

from __future__ import annotations

from dataclasses import dataclass, field

from storage.blobs import BlobStore
from tasks.backends import BackendPool
from tasks.broker import Broker
from tasks.presets import PresetBook
from tasks.run_times import RunTimes
from tasks.service import TaskService
from tasks.webhook_targets import WebhookTargets
from workflows.registry import TemplateRegistry


@dataclass(frozen=True)
class Services:
    tasks: TaskService
    templates: TemplateRegistry
    blobs: BlobStore
    broker: Broker
    backends: BackendPool
    run_times: RunTimes
    presets: PresetBook
    webhooks: WebhookTargets = field(default_factory=WebhookTargets)
