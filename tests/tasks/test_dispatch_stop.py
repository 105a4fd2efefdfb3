"""A dispatcher stopped (a shutdown) while it sends a task leaves the claim known wherever it can,
so the replica taking the backend over need not wait out the in-flight grace: before POST
/prompt nothing reached the backend and the task is given back at once; a POST on its way is
given time to be answered (queued: marked so; failed: given back); only one still unanswered then
is left to reconciliation."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from comfy.errors import ComfyUnavailable
from comfy.models import QueuedPrompt
from storage.local import LocalBlobStore
from tasks.background import BackgroundTasks
from tasks.runtime.backends import Backend, BackendPool
from tasks.runtime.dispatcher import Dispatcher, DispatchSettings
from tasks.runtime.leftovers import TaskLeftovers
from tasks.runtime.outcomes import TaskOutcomes
from tasks.status import TaskStatus
from tasks.store.claims import TaskClaimer
from tasks.store.models import Task
from tasks.store.transitions import TaskChanges
from tests.support.images import encoded
from tests.tasks.test_outputs import a_task
from tests.tasks.test_requeue import Recorder
from workflows.registry import load_templates

pytestmark = pytest.mark.usefixtures("database")


class StuckBackend(Backend):
    """A ready backend whose call `stuck_in` ("upload" or "prompt") is reached, then answered
    after `answer_after` seconds (never when None), with `refusal` raised if there is one."""

    def __init__(
        self,
        stuck_in: str,
        answer_after: float | None = None,
        refusal: Exception | None = None,
    ) -> None:
        super().__init__(url="http://gpu-0", client=None, connected=True, problem=None)  # type: ignore[arg-type]
        self.stuck_in = stuck_in
        self.answer_after = answer_after
        self.refusal = refusal
        self.reached = asyncio.Event()

    def uploaded_name(self, digest: str) -> str | None:
        return None

    async def upload_image(self, data: bytes, *, filename: str, digest: str) -> str:
        await self._call("upload")
        return filename

    async def queue_prompt(
        self, prompt: dict[str, Any], *, prompt_id: str, extra_data: dict[str, Any]
    ) -> QueuedPrompt:
        await self._call("prompt")
        return QueuedPrompt(prompt_id=prompt_id, number=1)

    async def _call(self, name: str) -> None:
        if name != self.stuck_in:
            return
        self.reached.set()
        if self.answer_after is None:
            await asyncio.Event().wait()
        else:
            await asyncio.sleep(self.answer_after)
        if self.refusal is not None:
            raise self.refusal


async def stopped_while_stuck_in(backend: StuckBackend, tmp_path: Path) -> tuple[Task, Task]:
    """The task as claimed, and as the dispatcher left it once stopped mid-send."""
    templates = load_templates()
    blobs = LocalBlobStore(tmp_path)
    task = await a_task(TaskStatus.PENDING)
    await Task.filter(id=task.id).update(workflow=templates.get_default().name)
    await blobs.put(f"inputs/aa/{'a' * 64}.png", encoded(8, 8), "image/png")
    background = BackgroundTasks()
    changes = TaskChanges(Recorder(), background)
    dispatcher = Dispatcher(
        pool=BackendPool([backend]),
        templates=templates,
        blobs=blobs,
        claimer=TaskClaimer(),
        outcomes=TaskOutcomes(changes, TaskLeftovers(blobs), max_attempts=3),
        settings=DispatchSettings(post_on_stop_seconds=0.5),
        background=background,
    )
    background.start(dispatcher.run(), "dispatcher")
    await asyncio.wait_for(backend.reached.wait(), 10)
    claimed = await Task.get(id=task.id)
    await background.aclose()
    return claimed, await Task.get(id=task.id)


async def test_a_send_stopped_before_the_prompt_went_out_gives_the_task_back(
    tmp_path: Path,
) -> None:
    claimed, left = await stopped_while_stuck_in(StuckBackend("upload"), tmp_path)
    assert (claimed.backend, claimed.attempts) == ("http://gpu-0", 1)
    assert claimed.prompt_id is not None and claimed.dispatched_at is not None
    assert left.status is TaskStatus.PENDING
    assert (left.prompt_id, left.backend, left.dispatched_at) == (None, None, None)
    assert left.attempts == 1  # the attempt stays counted; the next claim keeps it


async def test_a_post_answered_during_the_stop_marks_the_prompt_queued(tmp_path: Path) -> None:
    claimed, left = await stopped_while_stuck_in(StuckBackend("prompt", 0.1), tmp_path)
    assert left.status is TaskStatus.PENDING
    assert (left.prompt_id, left.backend) == (claimed.prompt_id, "http://gpu-0")
    assert left.queued_at is not None


async def test_a_post_failing_during_the_stop_gives_the_task_back(tmp_path: Path) -> None:
    backend = StuckBackend("prompt", 0.1, ComfyUnavailable("connection reset"))
    _, left = await stopped_while_stuck_in(backend, tmp_path)
    assert left.status is TaskStatus.PENDING
    assert (left.prompt_id, left.backend, left.queued_at) == (None, None, None)


async def test_a_post_unanswered_when_the_stop_ends_keeps_its_claim_for_reconciliation(
    tmp_path: Path,
) -> None:
    claimed, left = await stopped_while_stuck_in(StuckBackend("prompt"), tmp_path)
    assert left.status is TaskStatus.PENDING
    assert (left.prompt_id, left.backend) == (claimed.prompt_id, "http://gpu-0")
    assert left.dispatched_at == claimed.dispatched_at and left.queued_at is None
