"""Bringing a finished prompt's image home: stream it from ComfyUI into storage, with a thumbnail."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

from comfy.client import ComfyClient
from comfy.models import OutputImage
from storage.blobs import BlobStore
from storage.images import describe_image, make_thumbnail
from storage.keys import output_key, output_thumbnail_key
from tasks.clock import utc_now
from tasks.models import ImageKind, StoredImage, Task


class OutputCollector:
    def __init__(self, blobs: BlobStore) -> None:
        self._blobs = blobs

    async def collect(self, task: Task, client: ComfyClient, output: OutputImage) -> StoredImage:
        """Store the output and its thumbnail; on any failure nothing stays behind."""
        key = output_key(str(task.id))
        thumb_key = output_thumbnail_key(key)
        buffer = io.BytesIO()
        written: list[str] = []
        try:
            async with client.download(output) as chunks:
                info = await self._blobs.put_stream(key, tee(chunks, buffer), "image/png")
            written.append(key)
            data = buffer.getbuffer()
            described = await describe_image(bytes(data))
            await self._blobs.put(thumb_key, await make_thumbnail(bytes(data)), "image/webp")
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


async def tee(chunks: AsyncIterator[bytes], sink: io.BytesIO) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        sink.write(chunk)
        yield chunk
