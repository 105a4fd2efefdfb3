"""Counts of tasks. Each owner's number of tasks is kept by the database's triggers (migration
0008) and read by `history`'s `totalCount` without filters: it equals a COUNT of the owner's rows
after inserts, deletions by any path and rolled-back transactions, and the migration counts the
tasks already there once. Admission counts an owner's unfinished tasks and every waiting task in
one statement."""

from __future__ import annotations

import importlib
import uuid
from types import SimpleNamespace
from typing import Any, cast

import pytest
from tortoise import connections
from tortoise.transactions import in_transaction

from tasks.requests import HistoryQuery
from tasks.status import TaskStatus
from tasks.store.clock import utc_now
from tasks.store.database import Database
from tasks.store.history import admission_counts, history_count
from tasks.store.models import HistoryCount, Task
from tasks.store.submissions import delete_task
from tests.tasks.test_history_reads import stored_image

MIGRATION = importlib.import_module("tasks.migrations.0008_history_counts")
OWNER, OTHER, NOBODY = "counted", "also counted", "no tasks"


async def kept(owner: str) -> int:
    return await history_count(HistoryQuery(owner, first=1))


async def assert_kept_counts_are_the_rows() -> None:
    for owner in (OWNER, OTHER, NOBODY):
        assert await kept(owner) == await Task.filter(owner=owner).count()


async def history(owner: str, count: int) -> list[Task]:
    """`count` new tasks of `owner`, every fourth completed, descriptions "a red car" and "a blue
    sky" in turn."""
    reference = await stored_image(owner, 0)
    tasks = []
    for index in range(count):
        tasks.append(await Task.create(
            id=uuid.uuid4(), owner=owner, workflow="flux_kontext_dev_basic",
            status=TaskStatus.COMPLETED if index % 4 == 0 else TaskStatus.FAILED,
            description=("a red car", "a blue sky")[index % 2], parameters={}, seed=str(index),
            reference_image=reference, request_hash="h", created_at=utc_now(),
            updated_at=utc_now(),
        ))  # fmt: skip
    return tasks


def schema_editor() -> Any:
    """What the migration's own steps use of the schema editor: its connection."""
    return SimpleNamespace(client=connections.get("default"))


async def test_the_kept_count_follows_inserts_and_deletions_by_any_path(
    database: Database,
) -> None:
    tasks = await history(OWNER, 9)
    await history(OTHER, 4)
    assert (await kept(OWNER), await kept(OTHER), await kept(NOBODY)) == (9, 4, 0)

    await delete_task(tasks[0])
    await Task.filter(id__in=[task.id for task in tasks[1:3]]).delete()
    await assert_kept_counts_are_the_rows()
    assert await kept(OWNER) == 6

    async def written_then_rolled_back() -> None:
        async with in_transaction():
            await history(OWNER, 2)
            assert await kept(OWNER) == 8  # the writer's own transaction sees its rows counted
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError, match="rolled back"):
        await written_then_rolled_back()
    assert await kept(OWNER) == 6
    await assert_kept_counts_are_the_rows()


async def test_filtered_counts_still_count_the_rows(database: Database) -> None:
    await history(OWNER, 8)
    completed = HistoryQuery(OWNER, first=1, statuses=frozenset({TaskStatus.COMPLETED}))
    assert await history_count(completed) == 2
    await HistoryCount.filter(owner=OWNER).update(tasks=1000)  # only unfiltered reads it
    assert await history_count(completed) == 2
    assert await history_count(HistoryQuery(OWNER, first=1, search="red")) == 4
    assert await kept(OWNER) == 1000


async def test_the_migration_counts_the_tasks_already_there_once(database: Database) -> None:
    await history(OWNER, 3)
    editor = schema_editor()
    await MIGRATION.stop_counting(None, editor)
    await HistoryCount.all().delete()
    await history(OWNER, 4)
    await history(OTHER, 2)
    assert await kept(OWNER) == 0  # written while nothing counted

    await MIGRATION.count_tasks(None, editor)
    assert (await kept(OWNER), await kept(OTHER)) == (7, 2)
    await history(OWNER, 1)
    assert await kept(OWNER) == 8
    await assert_kept_counts_are_the_rows()
    rows = await HistoryCount.all().order_by("owner").values_list("owner", "tasks")
    assert cast(list[tuple[str, int]], rows) == [(OTHER, 2), (OWNER, 8)]


async def test_admission_counts_the_owners_unfinished_and_every_waiting_task(
    database: Database,
) -> None:
    mine = await history(OWNER, 5)
    theirs = await history(OTHER, 3)
    states = [
        (mine[0], TaskStatus.PENDING),
        (mine[1], TaskStatus.PENDING),
        (mine[2], TaskStatus.PROCESSING),
        (theirs[0], TaskStatus.PENDING),
        (theirs[1], TaskStatus.PROCESSING),
    ]
    for task, status in states:
        await Task.filter(id=task.id).update(status=status)
    assert await admission_counts(OWNER) == (3, 3)
    assert await admission_counts(OTHER) == (2, 3)
    assert await admission_counts(NOBODY) == (0, 3)
