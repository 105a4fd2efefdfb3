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

    A `holder` may deliver events itself, without waking the consumer: offered an event while
    the queue is empty and the consumer waits for it, it returns True to hold that event (one
    slot beside the queue, the consumer asleep); it then takes the event out (`take_held`) once
    it has delivered it, or gives it back (`release`) for the consumer to handle as any other.
    Any other event puts the held one first in the queue, never merged into a newer progress,
    and wakes the consumer (ordering)."""

    def __init__(self, matches: EventFilter) -> None:
        self._matches = matches
        self._order: deque[int] | None = None
        self._events: dict[int, TaskEvent] = {}
        self._mergeable: dict[UUID, int] = {}
        self._keys = itertools.count()
        self._waiter: asyncio.Future[None] | None = None
        self.conflated = 0
        self.holder: Holder | None = None
        self._held: TaskEvent | None = None

    def offer(self, event: TaskEvent) -> None:
        if not self._matches(event):
            return
        if self._held is not None:
            self._unhold()
        elif self.holder is not None and self._order is None and self._waiting():
            self._held = event  # before the holder is asked: it may deliver it at once
            if self.holder(event):
                return
            self._held = None
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
        self._wake()

    def _waiting(self) -> bool:
        return self._waiter is not None and not self._waiter.done()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _unhold(self) -> None:
        """The held event first in the queue (as good as handed on: nothing merges into it)."""
        held, self._held = self._held, None
        assert held is not None
        key = next(self._keys)
        if self._order is None:
            self._order = deque()
        self._order.appendleft(key)
        self._events[key] = held

    def holds(self, event: TaskEvent) -> bool:
        """`event` is held, for the holder to deliver."""
        return self._held is event

    def take_held(self, event: TaskEvent) -> bool:
        """The holder delivered `event`: True when it was still held (it is done with), False
        when the consumer has it now."""
        if self._held is not event:
            return False
        self._held = None
        return True

    def release(self) -> None:
        """The holder will not deliver what it holds: the consumer handles it."""
        if self._held is not None:
            self._unhold()
            self._wake()

    @property
    def pending(self) -> int:
        held = 1 if self._held is not None else 0
        return held + (len(self._order) if self._order is not None else 0)

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
