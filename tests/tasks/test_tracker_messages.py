"""The tracker hands each ComfyUI message type its typed data, and it is the one that reports to
the backend what the socket heard; the backend's own calls record what they learn."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

import pytest

from comfy.client import ComfyClient
from comfy.errors import ComfyUnavailable
from comfy.messages import (
    ExecutedMessage,
    ExecutionStartMessage,
    ProgressMessage,
    StatusMessage,
)
from tasks.background import BackgroundTasks
from tasks.runtime.backends import Backend
from tasks.runtime.outcomes import TaskOutcomes
from tasks.runtime.progress import PromptRun
from tasks.runtime.run_times import RunTimes
from tasks.runtime.tracker import BackendTracker
from tasks.store.transitions import TaskChanges


class UnreachableClient:
    client_id = "me-1"

    async def queue(self) -> None:
        raise ComfyUnavailable("connection refused")

    async def queue_prompt(self, *args: Any, **kwargs: Any) -> None:
        raise ComfyUnavailable("connection refused")

    async def upload_image(self, *args: Any, **kwargs: Any) -> None:
        raise ComfyUnavailable("connection refused")

    async def free_memory(self) -> None:
        return None


class ProgressChanges:
    def __init__(self) -> None:
        self.steps: list[tuple[int, int]] = []

    async def progress(self, task_id: uuid.UUID, prompt_id: str, **changes: Any) -> None:
        self.steps.append((changes["step"], changes["total_steps"]))


def backend() -> Backend:
    client = cast(ComfyClient, UnreachableClient())
    return Backend(url="http://comfy", client=client, connected=True, problem=None)


def tracker_of(
    watched: Backend, outcomes: object, changes: object, woken: list[bool]
) -> BackendTracker:
    stub: Any = object()
    return BackendTracker(
        backend=watched,
        templates=stub,
        changes=cast(TaskChanges, changes),
        outcomes=cast(TaskOutcomes, outcomes),
        finisher=stub,
        previews=stub,
        reconciler=stub,
        run_times=RunTimes(),
        on_idle=lambda: woken.append(True),
        background=BackgroundTasks(),
    )


def known_run(tracker: BackendTracker, prompt_id: str) -> PromptRun:
    run = PromptRun(prompt_id=prompt_id, task_id=uuid.uuid4(), node_count=3, sampler_node="31")
    tracker._runs[prompt_id] = run
    return run


async def test_each_message_type_reaches_its_handler_with_its_data() -> None:
    started: list[uuid.UUID] = []

    async def record_start(task_id: uuid.UUID, **changes: Any) -> object:
        started.append(task_id)
        return object()

    outcomes_stub = type("Outcomes", (), {"started": staticmethod(record_start)})()
    changes = ProgressChanges()
    woken: list[bool] = []
    tracker = tracker_of(backend(), outcomes_stub, changes, woken)
    run = known_run(tracker, "p1")
    start: ExecutionStartMessage = {"type": "execution_start", "data": {"prompt_id": "p1"}}
    step: ProgressMessage = {
        "type": "progress",
        "data": {"value": 3, "max": 20, "prompt_id": "p1", "node": "31"},
    }
    await tracker.on_message(start)
    await tracker.on_message(step)
    assert started == [run.task_id]
    assert run.started and run.step == 3
    assert changes.steps == [(3, 20)]


async def test_messages_no_task_needs_are_left_alone() -> None:
    changes = ProgressChanges()
    tracker = tracker_of(backend(), object(), changes, [])
    run = known_run(tracker, "p1")
    executed: ExecutedMessage = {
        "type": "executed",
        "data": {"node": "9", "output": {"images": []}, "prompt_id": "p1"},
    }
    await tracker.on_message(executed)
    assert changes.steps == [] and run.current_node is None


async def test_a_status_frame_is_reported_to_the_backend_and_an_empty_queue_wakes_dispatch() -> (
    None
):
    watched = backend()
    woken: list[bool] = []
    tracker = tracker_of(watched, object(), ProgressChanges(), woken)
    status: StatusMessage = {
        "type": "status",
        "data": {"status": {"exec_info": {"queue_remaining": 0}}},
    }
    await tracker.on_message(status)
    assert watched.socket.statuses == 1
    assert woken == [True]


async def test_the_tracker_reports_disconnects_and_stalls_to_the_backend() -> None:
    watched = backend()
    tracker = tracker_of(watched, object(), ProgressChanges(), [])
    assert tracker.on_stalled("no status broadcast")
    assert not tracker.on_stalled("no status broadcast")  # the same stall, already handled
    assert not watched.ready and watched.socket.stalls == 1
    await tracker.on_disconnected("closed")
    assert (watched.connected, watched.reconnects) == (False, 1)
    assert isinstance(watched.mark_connected(), datetime)  # the stall it ended
    assert watched.ready
    tracker.on_untracked()
    assert not watched.connected and watched.reconnects == 1


async def test_an_unreachable_server_is_the_backends_problem_until_checked_again() -> None:
    sending, uploading = backend(), backend()
    with pytest.raises(ComfyUnavailable):
        await sending.queue_prompt({}, prompt_id="p1", extra_data={})
    with pytest.raises(ComfyUnavailable):
        await uploading.upload_image(b"png", filename="a.png")
    for watched in (sending, uploading):
        assert watched.problem == "unavailable: connection refused"
        assert not watched.ready


async def test_freeing_memory_forgets_the_loaded_models() -> None:
    watched = backend()
    watched.mark_assigned(frozenset({"kontext.safetensors"}))
    await watched.free_memory()
    assert watched.loaded_models == frozenset()
