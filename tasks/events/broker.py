"""Fan-out of task events to subscribers, with bounded, conflating per-subscriber queues."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Protocol
from uuid import UUID

from tasks.store.snapshots import TaskEvent

EventFilter = Callable[[TaskEvent], bool]
Holder = Callable[[TaskEvent], bool]


class Subscription:
    """A subscriber's queue. Transitions are always kept; progress and previews of a task are
    conflated (only the newest waits), so a slow consumer costs bounded memory and never
    blocks the publisher. An idle subscription holds no buffer: the order of waiting events
    and the future its consumer waits on exist only while they are needed.

    A `holder` may deliver events itself, without waking the consumer: offered the one event
    of an empty queue while the consumer waits for it, it returns True to keep that event
    queued and the consumer asleep; it then takes the event out (`take_held`) once it has
    delivered it, or gives it back (`release`) for the consumer to handle as any other. Any
    other event wakes the consumer, which then handles the held one first (ordering)."""

    def __init__(self, matches: EventFilter) -> None:
        self._matches = matches
        self._order: deque[int] | None = None
        self._events: dict[int, TaskEvent] = {}
        self._mergeable: dict[UUID, int] = {}
        self._keys = itertools.count()
        self._waiter: asyncio.Future[None] | None = None
        self.conflated = 0
        self.holder: Holder | None = None

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
        if self._order is None:
            self._order = deque()
        self._order.append(key)
        self._events[key] = event
        if not event.is_transition:
            self._mergeable[event.task_id] = key
        waiting = self._waiter is not None and not self._waiter.done()
        if waiting and self.holder is not None and len(self._order) == 1 and self.holder(event):
            # Held is as good as handed on: a newer progress goes behind it, not over it.
            if self._mergeable.get(event.task_id) == key:
                del self._mergeable[event.task_id]
            return
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def holds(self, event: TaskEvent) -> bool:
        """`event` is first in the queue (held, or not yet taken by the consumer)."""
        return self._order is not None and self._events[self._order[0]] is event

    def take_held(self, event: TaskEvent) -> bool:
        """The holder delivered `event`: True when it was still first in the queue (it leaves
        it), False when the consumer has it or it was merged into a newer one."""
        if not self.holds(event):
            return False
        self._pop()
        return True

    def release(self) -> None:
        """The holder will not deliver what it holds: the consumer handles it."""
        if self._order:
            self._wake()

    @property
    def pending(self) -> int:
        return len(self._order) if self._order is not None else 0

    async def next(self) -> TaskEvent:
        while not self._order:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._pop()

    def _pop(self) -> TaskEvent:
        assert self._order
        key = self._order.popleft()
        if not self._order:
            self._order = None
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
