from __future__ import annotations

import asyncio
import contextlib
import uuid

import pytest

from tasks.events.broker import MAX_HELD, InProcessBroker, Subscription
from tasks.status import TaskStatus
from tasks.store.snapshots import EventKind, TaskEvent

TASK = uuid.uuid4()


def event(sequence: int, kind: EventKind, status: TaskStatus = TaskStatus.PROCESSING) -> TaskEvent:
    return TaskEvent(task_id=TASK, owner="o", sequence=sequence, kind=kind, status=status)


async def drain(subscription, count: int) -> list[int]:
    return [(await subscription.next()).sequence for _ in range(count)]


async def waiting_reader(subscription: Subscription) -> asyncio.Task[TaskEvent]:
    """The subscription's consumer, started and waiting for its next event."""
    reading = asyncio.create_task(subscription.next())
    await asyncio.sleep(0)
    return reading


async def test_slow_subscriber_gets_newest_progress_and_every_transition_in_order() -> None:
    broker = InProcessBroker()
    async with broker.subscribe(lambda e: True) as slow:
        await broker.publish(event(1, EventKind.STATUS))
        for sequence in range(2, 50):
            await broker.publish(event(sequence, EventKind.PROGRESS))
        await broker.publish(event(50, EventKind.STATUS, TaskStatus.COMPLETED))
        assert slow.pending == 3
        assert await drain(slow, 3) == [1, 49, 50]
        assert slow.conflated == 47


async def test_progress_after_a_transition_is_not_merged_into_progress_before_it() -> None:
    broker = InProcessBroker()
    async with broker.subscribe(lambda e: True) as subscription:
        await broker.publish(event(1, EventKind.PROGRESS))
        await broker.publish(event(2, EventKind.PREVIEW))
        await broker.publish(event(3, EventKind.STATUS))
        await broker.publish(event(4, EventKind.PROGRESS))
        assert await drain(subscription, 3) == [2, 3, 4]


async def test_publisher_is_never_blocked_by_a_subscriber_that_does_not_read() -> None:
    broker = InProcessBroker()
    async with broker.subscribe(lambda e: True), broker.subscribe(lambda e: True) as reader:
        for sequence in range(1, 10_001):
            await asyncio.wait_for(broker.publish(event(sequence, EventKind.PROGRESS)), 1)
        assert await drain(reader, 1) == [10_000]


async def test_filter_and_unsubscribe() -> None:
    broker = InProcessBroker()
    other = TaskEvent(uuid.uuid4(), "o", 1, EventKind.STATUS, TaskStatus.PENDING)
    async with broker.subscribe(lambda e: e.task_id == TASK) as subscription:
        await broker.publish(other)
        await broker.publish(event(7, EventKind.STATUS))
        assert await drain(subscription, 1) == [7]
        assert broker.subscriber_count == 1
    assert broker.subscriber_count == 0


async def test_a_task_subscription_is_offered_its_own_task_events_only() -> None:
    broker = InProcessBroker()
    other_task = uuid.uuid4()
    offered: list[int] = []

    def hold(change: TaskEvent) -> bool:  # sees every event it is offered, holds none
        offered.append(change.sequence)
        return False

    async with (
        broker.subscribe_to_task(TASK) as mine,
        broker.subscribe_to_task(TASK) as also_mine,
        broker.subscribe_to_task(other_task) as theirs,
        broker.subscribe(lambda e: True) as everything,
    ):
        mine.holder = hold
        reading = await waiting_reader(mine)
        assert broker.subscriber_count == 4
        await broker.publish(TaskEvent(other_task, "o", 1, EventKind.STATUS, TaskStatus.PENDING))
        await broker.publish(event(2, EventKind.STATUS))
        assert offered == [2]  # the other task's event never reached this subscription
        assert (await reading).sequence == 2
        assert await drain(also_mine, 1) == [2]
        assert await drain(theirs, 1) == [1]
        assert await drain(everything, 2) == [1, 2]
        assert mine.pending == also_mine.pending == theirs.pending == 0
    assert broker.subscriber_count == 0
    async with broker.subscribe_to_task(TASK) as again:  # the task's watchers start afresh
        await broker.publish(event(3, EventKind.STATUS))
        assert await drain(again, 1) == [3]


async def test_an_event_visits_only_its_own_task_watchers(monkeypatch: pytest.MonkeyPatch) -> None:
    broker = InProcessBroker()
    visited: list[uuid.UUID] = []
    offer = Subscription.offer

    def counted(subscription: Subscription, change: TaskEvent) -> None:
        visited.append(change.task_id)
        offer(subscription, change)

    monkeypatch.setattr(Subscription, "offer", counted)
    async with contextlib.AsyncExitStack() as stack:
        for _ in range(100):
            await stack.enter_async_context(broker.subscribe_to_task(uuid.uuid4()))
        watcher = await stack.enter_async_context(broker.subscribe_to_task(TASK))
        await broker.publish(event(1, EventKind.PROGRESS))
        assert visited == [TASK]  # one subscription visited, not a hundred and one
        assert await drain(watcher, 1) == [1]


