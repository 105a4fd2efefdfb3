"""Every change to a task goes through here: one conditional UPDATE, a sequence bump, one event."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, Protocol
from uuid import UUID

from tortoise.expressions import F

from tasks.clock import utc_now
from tasks.events import EventKind, TaskEvent
from tasks.models import Task
from tasks.status import TaskStatus

logger = logging.getLogger(__name__)


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

    async def apply(
        self,
        task_id: UUID,
        kind: EventKind,
        *,
        expect: Iterable[TaskStatus] | None = None,
        **changes: Any,
    ) -> Task | None:
        """Apply `changes` if the task is in one of the `expect` states; None when it was not."""
        if not await self.update(task_id, expect=expect, **changes):
            return None
        task = await Task.get(id=task_id)
        await self.announce(task, kind)
        return task

    async def update(
        self, task_id: UUID, *, expect: Iterable[TaskStatus] | None = None, **changes: Any
    ) -> bool:
        """The conditional UPDATE of `apply` alone, for use inside a caller's transaction; the
        caller announces the change once it is committed. False when the task was not in an
        `expect` state."""
        query = Task.filter(id=task_id)
        if expect is not None:
            query = query.filter(status__in=list(expect))
        updated = await query.update(sequence=F("sequence") + 1, updated_at=utc_now(), **changes)
        return bool(updated)

    async def announce(self, task: Task, kind: EventKind) -> None:
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
