"""How a task ends (or goes back to the queue): each a single conditional transition."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from tasks.runtime.leftovers import TaskLeftovers
from tasks.runtime.outputs import CollectedOutput
from tasks.status import ACTIVE_STATUSES, TaskStatus
from tasks.store.clock import utc_now
from tasks.store.snapshots import EventKind
from tasks.store.task_rows import Task, complete_with_output, task_by_id
from tasks.store.transitions import TaskChanges, note

MEMORY_RETRIES = 1
"""How often a task is retried after an out-of-memory error before it fails."""

RUN_RESET: dict[str, Any] = {
    "prompt_id": None,
    "backend": None,
    "dispatched_at": None,
    "queued_at": None,
    "step": 0,
    "total_steps": 0,
    "progress": 0.0,
    "current_node": None,
    "started_at": None,
    "node_count": 0,
    "preview_key": None,
    "estimated_finish_at": None,
}
"""What one attempt leaves on a task, undone when it goes back to the queue: the next attempt
starts from no progress and no preview."""


CANCELLED_ON_REQUEST = "Cancelled on request."


class TaskOutcomes:
    """Every way a task's attempt ends, each followed by removing what the attempt left in
    storage that its row does not name."""

    def __init__(
        self, changes: TaskChanges, leftovers: TaskLeftovers, *, max_attempts: int
    ) -> None:
        self._changes = changes
        self._leftovers = leftovers
        self.max_attempts = max_attempts

    async def started(
        self, task_id: UUID, *, estimated_finish_at: datetime | None = None
    ) -> Task | None:
        return await self._changes.apply(
            task_id,
            EventKind.STATUS,
            expect=[TaskStatus.PENDING],
            status=TaskStatus.PROCESSING,
            started_at=utc_now(),
            estimated_finish_at=estimated_finish_at,
        )

    async def completed(self, task_id: UUID, output: CollectedOutput) -> Task | None:
        """Insert the output's row and complete the task in one transaction: either both are
        committed or neither (then None, and the caller removes the output's blobs)."""
        await self._changes.flush(task_id)
        written = await complete_with_output(self._changes, task_id, output.image)
        if written is None:
            return None
        await self._changes.announce(
            written.task, EventKind.STATUS, webhook_due=written.webhook_due
        )
        await self._leftovers.remove(written.task, keep=output.keys)
        return written.task

    async def failed(
        self, task_id: UUID, code: str, message: str, details: dict[str, Any] | None = None
    ) -> Task | None:
        return await self._ended(task_id, TaskStatus.FAILED, code, message, details)

    async def cancelled(self, task_id: UUID, message: str = CANCELLED_ON_REQUEST) -> Task | None:
        """End an unfinished task as CANCELLED; None when it had already ended."""
        return await self._ended(task_id, TaskStatus.CANCELLED, "CANCELLED", message)

    async def lost(self, task: Task, reason: str) -> Task | None:
        """The backend no longer knows the prompt: queue the task again as its next attempt
        (same seed, progress from 0, the reason on the task), or give up."""
        if task.attempts >= self.max_attempts:
            return await self.failed(
                task.id,
                "LOST",
                f"{reason}; gave up after {task.attempts} attempts.",
            )
        attempt = task.attempts + 1
        return await self._requeued(
            task.id,
            f"Re-queued as attempt {attempt} of {self.max_attempts}: {reason}; "
            "its progress starts again from 0.",
            attempts=attempt,
        )

    async def out_of_memory(
        self, task_id: UUID, message: str, details: dict[str, Any]
    ) -> Task | None:
        """The backend ran out of memory (its memory is freed by now): queue the task again
        once, on whichever backend takes it, else fail it as OUT_OF_MEMORY."""
        task = await task_by_id(task_id)
        if task is None:
            return None
        if task.memory_retries >= MEMORY_RETRIES:
            return await self.failed(task_id, "OUT_OF_MEMORY", message, details)
        attempt = task.attempts + 1
        return await self._requeued(
            task_id,
            f"Re-queued as attempt {attempt}: the backend ran out of memory ({message}); "
            "its memory was freed and the task is retried once.",
            attempts=attempt,
            memory_retries=task.memory_retries + 1,
        )

    async def _ended(
        self,
        task_id: UUID,
        status: TaskStatus,
        code: str,
        message: str,
        details: dict[str, Any] | None = None,
    ) -> Task | None:
        """End an unfinished task without a result (FAILED or CANCELLED, with the reason);
        None when it had already ended."""
        return await self._attempt_ended(
            task_id,
            status=status,
            error_code=code,
            error_message=message,
            error_details=details,
            current_node=None,
            finished_at=utc_now(),
        )

    async def _requeued(self, task_id: UUID, reason: str, **changes: Any) -> Task | None:
        """Back to the queue for another attempt, with what the last one left undone."""
        return await self._attempt_ended(
            task_id, status=TaskStatus.PENDING, requeue_reason=reason, **changes, **RUN_RESET
        )

    async def _attempt_ended(self, task_id: UUID, **changes: Any) -> Task | None:
        """The unfinished task's transition that ends its attempt, then its leftovers removed;
        None when it had already ended."""
        row = await self._changes.apply(
            task_id, EventKind.STATUS, expect=ACTIVE_STATUSES, **changes
        )
        if row is not None:
            await self._leftovers.remove(row)
        return row

    async def released(self, task_id: UUID, prompt_id: str) -> bool:
        """Undo a claim whose prompt never reached the backend; the task stays on its attempt."""
        return await note(
            task_id, where={"prompt_id": prompt_id, "status": TaskStatus.PENDING}, **RUN_RESET
        )
