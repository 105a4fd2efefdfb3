"""Presets saved per owner (table preset); tasks name the task they re-run (task.rerun_of_id,
set to null when that task is deleted); an index lists an owner's uploads newest first."""

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('kontext', '0003_progress_estimates')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Preset',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('owner', fields.CharField(max_length=64)),
                ('name', fields.CharField(max_length=100)),
                ('parameters', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'preset', 'app': 'kontext', 'unique_together': (('owner', 'name'),), 'pk_attr': 'id', 'table_description': 'A named set of generation parameters an owner saved (only the parameters it sets).'},
            bases=['Model'],
        ),
        ops.AddIndex(
            model_name='StoredImage',
            index=Index(fields=['owner', 'kind', 'created_at'], name='image_owner_kind_created'),
        ),
        ops.AddField(
            model_name='Task',
            name='rerun_of',
            field=fields.ForeignKeyField('kontext.Task', source_field='rerun_of_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
    ]