async def test_a_consumer_that_stopped_waiting_leaves_the_queue_usable() -> None:
    broker = InProcessBroker()
    async with broker.subscribe(lambda e: True) as subscription:
        waiting = asyncio.create_task(subscription.next())
        await asyncio.sleep(0)
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)
        assert subscription.pending == 0
        reading = await waiting_reader(subscription)
        await broker.publish(event(1, EventKind.STATUS))
        await broker.publish(event(2, EventKind.PROGRESS))
        assert (await reading).sequence == 1
        assert subscription.pending == 1
        assert await drain(subscription, 1) == [2]
        assert subscription.pending == 0


async def test_a_held_event_waits_for_its_holder_without_waking_the_consumer() -> None:
    broker = InProcessBroker()
    async with broker.subscribe(lambda e: True) as subscription:
        held: list[TaskEvent] = []

        def hold(offered: TaskEvent) -> bool:
            held.append(offered)
            return offered.kind is EventKind.PROGRESS

        subscription.holder = hold
        reading = await waiting_reader(subscription)
        await broker.publish(event(1, EventKind.PROGRESS))
        await asyncio.sleep(0)
        assert not reading.done()
        assert [e.sequence for e in held] == [1]
        assert subscription.take_held(held[0])
        assert not subscription.take_held(held[0])
        assert subscription.pending == 0
        await broker.publish(event(2, EventKind.STATUS))
        assert (await reading).sequence == 2


async def test_newer_events_are_held_behind_a_held_one_and_delivered_in_order() -> None:
    broker = InProcessBroker()
    async with broker.subscribe(lambda e: True) as subscription:
        subscription.holder = lambda e: True
        reading = await waiting_reader(subscription)
        offered = [event(1, EventKind.STATUS), event(2, EventKind.PROGRESS)]
        offered.append(event(3, EventKind.PROGRESS))
        for each in offered:
            await broker.publish(each)
        await asyncio.sleep(0)
        assert not reading.done()
        assert subscription.pending == 3
        # Only the oldest held is the next to deliver: none is skipped, none merged.
        assert not subscription.take_held(offered[1])
        for each in offered:
            assert subscription.oldest_held is each
            assert subscription.take_held(each)
        assert subscription.oldest_held is None
        assert subscription.pending == 0
        assert not reading.done()
        reading.cancel()


async def test_an_event_the_holder_refuses_puts_every_held_one_first_and_wakes_the_consumer() -> (
    None
):
    broker = InProcessBroker()
    async with broker.subscribe(lambda e: True) as subscription:
        subscription.holder = lambda e: e.kind is not EventKind.PREVIEW
        reading = await waiting_reader(subscription)
        await broker.publish(event(1, EventKind.PROGRESS))
        await broker.publish(event(2, EventKind.PROGRESS))
        await broker.publish(event(3, EventKind.PREVIEW))
        await broker.publish(event(4, EventKind.PROGRESS))
        await broker.publish(event(5, EventKind.PROGRESS))
        # The held steps and the refused preview are not merged away; those behind merge.
        assert (await reading).sequence == 1
        assert await drain(subscription, 3) == [2, 3, 5]
        assert subscription.conflated == 1
        assert not subscription.take_held(event(1, EventKind.PROGRESS))


async def test_a_holder_is_offered_at_most_max_held_events() -> None:
    broker = InProcessBroker()
    async with broker.subscribe(lambda e: True) as subscription:
        subscription.holder = lambda e: True
        reading = await waiting_reader(subscription)
        for sequence in range(1, MAX_HELD + 2):
            await broker.publish(event(sequence, EventKind.STATUS))
        assert (await reading).sequence == 1
        assert await drain(subscription, MAX_HELD) == list(range(2, MAX_HELD + 2))
        assert subscription.pending == 0


async def test_a_released_event_goes_to_the_consumer() -> None:
    broker = InProcessBroker()
    async with broker.subscribe(lambda e: True) as subscription:
        subscription.holder = lambda e: True
        reading = await waiting_reader(subscription)
        await broker.publish(event(1, EventKind.STATUS))
        await asyncio.sleep(0)
        assert not reading.done()
        subscription.release()
        assert (await reading).sequence == 1


async def test_a_holder_that_gives_back_everything_while_offered_an_event_leaves_each_queued_once() -> (
    None
):
    broker = InProcessBroker()
    async with broker.subscribe(lambda e: True) as subscription:

        def hold(offered: TaskEvent) -> bool:
            if offered.sequence == 1:
                return True
            subscription.release()
            return False

        subscription.holder = hold
        reading = await waiting_reader(subscription)
        await broker.publish(event(1, EventKind.PROGRESS))
        await broker.publish(event(2, EventKind.PROGRESS))
        assert (await reading).sequence == 1
        assert subscription.pending == 1
        assert await drain(subscription, 1) == [2]
        assert subscription.pending == 0
