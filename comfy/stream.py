"""ONE long-lived websocket per backend: ComfyUI sends a prompt's events only to the socket of the
client id that queued it, drops events while no socket is connected, and forgets everything on a
restart — so every (re)connect is announced to the handler, which reconciles."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from typing import Protocol

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from comfy.protocol import (
    FEATURE_FLAGS_HELLO,
    PreviewFrame,
    ProtocolError,
    ServerMessage,
    parse_message,
    parse_preview,
)

logger = logging.getLogger(__name__)

MAX_FRAME = 64 * 1024 * 1024


class StreamHandler(Protocol):
    async def on_connected(self) -> None: ...

    async def on_message(self, message: ServerMessage) -> None: ...

    async def on_preview(self, frame: PreviewFrame) -> None: ...

    async def on_disconnected(self, reason: str) -> None: ...


class ComfyEventStream:
    def __init__(
        self,
        ws_url: str,
        client_id: str,
        handler: StreamHandler,
        *,
        base_delay: float = 0.5,
        max_delay: float = 10.0,
        ping_interval: float = 20.0,
        ping_timeout: float = 20.0,
        open_timeout: float = 10.0,
    ) -> None:
        self.url = f"{ws_url}?clientId={client_id}"
        self._handler = handler
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._ping_interval = ping_interval
        self._ping_timeout = ping_timeout
        self._open_timeout = open_timeout
        self.connected = False
        self.last_message_at = time.monotonic()

    async def run(self) -> None:
        """Connect, consume, reconnect with jittered exponential backoff; until cancelled."""
        failures = 0
        while True:
            reason = await self._session()
            if self.connected:
                self.connected = False
                failures = 0
                await self._handler.on_disconnected(reason)
            else:
                failures += 1
            delay = random.uniform(0, min(self._max_delay, self._base_delay * 2**failures))
            logger.debug("reconnecting to %s in %.2fs (%s)", self.url, delay, reason)
            await asyncio.sleep(delay)

    async def _session(self) -> str:
        try:
            async with connect(
                self.url,
                max_size=MAX_FRAME,
                ping_interval=self._ping_interval,
                ping_timeout=self._ping_timeout,
                open_timeout=self._open_timeout,
            ) as websocket:
                await websocket.send(json.dumps(FEATURE_FLAGS_HELLO))
                await self._consume(websocket)
                return "closed by the server"
        except ConnectionClosed as exc:
            return f"connection lost (code {exc.rcvd.code if exc.rcvd else 1006})"
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
            return f"cannot connect: {exc!r}"

    async def _consume(self, websocket: ClientConnection) -> None:
        async for frame in websocket:
            self.last_message_at = time.monotonic()
            try:
                await self._dispatch(frame)
            except ProtocolError as exc:
                logger.warning("ignoring a malformed frame from %s: %s", self.url, exc)
            except Exception:
                logger.exception("event handler failed on a frame from %s", self.url)

    async def _dispatch(self, frame: str | bytes) -> None:
        if isinstance(frame, bytes):
            await self._handler.on_preview(parse_preview(frame))
            return
        message = parse_message(frame)
        if message is None:
            return
        if not self.connected and message["type"] == "status":
            self.connected = True
            await self._handler.on_connected()
        await self._handler.on_message(message)
