"""One dispatch round fills every ready backend's free slots (one running, one queued behind it)
from one load query and one candidate query, oldest tasks first."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import Counter
from collections.abc import Collection
from datetime import timedelta
from typing import Any

import pytest

from tasks.background import BackgroundTasks
from tasks.runtime.backends import PROMPTS_PER_BACKEND, Backend, BackendPool
from tasks.runtime.dispatcher import Dispatcher, DispatchSettings
from tasks.status import TaskStatus
from tasks.store.claims import TaskClaimer, backend_loads
from tasks.store.clock import utc_now
from tasks.store.models import Task
from tests.tasks.test_outputs import a_task
from workflows.registry import TemplateRegistry, load_templates

pytestmark = pytest.mark.usefixtures("database")


class SendsRecorded(Dispatcher):
    """Records what it would send instead of talking to ComfyUI."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sent: list[tuple[uuid.UUID, str]] = []

    def _start_send(self, task: Task, backend: Backend) -> None:
        self.sent.append((task.id, backend.name))


def recording_dispatcher(
    names: list[str], templates: TemplateRegistry, settings: DispatchSettings | None = None
) -> SendsRecorded:
    """A dispatcher over ready backends named `names`, recording what it would send."""
    pool = BackendPool(
        [Backend(url=name, client=None, connected=True, problem=None) for name in names]  # type: ignore[arg-type]
    )
    return SendsRecorded(
        pool=pool,
        templates=templates,
        blobs=None,
        claimer=TaskClaimer(),
        outcomes=None,
        settings=settings or DispatchSettings(),
        background=BackgroundTasks(),
    )


async def younger(first: Task, seconds: int, workflow: str) -> Task:
    """A pending task on the same reference image, created `seconds` after `first`."""
    reference: uuid.UUID = first.reference_image_id  # type: ignore[attr-defined]
    return await Task.create(
        id=uuid.uuid4(), owner="alice", workflow=workflow, description="d", parameters={},
        seed="1", reference_image_id=reference, request_hash="h",
        created_at=first.created_at + timedelta(seconds=seconds), updated_at=utc_now(),
    )  # fmt: skip


