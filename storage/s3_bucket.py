"""S3Bucket: the S3 requests the blob store makes, in blob terms, behind one error boundary.

Every method takes a blob key (already validated), puts the settings' prefix in front, and turns
botocore, aiohttp and timeout errors into S3Error, so nothing above this module sees them. Bodies
are in-memory files (io.BytesIO), which aiohttp writes in small pieces as the socket drains rather
than handing a whole part to the transport at once.
`connect_bucket` opens the aiobotocore client that an S3Bucket uses and closes it on exit.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

import aiohttp
from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession, get_session
from botocore.exceptions import BotoCoreError, ClientError

from storage.errors import BlobNotFound, StorageError
from storage.s3_settings import S3Settings

if TYPE_CHECKING:
    from aiobotocore.response import StreamingBody
    from types_aiobotocore_s3 import S3Client
    from types_aiobotocore_s3.type_defs import (
        CompletedPartTypeDef,
        GetObjectOutputTypeDef,
        HeadObjectOutputTypeDef,
        ResponseMetadataTypeDef,
    )

DIGEST_METADATA = "sha256"
"""User metadata (x-amz-meta-sha256) holding the content's SHA-256, the source of BlobInfo.etag."""
MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
FOREIGN_ERRORS = (ClientError, BotoCoreError, aiohttp.ClientError, TimeoutError)


class S3Error(StorageError):
    """The S3-compatible server refused or failed a request (`code`: its error code, if any)."""

    def __init__(self, operation: str, key: str, code: str | None, detail: str) -> None:
        super().__init__(f"S3 {operation} of {key!r} failed: {detail}")
        self.operation = operation
        self.key = key
        self.code = code


@dataclass(frozen=True)
class ObjectFacts:
    size: int
    modified: datetime
    etag: str
    """The server's own ETag, quoted."""
    sha256: str | None
    """The content digest recorded when it was written, when there is one."""


@contextmanager
def s3_errors(operation: str, key: str) -> Iterator[None]:
    """Translate the client's failures during the block into S3Error."""
    try:
        yield
    except FOREIGN_ERRORS as exc:
        raise S3Error(operation, key, error_code(exc), str(exc) or type(exc).__name__) from exc


def error_code(exc: BaseException) -> str | None:
    if not isinstance(exc, ClientError):
        return None
    return str(exc.response.get("Error", {}).get("Code", "")) or None


class S3Bucket:
    def __init__(self, client: S3Client, settings: S3Settings) -> None:
        self._client = client
        self.settings = settings
        self._bucket = settings.bucket

    def _key(self, key: str) -> str:
        return self.settings.prefix + key

    async def put(self, key: str, body: io.BytesIO, content_type: str, sha256: str) -> datetime:
        """Store the body in one request; returns the server's time of the write."""
        with s3_errors("put", key):
            response = await self._client.put_object(
                Bucket=self._bucket,
                Key=self._key(key),
                Body=body,
                ContentType=content_type,
                Metadata={DIGEST_METADATA: sha256},
            )
        return server_time(response["ResponseMetadata"])

    async def head(self, key: str) -> ObjectFacts | None:
        try:
            with s3_errors("stat", key):
                response = await self._client.head_object(Bucket=self._bucket, Key=self._key(key))
        except S3Error as exc:
            if exc.code in MISSING_CODES:
                return None
            raise
        return facts_of(response)

    async def open(self, key: str) -> tuple[ObjectFacts, StreamingBody]:
        """The object's facts and its body, from one GET (one version of the object); close the
        body once read. BlobNotFound when there is no object under `key`."""
        try:
            with s3_errors("read", key):
                response = await self._client.get_object(Bucket=self._bucket, Key=self._key(key))
        except S3Error as exc:
            if exc.code in MISSING_CODES:
                raise BlobNotFound(key) from exc
            raise
        return facts_of(response), response["Body"]

    async def delete(self, key: str) -> None:
        with s3_errors("delete", key):
            await self._client.delete_object(Bucket=self._bucket, Key=self._key(key))

    async def start_upload(self, key: str, content_type: str) -> str:
        """Begin a multipart upload; returns its id."""
        with s3_errors("upload", key):
            response = await self._client.create_multipart_upload(
                Bucket=self._bucket, Key=self._key(key), ContentType=content_type
            )
        return response["UploadId"]

    async def upload_part(
        self, key: str, upload_id: str, number: int, body: io.BytesIO
    ) -> CompletedPartTypeDef:
        with s3_errors("upload", key):
            response = await self._client.upload_part(
                Bucket=self._bucket, Key=self._key(key), UploadId=upload_id,
                PartNumber=number, Body=body,
            )  # fmt: skip
        return {"ETag": response["ETag"], "PartNumber": number}

    async def finish_upload(
        self, key: str, upload_id: str, parts: list[CompletedPartTypeDef]
    ) -> str:
        """Complete a multipart upload, making the object visible; returns its ETag."""
        with s3_errors("upload", key):
            response = await self._client.complete_multipart_upload(
                Bucket=self._bucket, Key=self._key(key), UploadId=upload_id,
                MultipartUpload={"Parts": parts},
            )  # fmt: skip
        return response.get("ETag", "")

    async def abort_upload(self, key: str, upload_id: str) -> None:
        """Drop a multipart upload and its parts."""
        with s3_errors("abort upload", key):
            await self._client.abort_multipart_upload(
                Bucket=self._bucket, Key=self._key(key), UploadId=upload_id
            )

    async def record_digest(
        self, key: str, etag: str, content_type: str, sha256: str
    ) -> datetime | None:
        """Attach `sha256` to the object by copying it onto itself, only while its ETag is still
        `etag`; returns the new modification time. A multipart upload cannot carry metadata
        computed from its own content, hence the copy."""
        with s3_errors("record digest", key):
            response = await self._client.copy_object(
                Bucket=self._bucket, Key=self._key(key),
                CopySource={"Bucket": self._bucket, "Key": self._key(key)},
                CopySourceIfMatch=etag, MetadataDirective="REPLACE",
                ContentType=content_type, Metadata={DIGEST_METADATA: sha256},
            )  # fmt: skip
        modified = response.get("CopyObjectResult", {}).get("LastModified")
        return None if modified is None else modified.astimezone(UTC)

    async def head_bucket(self) -> None:
        """Raise S3Error unless the bucket exists and these credentials may reach it."""
        with s3_errors("check", self._bucket):
            await self._client.head_bucket(Bucket=self._bucket)

    async def presigned_get(self, key: str, expires: int) -> str:
        with s3_errors("presign", key):
            return await self._client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self._bucket, "Key": self._key(key)},
                ExpiresIn=expires,
            )

    async def abort_uploads(self, prefix: str, started_before: datetime) -> int:
        """Abort the multipart uploads of blob keys starting with `prefix` begun before
        `started_before`; returns how many."""
        paginator = self._client.get_paginator("list_multipart_uploads")
        stale: list[tuple[str, str]] = []
        with s3_errors("list uploads", prefix):
            async for page in paginator.paginate(Bucket=self._bucket, Prefix=self._key(prefix)):
                for upload in page.get("Uploads", []):
                    if upload["Initiated"] < started_before:
                        stale.append((upload["Key"], upload["UploadId"]))
        skip = len(self.settings.prefix)
        for key, upload_id in stale:
            await self.abort_upload(key[skip:], upload_id)
        return len(stale)

    async def list(self, prefix: str) -> AsyncGenerator[tuple[str, int, datetime], None]:
        """(blob key, size, modification time) of every object whose blob key starts with
        `prefix`, a page of list_objects_v2 at a time."""
        paginator = self._client.get_paginator("list_objects_v2")
        pages = paginator.paginate(Bucket=self._bucket, Prefix=self._key(prefix))
        skip = len(self.settings.prefix)
        with s3_errors("list", prefix):
            async for page in pages:
                for item in page.get("Contents", []):
                    yield item["Key"][skip:], item["Size"], item["LastModified"].astimezone(UTC)


