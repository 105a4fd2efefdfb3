"""The blob store contract that every backend (a local folder now, S3-compatible later) keeps."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


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


class BlobStore(Protocol):
    """Keys follow storage.keys.validate_key (InvalidBlobKey otherwise). A blob's content type is
    the one its key's extension stands for (storage.keys.content_type_for); writes whose declared
    content type disagrees are refused with ContentTypeMismatch. Writes are atomic: a reader sees
    the old blob or the new one, never part of one."""

    async def put(self, key: str, data: bytes, content_type: str) -> BlobInfo:
        """Store `data` under `key`, replacing any blob there."""
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

    def open(self, key: str) -> AsyncIterator[bytes]:
        """The blob's content in chunks; BlobNotFound (on first iteration) when missing."""
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
