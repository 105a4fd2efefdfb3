"""A re-queued task starts its next attempt clean: counted, explained, from 0, without the
preview of the attempt before, in its row or in storage."""

from __future__ import annotations

from pathlib import Path
from typing import cast
from uuid import UUID

import pytest

from comfy.client import ComfyClient
from storage.local import LocalBlobStore
from tasks.background import BackgroundTasks
from tasks.runtime.backends import Backend
from tasks.runtime.finisher import PromptFinisher
from tasks.runtime.leftovers import TaskLeftovers
from tasks.runtime.outcomes import TaskOutcomes
from tasks.runtime.outputs import OutputCollector
from tasks.runtime.previews import PreviewKeeper
from tasks.status import TaskStatus
from tasks.store.models import Task
from tasks.store.snapshots import EventKind, TaskEvent
from tasks.store.transitions import TaskChanges
from tests.support.images import encoded
from tests.tasks.test_outputs import a_task
from workflows.registry import load_templates

pytestmark = pytest.mark.usefixtures("database")


async def stored_previews(blobs: LocalBlobStore, task_id: UUID) -> set[str]:
    return {blob.key async for blob in blobs.list(f"previews/{task_id}/")}


class Recorder:
    def __init__(self) -> None:
        self.events: list[TaskEvent] = []

    async def publish(self, event: TaskEvent) -> None:
        self.events.append(event)


async def test_a_requeue_counts_the_next_attempt_says_why_and_starts_from_nothing(
    tmp_path: Path,
) -> None:
    recorder = Recorder()
    changes = TaskChanges(recorder, BackgroundTasks())
    blobs = LocalBlobStore(tmp_path)
    outcomes = TaskOutcomes(changes, TaskLeftovers(blobs), max_attempts=3)
    keeper = PreviewKeeper(blobs, changes)
    task = await a_task()
    await Task.filter(id=task.id).update(prompt_id="first", attempts=1, node_count=14)
    await changes.progress(task.id, "first", step=12, total_steps=20, progress=70.0)
    await keeper.keep(task.id, "first", encoded(32, 32))
    first = changes.shown(task.id)
    assert first is not None and first.preview_key is not None
    await keeper.keep(task.id, "first", encoded(32, 32))
    second = changes.shown(task.id)
    assert second is not None and second.preview_key not in (None, first.preview_key)
    shown = await Task.get(id=task.id)
    # A preview is written at once, with the progress shown before it, and the one it
    # replaced is gone: no row names a removed file.
    assert (shown.preview_key, shown.progress) == (second.preview_key, 70.0)
    assert await stored_previews(blobs, task.id) == {second.preview_key}

    requeued = await outcomes.lost(shown, "ComfyUI at http://gpu no longer knows the prompt")
    assert requeued is not None
    assert (requeued.status, requeued.attempts) == (TaskStatus.PENDING, 2)
    assert requeued.requeue_reason == (
        "Re-queued as attempt 2 of 3: ComfyUI at http://gpu no longer knows the prompt; "
        "its progress starts again from 0."
    )
    assert (requeued.progress, requeued.step, requeued.total_steps) == (0.0, 0, 0)
    assert (requeued.preview_key, requeued.prompt_id, requeued.node_count) == (None, None, 0)
    event = recorder.events[-1]
    assert (event.kind, event.status, event.sequence) == (
        EventKind.STATUS,
        TaskStatus.PENDING,
        requeued.sequence,
    )
    assert event.task is not None and (event.task.attempts, event.task.progress) == (2, 0.0)

    # The first attempt's preview went with its attempt, and one still on its way is dropped.
    assert await stored_previews(blobs, task.id) == set()
    await keeper.keep(task.id, "first", encoded(32, 32))
    assert (await Task.get(id=task.id)).preview_key is None
    assert await stored_previews(blobs, task.id) == set()
    await changes.close()


async def test_a_preview_of_another_prompt_is_not_kept(tmp_path: Path) -> None:
    changes = TaskChanges(Recorder(), BackgroundTasks())
    keeper = PreviewKeeper(LocalBlobStore(tmp_path), changes)
    task = await a_task()
    await Task.filter(id=task.id).update(prompt_id="second")
    await keeper.keep(task.id, "first", encoded(32, 32))
    assert (await Task.get(id=task.id)).preview_key is None
    await keeper.keep(task.id, "second", encoded(32, 32))
    assert (await Task.get(id=task.id)).preview_key is not None
    await changes.close()


async def test_the_last_allowed_attempt_lost_fails_the_task(tmp_path: Path) -> None:
    outcomes = TaskOutcomes(
        TaskChanges(Recorder(), BackgroundTasks()),
        TaskLeftovers(LocalBlobStore(tmp_path)),
        max_attempts=2,
    )
    task = await a_task()
    await Task.filter(id=task.id).update(prompt_id="p", attempts=2)
    failed = await outcomes.lost(await Task.get(id=task.id), "forgotten")
    assert failed is not None and failed.status is TaskStatus.FAILED
    assert (failed.error_code, failed.attempts) == ("LOST", 2)


class CountingClient:
    def __init__(self) -> None:
        self.frees = 0

    async def free_memory(self) -> None:
        self.frees += 1


OUT_OF_MEMORY = {
    "node_id": "31",
    "node_type": "KSampler",
    "exception_type": "torch.OutOfMemoryError",
    "exception_message": "Allocation on device",
}


async def test_an_outcome_read_for_an_earlier_attempt_leaves_the_next_one_alone(
    tmp_path: Path,
) -> None:
    """The tracker and the reconciler may both hold the same prompt's error: once one of them
    has re-queued the task, the other's copy of that outcome changes nothing."""
    outcomes = TaskOutcomes(
        TaskChanges(Recorder(), BackgroundTasks()),
        TaskLeftovers(LocalBlobStore(tmp_path)),
        max_attempts=3,
    )
    finisher = PromptFinisher(
        outcomes=outcomes,
        collector=OutputCollector(LocalBlobStore(tmp_path)),
        templates=load_templates(),
    )
    client = CountingClient()
    backend = Backend(url="http://gpu", client=cast(ComfyClient, client))
    task = await a_task()
    await Task.filter(id=task.id).update(prompt_id="first", attempts=1)

    await finisher.fail_from_error(task.id, "first", OUT_OF_MEMORY, backend)
    retried = await Task.get(id=task.id)
    assert (retried.status, retried.attempts, retried.memory_retries) == (TaskStatus.PENDING, 2, 1)
    assert client.frees == 1

    await finisher.fail_from_error(task.id, "first", OUT_OF_MEMORY, backend)
    assert await Task.get(id=task.id) == retried
    assert (await Task.get(id=task.id)).status is TaskStatus.PENDING
    assert client.frees == 1
