"""A resolver that answers from a table and transports that record (or forbid) connections."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence

import httpx

from storage.netguard import IPAddress


class TableResolver:
    """Answers from a fixed table; records every question."""

    def __init__(self, answers: Mapping[str, Sequence[str]] | None = None) -> None:
        self.answers = dict(answers or {})
        self.asked: list[str] = []

    async def resolve(self, host: str, port: int) -> Sequence[IPAddress]:
        self.asked.append(host)
        return [ipaddress.ip_address(text) for text in self.answers.get(host, ())]


class NoConnections(httpx.AsyncBaseTransport):
    """Fails the test if any request reaches the transport (where connections would be made)."""

    def __init__(self) -> None:
        self.attempts: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.attempts.append(request)
        raise AssertionError(f"a connection was attempted to {request.url}")


class RecordingTransport(httpx.AsyncHTTPTransport):
    """The real network transport, noting every request it is asked to send."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await super().handle_async_request(request)
