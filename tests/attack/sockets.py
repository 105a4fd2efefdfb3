"""Websocket exchanges for the subscription attacks (run on the service's loop)."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from tests.support.graphql_ws import GraphQLWebSocket

TRANSPORT_WS = Subprotocol("graphql-transport-ws")
SENTINEL = "subscription($id: ID!) { taskProgress(id: $id) { sequence kind } }"
WAIT = 10.0
# graphql-transport-ws closes a socket on a protocol violation with these codes.
PROTOCOL_CLOSE_CODES = frozenset({1000, 4400, 4401, 4403, 4406, 4408, 4409, 4429})


@dataclass
class Exchange:
    """Everything the server sent back, and how the socket ended (None: still open)."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    close_code: int | None = None


async def subscribe_with_sentinel(
    ws: GraphQLWebSocket, payload: dict[str, Any], sentinel_task: str
) -> list[dict[str, Any]]:
    """Subscribe with `payload`, then with a sentinel that answers at once; return every message
    received until the sentinel's first event, then complete both operations."""
    operation, sentinel = str(uuid.uuid4()), str(uuid.uuid4())
    await ws.send({"id": operation, "type": "subscribe", "payload": payload})
    sentinel_payload = {"query": SENTINEL, "variables": {"id": sentinel_task}}
    await ws.send({"id": sentinel, "type": "subscribe", "payload": sentinel_payload})
    messages = []
    while True:
        message = await asyncio.wait_for(ws.receive(), WAIT)
        messages.append(message)
        if message.get("id") == sentinel and message.get("type") == "next":
            break
    for done in (operation, sentinel):
        await ws.send({"id": done, "type": "complete"})
    return messages


async def raw_exchange(
    http_url: str, message: str, sentinel_task: str, repeat: int = 1
) -> Exchange:
    """Open a socket, initialise it, send one raw text frame, then a sentinel subscription; the
    server must answer the sentinel or close the socket with a protocol code."""
    url = http_url.replace("http://", "ws://", 1) + "/graphql"
    exchange = Exchange()
    async with connect(url, subprotocols=[TRANSPORT_WS]) as connection:
        await connection.send(json.dumps({"type": "connection_init", "payload": {}}))
        try:
            await connection.recv()
            for _ in range(repeat):
                await connection.send(message)
            sentinel = {"query": SENTINEL, "variables": {"id": sentinel_task}}
            await connection.send(
                json.dumps({"id": "sentinel", "type": "subscribe", "payload": sentinel})
            )
            while True:
                received = json.loads(await asyncio.wait_for(connection.recv(), WAIT))
                exchange.messages.append(received)
                if received.get("id") == "sentinel" and received.get("type") == "next":
                    return exchange
        except ConnectionClosed:
            exchange.close_code = connection.close_code
    return exchange


LEGACY_WS = Subprotocol("graphql-ws")
LEGACY_CLOSE_CODES = frozenset({1000, 1002, 1011, 4400, 4401})


async def legacy_exchange(http_url: str, message: str, sentinel_task: str) -> Exchange:
    """The same on the legacy graphql-ws protocol (keep-alive `ka` messages are skipped)."""
    url = http_url.replace("http://", "ws://", 1) + "/graphql"
    exchange = Exchange()
    async with connect(url, subprotocols=[LEGACY_WS]) as connection:
        await connection.send(json.dumps({"type": "connection_init", "payload": {}}))
        try:
            await connection.send(message)
            sentinel = {"query": SENTINEL, "variables": {"id": sentinel_task}}
            await connection.send(
                json.dumps({"id": "sentinel", "type": "start", "payload": sentinel})
            )
            while True:
                received = json.loads(await asyncio.wait_for(connection.recv(), WAIT))
                if received.get("type") in ("ka", "connection_ack"):
                    continue
                exchange.messages.append(received)
                if received.get("id") == "sentinel" and received.get("type") == "data":
                    return exchange
        except ConnectionClosed:
            exchange.close_code = connection.close_code
    return exchange