def facts_of(response: HeadObjectOutputTypeDef | GetObjectOutputTypeDef) -> ObjectFacts:
    return ObjectFacts(
        size=response["ContentLength"],
        modified=response["LastModified"].astimezone(UTC),
        etag=response["ETag"],
        sha256=response.get("Metadata", {}).get(DIGEST_METADATA),
    )


async def read_chunks(key: str, body: StreamingBody, size: int) -> AsyncIterator[bytes]:
    while chunk := await read_chunk(key, body, size):
        yield chunk


async def read_chunk(key: str, body: StreamingBody, size: int) -> bytes:
    with s3_errors("read", key):
        return await body.read(size)


def server_time(metadata: ResponseMetadataTypeDef) -> datetime:
    """The response's Date header (the server's clock, like LastModified); now when absent."""
    date = metadata.get("HTTPHeaders", {}).get("date", "")
    try:
        return parsedate_to_datetime(date).astimezone(UTC)
    except (TypeError, ValueError):
        return datetime.now(UTC)


def client_config(settings: S3Settings) -> AioConfig:
    return AioConfig(
        signature_version="s3v4",
        s3={"addressing_style": "path" if settings.uses_path_style else "auto"},
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        retries={"max_attempts": settings.max_attempts, "mode": "standard"},
        # Checksum headers only where S3 demands them: several S3-compatible servers refuse
        # the newer default ones.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        warm_up_loader_caches=True,
    )


def prepared_session() -> AioSession:
    """A session whose configuration files are already read (blocking; run it in a thread)."""
    session = get_session()
    session.get_scoped_config()
    return session


@asynccontextmanager
async def connect_bucket(
    settings: S3Settings, session: AioSession | None = None
) -> AsyncIterator[S3Bucket]:
    """An S3Bucket over a client of its own, closed (connections released) on exit. Clients made
    from one `session` share botocore's loaded API models; by default each gets a fresh one."""
    async with AsyncExitStack() as stack:
        with s3_errors("connect", settings.bucket):
            if session is None:
                session = await asyncio.to_thread(prepared_session)
            client = await stack.enter_async_context(
                session.create_client(
                    "s3",
                    region_name=settings.region,
                    endpoint_url=settings.endpoint_url,
                    aws_access_key_id=settings.access_key_id,
                    aws_secret_access_key=settings.secret_access_key,
                    config=client_config(settings),
                )
            )
        yield S3Bucket(client, settings)
