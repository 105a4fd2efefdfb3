"""Webhooks: owners' default targets and secrets, each task's target, and the outbox of
deliveries written in the transaction of a task's final change."""

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tasks.store.webhook_models import DeliveryStatus
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('kontext', '0004_presets_reruns_uploads')]

    initial = False

    operations = [
        ops.CreateModel(
            name='OwnerWebhook',
            fields=[
                ('owner', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('url', fields.TextField(null=True, unique=False)),
                ('events', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('secret', fields.CharField(null=True, max_length=100)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'owner_webhook', 'app': 'kontext', 'pk_attr': 'owner', 'table_description': "An owner's default webhook (used by its tasks submitted without one) and its own signing"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TaskWebhook',
            fields=[
                ('task', fields.OneToOneField('kontext.Task', source_field='task_id', primary_key=True, db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('owner', fields.CharField(max_length=64)),
                ('url', fields.TextField(unique=False)),
                ('events', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'task_webhook', 'app': 'kontext', 'pk_attr': 'task_id', 'table_description': "Where a task's end is announced, fixed when it was submitted."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebhookDelivery',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('task', fields.ForeignKeyField('kontext.Task', source_field='task_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('owner', fields.CharField(max_length=64)),
                ('event', fields.CharField(max_length=32)),
                ('url', fields.TextField(unique=False)),
                ('status', fields.CharEnumField(default=DeliveryStatus.PENDING, description='PENDING: PENDING\nDELIVERED: DELIVERED\nFAILED: FAILED', enum_type=DeliveryStatus, max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('status_codes', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('last_error', fields.TextField(null=True, unique=False)),
                ('payload', fields.TextField(null=True, unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('next_attempt_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('delivered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'webhook_delivery', 'app': 'kontext', 'indexes': [Index(fields=['status', 'next_attempt_at'], name='webhook_delivery_due'), Index(fields=['task_id', 'created_at'], name='webhook_delivery_task')], 'pk_attr': 'id', 'table_description': 'One event to deliver: its id is the `webhook-id` every attempt carries.'},
            bases=['Model'],
        ),
    ]
