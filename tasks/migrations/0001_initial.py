from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tasks.status import TaskStatus
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='ApiKey',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=16)),
                ('owner', fields.CharField(db_index=True, max_length=64)),
                ('name', fields.CharField(default='', max_length=100)),
                ('secret_hash', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'api_key', 'app': 'kontext', 'pk_attr': 'id', 'table_description': 'An API key. Only a hash of its secret is kept, the key itself is shown once.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StoredImage',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('owner', fields.CharField(db_index=True, max_length=64)),
                ('kind', fields.CharField(max_length=8)),
                ('sha256', fields.CharField(max_length=64)),
                ('blob_key', fields.CharField(max_length=255)),
                ('thumbnail_key', fields.CharField(null=True, max_length=255)),
                ('content_type', fields.CharField(max_length=32)),
                ('width', fields.IntField()),
                ('height', fields.IntField()),
                ('size', fields.BigIntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'stored_image', 'app': 'kontext', 'indexes': [Index(fields=['owner', 'kind', 'sha256'], name='image_owner_kind_sha')], 'pk_attr': 'id', 'table_description': 'An image in blob storage: an uploaded reference image or a generated output.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Task',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('owner', fields.CharField(max_length=64)),
                ('status', fields.CharEnumField(default=TaskStatus.PENDING, description='PENDING: PENDING\nPROCESSING: PROCESSING\nCOMPLETED: COMPLETED\nFAILED: FAILED\nCANCELLED: CANCELLED', enum_type=TaskStatus, max_length=16)),
                ('workflow', fields.CharField(max_length=64)),
                ('description', fields.TextField(unique=False)),
                ('parameters', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('seed', fields.CharField(max_length=20)),
                ('reference_image', fields.ForeignKeyField('kontext.StoredImage', source_field='reference_image_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('second_image', fields.ForeignKeyField('kontext.StoredImage', source_field='second_image_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('result_image', fields.ForeignKeyField('kontext.StoredImage', source_field='result_image_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('batch_id', fields.UUIDField(null=True)),
                ('batch_index', fields.IntField(default=0)),
                ('idempotency_key', fields.CharField(null=True, max_length=128)),
                ('request_hash', fields.CharField(max_length=64)),
                ('step', fields.IntField(default=0)),
                ('total_steps', fields.IntField(default=0)),
                ('progress', fields.FloatField(default=0.0)),
                ('current_node', fields.CharField(null=True, max_length=64)),
                ('preview_key', fields.CharField(null=True, max_length=255)),
                ('sequence', fields.BigIntField(default=0)),
                ('backend', fields.CharField(null=True, max_length=255)),
                ('prompt_id', fields.CharField(null=True, unique=True, max_length=36)),
                ('attempts', fields.IntField(default=0)),
                ('node_count', fields.IntField(default=0)),
                ('dispatched_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('queued_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('error_code', fields.CharField(null=True, max_length=64)),
                ('error_message', fields.TextField(null=True, unique=False)),
                ('error_details', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('deadline_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('started_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'task', 'app': 'kontext', 'unique_together': (('owner', 'idempotency_key', 'batch_index'),), 'indexes': [Index(fields=['owner', 'created_at', 'id'], name='task_owner_created'), Index(fields=['owner', 'status', 'created_at'], name='task_owner_status_created'), Index(fields=['status', 'created_at'], name='task_status_created')], 'pk_attr': 'id', 'table_description': 'One Kontext edit: its request, where it runs, how far it got, and how it ended.'},
            bases=['Model'],
        ),
    ]
