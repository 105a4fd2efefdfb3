"""Progress announced from memory and written behind, never out of order with transitions."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from tortoise.expressions import F

from tasks.events.kinds import EventKind, TaskEvent
from tasks.events.pg_broker import decode, encode, with_progress
from tasks.status import TaskStatus
from tasks.store.clock import utc_now
from tasks.store.database import Database
from tasks.store.models import ImageKind, StoredImage, Task
from tasks.store.transitions import TaskChanges


class Recorder:
    def __init__(self) -> None:
        self.events: list[TaskEvent] = []

    async def publish(self, event: TaskEvent) -> None:
        self.events.append(event)


async def running_task() -> Task:
    image = await StoredImage.create(
        owner="o", kind=ImageKind.INPUT, sha256="0" * 64, blob_key="k", thumbnail_key="t",
        content_type="image/png", width=1, height=1, size=1, created_at=utc_now(),
    )  # fmt: skip
    return await Task.create(
        id=uuid.uuid4(), owner="o", status=TaskStatus.PENDING, workflow="w", description="d",
        parameters={}, seed="1", reference_image=image, request_hash="h",
        created_at=utc_now(), updated_at=utc_now(),
    )  # fmt: skip


async def test_progress_is_announced_at_once_and_written_before_the_next_transition(
    database: Database,
) -> None:
    recorder = Recorder()
    changes = TaskChanges(recorder)
    task = await running_task()
    await changes.apply(task.id, EventKind.STATUS, expect=[TaskStatus.PENDING],
                        status=TaskStatus.PROCESSING)  # fmt: skip
    for step in range(1, 6):
        announced = await changes.progress(task.id, step=step, total_steps=5, progress=step * 10.0)
        assert announced is not None and announced.step == step
    done = await changes.apply(task.id, EventKind.STATUS, status=TaskStatus.COMPLETED)
    assert done is not None and done.step == 5 and done.progress == 50.0
    sequences = [event.sequence for event in recorder.events]
    assert sequences == list(range(1, 8))
    assert [event.kind for event in recorder.events][-1] is EventKind.STATUS
    await changes.close()


async def test_progress_reported_after_a_task_ended_changes_nothing(database: Database) -> None:
    recorder = Recorder()
    changes = TaskChanges(recorder)
    task = await running_task()
    await changes.apply(task.id, EventKind.STATUS, status=TaskStatus.PROCESSING)
    await changes.progress(task.id, step=1, total_steps=5, progress=10.0, current_node="3")
    cancelled = await changes.apply(
        task.id, EventKind.STATUS, status=TaskStatus.CANCELLED, current_node=None
    )
    assert cancelled is not None
    # The backend reports one more node before it takes in the interruption.
    assert await changes.progress(task.id, current_node="8", progress=20.0) is None
    await changes.close()
    row = await Task.get(id=task.id)
    assert (row.status, row.current_node, row.progress) == (TaskStatus.CANCELLED, None, 10.0)
    assert row.sequence == cancelled.sequence
    assert recorder.events[-1].sequence == cancelled.sequence


async def test_a_change_made_elsewhere_meanwhile_is_announced_again_after_the_progress(
    database: Database,
) -> None:
    recorder = Recorder()
    changes = TaskChanges(recorder)
    task = await running_task()
    await changes.apply(task.id, EventKind.STATUS, status=TaskStatus.PROCESSING)
    # Another replica cancels the task before this one's progress is written.
    await Task.filter(id=task.id).update(status=TaskStatus.CANCELLED, sequence=F("sequence") + 1)
    await changes.progress(task.id, step=1, total_steps=5, progress=10.0)
    await changes.close()
    last = recorder.events[-1]
    assert last.status is TaskStatus.CANCELLED
    assert last.sequence > recorder.events[-2].sequence == 2
    row = await Task.get(id=task.id)
    assert row.sequence == last.sequence and row.status is TaskStatus.CANCELLED


async def test_progress_during_a_preview_change_of_this_replica_never_repeats_a_sequence(
    database: Database,
) -> None:
    """A preview stored in the background changes the row while progress keeps arriving: every
    event gets its own sequence and no change has to be announced again."""
    recorder = Recorder()
    changes = TaskChanges(recorder)
    task = await running_task()
    await changes.apply(task.id, EventKind.STATUS, status=TaskStatus.PROCESSING)
    for step in range(1, 6):
        preview = asyncio.create_task(
            changes.apply(task.id, EventKind.PREVIEW, preview_key=f"p{step}")
        )
        await asyncio.sleep(0)  # the preview's change is under way
        await changes.progress(task.id, step=step, total_steps=5, progress=step * 20.0)
        await preview
    await changes.apply(task.id, EventKind.STATUS, status=TaskStatus.COMPLETED)
    await changes.close()
    sequences = [event.sequence for event in recorder.events]
    assert len(sequences) == len(set(sequences)) == 12, [
        (e.kind.value, e.sequence) for e in recorder.events
    ]
    statuses = [event.status for event in recorder.events if event.kind is EventKind.STATUS]
    assert statuses == [TaskStatus.PROCESSING, TaskStatus.COMPLETED]
    row = await Task.get(id=task.id)
    assert row.sequence == max(sequences) and row.step == 5


async def test_the_estimated_finish_is_written_with_progress_and_relayed_to_other_replicas(
    database: Database,
) -> None:
    recorder = Recorder()
    changes = TaskChanges(recorder)
    task = await running_task()
    await changes.apply(task.id, EventKind.STATUS, expect=[TaskStatus.PENDING],
                        status=TaskStatus.PROCESSING)  # fmt: skip
    finish = utc_now() + timedelta(seconds=42)
    await changes.progress(task.id, step=3, total_steps=20, estimated_finish_at=finish)
    await changes.close()
    assert (await Task.get(id=task.id)).estimated_finish_at == finish
    event = recorder.events[-1]
    relayed, _, progress = decode(encode(event, "another replica"))
    stale = await Task.get(id=task.id)
    stale.sequence, stale.estimated_finish_at = event.sequence - 1, None
    assert with_progress(stale, relayed, progress).estimated_finish_at == finish
