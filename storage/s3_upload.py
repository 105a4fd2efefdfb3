"""Streaming a blob into S3 while holding one part of it in memory.

- The chunks fill an in-memory part of `part_size` bytes (S3 wants at least 5 MiB for every part
  but the last); a filled part is hashed, sent, and dropped before the next one fills.
- A stream that fits in one part goes up in a single PUT with its SHA-256 recorded as metadata.
  A longer one becomes a multipart upload, completed once the last part is sent; its SHA-256 is
  then recorded by copying the object onto itself (S3BlobStore's ETag comes from it).
- On any failure before completion (BlobTooLarge, an error from the chunks, an S3 error,
  cancellation) the multipart upload is aborted, so no object appears and no parts stay behind.
  A process killed mid-upload cannot abort; a bucket lifecycle rule (AbortIncompleteMultipartUpload)
  covers that case.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
from collections.abc import AsyncGenerator, AsyncIterable
from contextlib import aclosing
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from storage.errors import BlobTooLarge
from storage.s3_bucket import S3Bucket, S3Error

if TYPE_CHECKING:
    from types_aiobotocore_s3.type_defs import CompletedPartTypeDef

logger = logging.getLogger(__name__)

MIN_PART_SIZE = 5 * 1024 * 1024
ABORT_TIMEOUT = 60.0


@dataclass(frozen=True)
class Part:
    body: io.BytesIO
    """The part's bytes, positioned at the start."""
    size: int
    last: bool


@dataclass(frozen=True)
class Stored:
    size: int
    sha256: str
    modified: datetime


async def limited(
    chunks: AsyncIterable[bytes], key: str, max_bytes: int | None
) -> AsyncGenerator[bytes, None]:
    """The chunks, refused with BlobTooLarge as soon as they add up to more than `max_bytes`."""
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if max_bytes is not None and size > max_bytes:
            raise BlobTooLarge(key, max_bytes)
        yield chunk


class PartBuffer:
    def __init__(self, part_size: int) -> None:
        self._part_size = part_size
        self._body = io.BytesIO()

    def fill(self, data: memoryview) -> memoryview:
        """Take as much of `data` as fits; returns the rest."""
        room = self._part_size - self._body.tell()
        self._body.write(data[:room])
        return data[room:]

    def take(self, last: bool) -> Part:
        """The part filled so far; the buffer starts a new one."""
        body, self._body = self._body, io.BytesIO()
        size = body.tell()
        body.seek(0)
        return Part(body, size, last)


async def parts_of(chunks: AsyncIterable[bytes], part_size: int) -> AsyncGenerator[Part, None]:
    """The stream cut into parts of exactly `part_size` bytes and a last one of at most that."""
    buffer = PartBuffer(part_size)
    async for chunk in chunks:
        rest = buffer.fill(memoryview(chunk))
        while rest:
            yield buffer.take(last=False)
            rest = buffer.fill(rest)
    yield buffer.take(last=True)


async def upload_stream(
    bucket: S3Bucket, key: str, content_type: str, chunks: AsyncIterable[bytes], part_size: int
) -> Stored:
    """Store the chunks under `key`; on failure nothing is stored and the error propagates."""
    upload = StreamedUpload(bucket, key, content_type)
    try:
        async with aclosing(parts_of(chunks, part_size)) as parts:
            async for part in parts:
                await upload.send(part)
                del part  # the sent part is not kept while the next one fills
        return await upload.finish()
    except BaseException:
        await upload.abort()
        raise


class StreamedUpload:
    """One blob's upload: a single PUT when its first part is also its last, else multipart."""

    def __init__(self, bucket: S3Bucket, key: str, content_type: str) -> None:
        self._bucket = bucket
        self._key = key
        self._content_type = content_type
        self._digest = hashlib.sha256()
        self._size = 0
        self._modified: datetime | None = None
        self._upload_id: str | None = None
        self._sent: list[CompletedPartTypeDef] = []

    async def send(self, part: Part) -> None:
        view = part.body.getbuffer()
        await asyncio.to_thread(self._digest.update, view)
        view.release()
        self._size += part.size
        if part.last and not self._sent:
            self._modified = await self._bucket.put(
                self._key, part.body, self._content_type, self._digest.hexdigest()
            )
            return
        if self._upload_id is None:
            self._upload_id = await self._bucket.start_upload(self._key, self._content_type)
        number = len(self._sent) + 1
        self._sent.append(
            await self._bucket.upload_part(self._key, self._upload_id, number, part.body)
        )

    async def finish(self) -> Stored:
        sha256 = self._digest.hexdigest()
        if self._upload_id is not None:
            etag = await self._bucket.finish_upload(self._key, self._upload_id, self._sent)
            self._upload_id = None
            self._modified = await self._record_digest(etag, sha256)
        return Stored(self._size, sha256, self._modified or datetime.now(UTC))

    async def abort(self) -> None:
        """Drop the multipart upload, if one was started and not completed."""
        if self._upload_id is None:
            return
        upload_id, self._upload_id = self._upload_id, None
        try:
            async with asyncio.timeout(ABORT_TIMEOUT):
                await self._bucket.abort_upload(self._key, upload_id)
        except (S3Error, TimeoutError) as exc:
            logger.warning("multipart upload %s of %r not aborted: %s", upload_id, self._key, exc)

    async def _record_digest(self, etag: str, sha256: str) -> datetime | None:
        """The blob is stored either way; without the digest its ETag is the server's own."""
        try:
            return await self._bucket.record_digest(self._key, etag, self._content_type, sha256)
        except S3Error as exc:
            if exc.code != "PreconditionFailed":
                logger.warning(
                    "blob %r is stored but its digest is not recorded: %s", self._key, exc
                )
            return None
