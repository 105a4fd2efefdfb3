"""The intake baselines, served the way `kontext serve` serves the service (uvicorn, uvloop,
httptools, no access log): `/graphql` only reads a multipart upload; `/decode` reads it and
decodes the image's pixels once, completely, in a worker thread (as every upload must be decoded
once to be refused safely): the floor intake is measured against.

    python -m bench.bare_upload --port 8123
"""

from __future__ import annotations

import argparse
import asyncio
import io

import uvicorn
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

FILE_FIELD = "0"
READ_PATH = "/graphql"
DECODE_PATH = "/decode"


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


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def create_bare_app() -> Starlette:
    return Starlette(
        routes=[
            Route(READ_PATH, upload, methods=["POST"]),
            Route(DECODE_PATH, upload_and_decode, methods=["POST"]),
            Route("/healthz", healthz),
        ]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    uvicorn.run(create_bare_app(), host="127.0.0.1", port=args.port, log_config=None)


if __name__ == "__main__":
    main()
