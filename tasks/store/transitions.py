"""Every change to a task goes through here, and every change is published as a snapshot.

A transition is written, then published: one conditional UPDATE that bumps the sequence and
returns the row as written, then one event carrying its snapshot.

Progress of a running task is kept in memory (`Running`): each frame is published at once as
the next sequence, and written to the database only with the task's next transition (in the
same UPDATE, as the sequence after every frame already published) or by the timer every
`PROGRESS_WRITE_SECONDS`. A preview is written at once, before it is shown: it replaces a stored
file, which may go only once no row names it. These writes are conditional on the sequence the
row had when this replica last wrote it, so they never overwrite a newer change. When that
condition fails, another replica changed the task meanwhile and may have given its change a
sequence already shown for progress here: the row is then published again with a sequence past
both.

In one replica each task has one lock and one source of sequences: the snapshot this replica
holds while the task runs here, else the row (`sequence + 1` in the UPDATE).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol
from uuid import UUID

from tortoise.expressions import F

from tasks.background import BackgroundTasks
from tasks.status import TaskStatus
from tasks.store.atomic import atomic
from tasks.store.clock import utc_now
from tasks.store.models import Task
from tasks.store.returning import update_returning
from tasks.store.snapshots import (
    EventKind,
    TaskEvent,
    TaskSnapshot,
    advanced,
    progress_of,
    snapshot_of,
)
from tasks.store.webhooks import enqueue_delivery

logger = logging.getLogger(__name__)

PROGRESS_WRITE_SECONDS = 2.0
"""How long progress published from memory may wait before it is written on its own."""


async def note(task_id: UUID, *, where: Mapping[str, Any], **changes: Any) -> bool:
    """Bookkeeping of the dispatch that callers are not told about (a claim's undoing, what
    the progress bar will count, the backend's confirmation): written only if the task still
    matches `where`, with no sequence bump and no event. False when it did not match."""
    return bool(await Task.filter(id=task_id, **where).update(**changes))


def in_states(expect: Iterable[TaskStatus] | None) -> dict[str, Any]:
    """The condition of a change that applies only in the `expect` states (None: in any)."""
    return {} if expect is None else {"status__in": list(expect)}


class EventPublisher(Protocol):
    async def publish(self, event: TaskEvent) -> None: ...


def log_state_change(task: TaskSnapshot, kind: EventKind) -> None:
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


class Written(NamedTuple):
    """A task's row as an UPDATE wrote it, and whether that transaction enqueued a webhook
    delivery (its announcement wakes the sender once committed)."""

    task: Task
    webhook_due: bool = False


@dataclass(slots=True)
class Running:
    """A task running here: what subscribers were last shown, and the sequence its row has
    (lower than the shown one while progress waits to be written)."""

    shown: TaskSnapshot
    written: int

    @property
    def unwritten(self) -> bool:
        return self.shown.sequence > self.written


class TaskChanges:
    def __init__(
        self,
        publisher: EventPublisher,
        background: BackgroundTasks,
        *,
        write_every: float = PROGRESS_WRITE_SECONDS,
    ) -> None:
        self._publisher = publisher
        self._background = background
        self._write_every = write_every
        self._running: dict[UUID, Running] = {}
        # One change of a task at a time in this replica: a change in flight (a preview stored
        # in the background, say) and progress arriving meanwhile never take the same sequence.
        self._locks: dict[UUID, asyncio.Lock] = {}
        self._timer: asyncio.Task[Any] | None = None

    def shown(self, task_id: UUID) -> TaskSnapshot | None:
        """What subscribers were last shown of a task running here (None: not running here)."""
        running = self._running.get(task_id)
        return None if running is None else running.shown

    async def progress(self, task_id: UUID, prompt_id: str, **progress: Any) -> TaskSnapshot | None:
        """Progress of the task's run of `prompt_id`, published at once from memory. A task not
        known here as running is read and written first (this replica started after the run
        did); progress of another prompt (an earlier attempt) or of a task no longer running
        (a node the backend reports after a cancellation, say) changes nothing."""
        return await self._show(task_id, prompt_id, EventKind.PROGRESS, progress)

    async def preview(self, task_id: UUID, prompt_id: str, key: str) -> TaskSnapshot | None:
        """A new preview of the task's run of `prompt_id`, shown the way progress is, but
        written at once (with the progress shown before it): once this returns, no row names
        the preview it replaced. None when not written (the caller removes `key`)."""
        return await self._show(task_id, prompt_id, EventKind.PREVIEW, {"preview_key": key})

    async def _show(
        self, task_id: UUID, prompt_id: str, kind: EventKind, progress: Mapping[str, Any]
    ) -> TaskSnapshot | None:
        async with self._lock(task_id):
            running = self._running.get(task_id)
            if running is None:
                where = {"status": TaskStatus.PROCESSING, "prompt_id": prompt_id}
                written = await self._change(task_id, kind, where, progress)
                return None if written is None else written[1]
            if running.shown.prompt_id != prompt_id:
                return None
            changed = advanced(
                running.shown, running.shown.sequence + 1, {**progress, "updated_at": utc_now()}
            )
            running.shown = changed
            if kind is EventKind.PREVIEW:
                # Written before it is shown: the file the row named before may then go.
                await self._write_progress(task_id, running)
                if running.written != changed.sequence:  # changed elsewhere, and shown so
                    return None
            else:
                self._write_later()
            await self._publish(changed, kind)
            return changed

    async def apply(
        self,
        task_id: UUID,
        kind: EventKind,
        *,
        expect: Iterable[TaskStatus] | None = None,
        **changes: Any,
    ) -> Task | None:
        """Apply `changes` if the task is in one of the `expect` states, then publish it; the
        row as written, or None when the task was not in such a state."""
        where = in_states(expect)
        async with self._lock(task_id):
            changed = await self._change(task_id, kind, where, changes)
        return None if changed is None else changed[0].task

    async def flush(self, task_id: UUID) -> None:
        """Write the progress already published for the task and stop holding it here; call it
        before a transaction that uses `update`, so that change's sequence follows what
        subscribers were shown."""
        async with self._lock(task_id):
            running = self._running.pop(task_id, None)
            if running is not None and running.unwritten:
                await self._write_progress(task_id, running)

    async def update(
        self, task_id: UUID, *, expect: Iterable[TaskStatus] | None = None, **changes: Any
    ) -> Written | None:
        """The conditional UPDATE of `apply` alone, inside the caller's transaction (which it
        joins: no savepoint of its own), after `flush`; the row as written, which the caller
        announces (with `webhook_due`) once the transaction is committed. None when the task was
        not in an `expect` state."""
        where = in_states(expect)
        changed = {"sequence": F("sequence") + 1, **changes}
        return await self._update(task_id, where, changed, in_callers_transaction=True)

    async def announce(
        self, task: Task, kind: EventKind, *, webhook_due: bool = False
    ) -> TaskSnapshot:
        """Publish the row as one change of its task (it was written, and committed, already);
        `webhook_due` when its transaction enqueued a webhook delivery."""
        snapshot = snapshot_of(task)
        self._remember(snapshot)
        await self._publish(snapshot, kind, webhook_due=webhook_due)
        return snapshot

    async def write_progress(self) -> None:
        """Write the progress of every task whose published progress is not written yet."""
        for task_id in [key for key, running in self._running.items() if running.unwritten]:
            try:
                async with self._lock(task_id):
                    running = self._running.get(task_id)
                    if running is not None and running.unwritten:
                        await self._write_progress(task_id, running)
            except Exception:  # the next task's progress must still get written
                logger.exception("writing the progress of task %s failed", task_id)

    async def close(self) -> None:
        """Write what is still waiting (at shutdown)."""
        await self.write_progress()

    async def _change(
        self, task_id: UUID, kind: EventKind, where: dict[str, Any], changes: Mapping[str, Any]
    ) -> tuple[Written, TaskSnapshot] | None:
        """The row as written and its snapshot as published; None when `where` did not match."""
        written = await self._write_change(task_id, where, changes)
        if written is None:
            return None
        return written, await self.announce(written.task, kind, webhook_due=written.webhook_due)

    async def _write_change(
        self, task_id: UUID, where: dict[str, Any], changes: Mapping[str, Any]
    ) -> Written | None:
        running = self._running.get(task_id)
        if running is not None and running.unwritten:
            # The progress published from memory goes into the transition's own UPDATE.
            carried = {**progress_of(running.shown), "updated_at": utc_now(), **changes}
            written = await self._update(
                task_id,
                {**where, "sequence": running.written},
                {**carried, "sequence": running.shown.sequence + 1},
            )
            if written is not None:
                return written
            # Not as expected, or changed elsewhere: the progress alone, then the plain way.
            await self._write_progress(task_id, running)
        return await self._update(task_id, where, {"sequence": F("sequence") + 1, **changes})

    async def _update(
        self,
        task_id: UUID,
        where: Mapping[str, Any],
        changes: Mapping[str, Any],
        *,
        in_callers_transaction: bool = False,
    ) -> Written | None:
        """One conditional UPDATE, the row as written (None when `where` did not match); a
        final status and the webhook delivery announcing it are committed together, in a
        transaction of their own unless the caller's holds them."""
        values = {"updated_at": utc_now(), **changes}
        status = values.get("status")
        if not (isinstance(status, TaskStatus) and status.is_terminal):
            written = await update_returning(task_id, where, values)
            return None if written is None else Written(written)
        if in_callers_transaction:
            return await self._end(task_id, where, values, status)
        async with atomic():
            return await self._end(task_id, where, values, status)

    @staticmethod
    async def _end(
        task_id: UUID, where: Mapping[str, Any], values: dict[str, Any], status: TaskStatus
    ) -> Written | None:
        """The UPDATE to a final status and its webhook delivery, in the current transaction."""
        written = await update_returning(task_id, where, values)
        if written is None:
            return None
        return Written(written, await enqueue_delivery(task_id, status) is not None)

    async def _write_progress(self, task_id: UUID, running: Running) -> None:
        """The progress published from memory, if the row is still as this replica wrote it."""
        written = await Task.filter(id=task_id, sequence=running.written).update(
            sequence=running.shown.sequence, **progress_of(running.shown)
        )
        if written:
            running.written = running.shown.sequence
        else:
            await self._changed_elsewhere(task_id, running.shown.sequence)

    async def _changed_elsewhere(self, task_id: UUID, shown: int) -> None:
        """Another replica changed the task after progress was shown here, maybe with a sequence
        that progress already had: publish the row as it is now, with a sequence past both."""
        self._running.pop(task_id, None)
        while True:
            row = await Task.get_or_none(id=task_id)
            if row is None:
                return
            after = max(row.sequence, shown) + 1
            written = await update_returning(
                task_id, {"sequence": row.sequence}, {"sequence": after}
            )
            if written is not None:
                await self.announce(written, EventKind.STATUS)
                return

    def _remember(self, snapshot: TaskSnapshot) -> None:
        """Hold a running task's newest snapshot; forget one that stopped running."""
        if snapshot.status is TaskStatus.PROCESSING:
            known = self._running.get(snapshot.id)
            if known is None or known.shown.sequence <= snapshot.sequence:  # never an older row
                self._running[snapshot.id] = Running(shown=snapshot, written=snapshot.sequence)
            return
        self._running.pop(snapshot.id, None)
        if snapshot.status.is_terminal:
            self._locks.pop(snapshot.id, None)

    def _lock(self, task_id: UUID) -> asyncio.Lock:
        lock = self._locks.get(task_id)
        if lock is None:
            lock = self._locks[task_id] = asyncio.Lock()
        return lock

    def _write_later(self) -> None:
        if self._timer is None or self._timer.done():
            self._timer = self._background.start(self._write_while_waiting(), "progress-writes")

    async def _write_while_waiting(self) -> None:
        while any(running.unwritten for running in self._running.values()):
            await asyncio.sleep(self._write_every)
            await self.write_progress()

    async def _publish(
        self, snapshot: TaskSnapshot, kind: EventKind, *, webhook_due: bool = False
    ) -> None:
        if kind not in (EventKind.PROGRESS, EventKind.PREVIEW):
            log_state_change(snapshot, kind)
        await self._publisher.publish(
            TaskEvent(
                task_id=snapshot.id,
                owner=snapshot.owner,
                sequence=snapshot.sequence,
                kind=kind,
                status=snapshot.status,
                task=snapshot,
                webhook_due=webhook_due,
            )
        )
        # Waiting subscribers take the event before the next one can be merged with it (a
        # preview, then progress from memory right after it): progress no longer waits on I/O.
        await asyncio.sleep(0)
