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

MAX_HELD = 8
"""Events one subscription may hold for its holder at once; one more goes the consumer's way."""


class Subscription:
    """A subscriber's queue. Transitions are always kept; progress and previews of a task are
    conflated (only the newest waits), so a slow consumer costs bounded memory and never
    blocks the publisher. An idle subscription holds no buffer: the order of waiting events
    and the future its consumer waits on exist only while they are needed.

    A `holder` may deliver events itself, without waking the consumer: offered an event while
    the queue is empty and the consumer waits for it, it returns True to hold that event (kept
    beside the queue, the consumer asleep); it then takes the event out (`take_held`) once it
    has delivered it, or gives it back (`release`) for the consumer to handle as any other.
    While events are held, newer ones are offered to the holder too (up to `MAX_HELD`), so a
    burst (a transition and the progress right behind it) stays with the holder, delivered in
    order. Any event the holder does not take puts every held one first in the queue, in order
    and never merged into a newer progress, and wakes the consumer; the event refused is not
    merged into either (the holder may have left it to the consumer to deliver to others)."""

    def __init__(self, matches: EventFilter | None) -> None:
        self._matches = matches  # None: every event the broker offers it is one of its own
        self._order: deque[int] | None = None
        self._events: dict[int, TaskEvent] = {}
        self._mergeable: dict[UUID, int] = {}
        self._keys = itertools.count()
        self._waiter: asyncio.Future[None] | None = None
        self.conflated = 0
        self.holder: Holder | None = None
        self._held: list[TaskEvent] | None = None  # oldest first; None while nothing is held

    def offer(self, event: TaskEvent) -> None:
        matches = self._matches
        if matches is not None and not matches(event):
            return
        refused = False
        holder = self.holder
        if holder is not None and self._holds_next():
            held = self._held
            if held is None:
                held = self._held = []
            held.append(event)  # before the holder is asked: it may deliver it at once
            if holder(event):
                return
            if self._held is not held:
                return  # the holder gave back everything held, this event with it: queued
            held.pop()
            if not held:
                self._held = None
            refused = True
        if self._held is not None:
            self._unhold()
        # An event the holder refused may be the consumer's to deliver to others: kept whole.
        kept = event.is_transition or refused
        if kept:
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
        if not kept:
            self._mergeable[event.task_id] = key
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _holds_next(self) -> bool:
        """With a holder, the next event is offered to it: one waits for it (nothing is queued
        and the consumer sleeps, or it sleeps because of what is held) and there is room."""
        waiter = self._waiter
        if self._order is not None or waiter is None or waiter.done():
            return False
        return self._held is None or len(self._held) < MAX_HELD

    def _unhold(self) -> None:
        """The held events first in the queue, in order (as good as handed on: nothing merges
        into them)."""
        held, self._held = self._held, None
        assert held is not None
        if self._order is None:
            self._order = deque()
        for event in reversed(held):
            key = next(self._keys)
            self._order.appendleft(key)
            self._events[key] = event

    @property
    def oldest_held(self) -> TaskEvent | None:
        """The oldest event held: the next one for the holder to deliver."""
        return None if self._held is None else self._held[0]

    def take_held(self, event: TaskEvent) -> bool:
        """The holder delivered `event`: True when it was the oldest held (it is done with),
        False when the consumer has it now."""
        held = self._held
        if not held or held[0] is not event:
            return False
        del held[0]
        if not held:
            self._held = None
        return True

    def release(self) -> None:
        """The holder will not deliver what it holds: the consumer handles it."""
        if self._held is not None:
            self._unhold()
            self._wake()

    @property
    def pending(self) -> int:
        held = len(self._held) if self._held is not None else 0
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

    def subscribe_to_task(
        self, task_id: UUID
    ) -> contextlib.AbstractAsyncContextManager[Subscription]: ...


class InProcessBroker:
    """Delivers events to subscribers of this process. Subscriptions to one task are kept under
    its id, so an event is offered only to its own task's watchers (and to subscriptions with a
    filter of their own), however many other tasks are watched."""

    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()
        self._by_task: dict[UUID, set[Subscription]] = {}
        self._task_watchers = 0

    async def publish(self, event: TaskEvent) -> None:
        self.deliver(event)

    def deliver(self, event: TaskEvent) -> None:
        for subscription in list(self._subscriptions):
            subscription.offer(event)
        watchers = self._by_task.get(event.task_id)
        if watchers is not None:
            for subscription in list(watchers):
                subscription.offer(event)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscriptions) + self._task_watchers

    @contextlib.asynccontextmanager
    async def subscribe(self, matches: EventFilter) -> AsyncIterator[Subscription]:
        """Every event `matches` accepts."""
        subscription = Subscription(matches)
        self._subscriptions.add(subscription)
        try:
            yield subscription
        finally:
            self._subscriptions.discard(subscription)

    @contextlib.asynccontextmanager
    async def subscribe_to_task(self, task_id: UUID) -> AsyncIterator[Subscription]:
        """Every event of one task."""
        subscription = Subscription(None)
        self._by_task.setdefault(task_id, set()).add(subscription)
        self._task_watchers += 1
        try:
            yield subscription
        finally:
            self._task_watchers -= 1
            watchers = self._by_task[task_id]
            watchers.discard(subscription)
            if not watchers:
                del self._by_task[task_id]
