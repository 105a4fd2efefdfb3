"""Transitions written then published; progress published from memory at once, written only
with the next transition or by the timer, never out of order with transitions."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import NamedTuple

import pytest
from tortoise.expressions import F

from tasks.background import BackgroundTasks
from tasks.status import TaskStatus
from tasks.store.clock import utc_now
from tasks.store.database import Database
from tasks.store.models import ImageKind, StoredImage, Task
from tasks.store.snapshots import EventKind, TaskEvent, TaskSnapshot
from tasks.store.transitions import TaskChanges

PROMPT = "prompt-1"


class Recorder:
    def __init__(self) -> None:
        self.events: list[TaskEvent] = []

    async def publish(self, event: TaskEvent) -> None:
        self.events.append(event)

    @property
    def sequences(self) -> list[int]:
        return [event.sequence for event in self.events]


async def running_task() -> Task:
    image = await StoredImage.create(
        owner="o", kind=ImageKind.INPUT, sha256=uuid.uuid4().hex * 2, blob_key="k", thumbnail_key="t",
        content_type="image/png", width=1, height=1, size=1, created_at=utc_now(),
    )  # fmt: skip
    return await Task.create(
        id=uuid.uuid4(), owner="o", status=TaskStatus.PENDING, workflow="w", description="d",
        parameters={}, seed="1", reference_image=image, request_hash="h", prompt_id=PROMPT,
        created_at=utc_now(), updated_at=utc_now(),
    )  # fmt: skip


async def started(changes: TaskChanges) -> Task:
    task = await running_task()
    await changes.apply(task.id, EventKind.STATUS, expect=[TaskStatus.PENDING],
                        status=TaskStatus.PROCESSING)  # fmt: skip
    return task


class Running(NamedTuple):
    """A started task, the changes that started it and what they published."""

    recorder: Recorder
    changes: TaskChanges
    task: Task


@pytest.fixture
async def running(database: Database, background: BackgroundTasks) -> AsyncIterator[Running]:
    recorder = Recorder()
    changes = TaskChanges(recorder, background)
    yield Running(recorder, changes, await started(changes))
    await changes.close()


async def test_progress_is_published_at_once_and_written_with_the_next_transition(
    running: Running,
) -> None:
    recorder, changes, task = running
    for step in range(1, 6):
        shown = await changes.progress(task.id, PROMPT, step=step, total_steps=5,
                                       progress=step * 10.0)  # fmt: skip
        assert shown is not None and (shown.step, shown.sequence) == (step, step + 1)
    row = await Task.get(id=task.id)
    assert (row.step, row.sequence) == (0, 1), "progress waits for the transition"
    done = await changes.apply(task.id, EventKind.STATUS, status=TaskStatus.COMPLETED)
    assert done is not None and (done.step, done.progress, done.sequence) == (5, 50.0, 7)
    assert recorder.sequences == list(range(1, 8))
    assert [event.kind for event in recorder.events][-1] is EventKind.STATUS
    await changes.close()


async def test_every_event_carries_a_frozen_snapshot_not_a_row(running: Running) -> None:
    recorder, changes, task = running
    await changes.progress(task.id, PROMPT, step=1, total_steps=5, progress=10.0)
    for event in recorder.events:
        assert isinstance(event.task, TaskSnapshot)
        assert event.task.sequence == event.sequence
    progress = recorder.events[-1].task
    assert progress is not None and (progress.status, progress.step) == (TaskStatus.PROCESSING, 1)
    with pytest.raises(AttributeError):
        progress.step = 2  # type: ignore[misc]
    await changes.close()


async def test_the_timer_writes_progress_without_a_transition(database: Database) -> None:
    background = BackgroundTasks()
    changes = TaskChanges(Recorder(), background, write_every=0.01)
    task = await started(changes)
    finish = utc_now() + timedelta(seconds=42)
    await changes.progress(task.id, PROMPT, step=3, total_steps=20, estimated_finish_at=finish)
    async with asyncio.timeout(10):
        while (await Task.get(id=task.id)).sequence != 2:
            await asyncio.sleep(0.01)
    row = await Task.get(id=task.id)
    assert (row.step, row.total_steps, row.estimated_finish_at) == (3, 20, finish)
    await background.aclose()


async def test_progress_reported_after_a_task_ended_changes_nothing(running: Running) -> None:
    recorder, changes, task = running
    await changes.progress(task.id, PROMPT, step=1, total_steps=5, progress=10.0,
                           current_node="3")  # fmt: skip
    cancelled = await changes.apply(
        task.id, EventKind.STATUS, status=TaskStatus.CANCELLED, current_node=None
    )
    assert cancelled is not None
    # The backend reports one more node before it takes in the interruption.
    assert await changes.progress(task.id, PROMPT, current_node="8", progress=20.0) is None
    await changes.close()
    row = await Task.get(id=task.id)
    assert (row.status, row.current_node, row.progress) == (TaskStatus.CANCELLED, None, 10.0)
    assert row.sequence == cancelled.sequence == recorder.events[-1].sequence


async def test_late_progress_of_an_earlier_attempt_is_never_shown(
    running: Running, background: BackgroundTasks
) -> None:
    recorder, changes, task = running
    await changes.progress(task.id, PROMPT, step=4, total_steps=5, progress=80.0)
    # Re-queued and sent again as another prompt, which has started.
    await changes.apply(task.id, EventKind.STATUS, status=TaskStatus.PENDING, step=0,
                        total_steps=0, progress=0.0, prompt_id="prompt-2")  # fmt: skip
    await changes.apply(task.id, EventKind.STATUS, status=TaskStatus.PROCESSING)
    shown = len(recorder.events)
    assert await changes.progress(task.id, PROMPT, step=5, total_steps=5, progress=90.0) is None
    assert len(recorder.events) == shown
    # The same for a replica that does not hold the task (it reads the row first).
    elsewhere = TaskChanges(recorder, background)
    assert await elsewhere.progress(task.id, PROMPT, step=5, progress=90.0) is None
    assert len(recorder.events) == shown
    await changes.progress(task.id, "prompt-2", step=1, total_steps=5, progress=10.0)
    assert recorder.sequences == sorted(set(recorder.sequences))
    await changes.close()


async def test_a_replica_that_does_not_hold_the_task_reads_and_writes_its_progress(
    database: Database, background: BackgroundTasks
) -> None:
    recorder = Recorder()
    task = await started(TaskChanges(Recorder(), background))
    restarted = TaskChanges(recorder, background)
    shown = await restarted.progress(task.id, PROMPT, step=2, total_steps=5, progress=40.0)
    assert shown is not None and shown.sequence == 2
    assert (await Task.get(id=task.id)).step == 2
    # From then on it holds the task: the next frame comes from memory.
    await restarted.progress(task.id, PROMPT, step=3, total_steps=5, progress=60.0)
    assert (await Task.get(id=task.id)).step == 2
    assert recorder.sequences == [2, 3]
    await restarted.close()
    assert (await Task.get(id=task.id)).sequence == 3


async def test_a_change_made_elsewhere_meanwhile_is_published_again_after_the_progress(
    running: Running,
) -> None:
    recorder, changes, task = running
    # Another replica cancels the task before this one's progress is written: its change gets
    # sequence 2, which this replica's first progress frame also gets.
    await Task.filter(id=task.id).update(status=TaskStatus.CANCELLED, sequence=F("sequence") + 1)
    for step in range(1, 4):
        await changes.progress(task.id, PROMPT, step=step, total_steps=5, progress=step * 10.0)
    await changes.close()
    last = recorder.events[-1]
    assert (last.kind, last.status, last.sequence) == (EventKind.STATUS, TaskStatus.CANCELLED, 5)
    assert recorder.sequences == [1, 2, 3, 4, 5]
    row = await Task.get(id=task.id)
    assert (row.sequence, row.status, row.step) == (5, TaskStatus.CANCELLED, 0)


async def test_a_transition_after_a_change_made_elsewhere_follows_what_was_shown(
    running: Running,
) -> None:
    recorder, changes, task = running
    await changes.progress(task.id, PROMPT, step=1, total_steps=5, progress=10.0)
    await changes.progress(task.id, PROMPT, step=2, total_steps=5, progress=20.0)
    # Another replica stores a preview (sequence 2, as the first frame here).
    await Task.filter(id=task.id).update(preview_key="p", sequence=F("sequence") + 1)
    done = await changes.apply(task.id, EventKind.STATUS, status=TaskStatus.COMPLETED)
    assert done is not None and done.status is TaskStatus.COMPLETED
    assert recorder.sequences == sorted(set(recorder.sequences))
    assert [e.status for e in recorder.events if e.kind is EventKind.STATUS][-1] is (
        TaskStatus.COMPLETED
    )
    assert done.sequence == recorder.sequences[-1] > 3
    await changes.close()


async def test_progress_during_a_preview_change_of_this_replica_never_repeats_a_sequence(
    database: Database, background: BackgroundTasks
) -> None:
    """A preview stored in the background is shown while progress keeps arriving: every event
    gets its own sequence and no change has to be published again."""
    recorder = Recorder()
    changes = TaskChanges(recorder, background)
    task = await started(changes)
    for step in range(1, 6):
        preview = asyncio.create_task(changes.preview(task.id, PROMPT, f"p{step}"))
        await asyncio.sleep(0)  # the preview's change is under way
        await changes.progress(task.id, PROMPT, step=step, total_steps=5, progress=step * 20.0)
        await preview
    await changes.apply(task.id, EventKind.STATUS, status=TaskStatus.COMPLETED)
    await changes.close()
    sequences = recorder.sequences
    assert sequences == list(range(1, 13)), [(e.kind.value, e.sequence) for e in recorder.events]
    statuses = [event.status for event in recorder.events if event.kind is EventKind.STATUS]
    assert statuses == [TaskStatus.PROCESSING, TaskStatus.COMPLETED]
    row = await Task.get(id=task.id)
    assert row.sequence == max(sequences) and row.step == 5


async def test_a_preview_is_written_with_the_progress_before_it_then_shown(
    running: Running,
) -> None:
    """A preview replaces a stored file, which may go once no row names it: the preview is
    written at once, with the progress shown from memory before it."""
    recorder, changes, task = running
    await changes.progress(task.id, PROMPT, step=1, total_steps=5, progress=20.0)
    assert (await Task.get(id=task.id)).step == 0, "progress alone waits in memory"
    shown = await changes.preview(task.id, PROMPT, "previews/t/a.jpg")
    assert shown is not None and (shown.preview_key, shown.sequence) == ("previews/t/a.jpg", 3)
    assert recorder.events[-1].kind is EventKind.PREVIEW
    assert changes.shown(task.id) == shown
    row = await Task.get(id=task.id)
    assert (row.preview_key, row.step, row.sequence) == ("previews/t/a.jpg", 1, 3)
    assert await changes.preview(task.id, "an earlier attempt", "previews/t/b.jpg") is None
    done = await changes.apply(task.id, EventKind.STATUS, status=TaskStatus.COMPLETED)
    assert done is not None and (done.preview_key, done.sequence) == ("previews/t/a.jpg", 4)
    assert changes.shown(task.id) is None
    await changes.close()


async def test_two_replicas_a_subscriber_hearing_both_ends_on_the_cancellation(
    database: Database, background: BackgroundTasks
) -> None:
    """One replica runs the task and shows progress from memory; the other cancels it with a
    sequence that progress already had. A subscriber hearing both (as NOTIFY makes it) drops
    that event as seen, then gets the cancellation again, published past the progress."""
    heard = Recorder()
    running_here = TaskChanges(heard, background)
    elsewhere = TaskChanges(heard, background)
    task = await started(running_here)
    for step in range(1, 3):
        await running_here.progress(task.id, PROMPT, step=step, total_steps=5, progress=20.0)
    cancelled = await elsewhere.apply(
        task.id, EventKind.STATUS, expect=[TaskStatus.PENDING, TaskStatus.PROCESSING],
        status=TaskStatus.CANCELLED,
    )  # fmt: skip
    assert cancelled is not None and cancelled.sequence == 2  # as the first progress frame
    await running_here.write_progress()  # the timer's turn
    assert await running_here.progress(task.id, PROMPT, step=3, progress=60.0) is None
    last, shown = 0, []
    for event in heard.events:  # what watch_task lets through
        if event.sequence > last:
            last = event.sequence
            shown.append(event)
    assert [event.sequence for event in shown] == [1, 2, 3, 4]
    assert (shown[-1].kind, shown[-1].status) == (EventKind.STATUS, TaskStatus.CANCELLED)
    row = await Task.get(id=task.id)
    assert (row.status, row.sequence) == (TaskStatus.CANCELLED, 4)
    await running_here.close()
