"""/files/<key>: a file is served whole as the version opened, or answered 404, even while a newer
one replaces it (a running task's preview link is replaced at every step)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from graphql_api.files import serve_file
from storage.blobs import LocalBlobStore, OpenedBlob

KEY = "previews/t1/a.jpg"


class ReplacedOnceOpened(LocalBlobStore):
    """A store whose blob is replaced by a newer one, and deleted, just after each open; it keeps
    what it opened."""

    def __init__(self, root: Path) -> None:
        super().__init__(root, chunk_size=1000)
        self.opened: list[OpenedBlob] = []

    async def open(self, key: str) -> OpenedBlob:
        blob = await super().open(key)
        self.opened.append(blob)
        await self.put(key, b"a newer preview", "image/jpeg")
        await self.delete(key)
        return blob


def with_store(app: ASGIApp, blobs: LocalBlobStore) -> ASGIApp:
    async def serve(scope: Scope, receive: Receive, send: Send) -> None:
        scope.setdefault("state", {})["services"] = SimpleNamespace(blobs=blobs)
        await app(scope, receive, send)

    return serve


@pytest.fixture
async def files(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, ReplacedOnceOpened]]:
    blobs = ReplacedOnceOpened(tmp_path)
    routes = [Route("/files/{key:path}", serve_file, methods=["GET", "HEAD"])]
    app = with_store(Starlette(routes=routes), blobs)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://files") as client:
        yield client, blobs


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


async def test_a_file_replaced_and_deleted_while_served_is_sent_whole_as_opened(
    files: tuple[httpx.AsyncClient, ReplacedOnceOpened],
) -> None:
    client, blobs = files
    data = os.urandom(10_000)
    stored = await blobs.put(KEY, data, "image/jpeg")
    response = await client.get(f"/files/{KEY}")
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-length"] == str(len(data))
    assert response.headers["etag"] == stored.etag
    assert response.headers["content-type"] == "image/jpeg"
    gone = await client.get(f"/files/{KEY}")
    assert gone.status_code == 404
    assert [blob.closed for blob in blobs.opened] == [True]


async def test_head_and_not_modified_answer_from_the_facts_without_opening_the_file(
    files: tuple[httpx.AsyncClient, ReplacedOnceOpened],
) -> None:
    client, blobs = files
    before = open_descriptors()
    stored = await blobs.put(KEY, b"0123456789", "image/jpeg")
    head = await client.head(f"/files/{KEY}")
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-length"] == "10"
    assert head.headers["etag"] == stored.etag
    assert head.headers["content-type"] == "image/jpeg"
    cached = await client.get(f"/files/{KEY}", headers={"If-None-Match": stored.etag})
    assert (cached.status_code, cached.content) == (304, b"")
    assert cached.headers["etag"] == stored.etag
    assert blobs.opened == []  # answered from the blob's facts: nothing opened
    assert open_descriptors() == before
