"""Claiming the next pending task for a backend, safely across replicas."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass

from tortoise.expressions import Case, F, Value, When
from tortoise.functions import Count

from tasks.status import ACTIVE_STATUSES, TaskStatus
from tasks.store.clock import utc_now
from tasks.store.models import Task
from tasks.store.returning import update_returning


@dataclass(frozen=True)
class Waiting:
    """A pending task not yet sent: its id and template."""

    id: uuid.UUID
    workflow: str


class TaskClaimer:
    """Claims one pending, unsent task for a backend: a fresh prompt id and the backend's name.

    The claim is one conditional update, so two replicas choosing the same task cannot both
    get it: the loser sees None and chooses again. `waiting` lists the candidates.
    """

    def __init__(self) -> None:
        self._lock = asyncio.Lock()

    async def waiting(self, limit: int) -> list[Waiting]:
        """The oldest pending tasks not sent yet, oldest first."""
        rows = (
            await Task.filter(status=TaskStatus.PENDING, prompt_id=None)
            .order_by("created_at", "id")
            .limit(limit)
            .values("id", "workflow")
        )
        return [Waiting(id=row["id"], workflow=str(row["workflow"])) for row in rows]

    async def claim(self, backend: str, task_id: uuid.UUID) -> Task | None:
        """The task's first claim starts attempt 1; a re-queue already counted its attempt.

        One conditional UPDATE takes the task and hands back its row (two replicas updating
        the same row are serialized by the database, and the second no longer matches)."""
        async with self._lock:
            return await update_returning(
                task_id,
                where={"status": TaskStatus.PENDING, "prompt_id": None},
                values={
                    "prompt_id": str(uuid.uuid4()),
                    "backend": backend,
                    # max(attempts, 1); When accepts a Value, though its annotation lists fewer.
                    "attempts": Case(When(attempts__lt=1, then=Value(1)), default=F("attempts")),  # type: ignore[arg-type]
                    "dispatched_at": utc_now(),
                    "queued_at": None,
                },
            )


async def backend_loads(finishing: Collection[str] = ()) -> Counter[str]:
    """Prompts each backend holds for us (sent and not finished), counted in the database.

    Prompts in `finishing` have stopped executing (only their output is being brought home),
    so they no longer take a backend's room."""
    query = Task.filter(status__in=list(ACTIVE_STATUSES), backend__isnull=False)
    if finishing:
        query = query.exclude(prompt_id__in=list(finishing))
    rows = await query.annotate(count=Count("id")).group_by("backend").values("backend", "count")
    return Counter({str(row["backend"]): int(row["count"]) for row in rows})
