"""Each owner's number of tasks, kept by the database: `history_count` with one row per owner,
and triggers on `task` that count each row inserted and each row deleted in the transaction
that writes it. The table is filled from the tasks already there in the migration's own
transaction, after the triggers exist: creating a trigger waits for the transactions writing
`task` and holds off new ones until the migration commits (PostgreSQL; SQLite has one writer),
so no task is counted twice or missed.
"""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state_apps import StateApps

POSTGRES_TRIGGERS = (
    """CREATE OR REPLACE FUNCTION kontext_count_history() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO history_count (owner, tasks) VALUES (NEW.owner, 1)
        ON CONFLICT (owner) DO UPDATE SET tasks = history_count.tasks + 1;
        RETURN NEW;
    END IF;
    UPDATE history_count SET tasks = tasks - 1 WHERE owner = OLD.owner;
    RETURN OLD;
END
$$""",
    "CREATE TRIGGER task_history_count AFTER INSERT OR DELETE ON task"
    " FOR EACH ROW EXECUTE FUNCTION kontext_count_history()",
)
POSTGRES_DROP = (
    "DROP TRIGGER IF EXISTS task_history_count ON task",
    "DROP FUNCTION IF EXISTS kontext_count_history()",
)
SQLITE_TRIGGERS = (
    """CREATE TRIGGER task_history_counted AFTER INSERT ON task BEGIN
    INSERT INTO history_count (owner, tasks) VALUES (NEW.owner, 1)
    ON CONFLICT (owner) DO UPDATE SET tasks = tasks + 1;
END""",
    """CREATE TRIGGER task_history_uncounted AFTER DELETE ON task BEGIN
    UPDATE history_count SET tasks = tasks - 1 WHERE owner = OLD.owner;
END""",
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS task_history_counted",
    "DROP TRIGGER IF EXISTS task_history_uncounted",
)
FILL = (
    "INSERT INTO history_count (owner, tasks) SELECT owner, COUNT(*) FROM task GROUP BY owner",
)


def statements(
    editor: BaseSchemaEditor, postgres: tuple[str, ...], sqlite: tuple[str, ...]
) -> tuple[str, ...]:
    return postgres if editor.client.capabilities.dialect == "postgres" else sqlite


async def count_tasks(apps: StateApps, editor: BaseSchemaEditor) -> None:
    for statement in (*statements(editor, POSTGRES_TRIGGERS, SQLITE_TRIGGERS), *FILL):
        await editor.client.execute_script(statement)


async def stop_counting(apps: StateApps, editor: BaseSchemaEditor) -> None:
    for statement in statements(editor, POSTGRES_DROP, SQLITE_DROP):
        await editor.client.execute_script(statement)


class Migration(migrations.Migration):
    dependencies = [("kontext", "0007_out_of_memory_retries")]

    operations = [
        ops.CreateModel(
            name="HistoryCount",
            fields=[
                (
                    "owner",
                    fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64),
                ),
                ("tasks", fields.BigIntField(default=0)),
            ],
            options={
                "table": "history_count",
                "app": "kontext",
                "pk_attr": "owner",
                "table_description": "How many tasks an owner has. The database keeps it:"
                " triggers on `task` add one for each",
            },
            bases=["Model"],
        ),
        ops.RunPython(count_tasks, stop_counting),
    ]
