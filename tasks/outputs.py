"""Bringing a finished prompt's image home: stream it from ComfyUI into storage, with a thumbnail."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

from comfy.client import ComfyClient
from comfy.models import OutputImage
from storage.blobs import BlobStore
from storage.incremental import IncrementalImage
from tasks.clock import utc_now
from tasks.models import ImageKind, StoredImage, Task


class OutputCollector:
    def __init__(self, blobs: BlobStore) -> None:
        self._blobs = blobs

    async def collect(self, task: Task, client: ComfyClient, output: OutputImage) -> StoredImage:
        """Store the output and its thumbnail; on any failure nothing stays behind."""
        token = secrets.token_urlsafe(16).lower().replace("_", "").replace("-", "")
        key = f"outputs/{task.id}/{token}.png"
        thumb_key = f"outputs/{task.id}/{token}.thumb.webp"
        # Hashed, described and decoded as it streams into storage: no copy of the file is kept.
        reader = IncrementalImage()
        written: list[str] = []
        try:
            async with client.download(output) as chunks:
                info = await self._blobs.put_stream(key, tee(chunks, reader), "image/png")
            written.append(key)
            try:
                described, thumbnail = await asyncio.to_thread(reader.finish)
            finally:
                await asyncio.to_thread(reader.close)
            await self._blobs.put(thumb_key, thumbnail, "image/webp")
            written.append(thumb_key)
            return await StoredImage.create(
                owner=task.owner,
                kind=ImageKind.OUTPUT,
                sha256=described.sha256,
                blob_key=key,
                thumbnail_key=thumb_key,
                content_type=described.content_type,
                width=described.width,
                height=described.height,
                size=info.size,
                created_at=utc_now(),
            )
        except BaseException:
            await asyncio.to_thread(reader.close)
            for written_key in written:
                await self._blobs.delete(written_key)
            if not written:
                await self._blobs.delete(key)
            raise

    async def discard(self, image: StoredImage) -> None:
        for key in (image.blob_key, image.thumbnail_key):
            if key:
                await self._blobs.delete(key)
        await image.delete()


async def tee(chunks: AsyncIterator[bytes], reader: IncrementalImage) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        await asyncio.to_thread(reader.feed, chunk)
        yield chunk
