"""Where a waiting task stands in line."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from tortoise.expressions import Q

from tasks.status import TaskStatus
from tasks.store.models import Task


async def queue_position(task_id: UUID, created_at: datetime, sent: bool) -> int:
    """How many tasks will start before this one (0: it is next, or already queued in ComfyUI)."""
    if sent:
        return 0
    waiting = Task.filter(status=TaskStatus.PENDING)
    sent_ahead = await waiting.filter(prompt_id__isnull=False).count()
    older = await waiting.filter(
        Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=task_id),
        prompt_id__isnull=True,
    ).count()
    return sent_ahead + older
