"""S3BlobStore against a real S3-compatible server (moto in server mode on loopback)."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import random
import secrets
import tracemalloc
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from aiobotocore.session import AioSession

from storage.errors import BlobNotFound, BlobTooLarge, ContentTypeMismatch, InvalidBlobKey
from storage.local import LocalBlobStore
from storage.s3 import S3BlobStore, open_s3_blob_store
from storage.s3_bucket import S3Error, prepared_session
from storage.s3_settings import S3Settings
from storage.s3_upload import MIN_PART_SIZE
from storage.store import BlobStore
from tests.storage.s3_server import (
    ACCESS_KEY_ID,
    REGION,
    SECRET_ACCESS_KEY,
    S3Server,
    admin_client,
    pending_uploads,
)

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

PART = MIN_PART_SIZE
CHUNK = 64 * 1024
TWELVE_MB = 12 * 1000 * 1000
KEY = "inputs/ab/photo.png"


@pytest.fixture(scope="module")
def session() -> AioSession:
    """One botocore session for the module's clients: its API models are loaded once."""
    return prepared_session()


@pytest.fixture
def settings(s3_server: S3Server) -> S3Settings:
    return S3Settings.from_url(
        f"s3://kontext-{secrets.token_hex(6)}/tenant-a",
        endpoint_url=s3_server.url,
        region=REGION,
        access_key_id=ACCESS_KEY_ID,
        secret_access_key=SECRET_ACCESS_KEY,
    )


@pytest.fixture
async def admin(settings: S3Settings, session: AioSession) -> AsyncIterator[S3Client]:
    assert settings.endpoint_url is not None
    async with admin_client(settings.endpoint_url, session) as client:
        await client.create_bucket(Bucket=settings.bucket)
        yield client


@pytest.fixture
async def store(
    settings: S3Settings, admin: S3Client, session: AioSession
) -> AsyncIterator[S3BlobStore]:
    async with open_s3_blob_store(
        settings, part_size=PART, chunk_size=CHUNK, session=session
    ) as blobs:
        yield blobs


def as_blob_store(blobs: S3BlobStore) -> BlobStore:
    """Type-checked: S3BlobStore keeps the BlobStore contract that LocalBlobStore keeps."""
    return blobs


def chunk_number(index: int, block: bytes) -> bytes:
    return index.to_bytes(8, "big") + block[8:]


async def numbered_chunks(total: int, *, seed: int = 7) -> AsyncIterator[bytes]:
    """`total` bytes in CHUNK-sized pieces, each one different (so misplaced parts show)."""
    block = random.Random(seed).randbytes(CHUNK)
    for index, start in enumerate(range(0, total, CHUNK)):
        yield chunk_number(index, block)[: total - start]


def digest_of_numbered(total: int, *, seed: int = 7) -> str:
    block = random.Random(seed).randbytes(CHUNK)
    digest = hashlib.sha256()
    for index, start in enumerate(range(0, total, CHUNK)):
        digest.update(chunk_number(index, block)[: total - start])
    return digest.hexdigest()


async def read_all(store: S3BlobStore, key: str) -> bytes:
    async with await store.open(key) as blob:
        return await blob.read()


def multipart_requests(server: S3Server, bucket: str) -> list[str]:
    return [line for line in server.requests_for(bucket) if "partNumber=" in line]


async def test_put_then_stat_and_open_give_back_the_bytes_and_their_facts(
    store: S3BlobStore,
) -> None:
    blobs = as_blob_store(store)
    data = random.Random(1).randbytes(300_000)
    before = datetime.now(UTC) - timedelta(seconds=2)
    written = await blobs.put(KEY, data, "image/png")
    found = await blobs.stat(KEY)
    async with await blobs.open(KEY) as opened:
        chunks = [chunk async for chunk in opened]
    assert opened.info == found
    assert found is not None
    assert (written.size, written.content_type) == (len(data), "image/png")
    assert written.etag == found.etag == f'"{hashlib.sha256(data).hexdigest()}"'
    assert (found.key, found.size, found.content_type) == (KEY, len(data), "image/png")
    assert before <= found.modified <= datetime.now(UTC) + timedelta(seconds=2)
    assert abs(found.modified - written.modified) <= timedelta(seconds=2)
    assert b"".join(chunks) == data
    assert len(chunks) > 1 and max(map(len, chunks)) <= CHUNK


