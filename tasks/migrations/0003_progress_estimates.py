"""A running task's estimated finish (written with its progress) and why it was last re-queued."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("kontext", "0002_unique_input_images")]

    operations = [
        ops.AddField(
            model_name="Task",
            name="estimated_finish_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name="Task",
            name="requeue_reason",
            field=fields.TextField(null=True, unique=False),
        ),
    ]
