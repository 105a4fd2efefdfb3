"""Direct writes: a watched task's events written to every held subscriber from one loop,
without waking each subscriber's task, and a subscriber whose socket does not take a frame at
once handled by its own task (backpressure) without delaying the others."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import json
import uuid
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import pytest
import strawberry
from graphql import GraphQLError

from graphql_api.context import RequestContext
from graphql_api.errors import ErrorCodes
from graphql_api.schema import KontextSchema, build_schema
from graphql_api.subscriptions import TaskUpdate
from storage.links import ServedLinks
from tasks import DirectDelivery, Services, watch_task
from tasks.events import watch
from tasks.events.broker import InProcessBroker
from tasks.status import TaskStatus
from tasks.store.snapshots import EventKind, TaskEvent, TaskSnapshot

TASK = uuid.uuid4()
QUERY = "subscription { progress { sequence kind } }"
AT_ONCE = "subscription { atOnce { sequence kind } }"
WAITS_LATER = "subscription { waitsLater { sequence kind } }"


def snapshot(sequence: int, status: TaskStatus = TaskStatus.PROCESSING) -> TaskSnapshot:
    now = datetime.now(UTC)
    return TaskSnapshot(
        id=TASK,
        owner="o",
        sequence=sequence,
        status=status,
        workflow="w",
        description="d",
        parameters={},
        seed="1",
        reference_image_id=uuid.uuid4(),
        second_image_id=None,
        result_image_id=None,
        rerun_of_id=None,
        batch_id=None,
        batch_index=0,
        step=sequence,
        total_steps=100,
        progress=0.0,
        current_node=None,
        preview_key=None,
        estimated_finish_at=None,
        backend=None,
        prompt_id=None,
        attempts=1,
        requeue_reason=None,
        error_code=None,
        error_message=None,
        error_details=None,
        created_at=now,
        updated_at=now,
        deadline_at=None,
        started_at=now,
        finished_at=None,
    )


def event(sequence: int, kind: EventKind, status: TaskStatus = TaskStatus.PROCESSING) -> TaskEvent:
    return TaskEvent(TASK, "o", sequence, kind, status, task=snapshot(sequence, status))


@dataclass
class Executions:
    count: int = 0
    tasks: list[asyncio.Task[Any] | None] = field(default_factory=list)
    gate: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.gate.set()


@strawberry.type
class AtOnceUpdate:
    """An update whose every field answers without waiting."""

    sequence_: strawberry.Private[int]
    kind_: strawberry.Private[str]
    executions: strawberry.Private[Executions]
    shared_source: strawberry.Private[TaskEvent | None] = None
    direct: strawberry.Private[DirectDelivery | None] = None
    later: strawberry.Private[Callable[[TaskEvent], Any] | None] = None

    @strawberry.field
    def sequence(self) -> int:
        self.executions.count += 1
        self.executions.tasks.append(asyncio.current_task())
        return self.sequence_

    @strawberry.field
    def kind(self) -> str:
        return self.kind_


@strawberry.type
class Update(AtOnceUpdate):
    @strawberry.field
    async def kind(self) -> str:  # awaited, as a field that reads is
        await self.executions.gate.wait()
        return self.kind_


@strawberry.type
class Query:
    ok: bool = True


class WatchContext(RequestContext):
    broker: InProcessBroker
    executions: Executions


U = TypeVar("U", bound=AtOnceUpdate)


async def updates(
    context: WatchContext, update_type: type[U], *, later: bool
) -> AsyncGenerator[U, None]:
    """The task's changes, the first with the relay's `direct` handle, each with a `later` (a
    transition left to a subscriber's task) when asked for."""

    def update(change: TaskEvent) -> U:
        return update_type(
            sequence_=change.sequence,
            kind_=change.kind.value,
            executions=context.executions,
            shared_source=None if change.kind is EventKind.SNAPSHOT else change,
        )

    def running(change: TaskEvent) -> U | None:
        return None if change.is_transition else update(change)

    direct: DirectDelivery | None = DirectDelivery()
    async for change in watch_task(context.broker, TASK, "o", direct):
        each = update(change)
        each.direct, direct = direct, None
        each.later = running if later else None
        yield each


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def progress(self, info: strawberry.Info) -> AsyncGenerator[Update, None]:
        async for each in updates(info.context, Update, later=False):
            yield each

    @strawberry.subscription
    async def at_once(self, info: strawberry.Info) -> AsyncGenerator[AtOnceUpdate, None]:
        async for each in updates(info.context, AtOnceUpdate, later=True):
            yield each

    @strawberry.subscription
    async def waits_later(self, info: strawberry.Info) -> AsyncGenerator[Update, None]:
        """Updates with a field that waits, whose stream still offers the relay a `later`."""
        async for each in updates(info.context, Update, later=True):
            yield each


def field_of(payload: str) -> dict[str, Any]:
    """The one field a payload's data holds (the subscription's update)."""
    (update,) = json.loads(payload)["data"].values()
    return cast("dict[str, Any]", update)


@dataclass
class Socket:
    """A subscriber's socket: a `full` one takes nothing at once; `send` waits for `drained`."""

    full: bool = False
    drained: asyncio.Event = field(default_factory=asyncio.Event)
    received: list[dict[str, Any]] = field(default_factory=list)
    awaited: int = 0

    def __post_init__(self) -> None:
        self.drained.set()

    async def refuse(self, errors: list[GraphQLError]) -> None:
        raise AssertionError(errors)

    async def send(self, payload: str) -> None:
        await self.drained.wait()
        self.awaited += 1
        self.received.append(field_of(payload))

    def send_at_once(self, payload: str) -> bool:
        if self.full:
            return False
        self.received.append(field_of(payload))
        return True

    @property
    def sequences(self) -> list[int]:
        return [update["sequence"] for update in self.received]


@pytest.fixture
def held_snapshot(monkeypatch: pytest.MonkeyPatch) -> None:
    async def read(task_id: uuid.UUID, owner: str | None = None) -> TaskSnapshot:
        return snapshot(0)

    monkeypatch.setattr(watch, "read_snapshot", read)


@dataclass
class Rig:
    api: KontextSchema
    context: WatchContext
    broker: InProcessBroker
    runs: list[asyncio.Task[bool]] = field(default_factory=list)

    async def subscribe(self, sockets: list[Socket], query: str = QUERY) -> None:
        plan = self.api.relay.plan(query, None, None)
        assert plan is not None
        self.runs = [
            asyncio.create_task(self.api.relay.run(plan, self.context, socket))
            for socket in sockets
        ]
        await settle(lambda: all(s.received for s in sockets))

    async def publish(self, change: TaskEvent) -> None:
        await self.broker.publish(change)


async def settle(done: Callable[[], bool]) -> None:
    """Let the loop run until `done()` (every step here completes without real I/O)."""
    for _ in range(10_000):
        if done():
            return
        await asyncio.sleep(0)
    raise AssertionError("never settled")


def all_at(sockets: list[Socket], sequence: int) -> Callable[[], bool]:
    return lambda: all(s.sequences[-1] == sequence for s in sockets)


def rig() -> Rig:
    api = KontextSchema(
        query=Query,
        subscription=Subscription,
        extensions=[ErrorCodes],
        validation_rules=(),
        max_tokens=1000,
    )
    broker = InProcessBroker()
    context = WatchContext(
        services=cast(Any, None), owner="o", public_url="http://x", links=cast(Any, None)
    )
    context.broker = broker
    context.executions = Executions()
    return Rig(api, context, broker)


async def gated(count: int) -> tuple[Rig, list[Socket], Executions]:
    """`count` subscribers in, and every later execution waiting for the gate to open."""
    here = rig()
    sockets = [Socket() for _ in range(count)]
    await here.subscribe(sockets)
    here.context.executions.gate.clear()
    return here, sockets, here.context.executions


@pytest.mark.usefixtures("held_snapshot")
async def test_each_event_is_executed_once_and_written_to_every_held_subscriber_from_one_task() -> (
    None
):
    here = rig()
    sockets = [Socket() for _ in range(20)]
    await here.subscribe(sockets)
    for n in range(1, 6):
        await here.publish(event(n, EventKind.PROGRESS))
        await settle(all_at(sockets, n))
    await here.publish(event(6, EventKind.STATUS, TaskStatus.COMPLETED))
    assert all(await asyncio.gather(*here.runs))
    assert all(s.sequences == [0, 1, 2, 3, 4, 5, 6] for s in sockets)
    # Snapshots are each subscriber's own; every later event is executed once.
    assert here.context.executions.count == 20 + 6
    # One subscriber's task per progress event wrote it itself (it executed it); the others
    # were written to from that task, their own not woken. The last event ends each stream.
    assert sum(s.awaited for s in sockets) == 20 + 5 + 20


@pytest.mark.usefixtures("held_snapshot")
async def test_a_full_socket_delays_no_other_and_still_gets_every_transition_in_order() -> None:
    here = rig()
    slow = Socket(full=True)
    fast = [Socket() for _ in range(5)]
    await here.subscribe([fast[0], fast[1], slow, *fast[2:]])
    slow.drained.clear()  # its snapshot is through; from now on its buffer stays full
    sent = [
        event(1, EventKind.PROGRESS),
        event(2, EventKind.STATUS),
        event(3, EventKind.PROGRESS),
        event(4, EventKind.PROGRESS),
        event(5, EventKind.PREVIEW),
        event(6, EventKind.STATUS),
        event(7, EventKind.PROGRESS),
    ]
    for each in sent:
        await here.publish(each)
        await settle(all_at(fast, each.sequence))
    assert slow.sequences == [0]
    slow.drained.set()
    await here.publish(event(8, EventKind.STATUS, TaskStatus.COMPLETED))
    assert all(await asyncio.gather(*here.runs))
    assert all(s.sequences == list(range(9)) for s in fast)
    # Only intermediate progress may be merged for it; every transition arrives, in order.
    assert slow.sequences == sorted(set(slow.sequences))
    assert {2, 6, 8} <= set(slow.sequences)
    assert slow.sequences[-1] == 8


@pytest.mark.usefixtures("held_snapshot")
async def test_a_subscriber_leaving_while_others_wait_on_its_execution_leaves_them_served() -> None:
    here, sockets, executions = await gated(4)
    await here.publish(event(1, EventKind.PROGRESS))
    # One subscriber's task was woken to execute the event, the others are held for it.
    await settle(lambda: executions.count == 5)
    leaving = here.runs.index(cast("asyncio.Task[bool]", executions.tasks[-1]))
    here.runs[leaving].cancel()
    executions.gate.set()
    staying = [s for n, s in enumerate(sockets) if n != leaving]
    await settle(lambda: all(s.sequences == [0, 1] for s in staying))
    await here.publish(event(2, EventKind.STATUS, TaskStatus.COMPLETED))
    assert all(await asyncio.gather(*(r for n, r in enumerate(here.runs) if n != leaving)))
    assert all(s.sequences == [0, 1, 2] for s in staying)
    assert here.runs[leaving].cancelled()


@pytest.mark.usefixtures("held_snapshot")
async def test_a_burst_while_an_event_is_executed_stays_held_and_is_written_in_order() -> None:
    here, sockets, executions = await gated(20)
    # A transition whose execution waits, and the progress right behind it.
    await here.publish(event(1, EventKind.STATUS))
    await settle(lambda: executions.count == 21)
    await here.publish(event(2, EventKind.PROGRESS))
    await here.publish(event(3, EventKind.PREVIEW))
    executions.gate.set()
    await settle(all_at(sockets, 3))
    # The subscriber executing the transition has the progress merged into the preview, as
    # any busy subscriber; the one that executes the progress, and every other, gets each.
    assert all(s.sequences in ([0, 1, 2, 3], [0, 1, 3]) for s in sockets)
    assert sum(s.sequences == [0, 1, 2, 3] for s in sockets) >= 19
    # Only the subscribers executing an event were woken for the burst, not every held one.
    assert sum(s.awaited > 1 for s in sockets) <= 3
    await here.publish(event(4, EventKind.STATUS, TaskStatus.COMPLETED))
    assert all(await asyncio.gather(*here.runs))
    assert all(s.sequences[-1] == 4 for s in sockets)


@pytest.mark.usefixtures("held_snapshot")
async def test_an_event_executed_at_once_is_written_to_every_subscriber_as_it_is_published() -> (
    None
):
    here = rig()
    sockets = [Socket() for _ in range(20)]
    await here.subscribe(sockets, AT_ONCE)
    executions = here.context.executions
    for n in range(1, 6):
        here.broker.deliver(event(n, EventKind.PROGRESS if n % 2 else EventKind.PREVIEW))
        # Written within the publisher's call, before any subscriber's task could run.
        assert all(s.sequences[-1] == n for s in sockets)
    # Executed once each, by the publisher: no subscriber's task woke to execute or to write.
    assert executions.count == 20 + 5
    publisher = asyncio.current_task()
    assert all(task is publisher for task in executions.tasks[20:])
    assert sum(s.awaited for s in sockets) == 20
    # A transition is still executed by one subscriber's task; the completion ends each stream.
    await here.publish(event(6, EventKind.STATUS))
    await settle(all_at(sockets, 6))
    await here.publish(event(7, EventKind.STATUS, TaskStatus.COMPLETED))
    assert all(await asyncio.gather(*here.runs))
    assert all(s.sequences == list(range(8)) for s in sockets)
    assert executions.count == 20 + 5 + 1 + 1
    assert publisher not in executions.tasks[25:]


@pytest.mark.usefixtures("held_snapshot")
async def test_a_full_socket_still_gets_events_executed_at_once_from_its_own_task_in_order() -> (
    None
):
    here = rig()
    slow = Socket(full=True)
    fast = [Socket() for _ in range(4)]
    await here.subscribe([fast[0], slow, *fast[1:]], AT_ONCE)
    slow.drained.clear()
    for n in range(1, 4):
        here.broker.deliver(event(n, EventKind.PROGRESS))
        assert all(s.sequences[-1] == n for s in fast)
    assert slow.sequences == [0]
    slow.drained.set()
    await here.publish(event(4, EventKind.STATUS, TaskStatus.COMPLETED))
    assert all(await asyncio.gather(*here.runs))
    assert all(s.sequences == [0, 1, 2, 3, 4] for s in fast)
    # Its task wrote what it could not take at once: progress merged at most, in order.
    assert slow.sequences == sorted(set(slow.sequences))
    assert slow.sequences[0] == 0
    assert slow.sequences[-1] == 4
    assert here.context.executions.count == 5 + 3 + 1


@pytest.mark.usefixtures("held_snapshot")
async def test_a_document_whose_execution_waits_is_left_to_the_subscribers_tasks() -> None:
    here = rig()
    sockets = [Socket() for _ in range(5)]
    await here.subscribe(sockets, WAITS_LATER)
    executions = here.context.executions
    # The first progress is tried at once: its execution waits (a field awaits), so it is
    # settled aside and one subscriber's task executes the event for every subscriber.
    await here.publish(event(1, EventKind.PROGRESS))
    await settle(all_at(sockets, 1))
    assert executions.count == 5 + 2
    # From then on the document is not tried at once: executed once, by a subscriber's task.
    await here.publish(event(2, EventKind.PROGRESS))
    await settle(all_at(sockets, 2))
    assert executions.count == 5 + 3
    assert asyncio.current_task() not in executions.tasks[-1:]
    await here.publish(event(3, EventKind.STATUS, TaskStatus.COMPLETED))
    assert all(await asyncio.gather(*here.runs))
    assert all(s.sequences == [0, 1, 2, 3] for s in sockets)


class PresignedLinks:
    """Links signed by a store, as S3's are: never made without waiting."""

    link_life = 60.0

    async def url_for(self, key: str, base_url: str) -> str:
        return f"https://bucket.example/{key}?signed"

    def url_now(self, key: str, base_url: str) -> None:
        return None


PROGRESS_BAR = """subscription($id: ID!) { taskProgress(id: $id) {
  sequence kind status step totalSteps progress currentNode queuePosition estimatedFinishAt
  previewUrl requeueReason result { imageUrl width } error { code message } } }"""


async def test_a_running_tasks_events_are_executed_at_once_where_links_need_no_signing() -> None:
    api = build_schema()
    plan = api.relay.plan(PROGRESS_BAR, {"id": str(TASK)}, None)
    assert plan is not None

    def context(links: Any) -> RequestContext:
        return RequestContext(
            services=cast(Services, None), owner="o", public_url="http://x", links=links
        )

    served = context(ServedLinks("/files"))
    previewed = dataclasses.replace(snapshot(3), preview_key="previews/a.jpg")
    progress = TaskEvent(TASK, "o", 3, EventKind.PREVIEW, TaskStatus.PROCESSING, task=previewed)
    tail = api.relay.tail_of(plan, served)
    text = api.relay.payload_at_once(plan, served, tail, TaskUpdate.later, progress)
    assert text is not None
    update = field_of(text)
    assert update["kind"] == "PREVIEW"
    assert update["step"] == 3
    assert update["previewUrl"] == "http://x/files/previews/a.jpg"
    assert update["queuePosition"] is None
    assert update["result"] is None
    # A running task's transition answers at once too; a waiting task's is left to a
    # subscriber's task (its place in the queue is read), and so is a link that must be signed.
    started = api.relay.payload_at_once(
        plan, served, tail, TaskUpdate.later, event(4, EventKind.STATUS)
    )
    assert started is not None
    assert field_of(started)["status"] == "PROCESSING"
    requeued = event(5, EventKind.STATUS, TaskStatus.PENDING)
    assert api.relay.payload_at_once(plan, served, tail, TaskUpdate.later, requeued) is None
    # A service whose links are presigned (the links are the service's, the same for all).
    presigned = build_schema()
    signing_plan = presigned.relay.plan(PROGRESS_BAR, {"id": str(TASK)}, None)
    assert signing_plan is not None
    signing = context(PresignedLinks())
    signing_tail = presigned.relay.tail_of(signing_plan, signing)
    signed = presigned.relay.payload_at_once(
        signing_plan, signing, signing_tail, TaskUpdate.later, progress
    )
    assert signed is None
    await asyncio.sleep(0.01)  # the execution set aside settles


@pytest.mark.usefixtures("held_snapshot")
async def test_events_are_executed_from_one_executor_kept_while_its_subscriber_stays(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    here = rig()
    relay = here.api.relay
    plan = relay.plan(AT_ONCE, None, None)
    assert plan is not None
    # Two subscribers whose payloads are shared (same document, owner and public URL).
    first, second = here.context, copy.copy(here.context)
    sockets = {id(first): Socket(), id(second): Socket()}
    runs = {
        id(ctx): asyncio.create_task(relay.run(plan, ctx, sockets[id(ctx)]))
        for ctx in (first, second)
    }
    await settle(lambda: all(s.received for s in sockets.values()))
    built: list[RequestContext] = []
    build = relay._executor

    def counted(plan: Any, context: RequestContext) -> Any:
        built.append(context)
        return build(plan, context)

    monkeypatch.setattr(relay, "_executor", counted)
    for n in range(1, 4):
        await here.publish(event(n, EventKind.PROGRESS))
        await settle(all_at(list(sockets.values()), n))
    assert len(built) == 1  # three events, one executor built
    builder = built[0]
    assert builder in (first, second)
    assert here.context.executions.count == 2 + 3  # two snapshots, each event executed once
    # Its subscriber leaves: the executor goes with it, and the next is built for the other.
    runs.pop(id(builder)).cancel()
    staying = second if builder is first else first
    await settle(lambda: here.broker.subscriber_count == 1)
    await here.publish(event(4, EventKind.PROGRESS))
    await settle(lambda: sockets[id(staying)].sequences[-1] == 4)
    assert built == [builder, staying]
    await here.publish(event(5, EventKind.PROGRESS))
    await settle(lambda: sockets[id(staying)].sequences[-1] == 5)
    assert built == [builder, staying]
    for run in runs.values():
        run.cancel()
