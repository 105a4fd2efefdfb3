"""Watching tasks: subscribe first, then the current state, then every newer change, exactly once."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from uuid import UUID

from tasks.errors import TaskNotFound
from tasks.events.broker import Broker
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


async def watch_task(broker: Broker, task_id: UUID, owner: str) -> AsyncIterator[TaskEvent]:
    """One task's changes until it ends. Subscribing before reading the snapshot means no change
    can fall between the two; sequence numbers drop what the snapshot already showed."""
    async with broker.subscribe(lambda event: event.task_id == task_id) as subscription:
        task = await read_snapshot(task_id, owner)
        if task is None:
            raise TaskNotFound(task_id)
        last, ended = task.sequence, task.status.is_terminal
        first = current(task)
        del task  # an idle subscription holds no snapshot while it waits
        yield first
        del first
        if ended:
            return
        while True:
            event = await subscription.next()
            if event.sequence <= last and event.kind is not EventKind.DELETED:
                continue
            last = event.sequence
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
