"""Connected websockets by clientId, and where each outgoing frame goes."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

Frame = str | bytes


@dataclass(eq=False)
class Connection:
    """One accepted websocket; the endpoint drains `frames` and stops when `dropped` is set."""

    sid: str
    frames: asyncio.Queue[Frame] = field(default_factory=asyncio.Queue)
    feature_flags: dict[str, Any] = field(default_factory=dict)
    dropped: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def wants_preview_metadata(self) -> bool:
        return self.feature_flags.get("supports_preview_metadata") is True


class Hub:
    def __init__(self) -> None:
        self._sockets: dict[str, Connection] = {}
        self._open: list[Connection] = []
        self.idle = asyncio.Event()
        self.idle.set()

    def attach(self, connection: Connection) -> None:
        """A second socket with the same clientId silently replaces the first for routing."""
        self._sockets[connection.sid] = connection
        self._open.append(connection)
        self.idle.clear()

    def detach(self, connection: Connection) -> None:
        """Forget whatever socket is registered under its id (ComfyUI pops by id, not by socket)."""
        self._sockets.pop(connection.sid, None)
        if connection in self._open:
            self._open.remove(connection)
        if not self._open:
            self.idle.set()

    def get(self, sid: str | None) -> Connection | None:
        return None if sid is None else self._sockets.get(sid)

    def sids(self) -> list[str]:
        return list(self._sockets)

    def send(self, frame: Frame, sid: str | None) -> None:
        """`sid` None broadcasts; frames for a clientId with no socket are dropped."""
        if sid is None:
            for connection in list(self._sockets.values()):
                connection.frames.put_nowait(frame)
            return
        target = self._sockets.get(sid)
        if target is not None:
            target.frames.put_nowait(frame)

    def drop(self, sid: str | None = None) -> int:
        """Cut sockets without a close frame (clients see 1006); all of them when `sid` is None."""
        doomed = [c for c in self._open if not c.dropped.is_set() and (sid is None or c.sid == sid)]
        for connection in doomed:
            connection.dropped.set()
            if self._sockets.get(connection.sid) is connection:
                del self._sockets[connection.sid]
        return len(doomed)
