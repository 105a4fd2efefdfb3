"""Every change to a task goes through here: one conditional UPDATE, a sequence bump, one event."""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Iterable, Mapping
from typing import Any, Protocol
from uuid import UUID

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from tasks.events.kinds import EventKind, TaskEvent
from tasks.events.progress_writes import ProgressWrites
from tasks.status import ACTIVE_STATUSES, TaskStatus
from tasks.store.clock import utc_now
from tasks.store.models import Task
from tasks.store.webhooks import enqueue_delivery

logger = logging.getLogger(__name__)


async def note(task_id: UUID, *, where: Mapping[str, Any], **changes: Any) -> bool:
    """Bookkeeping of the dispatch that callers are not told about (a claim, its undoing, what
    the progress bar will count, the backend's confirmation): written only if the task still
    matches `where`, with no sequence bump and no event. False when it did not match."""
    return bool(await Task.filter(id=task_id, **where).update(**changes))


class EventPublisher(Protocol):
    async def publish(self, event: TaskEvent) -> None: ...


def log_state_change(task: Task, kind: EventKind) -> None:
    """One line per state change, with what an operator needs to follow a task."""
    logger.info(
        "task %s %s",
        task.id,
        task.status.value if kind is not EventKind.DELETED else "DELETED",
        extra={
            "task_id": str(task.id),
            "status": task.status.value,
            "event": kind.value,
            "backend": task.backend,
            "prompt_id": task.prompt_id,
            "attempt": task.attempts,
            "error_code": task.error_code,
            "seconds_since_created": round((utc_now() - task.created_at).total_seconds(), 3),
        },
    )


class TaskChanges:
    def __init__(self, publisher: EventPublisher) -> None:
        self._publisher = publisher
        # The newest row of each running task as subscribers were last told it.
        self._running: dict[UUID, Task] = {}
        self._writes = ProgressWrites(self._conflicted)
        # One change of a task at a time in this replica: a change in flight (a preview stored
        # in the background, say) and progress arriving meanwhile never take the same sequence.
        self._locks: dict[UUID, asyncio.Lock] = {}

    async def progress(self, task_id: UUID, **changes: Any) -> Task | None:
        """Progress of a running task: announced from memory at once, written behind (newest
        first). A task not known here as running takes the durable path of `apply`; a task that
        has ended takes none (a step or node the backend reports after a cancellation, say)."""
        async with self._lock(task_id):
            row = self._running.get(task_id)
            if row is None:
                return await self._apply(task_id, EventKind.PROGRESS, ACTIVE_STATUSES, changes)
            return await self._progress_from_memory(row, changes)

    async def _progress_from_memory(self, row: Task, changes: dict[str, Any]) -> Task:
        task_id = row.id
        changed = copy.copy(row)
        for name, value in changes.items():
            setattr(changed, name, value)
        changed.sequence = row.sequence + 1
        changed.updated_at = utc_now()
        self._running[task_id] = changed
        self._writes.put(changed, persisted_sequence=row.sequence)
        await self.announce(changed, EventKind.PROGRESS)
        return changed

    async def close(self) -> None:
        await self._writes.close()

    async def _conflicted(self, task_id: UUID) -> None:
        # Another replica changed the task after progress was announced with the sequence its
        # change then also got: announce the row as it is now, with a sequence after both. When
        # a change of this task is under way here, its own announcement does that.
        self._running.pop(task_id, None)
        if not self._lock(task_id).locked():
            await self.apply(task_id, EventKind.STATUS)

    def _lock(self, task_id: UUID) -> asyncio.Lock:
        lock = self._locks.get(task_id)
        if lock is None:
            lock = self._locks[task_id] = asyncio.Lock()
        return lock

    def _remember(self, task: Task) -> None:
        if task.status is TaskStatus.PROCESSING:
            known = self._running.get(task.id)
            if known is None or known.sequence <= task.sequence:  # never an older row
                self._running[task.id] = task
        else:
            self._running.pop(task.id, None)
            if task.status.is_terminal:
                self._locks.pop(task.id, None)

    async def apply(
        self,
        task_id: UUID,
        kind: EventKind,
        *,
        expect: Iterable[TaskStatus] | None = None,
        **changes: Any,
    ) -> Task | None:
        """Apply `changes` if the task is in one of the `expect` states; None when it was not."""
        async with self._lock(task_id):
            return await self._apply(task_id, kind, expect, changes)

    async def _apply(
        self,
        task_id: UUID,
        kind: EventKind,
        expect: Iterable[TaskStatus] | None,
        changes: dict[str, Any],
    ) -> Task | None:
        # Progress already announced is written first, so this change's sequence follows it.
        await self._writes.flush(task_id)
        if not await self.update(task_id, expect=expect, **changes):
            return None
        task = await Task.get(id=task_id)
        await self.announce(task, kind)
        return task

    async def flush(self, task_id: UUID) -> None:
        """Write the progress already announced for the task; call it before a transaction that
        uses `update`, so that change's sequence follows what subscribers were shown."""
        self._running.pop(task_id, None)
        await self._writes.flush(task_id)

    async def update(
        self, task_id: UUID, *, expect: Iterable[TaskStatus] | None = None, **changes: Any
    ) -> bool:
        """The conditional UPDATE of `apply` alone, for use inside a caller's transaction; the
        caller announces the change once it is committed. False when the task was not in an
        `expect` state.

        A final status and the webhook delivery announcing it are committed together."""
        status = changes.get("status")
        if isinstance(status, TaskStatus) and status.is_terminal:
            async with in_transaction():
                if not await self._update(task_id, expect, changes):
                    return False
                await enqueue_delivery(task_id, status)
                return True
        return await self._update(task_id, expect, changes)

    async def _update(
        self, task_id: UUID, expect: Iterable[TaskStatus] | None, changes: dict[str, Any]
    ) -> bool:
        query = Task.filter(id=task_id)
        if expect is not None:
            query = query.filter(status__in=list(expect))
        updated = await query.update(sequence=F("sequence") + 1, updated_at=utc_now(), **changes)
        return bool(updated)

    async def announce(self, task: Task, kind: EventKind) -> None:
        self._remember(task)
        if kind not in (EventKind.PROGRESS, EventKind.PREVIEW):
            log_state_change(task, kind)
        await self._publisher.publish(
            TaskEvent(
                task_id=task.id,
                owner=task.owner,
                sequence=task.sequence,
                kind=kind,
                status=task.status,
                task=task,
            )
        )
        # Waiting subscribers take the event before the next one can be merged with it (a
        # preview, then progress from memory right after it): progress no longer waits on I/O.
        await asyncio.sleep(0)
