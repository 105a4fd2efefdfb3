"""Serves stored images at /files/<key>: streamed, with type, ETag and long cache headers.

The blob is opened before anything is answered, and its headers describe the version opened: a
blob deleted or replaced while it is sent (a running task's preview, replaced by the next) is
still sent whole, and one already gone is a 404. HEAD, and a request naming the ETag it holds,
are answered from the blob's facts alone, without opening it (on S3, a HEAD instead of a GET)."""

from __future__ import annotations

from types import MappingProxyType

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from storage.blobs import BlobInfo, BlobStore, OpenedBlob
from storage.errors import StorageError

CACHE_FOREVER = "private, max-age=31536000, immutable"
# Served bytes are images, never documents: no sniffing them into HTML, no scripts if opened.
INERT = MappingProxyType(
    {
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
)


async def serve_file(request: Request) -> Response:
    blobs: BlobStore = request.state.services.blobs
    key = request.path_params["key"]
    known = request.headers.get("if-none-match")
    try:
        if request.method == "HEAD" or known is not None:
            info = await blobs.stat(key)
            if info is None:
                return Response(status_code=404, headers=INERT)
            if info.etag == known:
                return Response(status_code=304, headers=cache_headers(info))
            if request.method == "HEAD":
                return Response(headers=content_headers(info), media_type=info.content_type)
        blob = await blobs.open(key)
    except StorageError:
        return Response(status_code=404, headers=INERT)
    return BlobResponse(blob)


def cache_headers(info: BlobInfo) -> dict[str, str]:
    return {**INERT, "ETag": info.etag, "Cache-Control": CACHE_FOREVER}


def content_headers(info: BlobInfo) -> dict[str, str]:
    return {**cache_headers(info), "Content-Length": str(info.size)}


class BlobResponse(StreamingResponse):
    """An opened blob's content, closed once sent (or once sending stops)."""

    def __init__(self, blob: OpenedBlob) -> None:
        info = blob.info
        super().__init__(blob, media_type=info.content_type, headers=content_headers(info))
        self._blob = blob

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with self._blob:
            await super().__call__(scope, receive, send)