async def test_put_with_a_known_digest_stores_it_under_that_etag_without_hashing_again(
    store: S3BlobStore,
) -> None:
    """The caller's SHA-256 is taken as it is: a digest that is not the data's shows it is not
    computed again (intake passes the one its check computed)."""
    blobs = as_blob_store(store)
    data = random.Random(2).randbytes(50_000)
    given = "cd" * 32
    written = await blobs.put(KEY, data, "image/png", sha256=given)
    found = await blobs.stat(KEY)
    assert found is not None
    assert written.etag == found.etag == f'"{given}"'
    assert await read_all(store, KEY) == data
    hashed = await blobs.put(KEY, data, "image/png")
    assert hashed.etag == f'"{hashlib.sha256(data).hexdigest()}"'


async def test_blobs_are_objects_under_the_prefix_with_their_content_type(
    store: S3BlobStore, admin: S3Client, settings: S3Settings
) -> None:
    await store.put(KEY, b"png bytes", "image/png; charset=binary")
    head = await admin.head_object(Bucket=settings.bucket, Key=f"tenant-a/{KEY}")
    assert head["ContentType"] == "image/png"
    assert head["ContentLength"] == len(b"png bytes")


async def test_put_replaces_the_blob_under_the_same_key(store: S3BlobStore) -> None:
    await store.put(KEY, b"old", "image/png")
    await store.put(KEY, b"new content", "image/png")
    assert await read_all(store, KEY) == b"new content"


async def test_put_stream_of_12_mb_goes_up_in_parts_holding_about_one_part(
    store: S3BlobStore, s3_server: S3Server, settings: S3Settings
) -> None:
    tracemalloc.start()
    try:
        written = await store.put_stream(KEY, numbered_chunks(TWELVE_MB), "image/png")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    expected = f'"{digest_of_numbered(TWELVE_MB)}"'
    found = await store.stat(KEY)
    assert found is not None
    assert (written.size, written.etag) == (found.size, found.etag) == (TWELVE_MB, expected)
    content = hashlib.sha256(await read_all(store, KEY)).hexdigest()
    assert f'"{content}"' == expected
    parts = multipart_requests(s3_server, settings.bucket)
    assert [line.split("partNumber=")[1].split("&")[0] for line in parts] == ["1", "2", "3"]
    assert peak < 2 * PART < TWELVE_MB


async def test_put_stream_within_one_part_is_a_single_put(
    store: S3BlobStore, s3_server: S3Server, settings: S3Settings
) -> None:
    written = await store.put_stream(KEY, numbered_chunks(PART), "image/png")
    assert written.size == PART
    assert written.etag == f'"{digest_of_numbered(PART)}"'
    assert not [line for line in s3_server.requests_for(settings.bucket) if "uploads" in line]


async def test_put_stream_over_max_bytes_leaves_no_object_and_no_pending_upload(
    store: S3BlobStore, admin: S3Client, s3_server: S3Server, settings: S3Settings
) -> None:
    with pytest.raises(BlobTooLarge) as refused:
        await store.put_stream(KEY, numbered_chunks(TWELVE_MB), "image/png", max_bytes=11_000_000)
    assert refused.value.limit == 11_000_000
    assert len(multipart_requests(s3_server, settings.bucket)) == 2
    assert await pending_uploads(admin, settings.bucket) == []
    assert await store.stat(KEY) is None
    assert (await admin.list_objects_v2(Bucket=settings.bucket)).get("KeyCount") == 0


async def test_refused_put_stream_keeps_the_blob_already_there(store: S3BlobStore) -> None:
    await store.put(KEY, b"kept", "image/png")
    with pytest.raises(BlobTooLarge):
        await store.put_stream(KEY, numbered_chunks(2 * PART), "image/png", max_bytes=PART)
    assert await read_all(store, KEY) == b"kept"


