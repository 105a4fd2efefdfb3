"""Every change to a task goes through here: one conditional UPDATE, a sequence bump, one event."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol
from uuid import UUID

from tortoise.expressions import F

from tasks.clock import utc_now
from tasks.events import EventKind, TaskEvent
from tasks.models import Task
from tasks.status import TaskStatus


class EventPublisher(Protocol):
    async def publish(self, event: TaskEvent) -> None: ...


class TaskChanges:
    def __init__(self, publisher: EventPublisher) -> None:
        self._publisher = publisher

    async def apply(
        self,
        task_id: UUID,
        kind: EventKind,
        *,
        expect: Iterable[TaskStatus] | None = None,
        **changes: Any,
    ) -> Task | None:
        """Apply `changes` if the task is in one of the `expect` states; None when it was not."""
        query = Task.filter(id=task_id)
        if expect is not None:
            query = query.filter(status__in=list(expect))
        updated = await query.update(sequence=F("sequence") + 1, updated_at=utc_now(), **changes)
        if not updated:
            return None
        task = await Task.get(id=task_id)
        await self.announce(task, kind)
        return task

    async def announce(self, task: Task, kind: EventKind) -> None:
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
