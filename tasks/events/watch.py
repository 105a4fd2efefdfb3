"""Watching tasks: subscribe first, then the current state, then every newer change, exactly once."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from uuid import UUID

from tasks.errors import TaskNotFound
from tasks.events.broker import Broker, Subscription
from tasks.status import TaskStatus
from tasks.store.snapshots import EventKind, TaskEvent, TaskSnapshot, read_snapshot


def current(task: TaskSnapshot) -> TaskEvent:
    return TaskEvent(
        task_id=task.id,
        owner=task.owner,
        sequence=task.sequence,
        kind=EventKind.SNAPSHOT,
        status=task.status,
        task=task,
    )


async def with_snapshot(event: TaskEvent) -> TaskEvent | None:
    """The event with the task's snapshot (read from the database when the event lacks one)."""
    if event.task is not None or event.kind is EventKind.DELETED:
        return event
    snapshot = await read_snapshot(event.task_id)
    return None if snapshot is None else dataclasses.replace(event, task=snapshot)


class Seen:
    """The newest sequence a watch has handed on: older events are what it already showed."""

    __slots__ = ("last",)

    def __init__(self, last: int) -> None:
        self.last = last

    def fresh(self, event: TaskEvent) -> bool:
        return event.sequence > self.last or event.kind is EventKind.DELETED


class DirectDelivery:
    """Lets the consumer of a `watch_task` deliver its events itself, from the publisher's loop,
    without the watch's task (and everything above it) waking for each one.

    The consumer sets `take`: offered an event that the watch would hand on as it is (it has
    its snapshot, is newer than the last, and does not end the watch) while nothing is queued,
    it returns True to hold it, then calls `delivered` once it has written it (the `oldest`
    held, so events are written in order), or `release` to let the watch hand on everything
    held after all. Everything else goes the watch's way, and the watch hands on held events
    before any later one."""

    __slots__ = ("_seen", "_subscription", "take")

    def __init__(self) -> None:
        self.take: Callable[[TaskEvent], bool] | None = None
        self._subscription: Subscription | None = None
        self._seen: Seen | None = None

    def bind(self, subscription: Subscription, seen: Seen) -> None:
        self._subscription, self._seen = subscription, seen
        subscription.holder = self._hold

    def _hold(self, event: TaskEvent) -> bool:
        take, seen = self.take, self._seen
        if take is None or seen is None or event.task is None or event.is_terminal:
            return False
        return seen.fresh(event) and take(event)

    def oldest(self) -> TaskEvent | None:
        """The oldest event held for the consumer to deliver, or None."""
        return None if self._subscription is None else self._subscription.oldest_held

    def delivered(self, event: TaskEvent) -> bool:
        """The consumer wrote `event`: True when it was still held (it is done with), False when
        the watch already hands it on (or it was merged into a newer one)."""
        if self._subscription is None or self._seen is None:
            return False
        if not self._subscription.take_held(event):
            return False
        self._seen.last = event.sequence
        return True

    def release(self) -> None:
        if self._subscription is not None:
            self._subscription.release()

    def unbind(self) -> None:
        self.take = None
        if self._subscription is not None:
            self._subscription.holder = None
            self.release()


async def watch_task(
    broker: Broker, task_id: UUID, owner: str, delivery: DirectDelivery | None = None
) -> AsyncIterator[TaskEvent]:
    """One task's changes until it ends. Subscribing before reading the snapshot means no change
    can fall between the two; sequence numbers drop what the snapshot already showed. With a
    `delivery`, its consumer may deliver events itself once the snapshot is handed on."""
    async with broker.subscribe_to_task(task_id) as subscription:
        task = await read_snapshot(task_id, owner)
        if task is None:
            raise TaskNotFound(task_id)
        seen, ended = Seen(task.sequence), task.status.is_terminal
        first = current(task)
        del task  # an idle subscription holds no snapshot while it waits
        if delivery is not None:
            delivery.bind(subscription, seen)
        yield first
        del first
        if ended:
            return
        while True:
            event = await subscription.next()
            if not seen.fresh(event):
                continue
            seen.last = event.sequence
            complete = await with_snapshot(event)
            if complete is None or event.is_terminal:
                if complete is not None:
                    yield complete
                return
            yield complete
            del event, complete


async def watch_owner(
    broker: Broker, owner: str, statuses: frozenset[TaskStatus]
) -> AsyncIterator[TaskEvent]:
    """Every change of an owner's tasks (optionally only those reaching given statuses)."""

    def matches(event: TaskEvent) -> bool:
        return event.owner == owner and (not statuses or event.status in statuses)

    async with broker.subscribe(matches) as subscription:
        while True:
            complete = await with_snapshot(await subscription.next())
            if complete is not None:
                yield complete
