"""S3BlobStore: blobs as objects in an S3-compatible bucket (AWS S3, MinIO, R2, Ceph, ...).

    async with open_s3_blob_store(S3Settings.from_url("s3://bucket/prefix", ...)) as blobs:
        info = await blobs.put_stream(key, chunks, "image/png", max_bytes=20 * 2**20)
        link = await blobs.url_for(key, 600)

It keeps the BlobStore contract of storage.store, like LocalBlobStore:
- Keys pass storage.keys.validate_key; the object key is the settings' prefix plus the blob key.
- The content type comes from the key's extension and is stored with the object; a write declaring
  another one is refused with ContentTypeMismatch.
- The ETag is the content's SHA-256, recorded as object metadata (x-amz-meta-sha256) when written.
  An object written by other means has none; its ETag is then the server's own, still strong.
- Writes are atomic (S3 shows an object only once a PUT or multipart upload completes); streamed
  writes hold about one part in memory and leave nothing behind on failure (storage.s3_upload).
- `url_for` hands out links: presigned GET URLs that expire, or public URLs when configured.

The client library is aiobotocore (aio-libs):
- maintained: it releases in step with botocore (it pins a narrow botocore range), so it speaks
  the whole S3 API and handles S3-compatible servers (path-style addressing, SigV4, checksum
  settings) exactly as boto3 does;
- async without threads: requests and response bodies run on asyncio and aiohttp; only reading
  botocore's model and configuration files, once when a client is made, goes to a thread;
- streaming multipart: create / upload_part / complete / abort are plain calls, so parts are sent
  as they fill and an upload is aborted under our control on failure or cancellation;
- presigning: `generate_presigned_url`, computed locally (SigV4, up to 7 days);
- typing: types-aiobotocore[s3] (mypy_boto3_builder) types every request and response; it is
  only needed for type checking.
Passed over: obstore (Rust object_store; typed and fast, but pre-1.0, running I/O on its own
Tokio thread pool, with multipart handling decided inside its `put`), and aioboto3 (boto3's
resource layer and transfer helpers over aiobotocore, which this store does not need).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from collections.abc import AsyncIterable, AsyncIterator
from contextlib import aclosing, asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING

from storage.errors import ContentTypeMismatch
from storage.keys import SHA256_HEX, content_type_for, validate_key
from storage.s3_bucket import ObjectFacts, S3Bucket, connect_bucket, read_chunks
from storage.s3_settings import S3Settings, check_presign_seconds
from storage.s3_upload import MIN_PART_SIZE, limited, upload_stream
from storage.store import BlobInfo, ListedBlob, OpenedBlob

if TYPE_CHECKING:
    from aiobotocore.session import AioSession

DEFAULT_PART_SIZE = 8 * 1024 * 1024
DEFAULT_CHUNK_SIZE = 256 * 1024


class S3BlobStore:
    def __init__(
        self,
        bucket: S3Bucket,
        *,
        part_size: int = DEFAULT_PART_SIZE,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> None:
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"S3 parts are at least {MIN_PART_SIZE} bytes, not {part_size}")
        self._bucket = bucket
        self._settings = bucket.settings
        self._part_size = part_size
        self._chunk_size = chunk_size

    async def put(
        self, key: str, data: bytes, content_type: str, *, sha256: str | None = None
    ) -> BlobInfo:
        stored_type = writable_content_type(key, content_type)
        digest = sha256 if sha256 is not None else await asyncio.to_thread(sha256_hex, data)
        modified = await self._bucket.put(key, io.BytesIO(data), stored_type, digest)
        return BlobInfo(key, len(data), stored_type, f'"{digest}"', modified)

    async def put_stream(
        self,
        key: str,
        chunks: AsyncIterable[bytes],
        content_type: str,
        max_bytes: int | None = None,
    ) -> BlobInfo:
        stored_type = writable_content_type(key, content_type)
        async with aclosing(limited(chunks, key, max_bytes)) as capped:
            stored = await upload_stream(self._bucket, key, stored_type, capped, self._part_size)
        return BlobInfo(key, stored.size, stored_type, f'"{stored.sha256}"', stored.modified)

    async def stat(self, key: str) -> BlobInfo | None:
        facts = await self._bucket.head(validate_key(key))
        if facts is None:
            return None
        return BlobInfo(key, facts.size, content_type_for(key), etag_of(facts), facts.modified)

    async def open(self, key: str) -> OpenedBlob:
        facts, body = await self._bucket.open(validate_key(key))
        info = BlobInfo(key, facts.size, content_type_for(key), etag_of(facts), facts.modified)
        return OpenedBlob(info, read_chunks(key, body, self._chunk_size), body.aclose)

    async def delete(self, key: str) -> None:
        await self._bucket.delete(validate_key(key))

    async def exists(self, key: str) -> bool:
        return await self.stat(key) is not None

    async def remove_partial_writes(self, prefix: str, started_before: datetime) -> int:
        """Aborts the multipart uploads begun before `started_before` (single PUTs leave
        nothing behind)."""
        return await self._bucket.abort_uploads(prefix, started_before)

    async def list(self, prefix: str) -> AsyncIterator[ListedBlob]:
        async with aclosing(self._bucket.list(prefix)) as found:
            async for key, size, modified in found:
                yield ListedBlob(key, size, modified)

    @property
    def link_life(self) -> float | None:
        """How long the links `url_for` hands out stay good: public ones for good."""
        if self._settings.public_base_url is not None:
            return None
        return float(self._settings.presign_seconds)

    async def url_for(self, key: str, expires: int | None = None) -> str:
        """A link that downloads the blob: '<public_base_url>/<prefix><key>' when the bucket is
        public, else a presigned GET URL valid for `expires` seconds (default: the settings'
        presign_seconds; at most a week). The blob's existence is not checked."""
        validate_key(key)
        public = self._settings.public_base_url
        if public is not None:
            return f"{public.rstrip('/')}/{self._settings.prefix}{key}"
        seconds = self._settings.presign_seconds if expires is None else expires
        check_presign_seconds(seconds)
        return await self._bucket.presigned_get(key, seconds)

    async def check(self) -> None:
        """Raise S3Error unless the bucket answers to these credentials (a HEAD of the bucket)."""
        await self._bucket.head_bucket()


@asynccontextmanager
async def open_s3_blob_store(
    settings: S3Settings,
    *,
    part_size: int = DEFAULT_PART_SIZE,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    session: AioSession | None = None,
) -> AsyncIterator[S3BlobStore]:
    """An S3BlobStore with a client of its own, closed on exit. The bucket must exist."""
    async with connect_bucket(settings, session) as bucket:
        yield S3BlobStore(bucket, part_size=part_size, chunk_size=chunk_size)


def writable_content_type(key: str, content_type: str) -> str:
    """The content type to store a blob under `key` with; refuses a malformed key or a declared
    type that contradicts the key's extension."""
    expected = content_type_for(validate_key(key))
    if content_type.partition(";")[0].strip().lower() != expected:
        raise ContentTypeMismatch(key, content_type, expected)
    return expected


def etag_of(facts: ObjectFacts) -> str:
    if facts.sha256 is not None and SHA256_HEX.fullmatch(facts.sha256):
        return f'"{facts.sha256}"'
    return facts.etag


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
