"""The access log: one JSON line per HTTP request and per websocket, on the `kontext.access`
logger. Only the method, the route (image keys under /files cut off), the status and the time
are kept: never headers (keys), query strings, bodies or image links."""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger("kontext.access")

FILES_PREFIX = "/files/"
LONGEST_PATH = 200


def logged_path(path: str) -> str:
    """The path as logged: an image link's unguessable key is replaced, long paths are cut."""
    if path.startswith(FILES_PREFIX):
        return FILES_PREFIX + "…"
    return path if len(path) <= LONGEST_PATH else path[:LONGEST_PATH] + "…"


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 0

        async def watched_send(message: Message) -> None:
            nonlocal status
            kind = message["type"]
            if kind == "http.response.start":
                status = message["status"]
            elif kind == "websocket.accept":
                status = 101
            elif kind == "websocket.close" and not status:
                status = 403  # refused before the upgrade was accepted
            await send(message)

        try:
            await self.app(scope, receive, watched_send)
        finally:
            is_websocket = scope["type"] == "websocket"
            logger.info(
                "%s %s %s",
                "WEBSOCKET" if is_websocket else scope["method"],
                logged_path(scope["path"]),
                status or 500,
                extra={
                    "method": "WEBSOCKET" if is_websocket else scope["method"],
                    "path": logged_path(scope["path"]),
                    "status": status or 500,
                    "duration_ms": round((time.perf_counter() - began) * 1000, 1),
                },
            )
