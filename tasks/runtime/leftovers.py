"""What a task's attempts leave in storage besides what its row names: earlier previews, outputs
of tries cut short, partial writes. Removed when an attempt ends (completed, failed, cancelled
or sent back to the queue) by the replica that ended it; what a process killed in between leaves
is the storage janitor's."""

from __future__ import annotations

import logging
from collections.abc import Collection
from uuid import UUID

from storage.blobs import BlobStore
from storage.keys import output_folder, preview_folder
from tasks.store.task_rows import Task

logger = logging.getLogger(__name__)


def task_prefixes(task_id: UUID) -> tuple[str, str]:
    """Where a task's outputs and live previews are stored."""
    return output_folder(str(task_id)), preview_folder(str(task_id))


class TaskLeftovers:
    def __init__(self, blobs: BlobStore) -> None:
        self._blobs = blobs

    async def remove(self, task: Task, keep: Collection[str] = ()) -> None:
        """Delete the blobs under the task's prefixes written before its row (as `task` holds it)
        was, but its preview and `keep`, and the partial writes begun before then. What the
        next attempt writes is younger, so it stays. Best effort: the ending is committed, and
        what stays behind is the janitor's."""
        before = task.updated_at
        named = {*keep, *([task.preview_key] if task.preview_key else [])}
        try:
            for prefix in task_prefixes(task.id):
                stale = [
                    blob.key
                    async for blob in self._blobs.list(prefix)
                    if blob.key not in named and blob.modified <= before
                ]
                if stale:  # keys are never logged: they are the links to the images
                    logger.info("removing %d blobs left by task %s", len(stale), task.id)
                for key in stale:
                    await self._blobs.delete(key)
                await self._blobs.remove_partial_writes(prefix, before)
        except Exception:  # storage trouble must not undo an ending already committed
            logger.exception("removing what task %s left in storage failed", task.id)
