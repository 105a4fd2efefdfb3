"""A minimal graphql-transport-ws client over a real websocket, for subscription tests."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

PROTOCOL = "graphql-transport-ws"


class GraphQLWebSocket:
    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    async def receive(self) -> dict[str, Any]:
        while True:
            raw = await self.connection.recv()
            # Browsers' clients (graphql-ws) JSON.parse text frames; a binary one is a Blob.
            assert isinstance(raw, str), f"a message in a binary frame: {raw!r}"
            message: dict[str, Any] = json.loads(raw)
            if message["type"] == "ping":
                await self.send({"type": "pong"})
                continue
            return message

    async def subscribe(self, query: str, **variables: Any) -> AsyncIterator[dict[str, Any]]:
        """Yield each `next` payload until the server completes the operation."""
        operation = str(uuid.uuid4())
        await self.send(
            {
                "id": operation,
                "type": "subscribe",
                "payload": {"query": query, "variables": variables},
            }
        )
        while True:
            message = await self.receive()
            if message.get("id") != operation:
                continue
            if message["type"] == "complete":
                return
            if message["type"] == "error":
                yield {"errors": message["payload"]}
                return
            yield message["payload"]


@contextlib.asynccontextmanager
async def graphql_ws(
    http_url: str,
    params: dict[str, Any] | None = None,
    *,
    headers: dict[str, str] | None = None,
) -> AsyncIterator[GraphQLWebSocket]:
    """`params` go in connection_init; `headers` on the upgrade request."""
    url = http_url.replace("http://", "ws://", 1) + "/graphql"
    async with connect(
        url,
        subprotocols=[PROTOCOL],  # type: ignore[list-item]
        max_size=2**24,
        additional_headers=headers,
    ) as connection:
        client = GraphQLWebSocket(connection)
        await client.send({"type": "connection_init", "payload": params or {}})
        ack = await client.receive()
        assert ack["type"] == "connection_ack", ack
        yield client
