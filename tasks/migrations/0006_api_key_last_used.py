"""When each API key was last used (shown by `kontext list-keys`)."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("kontext", "0005_webhooks")]

    operations = [
        ops.AddField(
            model_name="ApiKey",
            name="last_used_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
