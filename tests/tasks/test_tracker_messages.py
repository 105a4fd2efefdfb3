"""The tracker hands each ComfyUI message type its typed data, and it is the one that reports to
the backend what the socket heard; the backend's own calls record what they learn."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Any, cast

import pytest

from comfy.client import ComfyClient
from comfy.errors import ComfyUnavailable
from comfy.messages import (
    ExecutedMessage,
    ExecutionStartMessage,
    NodeProgress,
    ProgressData,
    ProgressMessage,
    ProgressStateMessage,
    StatusMessage,
)
from comfy.models import QueueSnapshot
from tasks.background import BackgroundTasks
from tasks.runtime.backends import Backend
from tasks.runtime.outcomes import TaskOutcomes
from tasks.runtime.progress import PromptRun
from tasks.runtime.reconciler import Reconciler
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


def node_entry(node: str, value: Any, maximum: Any, state: Any) -> NodeProgress:
    entry = {"value": value, "max": maximum, "state": state, "node_id": node, "prompt_id": "p1"}
    return cast(NodeProgress, {**entry, "display_node_id": node, "real_node_id": node})


def progress_state(prompt_id: str, *entries: NodeProgress) -> ProgressStateMessage:
    nodes = {entry["node_id"]: entry for entry in entries}
    return {"type": "progress_state", "data": {"prompt_id": prompt_id, "nodes": nodes}}


def progress(prompt_id: str, value: int, maximum: int) -> ProgressMessage:
    data: ProgressData = {"value": value, "max": maximum, "prompt_id": prompt_id, "node": "31"}
    return {"type": "progress", "data": data}


async def test_a_step_is_recorded_from_its_progress_state_and_once() -> None:
    changes = ProgressChanges()
    tracker = tracker_of(backend(), object(), changes, [])
    run = known_run(tracker, "p1")
    loaded = node_entry("39", 1.0, 1.0, "finished")
    for step in (1, 2):
        # ComfyUI's order: the step's progress_state, its preview, then its progress frame.
        await tracker.on_message(progress_state("p1", loaded, node_entry("31", step, 4, "running")))
        assert changes.steps[-1] == (step, 4)
        await tracker.on_message(progress("p1", step, 4))
    assert changes.steps == [(1, 4), (2, 4)]
    assert run.step == 2 and run.total_steps == 4
    # A server without progress_state: each progress frame is the step.
    await tracker.on_message(progress("p1", 3, 4))
    assert changes.steps[-1] == (3, 4)


@pytest.mark.parametrize(
    "entry",
    [
        node_entry("31", 0.0, 1.0, "running"),  # the sampler has begun, no step yet
        node_entry("31", 4, 4, "finished"),
        node_entry("31", 2, 4, "pending"),
        node_entry("31", 1.5, 4, "running"),
        node_entry("31", True, 4, "running"),
        node_entry("31", "2", 4, "running"),
        node_entry("31", 5, 4, "running"),
        node_entry("8", 2, 4, "running"),  # not the sampler
    ],
    ids=["begun", "finished", "pending", "fraction", "boolean", "text", "past-max", "other-node"],
)
async def test_a_progress_state_without_a_sampler_step_records_nothing(
    entry: NodeProgress,
) -> None:
    changes = ProgressChanges()
    tracker = tracker_of(backend(), object(), changes, [])
    run = known_run(tracker, "p1")
    await tracker.on_message(progress_state("p1", entry))
    assert changes.steps == [] and run.step == 0


async def test_a_progress_state_of_a_prompt_not_followed_is_not_looked_up() -> None:
    """Sent for every node, to every socket by some versions: no read for prompts it does not
    follow (this tracker has no database; a read would fail)."""
    changes = ProgressChanges()
    tracker = tracker_of(backend(), object(), changes, [])
    await tracker.on_message(progress_state("elsewhere", node_entry("31", 1, 4, "running")))
    assert changes.steps == [] and tracker._runs == {}


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
        await uploading.upload_image(b"png", filename="a.png", digest="a" * 64)
    for watched in (sending, uploading):
        assert watched.problem == "unavailable: connection refused"
        assert not watched.ready


async def test_freeing_memory_forgets_the_loaded_models() -> None:
    watched = backend()
    watched.mark_assigned(frozenset({"kontext.safetensors"}))
    await watched.free_memory()
    assert watched.loaded_models == frozenset()


class QueueClient(UnreachableClient):
    """A server whose /queue holds `running` and `pending`; counts the reads of /queue."""

    def __init__(self, running: list[str], pending: list[str]) -> None:
        self.snapshot = QueueSnapshot(running=running, pending=pending)
        self.reads = 0

    async def queue(self) -> QueueSnapshot:  # type: ignore[override]
        self.reads += 1
        return self.snapshot

    async def queue_prompt(self, *args: Any, **kwargs: Any) -> None:
        return None


class CheckedPrompts:
    def __init__(self) -> None:
        self.checked: list[set[str]] = []

    async def check_prompts(self, watched: Backend, prompt_ids: set[str]) -> None:
        self.checked.append(set(prompt_ids))


def queue_tracker(client: QueueClient) -> tuple[Backend, BackendTracker, CheckedPrompts]:
    watched = Backend(
        url="http://comfy", client=cast(ComfyClient, client), connected=True, problem=None
    )
    reconciler = CheckedPrompts()
    stub: Any = object()
    tracker = BackendTracker(
        backend=watched,
        templates=stub,
        changes=stub,
        outcomes=stub,
        finisher=stub,
        previews=stub,
        reconciler=cast(Reconciler, reconciler),
        run_times=RunTimes(),
        on_idle=lambda: None,
        background=BackgroundTasks(),
    )
    return watched, tracker, reconciler


def status_of(remaining: int) -> StatusMessage:
    return {"type": "status", "data": {"status": {"exec_info": {"queue_remaining": remaining}}}}


async def settled(tracker: BackendTracker) -> None:
    """Until the tracker's jobs (reading the queue, checking prompts) have all ended."""
    while pending := list(tracker._jobs._tasks):
        await asyncio.gather(*pending)


