"""ONE long-lived websocket per ComfyUI server, reconnecting forever.

ComfyUI sends a prompt's events only to the socket of the client id that queued it, drops them
while no such socket is connected, and forgets everything on a restart; so every (re)connect is
announced to the handler (`on_connected`), which should reconcile what it tracks.

Frames are handled one at a time, in arrival order, on the reading task: handlers should be quick
(hand long work to a task they own), or keepalive pings go unanswered and the socket is dropped.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Coroutine
from typing import Any, Protocol

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidURI, WebSocketException
from websockets.frames import CloseCode
from websockets.uri import parse_uri

from comfy.errors import ProtocolError
from comfy.previews import PREVIEW_IMAGE, PREVIEW_IMAGE_WITH_METADATA
from comfy.protocol import (
    PreviewFrame,
    ServerMessage,
    encode_message,
    feature_flags_hello,
    parse_message,
    parse_preview,
    preview_event,
)
from comfy.urls import websocket_url

logger = logging.getLogger(__name__)

MAX_FRAME = 64 * 1024 * 1024
_PREVIEW_EVENTS = frozenset({PREVIEW_IMAGE, PREVIEW_IMAGE_WITH_METADATA})


class StreamHandler(Protocol):
    async def on_connected(self) -> None:
        """After each (re)connect, once the server's first status frame (with sid) arrived."""

    async def on_message(self, message: ServerMessage) -> None: ...

    async def on_preview(self, frame: PreviewFrame) -> None: ...

    async def on_disconnected(self, reason: str) -> None:
        """Once per connection that was announced by on_connected, when it ends."""


class ComfyEventStream:
    """`await stream.run()` follows the server until cancelled; cancel it to stop."""

    def __init__(
        self,
        server_url: str,
        client_id: str,
        handler: StreamHandler,
        *,
        base_delay: float = 0.5,
        max_delay: float = 10.0,
        ping_interval: float | None = 20.0,
        ping_timeout: float | None = 20.0,
        open_timeout: float = 10.0,
        close_timeout: float = 5.0,
        max_size: int = MAX_FRAME,
        preview_metadata: bool = True,
    ) -> None:
        # the server's http(s) base or its ws(s) endpoint: both name the same /ws
        self.url = websocket_url(server_url, client_id)
        try:
            parse_uri(self.url)
        except InvalidURI as exc:
            raise ValueError(f"not a websocket URL: {self.url!r}") from exc
        self._handler = handler
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._ping_interval = ping_interval
        self._ping_timeout = ping_timeout
        self._open_timeout = open_timeout
        self._close_timeout = close_timeout
        self._max_size = max_size
        self._preview_metadata = preview_metadata
        self._random = random.Random()
        self._connected = False
        self._last_message_at: float | None = None
        self._websocket: ClientConnection | None = None
        self._leaving: str | None = None

    @property
    def connected(self) -> bool:
        """True between on_connected and the end of that connection."""
        return self._connected

    @property
    def last_message_at(self) -> float | None:
        """time.monotonic() when the last frame arrived; None before the first one."""
        return self._last_message_at

    async def run(self) -> None:
        """Connect, dispatch, reconnect with jittered exponential backoff; until cancelled."""
        failures = 0
        try:
            while True:
                reason = await self._follow()
                if self._connected:
                    self._connected = False
                    failures = 0
                    await self._notify_disconnected(reason)
                else:
                    failures += 1
                delay = self.backoff(failures)
                logger.info("%s: %s; reconnecting in %.2fs", self.url, reason, delay)
                await asyncio.sleep(delay)
        finally:
            self._connected = False

    async def reconnect(self, reason: str) -> None:
        """Close the current connection; `run` then reconnects as after any other close."""
        websocket = self._websocket
        if websocket is None:
            return
        self._leaving = reason
        await websocket.close()

    def backoff(self, failures: int) -> float:
        """Between half and all of base * 2**failures, capped at max_delay."""
        ceiling = min(self._max_delay, self._base_delay * 2.0 ** min(failures, 32))
        return ceiling / 2 + self._random.uniform(0, ceiling / 2)

    async def _follow(self) -> str:
        """One connection, from open to close; returns why it ended."""
        self._leaving = None
        try:
            async with self._connect() as websocket:
                self._websocket = websocket
                if self._preview_metadata:
                    await websocket.send(encode_message(feature_flags_hello()))
                await self._consume(websocket)
                return self._leaving or f"closed by the server ({_close_code(websocket)})"
        except ConnectionClosed as exc:
            return self._leaving or f"connection lost ({_describe(exc)})"
        except (OSError, TimeoutError, WebSocketException) as exc:
            return f"connection failed: {exc!r}"
        finally:
            self._websocket = None

    def _connect(self) -> connect:
        return connect(
            self.url,
            max_size=self._max_size,
            ping_interval=self._ping_interval,
            ping_timeout=self._ping_timeout,
            open_timeout=self._open_timeout,
            close_timeout=self._close_timeout,
        )

    async def _consume(self, websocket: ClientConnection) -> None:
        async for frame in websocket:
            self._last_message_at = time.monotonic()
            if isinstance(frame, bytes):
                await self._binary(frame)
            else:
                await self._text(frame)

    async def _text(self, frame: str) -> None:
        try:
            message = parse_message(frame)
        except ProtocolError as exc:
            logger.warning("%s: ignoring a malformed frame: %s", self.url, exc)
            return
        if message is None:
            return
        if not self._connected and message["type"] == "status" and "sid" in message["data"]:
            self._connected = True
            await self._call("on_connected", self._handler.on_connected(), frame)
        await self._call("on_message", self._handler.on_message(message), frame)

    async def _binary(self, frame: bytes) -> None:
        try:
            event = preview_event(frame)
            if event not in _PREVIEW_EVENTS:
                logger.debug("%s: ignoring binary event %d", self.url, event)
                return
            preview = parse_preview(frame)
        except ProtocolError as exc:
            logger.warning("%s: ignoring a malformed binary frame: %s", self.url, exc)
            return
        await self._call("on_preview", self._handler.on_preview(preview), frame[:8].hex())

    async def _notify_disconnected(self, reason: str) -> None:
        await self._call("on_disconnected", self._handler.on_disconnected(reason), reason)

    async def _call(self, what: str, call: Coroutine[Any, Any, None], frame: str) -> None:
        """A handler failure is logged with its frame and does not end the stream."""
        try:
            await call
        except Exception:  # one bad frame must not stop the stream
            logger.exception("%s: %s failed on %.500s", self.url, what, frame)


def _describe(exc: ConnectionClosed) -> str:
    code = exc.rcvd.code if exc.rcvd is not None else CloseCode.ABNORMAL_CLOSURE.value
    return f"code {code}: {exc}"


def _close_code(websocket: ClientConnection) -> str:
    return f"code {websocket.close_code}" if websocket.close_code is not None else "no code"
