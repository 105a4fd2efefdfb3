"""The intake baselines, served the way `kontext serve` serves the service (uvicorn, uvloop,
httptools, no access log): `/graphql` only reads a multipart upload; `/decode` reads it and
decodes the image's pixels once, completely, in a worker thread (as every upload must be decoded
once to be refused safely): the floor intake is measured against. `/durable` does that and then
what accepting an upload without ever losing it costs at the least: the file written and
`fsync`ed under its final name (and its folder `fsync`ed), and one row committed in PostgreSQL,
before answering. It is shown beside the target, so that a ratio missed can be read against
the part of the floor that durability adds.

    python -m bench.bare_upload --port 8123 [--database-url postgres://...] [--directory DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import io
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import uvicorn
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

FILE_FIELD = "0"
READ_PATH = "/graphql"
DECODE_PATH = "/decode"
DURABLE_PATH = "/durable"
TABLE = "bench_durable_upload"


async def read_upload(request: Request) -> bytes | None:
    async with request.form() as form:
        part = form[FILE_FIELD]
        if isinstance(part, str):
            return None
        return await part.read()


async def upload(request: Request) -> Response:
    data = await read_upload(request)
    if data is None:
        return JSONResponse({"errors": [{"message": "no file"}]}, status_code=400)
    return JSONResponse({"data": {"bytes": len(data)}})


def decoded_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image.size


async def upload_and_decode(request: Request) -> Response:
    data = await read_upload(request)
    if data is None:
        return JSONResponse({"errors": [{"message": "no file"}]}, status_code=400)
    width, height = await asyncio.to_thread(decoded_size, data)
    return JSONResponse({"data": {"bytes": len(data), "width": width, "height": height}})


def write_durably(directory: Path, data: bytes) -> str:
    """The upload under its content's name, on disk for good: written, fsynced, renamed, and
    the folder fsynced (what the service's local blob store does for each blob)."""
    digest = hashlib.sha256(data).hexdigest()
    target = directory / digest
    temporary = directory / f".{digest}.{uuid.uuid4().hex}.tmp"
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, target)
    folder = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
    return digest


def decode_and_write(directory: Path, data: bytes) -> tuple[str, tuple[int, int]]:
    size = decoded_size(data)
    return write_durably(directory, data), size


class Durable:
    """The durable floor's resources: a folder for the files and a pool for the rows."""

    def __init__(self, directory: Path, pool: asyncpg.Pool | None) -> None:
        self.directory = directory
        self.pool = pool

    async def upload(self, request: Request) -> Response:
        data = await read_upload(request)
        if data is None:
            return JSONResponse({"errors": [{"message": "no file"}]}, status_code=400)
        digest, (width, height) = await asyncio.to_thread(decode_and_write, self.directory, data)
        if self.pool is not None:
            async with self.pool.acquire() as connection:
                await connection.execute(
                    f"INSERT INTO {TABLE} (id, sha256, size) VALUES ($1, $2, $3)",
                    uuid.uuid4(),
                    digest,
                    len(data),
                )
        return JSONResponse({"data": {"bytes": len(data), "width": width, "height": height}})


async def open_pool(database_url: str | None) -> asyncpg.Pool | None:
    if database_url is None:
        return None
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=10)
    async with pool.acquire() as connection:
        await connection.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} (id uuid PRIMARY KEY, sha256 text, size integer)"
        )
    return pool


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def create_bare_app(directory: Path | None = None, database_url: str | None = None) -> Starlette:
    durable = Durable(directory or Path("."), None)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        durable.pool = await open_pool(database_url)
        try:
            yield
        finally:
            if durable.pool is not None:
                await durable.pool.close()

    routes = [
        Route(READ_PATH, upload, methods=["POST"]),
        Route(DECODE_PATH, upload_and_decode, methods=["POST"]),
        Route("/healthz", healthz),
    ]
    if directory is not None:
        routes.append(Route(DURABLE_PATH, durable.upload, methods=["POST"]))
    return Starlette(routes=routes, lifespan=lifespan)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--directory", type=Path, help="serve /durable, writing files here")
    parser.add_argument("--database-url", help="with --directory: commit one row per upload")
    args = parser.parse_args(argv)
    app = create_bare_app(args.directory, args.database_url)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_config=None)


if __name__ == "__main__":
    main()
