"""LocalBlobStore: blobs as files in a folder.

- Key 'inputs/ab/abc.png' is the file '<root>/inputs/ab/abc.png'; keys are validated first.
- The content type comes from the key's extension (storage.keys.content_type_for): no sidecar
  files to keep in step, and a mismatching content type is refused when writing.
- The ETag is the content's SHA-256 (strong). It is computed while writing, or on the first
  `stat` of a file, and remembered per file version (device, inode, size, mtime), so a file
  replaced by another process is hashed again.
- All file I/O runs in worker threads.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from storage.errors import BlobNotFound, BlobTooLarge, ContentTypeMismatch
from storage.keys import content_type_for, validate_key
from storage.localfs import (
    FileIdentity,
    PendingFile,
    begin_write,
    commit,
    discard,
    hash_file,
    hash_open_file,
    listed_files,
    open_version,
    regular_file_stat,
    remove_file,
    remove_stale_temporaries,
    write_whole,
)
from storage.store import BlobInfo, ListedBlob, OpenedBlob

logger = logging.getLogger(__name__)

DEFAULT_CHUNK_SIZE = 256 * 1024


class DigestMemo:
    """Content hashes of recently seen file versions, at most `capacity` of them."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._entries: dict[str, tuple[FileIdentity, str]] = {}

    def get(self, key: str, identity: FileIdentity) -> str | None:
        entry = self._entries.get(key)
        return entry[1] if entry is not None and entry[0] == identity else None

    def put(self, key: str, identity: FileIdentity, digest: str) -> None:
        self._entries.pop(key, None)
        if len(self._entries) >= self._capacity:
            del self._entries[next(iter(self._entries))]
        self._entries[key] = (identity, digest)

    def forget(self, key: str) -> None:
        self._entries.pop(key, None)


class LocalBlobStore:
    def __init__(
        self, root: Path, *, chunk_size: int = DEFAULT_CHUNK_SIZE, remembered_etags: int = 10_000
    ) -> None:
        self._root = Path(root)
        self._chunk_size = chunk_size
        self._digests = DigestMemo(remembered_etags)

    def path_for(self, key: str) -> Path:
        """The file that holds the blob under `key` (InvalidBlobKey for a malformed key)."""
        return self._root.joinpath(*validate_key(key).split("/"))

    async def put(
        self, key: str, data: bytes, content_type: str, *, sha256: str | None = None
    ) -> BlobInfo:
        path = self._writable_path(key, content_type)
        result, digest = await asyncio.to_thread(write_whole, path, data, sha256)
        return self._remember(key, FileIdentity.of(result), digest)

    async def put_stream(
        self,
        key: str,
        chunks: AsyncIterable[bytes],
        content_type: str,
        max_bytes: int | None = None,
    ) -> BlobInfo:
        path = self._writable_path(key, content_type)
        pending = await asyncio.to_thread(begin_write, path)
        try:
            async for chunk in chunks:
                if max_bytes is not None and pending.size + len(chunk) > max_bytes:
                    raise BlobTooLarge(key, max_bytes)
                await asyncio.to_thread(pending.write, chunk)
            result = await asyncio.to_thread(commit, pending)
        except BaseException:
            await discard_quietly(pending)
            raise
        return self._remember(key, FileIdentity.of(result), pending.digest.hexdigest())

    async def stat(self, key: str) -> BlobInfo | None:
        path = self.path_for(key)
        result = await asyncio.to_thread(regular_file_stat, path)
        if result is None:
            return None
        identity = FileIdentity.of(result)
        digest = self._digests.get(key, identity)
        if digest is not None:
            return blob_info(key, identity, digest)
        hashed = await asyncio.to_thread(hash_file, path)
        return None if hashed is None else self._remember(key, *hashed)

    async def open(self, key: str) -> OpenedBlob:
        opened = await asyncio.to_thread(open_version, self.path_for(key))
        if opened is None:
            raise BlobNotFound(key)
        handle, identity = opened
        try:
            digest = self._digests.get(key, identity)
            if digest is None:
                digest = await asyncio.to_thread(hash_open_file, handle)
                self._digests.put(key, identity, digest)
        except BaseException:
            handle.close()
            raise
        return OpenedBlob(blob_info(key, identity, digest), self._chunks_of(handle), closer(handle))

    async def _chunks_of(self, handle: io.BufferedReader) -> AsyncIterator[bytes]:
        while chunk := await asyncio.to_thread(handle.read, self._chunk_size):
            yield chunk

    async def delete(self, key: str) -> None:
        path = self.path_for(key)
        self._digests.forget(key)
        await asyncio.to_thread(remove_file, path)

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(regular_file_stat, self.path_for(key)) is not None

    async def remove_partial_writes(self, prefix: str, started_before: datetime) -> int:
        before_ns = int(started_before.timestamp() * 1e9)
        return await asyncio.to_thread(remove_stale_temporaries, self._root, prefix, before_ns)

    async def list(self, prefix: str) -> AsyncIterator[ListedBlob]:
        found = await asyncio.to_thread(listed_files, self._root, prefix)
        for key, result in found:
            yield ListedBlob(key, result.st_size, modified_at(result.st_mtime_ns))

    def _writable_path(self, key: str, content_type: str) -> Path:
        path = self.path_for(key)
        expected = content_type_for(key)
        if content_type.partition(";")[0].strip().lower() != expected:
            raise ContentTypeMismatch(key, content_type, expected)
        return path

    def _remember(self, key: str, identity: FileIdentity, digest: str) -> BlobInfo:
        self._digests.put(key, identity, digest)
        return blob_info(key, identity, digest)


def blob_info(key: str, identity: FileIdentity, digest: str) -> BlobInfo:
    return BlobInfo(
        key=key,
        size=identity.size,
        content_type=content_type_for(key),
        etag=f'"{digest}"',
        modified=modified_at(identity.modified_ns),
    )


def modified_at(modified_ns: int) -> datetime:
    return datetime.fromtimestamp(modified_ns / 1e9, tz=UTC)


def closer(handle: io.BufferedReader) -> Callable[[], Awaitable[None]]:
    async def close() -> None:
        # Closing a file opened for reading releases a descriptor; it does not wait on disk.
        handle.close()

    return close


async def discard_quietly(pending: PendingFile) -> None:
    """Remove a failed write's temporary file, even when cancelled again meanwhile."""
    try:
        await asyncio.to_thread(discard, pending)
    except asyncio.CancelledError:
        discard(pending)
        raise
    except OSError as exc:
        logger.warning("could not remove the temporary file %s: %s", pending.temp, exc)
