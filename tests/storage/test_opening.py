"""open_storage: the local folder by default, its /files links and its readiness check."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.errors import InvalidBlobKey, StorageError
from storage.local import LocalBlobStore
from storage.opening import open_storage

KEY = "inputs/ab/photo.png"


async def test_local_storage_links_through_the_api_route(tmp_path: Path) -> None:
    async with open_storage(tmp_path / "files", None, served_route="/files/") as storage:
        assert isinstance(storage.blobs, LocalBlobStore)
        url = await storage.links.url_for(KEY, "https://api.example")
        assert url == f"https://api.example/files/{KEY}"
        with pytest.raises(InvalidBlobKey):
            await storage.links.url_for("../secrets", "https://api.example")


async def test_a_local_folder_is_ready_when_writable_or_not_made_yet(tmp_path: Path) -> None:
    async with open_storage(tmp_path / "later", None, served_route="/files") as storage:
        await storage.probe.check()
        await storage.blobs.put(KEY, b"\x89PNG", "image/png")
        await storage.probe.check()


async def test_a_file_where_the_folder_should_be_is_reported(tmp_path: Path) -> None:
    (tmp_path / "files").write_bytes(b"")
    async with open_storage(tmp_path / "files", None, served_route="/files") as storage:
        with pytest.raises(StorageError, match="is not a directory"):
            await storage.probe.check()
