"""Fan-out of task events to subscribers, with bounded, conflating per-subscriber queues."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Protocol
from uuid import UUID

from tasks.events.kinds import TaskEvent

EventFilter = Callable[[TaskEvent], bool]


class Subscription:
    """A subscriber's queue. Transitions are always kept; progress and previews of a task are
    conflated (only the newest waits), so a slow consumer costs bounded memory and never
    blocks the publisher."""

    def __init__(self, matches: EventFilter) -> None:
        self._matches = matches
        self._order: deque[int] = deque()
        self._events: dict[int, TaskEvent] = {}
        self._mergeable: dict[UUID, int] = {}
        self._keys = itertools.count()
        self._ready = asyncio.Event()
        self.conflated = 0

    def offer(self, event: TaskEvent) -> None:
        if not self._matches(event):
            return
        if event.is_transition:
            self._mergeable.pop(event.task_id, None)
        elif event.task_id in self._mergeable:
            self._events[self._mergeable[event.task_id]] = event
            self.conflated += 1
            return
        key = next(self._keys)
        self._order.append(key)
        self._events[key] = event
        if not event.is_transition:
            self._mergeable[event.task_id] = key
        self._ready.set()

    @property
    def pending(self) -> int:
        return len(self._order)

    async def next(self) -> TaskEvent:
        while not self._order:
            self._ready.clear()
            await self._ready.wait()
        key = self._order.popleft()
        event = self._events.pop(key)
        if self._mergeable.get(event.task_id) == key:
            del self._mergeable[event.task_id]
        return event


class Broker(Protocol):
    async def publish(self, event: TaskEvent) -> None: ...

    def subscribe(
        self, matches: EventFilter
    ) -> contextlib.AbstractAsyncContextManager[Subscription]: ...


class InProcessBroker:
    """Delivers events to subscribers of this process."""

    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()

    async def publish(self, event: TaskEvent) -> None:
        self.deliver(event)

    def deliver(self, event: TaskEvent) -> None:
        for subscription in list(self._subscriptions):
            subscription.offer(event)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscriptions)

    @contextlib.asynccontextmanager
    async def subscribe(self, matches: EventFilter) -> AsyncIterator[Subscription]:
        subscription = Subscription(matches)
        self._subscriptions.add(subscription)
        try:
            yield subscription
        finally:
            self._subscriptions.discard(subscription)