async def test_a_failing_chunk_source_aborts_the_upload_and_its_error_propagates(
    store: S3BlobStore, admin: S3Client, settings: S3Settings
) -> None:
    async def breaking() -> AsyncIterator[bytes]:
        async for chunk in numbered_chunks(2 * PART):
            yield chunk
        raise ConnectionResetError("the client went away")

    with pytest.raises(ConnectionResetError, match="went away"):
        await store.put_stream(KEY, breaking(), "image/png")
    assert await pending_uploads(admin, settings.bucket) == []
    assert not await store.exists(KEY)


async def test_cancelling_put_stream_aborts_the_upload(
    store: S3BlobStore, admin: S3Client, s3_server: S3Server, settings: S3Settings
) -> None:
    stalled = asyncio.Event()

    async def stalling() -> AsyncIterator[bytes]:
        async for chunk in numbered_chunks(PART + CHUNK):
            yield chunk
        stalled.set()
        await asyncio.Event().wait()
        yield b""

    upload = asyncio.create_task(store.put_stream(KEY, stalling(), "image/png"))
    await asyncio.wait_for(stalled.wait(), timeout=30)
    upload.cancel()
    with pytest.raises(asyncio.CancelledError):
        await upload
    assert len(multipart_requests(s3_server, settings.bucket)) == 1
    assert await pending_uploads(admin, settings.bucket) == []
    assert not await store.exists(KEY)


async def test_list_gives_every_blob_under_a_key_prefix_past_one_page(
    store: S3BlobStore, admin: S3Client, settings: S3Settings
) -> None:
    blobs = as_blob_store(store)
    keys = {f"outputs/task-1/{n:04d}.png" for n in range(1005)}  # list_objects_v2 pages hold 1000
    for key in list(keys)[:5]:
        await blobs.put(key, b"png", "image/png")
    for key in list(keys)[5:]:  # the rest straight into the bucket: quicker
        await admin.put_object(Bucket=settings.bucket, Key=f"tenant-a/{key}", Body=b"png")
    await blobs.put("outputs/task-10/a.png", b"other task", "image/png")
    await admin.put_object(Bucket=settings.bucket, Key="tenant-b/outputs/task-1/x.png", Body=b"")
    listed = [blob async for blob in blobs.list("outputs/task-1/")]
    assert {blob.key for blob in listed} == keys
    assert all(blob.size == 3 for blob in listed)
    assert all(abs(blob.modified - datetime.now(UTC)) < timedelta(minutes=1) for blob in listed)
    assert [blob.key async for blob in blobs.list("outputs/task-10")] == ["outputs/task-10/a.png"]
    assert [blob async for blob in blobs.list("previews/")] == []


async def test_multipart_uploads_begun_before_a_moment_are_aborted(
    store: S3BlobStore, admin: S3Client, settings: S3Settings
) -> None:
    for key in ("tenant-a/outputs/t1/a.png", "tenant-a/outputs/t2/b.png"):
        await admin.create_multipart_upload(Bucket=settings.bucket, Key=key)
    later = datetime.now(UTC) + timedelta(minutes=1)
    # (moto reports a fixed past time as every upload's start, so only "before" is tested here)
    assert await store.remove_partial_writes("outputs/t1/", later) == 1
    assert await pending_uploads(admin, settings.bucket) == ["tenant-a/outputs/t2/b.png"]


async def test_delete_removes_the_blob_and_ignores_a_missing_one(store: S3BlobStore) -> None:
    await store.put(KEY, b"x", "image/png")
    await store.delete(KEY)
    await store.delete(KEY)
    assert await store.stat(KEY) is None
    assert not await store.exists(KEY)


async def test_exists_tells_a_stored_blob_from_a_missing_one(store: S3BlobStore) -> None:
    await store.put("outputs/g/a.webp", b"webp", "image/webp")
    assert await store.exists("outputs/g/a.webp")
    assert not await store.exists("outputs/g/b.webp")
    assert await store.stat("outputs/g/b.webp") is None


