"""The configured blob storage, opened once by the application: a local folder (the default) or
an S3-compatible bucket, with the links that download its blobs and a check of its reachability.

    async with open_storage(Path("data/files"), s3_settings_or_none, served_route="/files") as s:
        await s.blobs.put(key, data, "image/png")
        url = await s.links.url_for(key, "https://api.example")
        await s.probe.check()  # StorageError when unreachable
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from storage.errors import StorageError
from storage.links import BlobLinks, ServedLinks, StoreLinks
from storage.local import LocalBlobStore
from storage.s3 import open_s3_blob_store
from storage.s3_settings import S3Settings
from storage.store import BlobStore


class StorageProbe(Protocol):
    async def check(self) -> None:
        """Return when the storage can be used; raise StorageError saying why not otherwise."""
        ...


@dataclass(frozen=True)
class Storage:
    blobs: BlobStore
    links: BlobLinks
    probe: StorageProbe


class FolderProbe:
    """A local folder is usable when it is a writable directory, or does not exist yet (the
    store creates it on the first write)."""

    def __init__(self, root: Path) -> None:
        self._root = root

    async def check(self) -> None:
        problem = await asyncio.to_thread(folder_problem, self._root)
        if problem is not None:
            raise StorageError(f"storage folder {str(self._root)!r} {problem}")


def folder_problem(root: Path) -> str | None:
    if not root.exists():
        return None
    if not root.is_dir():
        return "is not a directory"
    if not os.access(root, os.W_OK | os.X_OK):
        return "is not writable"
    return None


@asynccontextmanager
async def open_storage(
    local_root: Path, s3: S3Settings | None, *, served_route: str
) -> AsyncIterator[Storage]:
    """The S3-compatible bucket when `s3` is given (its client closed on exit), else the folder
    `local_root` whose blobs the API serves at `served_route`. Nothing is contacted here: an
    unreachable bucket shows in `probe.check()` and in the requests that need it."""
    if s3 is None:
        yield Storage(
            LocalBlobStore(local_root), ServedLinks(served_route), FolderProbe(local_root)
        )
        return
    async with open_s3_blob_store(s3) as store:
        yield Storage(store, StoreLinks(store), store)
