"""How often a task was retried after its backend ran out of memory (once at most)."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("kontext", "0006_api_key_last_used")]

    operations = [
        ops.AddField(
            model_name="Task",
            name="memory_retries",
            field=fields.IntField(default=0),
        ),
    ]
