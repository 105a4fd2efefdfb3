"""POST /upload/image and GET /view."""

from __future__ import annotations

import asyncio
import mimetypes
import os
from email.utils import formatdate
from pathlib import Path

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from comfy.emulator import imaging
from comfy.emulator.files import ANNOTATION, FOLDER_TYPES, UnknownFolderType
from comfy.emulator.http_util import ServerTrouble, empty_response, json_response
from comfy.emulator.routes_prompt import emulator_of

DOWNLOAD_ONLY = {
    "text/html",
    "text/html-sandboxed",
    "application/xhtml+xml",
    "text/javascript",
    "text/css",
}


async def upload_image(request: Request) -> Response:
    files = emulator_of(request).files
    form = await request.form()
    image = form.get("image")
    if not isinstance(image, UploadFile) or not image.filename:
        return empty_response(400)
    content = await image.read()
    overwrite = form.get("overwrite") in ("true", "1")
    kind, subfolder = _text(form.get("type")), _text(form.get("subfolder")) or ""
    try:
        stored = await asyncio.to_thread(
            files.store_upload, content, image.filename, subfolder, kind, overwrite
        )
    except UnknownFolderType as exc:
        raise ServerTrouble(f"unknown upload type {exc}") from exc
    if stored is None:
        return empty_response(400)
    return json_response({"name": stored.name, "subfolder": stored.subfolder, "type": stored.kind})


async def view(request: Request) -> Response:
    query = request.query_params
    if "filename" not in query:
        return empty_response(404)
    filename, kind = _annotated(query["filename"], query.get("type", "output"))
    if not filename or filename[0] == "/" or ".." in filename or kind not in FOLDER_TYPES:
        return empty_response(400)
    folder = emulator_of(request).files.folder(kind)
    if "subfolder" in query:
        inside = emulator_of(request).files.inside(folder, query["subfolder"])
        if inside is None:
            return empty_response(403)
        folder = inside
    path = folder / os.path.basename(filename)
    if not await asyncio.to_thread(path.is_file):
        return empty_response(404)
    if "preview" in query:
        return await _preview(path, query["preview"], query.get("channel", ""))
    return await _file(request, path)


async def _preview(path: Path, preview: str, channel: str) -> Response:
    parts = preview.split(";")
    image_format = parts[0] if parts[0] in ("webp", "jpeg") and "a" not in channel else "webp"
    quality = int(parts[-1]) if parts[-1].isdigit() else 90
    body = await asyncio.to_thread(imaging.recode, path, image_format, quality)
    headers = {"content-disposition": f'filename="{path.name}"'}
    return Response(body, media_type=f"image/{image_format}", headers=headers)


async def _file(request: Request, path: Path) -> Response:
    body, stat = await asyncio.to_thread(lambda: (path.read_bytes(), path.stat()))
    etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"etag": etag})
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    headers = {
        "content-disposition": f'filename="{path.name}"',
        "content-type": "application/octet-stream"
        if content_type in DOWNLOAD_ONLY
        else content_type,
        "etag": etag,
        "last-modified": formatdate(stat.st_mtime, usegmt=True),
        "content-length": str(len(body)),
        "accept-ranges": "bytes",
    }
    return Response(body, headers=headers)


def _annotated(filename: str, kind: str) -> tuple[str, str]:
    match = ANNOTATION.match(filename)
    return (match["name"], match["kind"]) if match else (filename, kind)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
