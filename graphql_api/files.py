"""Serves stored images at /files/<key>: streamed, with type, ETag and long cache headers.

The blob is opened before anything is answered, and its headers describe the version opened: a
blob deleted or replaced while it is sent (a running task's preview, replaced by the next) is
still sent whole, and one already gone is a 404. A request naming the ETag it holds is answered
304 from the blob's facts alone, without opening it (on S3, a HEAD instead of a GET)."""

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
    try:
        known = request.headers.get("if-none-match")
        if known is not None and (info := await blobs.stat(key)) is not None and info.etag == known:
            return Response(status_code=304, headers=cache_headers(info))
        blob = await blobs.open(key)
    except StorageError:
        return Response(status_code=404, headers=INERT)
    headers = {**cache_headers(blob.info), "Content-Length": str(blob.info.size)}
    return BlobResponse(blob, headers)


def cache_headers(info: BlobInfo) -> dict[str, str]:
    return {**INERT, "ETag": info.etag, "Cache-Control": CACHE_FOREVER}


class BlobResponse(StreamingResponse):
    """An opened blob's content, closed once sent (or once sending stops); headers only for HEAD."""

    def __init__(self, blob: OpenedBlob, headers: dict[str, str]) -> None:
        super().__init__(blob, media_type=blob.info.content_type, headers=headers)
        self._blob = blob

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with self._blob:
            if scope.get("method") == "HEAD":
                await send(
                    {"type": "http.response.start", "status": 200, "headers": self.raw_headers}
                )
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            await super().__call__(scope, receive, send)
