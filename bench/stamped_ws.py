"""Websocket clients that stamp each text frame with the monotonic clock the moment its bytes
reach this process (before any parsing), and keep it raw: cheap enough for a thousand sockets.

CLOCK_MONOTONIC is one clock for every process of the machine, so stamps taken here compare
with stamps taken by a server in another process. Like browsers, they offer permessage-deflate.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.frames import Frame, Opcode
from websockets.protocol import Event
from websockets.typing import Subprotocol


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """This process's cyclic garbage collector off while its sockets stamp frames, after one
    collection (as `timeit` times): a pass over a thousand subscribers' client state takes
    40-60 ms here and would delay every stamp taken behind it, as if the relay had. The
    clients stand for browsers, each in a process of its own."""
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


GRAPHQL_TRANSPORT_WS = Subprotocol("graphql-transport-ws")
COMPLETE_MARK = b'"type":"complete"'
OPEN_TIMEOUT = 30.0


class StampedConnection(ClientConnection):
    """Once `capture()` is called, text frames go to `frames` as (stamp, bytes) and binary ones
    are only counted: nothing reaches recv() (whose queue would fill and pause reading)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.frames: list[tuple[float, bytes]] = []
        self.capturing = False
        self.completes = 0
        self.binary_frames = 0
        self.expected_completes = 0
        self.all_complete = asyncio.Event()
        self._arrival = 0.0

    def capture(self, expected_completes: int = 0) -> None:
        self.capturing = True
        self.expected_completes = expected_completes

    def data_received(self, data: bytes) -> None:
        self._arrival = time.monotonic()
        super().data_received(data)

    def process_event(self, event: Event) -> None:
        if self.capturing and isinstance(event, Frame) and event.opcode is Opcode.BINARY:
            self.binary_frames += 1
            return
        if self.capturing and isinstance(event, Frame) and event.opcode is Opcode.TEXT:
            payload = bytes(event.data)
            self.frames.append((self._arrival, payload))
            if COMPLETE_MARK in payload:
                self.completes += 1
                if self.expected_completes and self.completes >= self.expected_completes:
                    self.all_complete.set()
            return
        super().process_event(event)

    def decoded(self) -> list[tuple[float, dict[str, Any]]]:
        return [(stamp, json.loads(payload)) for stamp, payload in self.frames]


async def open_stamped(url: str, subprotocol: Subprotocol | None = None) -> StampedConnection:
    connection = await connect(
        url,
        subprotocols=[subprotocol] if subprotocol else None,
        create_connection=StampedConnection,
        max_size=2**26,
        open_timeout=OPEN_TIMEOUT,
        ping_interval=None,
    )
    assert isinstance(connection, StampedConnection)
    return connection


async def open_graphql(http_url: str, params: dict[str, Any] | None = None) -> StampedConnection:
    """A graphql-transport-ws connection past its connection_ack."""
    ws_url = http_url.replace("http://", "ws://", 1) + "/graphql"
    connection = await open_stamped(ws_url, GRAPHQL_TRANSPORT_WS)
    await connection.send(json.dumps({"type": "connection_init", "payload": params or {}}))
    async with asyncio.timeout(OPEN_TIMEOUT):
        ack = json.loads(await connection.recv())
    if ack.get("type") != "connection_ack":
        await connection.close()
        raise ConnectionError(f"no connection_ack: {ack}")
    return connection


async def subscribe(connection: StampedConnection, query: str, **variables: Any) -> str:
    operation = uuid.uuid4().hex
    payload = {"query": query, "variables": variables}
    message = {"id": operation, "type": "subscribe", "payload": payload}
    await connection.send(json.dumps(message))
    return operation


async def open_comfyui(ws_url: str, client_id: str) -> StampedConnection:
    """A raw ComfyUI client socket announcing preview metadata support, as the service's does."""
    connection = await open_stamped(f"{ws_url}?clientId={client_id}")
    hello = {"type": "feature_flags", "data": {"supports_preview_metadata": True}}
    await connection.send(json.dumps(hello))
    connection.capture()
    return connection