async def test_opening_a_missing_blob_raises_blob_not_found(store: S3BlobStore) -> None:
    with pytest.raises(BlobNotFound) as missing:
        await store.open("outputs/g/missing.png")
    assert missing.value.key == "outputs/g/missing.png"


async def test_a_presigned_url_downloads_the_blob_with_a_plain_http_client(
    store: S3BlobStore,
) -> None:
    data = random.Random(2).randbytes(50_000)
    await store.put(KEY, data, "image/png")
    url = await store.url_for(KEY, 120)
    assert url is not None and "X-Amz-Signature=" in url and "X-Amz-Expires=120" in url
    async with httpx.AsyncClient(timeout=10, trust_env=False) as http:
        response = await http.get(url)
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"] == "image/png"


async def test_presigned_urls_default_to_the_configured_lifetime(
    settings: S3Settings, session: AioSession
) -> None:
    configured = dataclasses.replace(settings, presign_seconds=900)
    async with open_s3_blob_store(configured, session=session) as blobs:
        url = await blobs.url_for(KEY)
    assert url is not None and "X-Amz-Expires=900" in url


async def test_a_presigned_url_for_more_than_a_week_is_refused(store: S3BlobStore) -> None:
    with pytest.raises(ValueError, match="presigned"):
        await store.url_for(KEY, 8 * 24 * 3600)


async def test_a_public_base_url_gives_plain_links(
    settings: S3Settings, session: AioSession
) -> None:
    public = dataclasses.replace(settings, public_base_url="https://cdn.example/img/")
    async with open_s3_blob_store(public, session=session) as blobs:
        assert await blobs.url_for(KEY, 60) == f"https://cdn.example/img/tenant-a/{KEY}"


async def test_the_etag_of_an_object_written_by_other_means_is_the_servers(
    store: S3BlobStore, admin: S3Client, settings: S3Settings
) -> None:
    put = await admin.put_object(Bucket=settings.bucket, Key=f"tenant-a/{KEY}", Body=b"foreign")
    found = await store.stat(KEY)
    assert found is not None
    assert (found.size, found.etag) == (7, put["ETag"])


async def test_a_content_type_contradicting_the_key_is_refused_and_nothing_stored(
    store: S3BlobStore,
) -> None:
    with pytest.raises(ContentTypeMismatch):
        await store.put(KEY, b"x", "image/jpeg")
    with pytest.raises(ContentTypeMismatch):
        await store.put_stream(KEY, numbered_chunks(10), "text/plain")
    assert not await store.exists(KEY)


async def test_a_missing_bucket_is_reported_as_an_s3_error(s3_server: S3Server) -> None:
    """Also opens a store the way the service does: a session of its own."""
    nowhere = S3Settings.from_url(
        "s3://no-such-bucket-here",
        endpoint_url=s3_server.url,
        access_key_id=ACCESS_KEY_ID,
        secret_access_key=SECRET_ACCESS_KEY,
    )
    async with open_s3_blob_store(nowhere) as blobs:
        with pytest.raises(S3Error) as failed:
            await blobs.put(KEY, b"x", "image/png")
    assert failed.value.code == "NoSuchBucket"
    assert failed.value.operation == "put"


BAD_KEYS = ["", "/abs.png", "../up.png", "a/../b.png", "a//b.png", ".hidden.png", "Caps.png"]


def local_refusal(key: str, root: Path) -> str:
    with pytest.raises(InvalidBlobKey) as refused:
        LocalBlobStore(root).path_for(key)
    return refused.value.reason


@pytest.mark.parametrize("key", BAD_KEYS)
async def test_keys_are_refused_as_the_local_store_refuses_them(
    store: S3BlobStore, key: str, tmp_path: Path
) -> None:
    reason = local_refusal(key, tmp_path)
    attempts = [
        store.put(key, b"x", "image/png"),
        store.put_stream(key, numbered_chunks(10), "image/png"),
        store.stat(key),
        store.open(key),
        store.delete(key),
        store.exists(key),
        store.url_for(key, 60),
    ]
    for attempt in attempts:
        with pytest.raises(InvalidBlobKey) as refused:
            await attempt
        assert refused.value.reason == reason
