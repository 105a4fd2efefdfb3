"""Latent previews: keep the newest per task as a small WebP (the tracker decides how often)."""

from __future__ import annotations

import asyncio
import logging
from uuid import UUID

from storage.blobs import BlobStore
from storage.images import make_live_preview
from storage.keys import preview_key
from tasks.background import BackgroundTasks
from tasks.store.transitions import TaskChanges

logger = logging.getLogger(__name__)

PREVIEW_SIDE = 512
"""ComfyUI's own default preview size: its JPEG previews are stored as they come."""


class PreviewKeeper:
    def __init__(self, blobs: BlobStore, changes: TaskChanges) -> None:
        self._blobs = blobs
        self._changes = changes

    async def keep(self, task_id: UUID, prompt_id: str, image: bytes) -> None:
        """Store a preview of the task's current attempt, show it like progress, and remove the
        one it replaced once the row names the new one (one of an earlier attempt, or of a task
        no longer running, is dropped)."""
        preview = await make_live_preview(image, PREVIEW_SIDE)
        key = preview_key(str(task_id), preview.format)
        await self._blobs.put(key, preview.data, preview.content_type)
        before = self._changes.shown(task_id)
        shown = await self._changes.preview(task_id, prompt_id, key)
        if shown is None:  # ended or re-queued meanwhile: the attempt's preview is stale
            await self._blobs.delete(key)
        elif before is not None and before.preview_key and before.preview_key != key:
            await self._blobs.delete(before.preview_key)
        # A task not running here had its row read and written: its older preview, if any,
        # goes with what its attempt left once the attempt ends (TaskLeftovers).


class LatestPreviews:
    """Stores previews in the background, one at a time; while one is being stored only the
    newest waits (older ones are dropped), so the event stream is never held up by them."""

    def __init__(self, keeper: PreviewKeeper, background: BackgroundTasks) -> None:
        self._keeper = keeper
        self._jobs = background.scope()
        self._next: tuple[UUID, str, bytes] | None = None
        self._worker: asyncio.Task[None] | None = None

    def offer(self, task_id: UUID, prompt_id: str, image: bytes) -> None:
        self._next = (task_id, prompt_id, image)
        if self._worker is None or self._worker.done():
            self._worker = self._jobs.start(self._store(), "storing previews")

    async def _store(self) -> None:
        while self._next is not None:
            task_id, prompt_id, image = self._next
            self._next = None
            try:
                await self._keeper.keep(task_id, prompt_id, image)
            except Exception:  # a preview is best effort; the next one may well work
                logger.exception("storing a preview of task %s failed", task_id)

    async def close(self) -> None:
        self._next = None
        await self._jobs.aclose()