async def test_the_queue_is_followed_from_the_events_heard_without_reading_it() -> None:
    client = QueueClient(running=[], pending=[])
    watched, tracker, reconciler = queue_tracker(client)
    await watched.queue_prompt({}, prompt_id="p1", extra_data={})
    await watched.queue_prompt({}, prompt_id="p2", extra_data={})
    assert list(watched.queued) == ["p1", "p2"]
    await tracker.on_message(status_of(2))  # what we sent, as counted: no read of /queue
    run = known_run(tracker, "p1")
    watched.mark_started(run.prompt_id)
    assert (list(watched.running), list(watched.queued)) == (["p1"], ["p2"])
    watched.mark_left(run.prompt_id)
    await tracker.on_message(status_of(1))
    await settled(tracker)
    assert client.reads == 0 and reconciler.checked == []


async def test_a_count_that_disagrees_reads_the_queue_and_checks_what_left_unheard() -> None:
    client = QueueClient(running=["p2"], pending=[])
    watched, tracker, reconciler = queue_tracker(client)
    await watched.queue_prompt({}, prompt_id="p1", extra_data={})
    await watched.queue_prompt({}, prompt_id="p2", extra_data={})
    await tracker.on_message(status_of(1))  # p1 left the queue and we heard nothing of it
    await settled(tracker)
    assert client.reads == 1
    assert reconciler.checked == [{"p1"}]
    assert (watched.running, watched.queued) == (("p2",), ())


async def test_an_empty_queue_needs_no_read_to_find_what_left_unheard() -> None:
    client = QueueClient(running=[], pending=[])
    watched, tracker, reconciler = queue_tracker(client)
    await watched.queue_prompt({}, prompt_id="p1", extra_data={})
    await watched.queue_prompt({}, prompt_id="p2", extra_data={})
    known_run(tracker, "p2")  # p2's events are heard: it is not unheard
    await tracker.on_message(status_of(0))
    await settled(tracker)
    assert client.reads == 0
    assert reconciler.checked == [{"p1"}]
    assert watched.queue_size == 0


async def test_a_refused_prompt_does_not_count_as_queued() -> None:
    watched = backend()
    with pytest.raises(ComfyUnavailable):
        await watched.queue_prompt({}, prompt_id="p1", extra_data={})
    assert watched.queued == ()


class ReadsQueueWhileSending(QueueClient):
    """A server whose /queue is read while the POST /prompt is on its way (it lacks the prompt)."""

    watched: Backend

    async def queue_prompt(self, *args: Any, **kwargs: Any) -> None:
        await self.watched.refresh_queue()
        self.watched.mark_queue_empty()


async def test_a_prompt_on_its_way_stays_counted_when_the_queue_is_read_before_it_arrives() -> None:
    client = ReadsQueueWhileSending(running=[], pending=[])
    watched, _, _ = queue_tracker(client)
    client.watched = watched
    await watched.queue_prompt({}, prompt_id="p1", extra_data={})
    assert list(watched.queued) == ["p1"] and client.reads == 1
