"""A closed-loop HTTP/1.1 load generator: N keep-alive connections, each sending its next request
when the previous answer is complete. Requests are plain bytes and answers are read by length,
so the client costs far less per request than any server under test."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

Check = Callable[[int, bytes], bool]
BodyFactory = Callable[[], bytes]
CONNECT_TIMEOUT = 10.0
REQUEST_TIMEOUT = 60.0


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str | None = None
    elapsed: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def fail(self, reason: str) -> None:
        self.errors += 1
        if self.first_error is None:
            self.first_error = reason[:500]


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    path: str
    content_type: bytes = b"application/json"
    headers: tuple[tuple[bytes, bytes], ...] = ()

    def request(self, body: bytes) -> bytes:
        lines = [
            b"POST " + self.path.encode() + b" HTTP/1.1",
            b"Host: " + f"{self.host}:{self.port}".encode(),
            b"Content-Type: " + self.content_type,
            b"Content-Length: " + str(len(body)).encode(),
            *(name + b": " + value for name, value in self.headers),
        ]
        return b"\r\n".join(lines) + b"\r\n\r\n" + body


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        parts.append(await reader.readexactly(size + 2))
        if size == 0:
            return b"".join(part[:-2] for part in parts)


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = -1
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        lowered = name.strip().lower()
        if lowered == b"content-length":
            length = int(value)
        elif lowered == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        return status, await _read_chunked(reader)
    if length < 0:
        raise ValueError("answer without Content-Length")
    return status, await reader.readexactly(length)


async def _connection(
    target: Target, make_body: BodyFactory, check: Check, deadline: float, result: LoadResult
) -> None:
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(target.host, target.port, limit=2**24), CONNECT_TIMEOUT
    )
    try:
        while time.monotonic() < deadline:
            payload = target.request(make_body())
            started = time.monotonic()
            writer.write(payload)
            status, body = await asyncio.wait_for(_read_response(reader), REQUEST_TIMEOUT)
            if check(status, body):
                result.latencies.append(time.monotonic() - started)
            else:
                result.fail(f"{status}: {body[:300]!r}")
    finally:
        writer.close()
        await asyncio.gather(writer.wait_closed(), return_exceptions=True)


async def run_load(
    target: Target, make_body: BodyFactory, check: Check, *, connections: int, seconds: float
) -> LoadResult:
    """Keep `connections` requests in flight for `seconds` (each finishes its last request)."""
    result = LoadResult()
    started = time.monotonic()
    deadline = started + seconds
    await asyncio.gather(
        *(_connection(target, make_body, check, deadline, result) for _ in range(connections))
    )
    result.elapsed = time.monotonic() - started
    return result


def graphql_ok(status: int, body: bytes) -> bool:
    return status == 200 and b'"errors"' not in body and body.startswith(b'{"data"')
