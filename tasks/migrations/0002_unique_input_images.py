"""One stored_image row per owner and content for uploaded images.

Concurrent first uploads of one image could each insert a row. This migration points every task at
the oldest row of each group of duplicates, deletes the others (they share the same
content-addressed blobs, so no file changes), then adds a partial unique index so that the
database refuses a second row from then on (ImageIntake re-reads the row its insert lost to).
Plain SQL that SQLite and PostgreSQL both run, one statement per entry.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops


def canonical(alias: str) -> str:
    """The oldest input row with the owner and content of the input row `alias`."""
    return (
        "SELECT keep.id FROM stored_image keep WHERE keep.kind = 'input'"
        f" AND keep.owner = {alias}.owner AND keep.sha256 = {alias}.sha256"
        " ORDER BY keep.created_at, keep.id LIMIT 1"
    )


def repoint(column: str) -> str:
    """Point `column` of every task naming an input image at that image's canonical row."""
    return (
        f"UPDATE task SET {column} = ("
        f"SELECT ({canonical('named')}) FROM stored_image named WHERE named.id = task.{column}"
        f") WHERE {column} IN (SELECT id FROM stored_image WHERE kind = 'input')"
    )


DELETE_DUPLICATES = (
    f"DELETE FROM stored_image WHERE kind = 'input' AND id <> ({canonical('stored_image')})"
)

CREATE_INDEX = (
    "CREATE UNIQUE INDEX IF NOT EXISTS stored_image_input_owner_sha"
    " ON stored_image (owner, sha256) WHERE kind = 'input'"
)
DROP_INDEX = "DROP INDEX IF EXISTS stored_image_input_owner_sha"


class Migration(migrations.Migration):
    dependencies = [("kontext", "0001_initial")]

    operations = [
        ops.RunSQL(
            [repoint("reference_image_id"), repoint("second_image_id"), DELETE_DUPLICATES],
            reverse_sql=[],
        ),
        ops.RunSQL(CREATE_INDEX, reverse_sql=DROP_INDEX),
    ]
