"""Responses and middleware that make Starlette answer like ComfyUI's aiohttp server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SERVER_HEADER = "Python/3.11 aiohttp/3.14.5"
JSON_TYPE = "application/json; charset=utf-8"
TROUBLE_TEXT = "500 Internal Server Error\n\nServer got itself in trouble"
CONTROL_PREFIX = "/_emulator"


class ServerTrouble(Exception):
    """Where ComfyUI's handler would raise: it answers a plain-text 500 and closes."""


def json_response(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data), status_code=status, headers={"content-type": JSON_TYPE})


def empty_response(status: int = 200) -> Response:
    return Response(status_code=status)


async def read_json(request: Request) -> Any:
    """aiohttp's `request.json()`: anything that is not JSON makes the handler fail."""
    body = await request.body()
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ServerTrouble("body is not JSON") from exc


def trouble_response() -> Response:
    return PlainTextResponse(TROUBLE_TEXT, status_code=500, headers={"connection": "close"})


async def on_trouble(request: Request, exc: Exception) -> Response:
    return trouble_response()


async def on_not_found(request: Request, exc: Exception) -> Response:
    """Unknown paths fall through to ComfyUI's static route (GET/HEAD only): for those an
    empty chunked 404, for other methods a 405."""
    if request.method not in ("GET", "HEAD"):
        return _method_not_allowed("GET,HEAD")
    return StreamingResponse(_nothing(), status_code=404, media_type="application/octet-stream")


async def on_method_not_allowed(request: Request, exc: Exception) -> Response:
    headers = exc.headers if isinstance(exc, HTTPException) else None
    allowed = (headers or {}).get("Allow", "")
    if request.method in ("GET", "HEAD"):
        return await on_not_found(request, exc)
    methods = sorted({*allowed.replace(" ", "").split(","), "GET", "HEAD"} - {""})
    return _method_not_allowed(",".join(methods))


def _method_not_allowed(allowed: str) -> Response:
    return PlainTextResponse("405: Method Not Allowed", status_code=405, headers={"allow": allowed})


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield b""


class ServerHeader:
    """Adds aiohttp's Server header to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"server"]
                message = {**message, "headers": [*headers, (b"server", SERVER_HEADER.encode())]}
            await send(message)

        await self.app(scope, receive, send_with_header)


class SlowResponses:
    """Delays ComfyUI's HTTP routes by the current `http_delay_seconds` fault."""

    def __init__(self, app: ASGIApp, delay: Callable[[], float]) -> None:
        self.app = app
        self.delay = delay

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        seconds = self.delay()
        if scope["type"] == "http" and seconds > 0 and not _is_control(scope):
            await asyncio.sleep(seconds)
        await self.app(scope, receive, send)


def _is_control(scope: Scope) -> bool:
    path: str = scope.get("path", "")
    return path.startswith(CONTROL_PREFIX)
