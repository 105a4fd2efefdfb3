"""A loopback HTTP server that answers like recorded ComfyUI 0.8.0 exchanges.

Each (method, path) gets a recorded exchange (`play`) or a hand-made answer (`answer`); the
server replays its status, headers and body and keeps every request it received.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.comfy.recorded import saved
from tests.support.server import serve_asgi

JSON = "application/json; charset=utf-8"


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Replay:
    """Answers each (method, path) with a recorded exchange; 404 with no body otherwise."""

    def __init__(self) -> None:
        self.answers: dict[tuple[str, str], tuple[int, dict[str, str], bytes]] = {}
        self.received: list[Received] = []

    @property
    def requests(self) -> list[tuple[str, str]]:
        return [(request.method, request.path) for request in self.received]

    def answer(
        self, method: str, path: str, status: int, body: Any, headers: dict[str, str] | None = None
    ) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        media = {"content-type": JSON} if raw and not isinstance(body, bytes) else {}
        self.answers[(method, path)] = (status, headers if headers is not None else media, raw)

    def play(self, record: dict[str, Any], path: str | None = None) -> None:
        """Answer like the recorded exchange: the same status, headers and body."""
        path = path or record["path"].split("?")[0]
        self.answers[(record["method"], path)] = (
            record["status"],
            dict(record["headers"]),
            _recorded_body(record["body"]),
        )

    async def handle(self, request: Request) -> Response:
        self.received.append(
            Received(
                method=request.method,
                path=request.url.path,
                query=request.url.query,
                headers=dict(request.headers),
                body=await request.body(),
            )
        )
        status, headers, body = self.answers.get((request.method, request.url.path), (404, {}, b""))
        return Response(body, status_code=status, headers=headers)


def _recorded_body(body: Any) -> bytes:
    if isinstance(body, dict) and set(body) == {"saved", "bytes"}:
        return saved(body["saved"])
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body).encode()


@contextlib.asynccontextmanager
async def serve_replay(replay: Replay) -> AsyncIterator[str]:
    """The replay server on a free loopback port; yields its base URL."""
    app = Starlette(routes=[Route("/{path:path}", replay.handle, methods=["GET", "POST"])])
    async with serve_asgi(app) as url:
        yield url