async def test_one_round_claims_a_prompt_and_its_successor_for_every_backend(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    templates = load_templates()
    workflow = templates.get_default().name
    first = await a_task(TaskStatus.PENDING)
    created = [first] + [await younger(first, n, workflow) for n in range(1, 10)]
    await Task.filter(id=first.id).update(workflow=workflow)
    load_queries = counting_loads(monkeypatch)
    names = [f"http://gpu-{n}" for n in range(4)]
    dispatcher = recording_dispatcher(names, templates)
    assert not await dispatcher.dispatch_round()  # every slot filled: no second look needed
    assert len(load_queries) == 1
    assert Counter(name for _, name in dispatcher.sent) == {
        name: PROMPTS_PER_BACKEND for name in names
    }
    oldest = {t.id for t in created[: 4 * PROMPTS_PER_BACKEND]}
    assert {task_id for task_id, _ in dispatcher.sent} == oldest
    claimed = await Task.filter(id__in=list(oldest)).values_list("backend", flat=True)
    assert sorted(map(str, claimed)) == sorted(name for _, name in dispatcher.sent)

    assert not await dispatcher.dispatch_round()  # every slot is taken: nothing more to claim
    assert len(load_queries) == 2


async def test_a_round_that_claimed_every_waiting_task_does_not_look_again() -> None:
    templates = load_templates()
    task = await a_task(TaskStatus.PENDING)
    await Task.filter(id=task.id).update(workflow=templates.get_default().name)
    dispatcher = recording_dispatcher(["http://gpu-0"], templates)
    # A slot is left, but the candidates were every waiting task: a task created later wakes
    # the dispatcher, so a second look now would only repeat both queries.
    assert not await dispatcher.dispatch_round()
    assert dispatcher.sent == [(task.id, "http://gpu-0")]


async def test_a_claim_hands_back_the_row_it_wrote_and_a_second_claim_gets_nothing() -> None:
    task = await a_task(TaskStatus.PENDING)
    requeued = await younger(task, 1, task.workflow)
    await Task.filter(id=requeued.id).update(attempts=2)
    claimer = TaskClaimer()
    claimed = await claimer.claim("http://gpu-0", task.id)
    assert claimed is not None and claimed.id == task.id
    assert (claimed.backend, claimed.attempts) == ("http://gpu-0", 1)
    assert claimed.prompt_id is not None and claimed.dispatched_at is not None
    stored = await Task.get(id=task.id)
    assert (stored.prompt_id, stored.backend) == (claimed.prompt_id, claimed.backend)
    assert await claimer.claim("http://gpu-1", task.id) is None
    again = await claimer.claim("http://gpu-1", requeued.id)
    assert again is not None and again.attempts == 2  # a re-queue already counted its attempt


def counting_loads(monkeypatch: pytest.MonkeyPatch) -> list[Collection[str]]:
    """The load queries of the dispatch rounds from now on."""
    queries: list[Collection[str]] = []

    async def counted_loads(finishing: Collection[str] = ()) -> Counter[str]:
        queries.append(finishing)
        return await backend_loads(finishing)

    monkeypatch.setattr("tasks.runtime.dispatcher.backend_loads", counted_loads)
    return queries


async def test_a_freed_slot_needs_no_look_when_nothing_waited_and_nothing_new_came(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    load_queries = counting_loads(monkeypatch)
    templates = load_templates()
    dispatcher = recording_dispatcher(["http://gpu-0"], templates)
    assert not await dispatcher.dispatch_round()  # nothing waits
    assert len(load_queries) == 1
    dispatcher.slot_freed()  # the end of a task: no new task came with it
    assert not await dispatcher.dispatch_round()
    assert len(load_queries) == 1
    task = await a_task(TaskStatus.PENDING)
    await Task.filter(id=task.id).update(workflow=templates.get_default().name)
    dispatcher.wake()  # a task was created
    assert not await dispatcher.dispatch_round()
    assert len(load_queries) == 2
    assert dispatcher.sent == [(task.id, "http://gpu-0")]


async def test_a_task_created_while_the_round_reads_is_looked_for_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    load_queries = counting_loads(monkeypatch)
    dispatcher = recording_dispatcher(["http://gpu-0"], load_templates())
    read_before_its_commit = TaskClaimer.waiting

    async def waiting_while_a_task_is_created(claimer: TaskClaimer, limit: int) -> list[Any]:
        found = await read_before_its_commit(claimer, limit)
        dispatcher.wake()  # its CREATED arrives after the read saw no row
        return found

    monkeypatch.setattr(TaskClaimer, "waiting", waiting_while_a_task_is_created)
    assert not await dispatcher.dispatch_round()
    dispatcher.slot_freed()
    await dispatcher.dispatch_round()
    assert len(load_queries) == 2


async def test_the_poll_looks_even_when_the_last_look_found_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A task re-queued by the watchdog wakes nothing; the poll finds it."""
    load_queries = counting_loads(monkeypatch)
    settings = DispatchSettings(poll_seconds=0.02)
    dispatcher = recording_dispatcher(["http://gpu-0"], load_templates(), settings)
    running = asyncio.create_task(dispatcher.run())
    try:
        async with asyncio.timeout(10):
            while len(load_queries) < 3:
                await asyncio.sleep(0.01)
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running


async def test_a_replica_without_backends_looks_for_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A replica serving the API only (KONTEXT_DISPATCH=false) reads no loads for each task
    created: there is nowhere to send one."""
    load_queries = counting_loads(monkeypatch)
    templates = load_templates()
    dispatcher = recording_dispatcher([], templates)
    task = await a_task(TaskStatus.PENDING)
    await Task.filter(id=task.id).update(workflow=templates.get_default().name)
    dispatcher.wake()
    assert not await dispatcher.dispatch_round()
    assert load_queries == [] and dispatcher.sent == []
