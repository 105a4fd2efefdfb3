"""Progress written behind: subscribers are told from memory at once, the database catches up.

Only the newest progress of a task waits to be written (latest wins). A write lands only if the
row still has the sequence this process last saw, so it never overwrites a newer change. A
transition first awaits `flush` of its task, so its sequence always follows the progress that
subscribers were already shown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from uuid import UUID

from tasks.store.models import Task

logger = logging.getLogger(__name__)

PROGRESS_FIELDS = ("step", "total_steps", "progress", "current_node", "estimated_finish_at")

# Called with the task whose write found the row changed by someone else meanwhile.
OnConflict = Callable[[UUID], Awaitable[None]]


class ProgressWrites:
    def __init__(self, on_conflict: OnConflict) -> None:
        self._on_conflict = on_conflict
        self._pending: dict[UUID, tuple[int, Task]] = {}
        self._expected: dict[UUID, int] = {}
        self._writing: dict[UUID, asyncio.Task[bool]] = {}
        self._drainer: asyncio.Task[None] | None = None

    def put(self, row: Task, *, persisted_sequence: int) -> None:
        """Write `row`'s progress soon, if the row still has the sequence it had before."""
        earlier = self._pending.get(row.id)
        base = earlier[0] if earlier is not None else self._expected.get(row.id, persisted_sequence)
        self._pending[row.id] = (base, row)
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain())

    @property
    def pending(self) -> int:
        return len(self._pending) + len(self._writing)

    async def flush(self, task_id: UUID) -> None:
        """Until nothing of this task's progress is waiting or being written."""
        while True:
            running = self._writing.get(task_id)
            if running is not None:
                if not running.done():
                    with contextlib.suppress(Exception):
                        await asyncio.shield(running)
                # Forgotten here too: its done-callback may not have run yet.
                self._forget(task_id, running)
                continue
            if task_id not in self._pending:
                return
            await self._start(task_id)

    async def close(self) -> None:
        """Write everything still waiting (at shutdown)."""
        while self._pending or self._writing:
            for task_id in [*self._pending, *self._writing]:
                await self.flush(task_id)
        if self._drainer is not None:
            await asyncio.gather(self._drainer, return_exceptions=True)

    async def _drain(self) -> None:
        while self._pending:
            task_id = next(iter(self._pending))
            try:
                await self.flush(task_id)
            except Exception:  # the next task's progress must still get written
                logger.exception("writing the progress of task %s failed", task_id)
                self._pending.pop(task_id, None)

    async def _start(self, task_id: UUID) -> None:
        base, row = self._pending.pop(task_id)
        self._expected[task_id] = row.sequence
        job = asyncio.create_task(self._write(base, row))
        self._writing[task_id] = job
        job.add_done_callback(lambda _: self._forget(task_id, job))
        written = await asyncio.shield(job)
        if not written:
            # Someone else changed the row meanwhile: what was waiting is stale too.
            self._pending.pop(task_id, None)
            self._expected.pop(task_id, None)
            await self._on_conflict(task_id)

    def _forget(self, task_id: UUID, job: asyncio.Task[bool]) -> None:
        if self._writing.get(task_id) is job:
            del self._writing[task_id]
        if task_id not in self._pending and task_id not in self._writing:
            self._expected.pop(task_id, None)

    async def _write(self, base: int, row: Task) -> bool:
        written = await Task.filter(id=row.id, sequence=base).update(
            sequence=row.sequence,
            updated_at=row.updated_at,
            **{name: getattr(row, name) for name in PROGRESS_FIELDS},
        )
        return bool(written)
