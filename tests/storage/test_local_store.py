"""LocalBlobStore: opening one version of a blob; listing the blobs under a key prefix, without
temporary files."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage.errors import BlobNotFound
from storage.local import LocalBlobStore

KEY = "previews/t1/a.jpg"


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


async def test_an_opened_blob_is_read_whole_after_it_is_deleted(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path, chunk_size=1000)
    data = os.urandom(10_000)
    stored = await blobs.put(KEY, data, "image/jpeg")
    async with await blobs.open(KEY) as blob:
        await blobs.delete(KEY)
        assert blob.info == stored
        assert await blob.read() == data
    assert not await blobs.exists(KEY)


async def test_an_opened_blob_is_the_version_opened_when_it_is_replaced(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path)
    first = await blobs.put(KEY, b"first version", "image/jpeg")
    async with await blobs.open(KEY) as blob:
        second = await blobs.put(KEY, b"second, longer version", "image/jpeg")
        assert (blob.info.size, blob.info.etag) == (first.size, first.etag)
        assert await blob.read() == b"first version"
    async with await blobs.open(KEY) as blob:
        assert (blob.info.size, blob.info.etag) == (second.size, second.etag)
        assert await blob.read() == b"second, longer version"


async def test_a_file_written_by_another_process_is_hashed_when_opened(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path)
    await blobs.put(KEY, b"ours", "image/jpeg")
    (tmp_path / "previews" / "t1" / "a.jpg").write_bytes(b"theirs, written in place")
    async with await blobs.open(KEY) as blob:
        assert blob.info == await blobs.stat(KEY)
        assert blob.info.size == len(b"theirs, written in place")
        assert await blob.read() == b"theirs, written in place"


async def test_opening_a_missing_blob_raises_at_once_and_closing_releases_the_file(
    tmp_path: Path,
) -> None:
    blobs = LocalBlobStore(tmp_path)
    with pytest.raises(BlobNotFound) as missing:
        await blobs.open(KEY)
    assert missing.value.key == KEY
    (tmp_path / "previews" / "t1" / "a.jpg").mkdir(parents=True)
    with pytest.raises(BlobNotFound):
        await blobs.open(KEY)
    await blobs.put("previews/t1/b.jpg", b"data", "image/jpeg")
    before = open_descriptors()
    unread = await blobs.open("previews/t1/b.jpg")
    assert open_descriptors() == before + 1
    async with unread:
        pass
    await unread.close()
    assert open_descriptors() == before


async def test_list_gives_the_blobs_whose_keys_start_with_the_prefix(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path)
    for key in ("outputs/t1/a.png", "outputs/t1/a.thumb.webp", "outputs/t10/b.png", "inputs/c.png"):
        await blobs.put(key, b"data", "image/png" if key.endswith("png") else "image/webp")
    (tmp_path / "outputs" / "t1" / ".a.png.0123.tmp").write_bytes(b"half")
    listed = [blob async for blob in blobs.list("outputs/t1/")]
    assert sorted(blob.key for blob in listed) == ["outputs/t1/a.png", "outputs/t1/a.thumb.webp"]
    assert all(blob.size == 4 for blob in listed)
    assert all(abs(blob.modified - datetime.now(UTC)) < timedelta(minutes=1) for blob in listed)
    assert sorted([b.key async for b in blobs.list("outputs/t1")]) == [
        "outputs/t1/a.png",
        "outputs/t1/a.thumb.webp",
        "outputs/t10/b.png",
    ]
    assert len([b async for b in blobs.list("")]) == 4
    assert [b async for b in blobs.list("previews/")] == []


async def test_partial_writes_begun_before_a_moment_are_removed(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path)
    await blobs.put("outputs/t1/a.png", b"data", "image/png")
    folder = tmp_path / "outputs" / "t1"
    old, fresh = folder / ".b.png.00aa.tmp", folder / ".c.png.00bb.tmp"
    elsewhere = tmp_path / "outputs" / "t2" / ".d.png.00cc.tmp"
    elsewhere.parent.mkdir()
    for path in (old, fresh, elsewhere):
        path.write_bytes(b"half")
    os.utime(old, (0, 0))
    os.utime(elsewhere, (0, 0))
    assert (
        await blobs.remove_partial_writes("outputs/t1/", datetime.now(UTC) - timedelta(hours=1))
        == 1
    )
    assert not old.exists() and fresh.exists() and elsewhere.exists()
    assert await blobs.exists("outputs/t1/a.png")


async def test_a_known_digest_is_the_etag_without_hashing_again(tmp_path: Path) -> None:
    """The caller's SHA-256 is taken as it is: a digest that is not the data's shows it is not
    computed again (intake passes the one its check computed)."""
    blobs = LocalBlobStore(tmp_path)
    data = os.urandom(5_000)
    given = "ab" * 32
    stored = await blobs.put(KEY, data, "image/jpeg", sha256=given)
    assert stored.etag == f'"{given}"'
    async with await blobs.open(KEY) as blob:
        assert blob.info.etag == stored.etag
        assert await blob.read() == data
    hashed = await blobs.put(KEY, data, "image/jpeg")
    assert hashed.etag == f'"{hashlib.sha256(data).hexdigest()}"'
