"""Latent previews: keep the newest per task as a small WebP (the tracker decides how often)."""

from __future__ import annotations

from uuid import UUID

from storage.blobs import BlobStore
from storage.images import make_thumbnail
from storage.keys import preview_key
from tasks.events import EventKind
from tasks.models import Task
from tasks.status import ACTIVE_STATUSES
from tasks.transitions import TaskChanges

PREVIEW_SIDE = 384


class PreviewKeeper:
    def __init__(self, blobs: BlobStore, changes: TaskChanges) -> None:
        self._blobs = blobs
        self._changes = changes

    async def keep(self, task_id: UUID, image: bytes) -> None:
        task = await Task.get_or_none(id=task_id)
        if task is None or task.status.is_terminal:
            return
        key = preview_key(str(task_id))
        await self._blobs.put(key, await make_thumbnail(image, max_side=PREVIEW_SIDE), "image/webp")
        updated = await self._changes.apply(
            task_id, EventKind.PREVIEW, expect=ACTIVE_STATUSES, preview_key=key
        )
        if updated is None:  # ended meanwhile: its previews are settled (see OutputCollector.tidy)
            await self._blobs.delete(key)
        elif task.preview_key:
            await self._blobs.delete(task.preview_key)
