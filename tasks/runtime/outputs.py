"""Bringing a finished prompt's image home: stream it from ComfyUI into storage, with a thumbnail."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass

from comfy.client import ComfyClient
from comfy.models import OutputImage
from storage.blobs import BlobStore
from storage.incremental import IncrementalImage
from storage.keys import output_key, output_thumbnail_key
from tasks.store.task_rows import NewOutputImage, Task

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CollectedOutput:
    """An output image written to storage, its row not yet inserted."""

    image: NewOutputImage
    """The stored_image row naming these blobs, to insert with the task's completion."""

    @property
    def keys(self) -> tuple[str, str]:
        return self.image.blob_key, self.image.thumbnail_key


class OutputCollector:
    def __init__(self, blobs: BlobStore) -> None:
        self._blobs = blobs

    async def collect(
        self, task: Task, client: ComfyClient, output: OutputImage
    ) -> CollectedOutput:
        """Store the output and its thumbnail; on any failure nothing stays behind."""
        key = output_key(str(task.id))
        thumb_key = output_thumbnail_key(key)
        # Hashed, described and decoded as it streams into storage: no copy of the file is kept.
        reader = IncrementalImage()
        try:
            async with client.download(output) as chunks:
                info = await self._blobs.put_stream(key, tee(chunks, reader), "image/png")
            described, thumbnail = await asyncio.to_thread(reader.finish)
            await self._blobs.put(thumb_key, thumbnail, "image/webp")
        except BaseException:
            await self.remove_keys((key, thumb_key))
            raise
        finally:
            await asyncio.to_thread(reader.close)
        image = NewOutputImage(
            owner=task.owner,
            blob_key=key,
            thumbnail_key=thumb_key,
            sha256=described.sha256,
            content_type=described.content_type,
            width=described.width,
            height=described.height,
            size=info.size,
        )
        return CollectedOutput(image=image)

    async def discard(self, collected: CollectedOutput) -> None:
        """Remove the blobs of an output whose task ended otherwise (no row names them)."""
        await self.remove_keys(collected.keys)

    async def remove_keys(self, keys: Collection[str]) -> None:
        for key in keys:
            await self._blobs.delete(key)


async def tee(chunks: AsyncIterator[bytes], reader: IncrementalImage) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        await asyncio.to_thread(reader.feed, chunk)
        yield chunk
