"""The /ws endpoint: status on connect, replay on reconnect, feature flags, outgoing frames."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid

from starlette.websockets import WebSocket, WebSocketDisconnect

from comfy.emulator.hub import Connection
from comfy.emulator.messenger import Messenger
from comfy.emulator.state import Emulator

logger = logging.getLogger(__name__)


async def websocket_endpoint(websocket: WebSocket) -> None:
    emulator: Emulator = websocket.app.state.emulator
    await websocket.accept()
    sid = websocket.query_params.get("clientId") or uuid.uuid4().hex
    connection = Connection(sid)
    emulator.hub.attach(connection)
    _greet(emulator, sid)
    try:
        await _serve(websocket, connection, emulator.messenger)
    finally:
        emulator.hub.detach(connection)


def _greet(emulator: Emulator, sid: str) -> None:
    session = emulator.session
    emulator.messenger.status(session.queue.remaining(), sid)
    pointer = session.pointer
    if pointer.client_id == sid and pointer.last_node_id is not None:
        emulator.messenger.executing_replay(pointer.last_node_id, sid)


async def _serve(websocket: WebSocket, connection: Connection, messenger: Messenger) -> None:
    """Runs until the client leaves or the socket is dropped; a drop returns without a close
    frame, so the server closes the TCP connection and the client sees code 1006."""
    tasks = {
        asyncio.create_task(_send_frames(websocket, connection)),
        asyncio.create_task(_receive(websocket, connection, messenger)),
        asyncio.create_task(connection.dropped.wait()),
    }
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks)


async def _send_frames(websocket: WebSocket, connection: Connection) -> None:
    while True:
        frame = await connection.frames.get()
        try:
            if isinstance(frame, str):
                await websocket.send_text(frame)
            else:
                await websocket.send_bytes(frame)
        except (WebSocketDisconnect, OSError, RuntimeError):
            return


async def _receive(websocket: WebSocket, connection: Connection, messenger: Messenger) -> None:
    first_text = True
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text")
        if text is None:
            continue
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            logger.warning("invalid JSON from websocket client %s", connection.sid)
            continue
        if first_text and isinstance(data, dict) and data.get("type") == "feature_flags":
            flags = data.get("data", {})
            connection.feature_flags = flags if isinstance(flags, dict) else {}
            messenger.feature_flags(connection.sid)
        first_text = False
