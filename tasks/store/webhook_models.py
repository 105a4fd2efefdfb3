"""Webhook rows: an owner's default target and signing secret, the target each task was submitted
with, and the outbox of deliveries (one row per event, written with the task's final change)."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

if TYPE_CHECKING:
    from tasks.store.models import Task


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"  # due at next_attempt_at (sent again after a crash mid-way)
    DELIVERED = "DELIVERED"  # a 2xx answer
    FAILED = "FAILED"  # no 2xx answer within the retry window


class OwnerWebhook(Model):
    """An owner's default webhook (used by its tasks submitted without one) and its own signing
    secret, kept readable because every delivery is signed with it."""

    owner = fields.CharField(primary_key=True, max_length=64)
    url = fields.TextField(null=True)
    events: fields.Field[list[str]] = fields.JSONField(default=list)
    secret: fields.Field[str | None] = fields.CharField(max_length=100, null=True)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "owner_webhook"


class TaskWebhook(Model):
    """Where a task's end is announced, fixed when it was submitted."""

    task: fields.OneToOneRelation[Task] = fields.OneToOneField(
        "kontext.Task", related_name=False, on_delete=fields.CASCADE, primary_key=True
    )
    owner = fields.CharField(max_length=64)
    url = fields.TextField()
    events: fields.Field[list[str]] = fields.JSONField()

    class Meta:
        table = "task_webhook"


class WebhookDelivery(Model):
    """One event to deliver: its id is the `webhook-id` every attempt carries."""

    id = fields.UUIDField(primary_key=True)
    task: fields.ForeignKeyRelation[Task] = fields.ForeignKeyField(
        "kontext.Task", related_name=False, on_delete=fields.CASCADE
    )
    owner = fields.CharField(max_length=64)
    event = fields.CharField(max_length=32)
    url = fields.TextField()
    status = fields.CharEnumField(DeliveryStatus, max_length=16, default=DeliveryStatus.PENDING)
    attempts = fields.IntField(default=0)
    status_codes: fields.Field[list[int | None]] = fields.JSONField(default=list)
    last_error = fields.TextField(null=True)
    payload = fields.TextField(null=True)  # the body, made at the first attempt, sent every time
    created_at = fields.DatetimeField()
    next_attempt_at = fields.DatetimeField()
    delivered_at = fields.DatetimeField(null=True)

    class Meta:
        table = "webhook_delivery"
        indexes = (
            Index(fields=("status", "next_attempt_at"), name="webhook_delivery_due"),
            Index(fields=("task_id", "created_at"), name="webhook_delivery_task"),
        )
