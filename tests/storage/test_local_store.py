"""LocalBlobStore.list: the blobs under a key prefix, without temporary files."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from storage.local import LocalBlobStore


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
