"""A websocket client that records every frame it receives, for order comparisons."""

from __future__ import annotations

import asyncio
import json
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import websockets
from websockets.exceptions import ConnectionClosed

from tests.comfy.emulator.recorded import binary_token, text_token

FEATURE_FLAGS = {"type": "feature_flags", "data": {"supports_preview_metadata": True}}


@dataclass(frozen=True)
class Frame:
    type: str
    data: Any
    raw: str | bytes

    @property
    def token(self) -> str:
        if isinstance(self.raw, bytes):
            return binary_token(self.event)
        return text_token(self.type, self.data)

    @property
    def event(self) -> int:
        return int(struct.unpack(">I", self.raw[:4])[0]) if isinstance(self.raw, bytes) else 0


class Recorder:
    def __init__(self, ws_url: str, client_id: str, feature_flags: bool = False) -> None:
        self.url = f"{ws_url}?clientId={client_id}"
        self.client_id = client_id
        self.feature_flags = feature_flags
        self.frames: list[Frame] = []
        self.close_code: int | None = None
        self._arrived = asyncio.Condition()
        self._socket: Any = None
        self._reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Recorder:
        self._socket = await websockets.connect(self.url, max_size=None, open_timeout=5)
        if self.feature_flags:
            await self._socket.send(json.dumps(FEATURE_FLAGS))
        self._reader = asyncio.create_task(self._read())
        await self.wait_for(lambda frame: frame.type == "status")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._socket.close()
        if self._reader is not None:
            await asyncio.wait_for(self._reader, 5)

    async def _read(self) -> None:
        try:
            async for message in self._socket:
                await self._add(_frame(message))
        except ConnectionClosed:
            pass
        self.close_code = self._socket.close_code
        async with self._arrived:
            self._arrived.notify_all()

    async def _add(self, frame: Frame) -> None:
        async with self._arrived:
            self.frames.append(frame)
            self._arrived.notify_all()

    async def wait_for(
        self, predicate: Callable[[Frame], bool], count: int = 1, seconds: float = 10
    ) -> Frame:
        async with asyncio.timeout(seconds), self._arrived:
            while True:
                matches = [frame for frame in self.frames if predicate(frame)]
                if len(matches) >= count:
                    return matches[count - 1]
                if self.close_code is not None:
                    raise AssertionError(f"socket closed ({self.close_code}) while waiting")
                await self._arrived.wait()

    async def finished(self, prompt_id: str, seconds: float = 10) -> Frame:
        return await self.wait_for(
            lambda f: (
                f.type == "executing"
                and f.data.get("node") is None
                and f.data.get("prompt_id") == prompt_id
            ),
            seconds=seconds,
        )

    async def closed(self, seconds: float = 5) -> int | None:
        if self._reader is not None:
            await asyncio.wait_for(asyncio.shield(self._reader), seconds)
        return self.close_code

    def tokens(self) -> list[str]:
        return [frame.token for frame in self.frames]

    def of_type(self, kind: str) -> list[Frame]:
        return [frame for frame in self.frames if frame.type == kind]


def _frame(message: str | bytes) -> Frame:
    if isinstance(message, bytes):
        return Frame("binary", None, message)
    parsed = json.loads(message)
    return Frame(parsed["type"], parsed["data"], message)
