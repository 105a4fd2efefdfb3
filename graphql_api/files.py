"""Serves stored images at /files/<key>: streamed, with type, ETag and long cache headers."""

from __future__ import annotations

from types import MappingProxyType

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from storage.blobs import BlobStore
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
        info = await blobs.stat(key)
    except StorageError:
        info = None
    if info is None:
        return Response(status_code=404, headers=INERT)
    headers = {**INERT, "ETag": info.etag, "Cache-Control": CACHE_FOREVER}
    if request.headers.get("if-none-match") == info.etag:
        return Response(status_code=304, headers=headers)
    headers["Content-Length"] = str(info.size)
    return StreamingResponse(blobs.open(key), media_type=info.content_type, headers=headers)
