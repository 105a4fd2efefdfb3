"""A webhook receiver for tests (a real HTTP server on loopback that records what it is sent and
answers the statuses it is told to), and a verifier written from the Standard Webhooks
specification alone, independent of the service's own signing code."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import random
import time
from collections import deque
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

TEST_SECRET = "whsec_" + base64.b64encode(b"a test secret of 32 bytes exactly").decode()
TOLERANCE_SECONDS = 300


class InvalidSignature(Exception):
    pass


def verify(secret: str, headers: Mapping[str, str], body: bytes, now: float) -> dict[str, Any]:
    """The specification's receiver check: the HMAC-SHA256 of `id.timestamp.body` with the
    base64 key after `whsec_`, one of the space-separated `v1,` signatures, a fresh timestamp."""
    message_id = headers["webhook-id"]
    timestamp = headers["webhook-timestamp"]
    if abs(now - int(timestamp)) > TOLERANCE_SECONDS:
        raise InvalidSignature("timestamp too far from now")
    key = base64.b64decode(secret.split("_", 1)[1])
    expected = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    for candidate in headers["webhook-signature"].split(" "):
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(base64.b64decode(value), expected):
            parsed: dict[str, Any] = json.loads(body)
            return parsed
    raise InvalidSignature("no v1 signature matches")


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]

    def verified(self, secret: str = TEST_SECRET) -> dict[str, Any]:
        return verify(secret, self.headers, self.body, self.at)


@dataclass
class Receiver:
    """Answers each POST with the next of `answers` (then 200, or 500 for a `flaky` share drawn
    from `rng`) and records it."""

    answers: deque[int] = field(default_factory=deque)
    received: list[Received] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    url: str = ""
    flaky: float = 0.0
    rng: random.Random = field(default_factory=random.Random)
    refused: int = 0

    def answer(self, statuses: Iterable[int]) -> None:
        self.answers.extend(statuses)

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        self.received.append(Received(dict(request.headers), body, time.time()))
        self.arrived.set()
        if self.answers:
            return Response(status_code=self.answers.popleft())
        if self.rng.random() < self.flaky:
            self.refused += 1
            return Response(status_code=500)
        return Response(status_code=200)

    async def wait_for(self, count: int, timeout: float = 20) -> list[Received]:
        async with asyncio.timeout(timeout):
            while len(self.received) < count:
                self.arrived.clear()
                await self.arrived.wait()
        return self.received

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/hook", self.handle, methods=["POST"])])


@contextlib.asynccontextmanager
async def running_receiver(port: int = 0) -> AsyncIterator[Receiver]:
    """A receiver at http://127.0.0.1:<port>/hook (a free port when 0)."""
    receiver = Receiver()
    config = uvicorn.Config(receiver.app(), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("the receiver stopped before it started")
        await asyncio.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()[1]
    receiver.url = f"http://127.0.0.1:{bound}/hook"
    try:
        yield receiver
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=30)
