"""The intake baseline: a bare Starlette endpoint that only reads a multipart upload, served the
way `kontext serve` serves the service (uvicorn, uvloop, httptools, no access log).

    python -m bench.bare_upload --port 8123
"""

from __future__ import annotations

import argparse

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

FILE_FIELD = "0"


async def upload(request: Request) -> Response:
    async with request.form() as form:
        part = form[FILE_FIELD]
        if isinstance(part, str):
            return JSONResponse({"errors": [{"message": "no file"}]}, status_code=400)
        size = len(await part.read())
    return JSONResponse({"data": {"bytes": size}})


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def create_bare_app() -> Starlette:
    return Starlette(
        routes=[Route("/graphql", upload, methods=["POST"]), Route("/healthz", healthz)]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    uvicorn.run(create_bare_app(), host="127.0.0.1", port=args.port, log_config=None)


if __name__ == "__main__":
    main()
