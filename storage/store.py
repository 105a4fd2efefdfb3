"""The blob store contract that every backend (a local folder now, S3-compatible later) keeps."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self


@dataclass(frozen=True)
class BlobInfo:
    key: str
    size: int
    content_type: str
    etag: str
    """A strong ETag, quoted, derived from the content's SHA-256: '"<hex>"'."""
    modified: datetime
    """When the blob was written (UTC)."""


@dataclass(frozen=True)
class ListedBlob:
    """A blob found by listing: its key, size and when it was written (UTC)."""

    key: str
    size: int
    modified: datetime


class OpenedBlob:
    """One version of a blob, open for reading: `info` describes exactly the bytes iterating it
    yields, and they stay readable until it is closed, even when the blob is replaced or deleted
    meanwhile. Read it once; close it (`async with await store.open(key) as blob`)."""

    def __init__(
        self,
        info: BlobInfo,
        chunks: AsyncIterator[bytes],
        release: Callable[[], Awaitable[None]],
    ) -> None:
        self.info = info
        self._chunks = chunks
        self._release = release
        self._closed = False

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks

    async def read(self) -> bytes:
        """The whole content."""
        return b"".join([chunk async for chunk in self._chunks])

    @property
    def closed(self) -> bool:
        return self._closed

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self._release()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()


class BlobStore(Protocol):
    """Keys follow storage.keys.validate_key (InvalidBlobKey otherwise). A blob's content type is
    the one its key's extension stands for (storage.keys.content_type_for); writes whose declared
    content type disagrees are refused with ContentTypeMismatch. Writes are atomic: a reader sees
    the old blob or the new one, never part of one."""

    async def put(
        self, key: str, data: bytes, content_type: str, *, sha256: str | None = None
    ) -> BlobInfo:
        """Store `data` under `key`, replacing any blob there. `sha256`: the data's SHA-256 (hex)
        when the caller has it already (it is the blob's ETag), so it is not computed again."""
        ...

    async def put_stream(
        self,
        key: str,
        chunks: AsyncIterable[bytes],
        content_type: str,
        max_bytes: int | None = None,
    ) -> BlobInfo:
        """Store the chunks under `key`; on any failure (BlobTooLarge past `max_bytes`, an error
        from `chunks`, cancellation) nothing is stored and the exception propagates."""
        ...

    async def stat(self, key: str) -> BlobInfo | None:
        """The blob's facts, or None when there is no blob under `key`."""
        ...

    async def open(self, key: str) -> OpenedBlob:
        """The blob as it is now, opened (BlobNotFound when missing): its facts and its content
        come from the same version."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the blob; nothing happens when there is none."""
        ...

    async def exists(self, key: str) -> bool: ...

    async def remove_partial_writes(self, prefix: str, started_before: datetime) -> int:
        """Remove what writes of keys starting with `prefix`, begun before `started_before` and
        never finished, left behind (a process killed mid-write); returns how many."""
        ...

    def list(self, prefix: str) -> AsyncIterator[ListedBlob]:
        """Every blob whose key starts with `prefix` (a key prefix, not only a folder), in no
        particular order. Blobs written or removed meanwhile may or may not be listed."""
        ...
