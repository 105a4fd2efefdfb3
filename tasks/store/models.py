"""Tortoise models: the database is the truth about every task and every stored image."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from tasks.status import TaskStatus


class ImageKind:
    INPUT = "input"
    OUTPUT = "output"


class StoredImage(Model):
    """An image in blob storage: an uploaded reference image or a generated output."""

    id = fields.UUIDField(primary_key=True)
    owner = fields.CharField(max_length=64, db_index=True)
    kind = fields.CharField(max_length=8)
    sha256 = fields.CharField(max_length=64)
    blob_key = fields.CharField(max_length=255)  # inputs are content-addressed, shared by owners
    thumbnail_key = fields.CharField(max_length=255, null=True)
    content_type = fields.CharField(max_length=32)
    width = fields.IntField()
    height = fields.IntField()
    size = fields.BigIntField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "stored_image"
        indexes = (
            Index(fields=("owner", "kind", "sha256"), name="image_owner_kind_sha"),
            Index(fields=("owner", "kind", "created_at"), name="image_owner_kind_created"),
        )


class ApiKey(Model):
    """An API key. Only a hash of its secret is kept, the key itself is shown once."""

    id = fields.CharField(primary_key=True, max_length=16)
    owner = fields.CharField(max_length=64, db_index=True)
    name = fields.CharField(max_length=100, default="")
    secret_hash = fields.CharField(max_length=64)
    created_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)
    last_used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_key"


class Task(Model):
    """One Kontext edit: its request, where it runs, how far it got, and how it ended."""

    id = fields.UUIDField(primary_key=True)
    owner = fields.CharField(max_length=64)
    status = fields.CharEnumField(TaskStatus, max_length=16, default=TaskStatus.PENDING)
    workflow = fields.CharField(max_length=64)
    description = fields.TextField()
    parameters: fields.Field[dict[str, Any]] = fields.JSONField()
    seed = fields.CharField(max_length=20)
    reference_image: fields.ForeignKeyRelation[StoredImage] = fields.ForeignKeyField(
        "kontext.StoredImage", related_name=False, on_delete=fields.RESTRICT
    )
    second_image: fields.ForeignKeyNullableRelation[StoredImage] = fields.ForeignKeyField(
        "kontext.StoredImage", related_name=False, null=True, on_delete=fields.RESTRICT
    )
    result_image: fields.ForeignKeyNullableRelation[StoredImage] = fields.ForeignKeyField(
        "kontext.StoredImage", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    batch_id = fields.UUIDField(null=True)
    batch_index = fields.IntField(default=0)
    rerun_of: fields.ForeignKeyNullableRelation[Task] = fields.ForeignKeyField(
        "kontext.Task", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    idempotency_key = fields.CharField(max_length=128, null=True)
    request_hash = fields.CharField(max_length=64)

    step = fields.IntField(default=0)
    total_steps = fields.IntField(default=0)
    progress = fields.FloatField(default=0.0)
    current_node = fields.CharField(max_length=64, null=True)
    preview_key = fields.CharField(max_length=255, null=True)
    estimated_finish_at = fields.DatetimeField(null=True)
    sequence = fields.BigIntField(default=0)

    backend = fields.CharField(max_length=255, null=True)
    prompt_id = fields.CharField(max_length=36, null=True, unique=True)
    attempts = fields.IntField(default=0)
    node_count = fields.IntField(default=0)
    dispatched_at = fields.DatetimeField(null=True)
    queued_at = fields.DatetimeField(null=True)
    requeue_reason = fields.TextField(null=True)
    memory_retries = fields.IntField(default=0)

    error_code = fields.CharField(max_length=64, null=True)
    error_message = fields.TextField(null=True)
    error_details: fields.Field[dict[str, Any] | None] = fields.JSONField(null=True)

    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()
    deadline_at = fields.DatetimeField(null=True)
    started_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "task"
        unique_together = (("owner", "idempotency_key", "batch_index"),)
        indexes = (
            Index(fields=("owner", "created_at", "id"), name="task_owner_created"),
            Index(fields=("owner", "status", "created_at"), name="task_owner_status_created"),
            Index(fields=("status", "created_at"), name="task_status_created"),
        )


class Preset(Model):
    """A named set of generation parameters an owner saved (only the parameters it sets)."""

    id = fields.UUIDField(primary_key=True)
    owner = fields.CharField(max_length=64)
    name = fields.CharField(max_length=100)
    parameters: fields.Field[dict[str, Any]] = fields.JSONField()
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "preset"
        unique_together = (("owner", "name"),)


class HistoryCount(Model):
    """How many tasks an owner has. The database keeps it: triggers on `task` add one for each
    row inserted and take one away for each row deleted, in the writer's transaction
    (migration 0008), whoever writes. `history`'s `totalCount` without filters reads this row
    instead of counting the owner's whole history."""

    owner = fields.CharField(max_length=64, primary_key=True)
    tasks = fields.BigIntField(default=0)

    class Meta:
        table = "history_count"
