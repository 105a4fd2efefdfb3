"""The stall watch: notices when ComfyUI stops routing events to our socket (see
tasks/runtime/socket_health.py), says so once, and has the stream reconnect; the reconnect's
reconciliation then settles whatever happened unheard."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from comfy.errors import ComfyError
from tasks.background import repeat_every
from tasks.runtime.backends import Backend

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StallSettings:
    seconds: float = 5.0
    """How long a POST /prompt may go without a `status` frame, or ComfyUI's queue may move
    unheard, before the socket counts as stalled."""
    check_seconds: float = 0.5


class StallWatch:
    """Reads the backend; a stall it finds is reported to `on_stall` (the backend's tracker,
    which records it: True when it is a new one) before `reconnect`."""

    def __init__(
        self,
        backend: Backend,
        settings: StallSettings,
        *,
        on_stall: Callable[[str], bool],
        reconnect: Callable[[str], Awaitable[None]],
    ) -> None:
        self._backend = backend
        self._on_stall = on_stall
        self._reconnect = reconnect
        self._settings = settings
        self._last_poll = 0.0
        self._divergent: tuple[int, float] | None = None

    async def run(self) -> None:
        await repeat_every(
            self._settings.check_seconds, self.check, f"stall check {self._backend.url}"
        )

    async def check(self) -> None:
        if not self._backend.connected:
            self._divergent = None
            return
        reason = self._silent_after_prompt() or await self._queue_moved_unheard()
        if reason is None:
            return
        if self._on_stall(reason):
            logger.warning(
                "backend %s: ComfyUI no longer routes events to client id %s (%s); "
                "reconnecting with a fresh socket",
                self._backend.url,
                self._backend.client.client_id,
                reason,
            )
        self._divergent = None
        await self._reconnect(f"stalled: {reason}")

    def _silent_after_prompt(self) -> str | None:
        waited = self._backend.socket.status_overdue(time.monotonic(), self._settings.seconds)
        if waited is None:
            return None
        return f"no status broadcast within {waited:.1f} s of POST /prompt"

    async def _queue_moved_unheard(self) -> str | None:
        """ComfyUI's /queue differs from what our socket last heard, and stays so with no
        `status` frame for `seconds` (every queue change broadcasts one)."""
        backend = self._backend
        heard = {*backend.running, *backend.queued}
        now = time.monotonic()
        if not heard:
            self._divergent = None
            return None
        if now - self._last_poll < self._settings.seconds / 2:
            return None
        self._last_poll = now
        try:
            snapshot = await backend.client.queue()
        except ComfyError:
            return None
        if {*snapshot.running, *snapshot.pending} == heard:
            self._divergent = None
            return None
        statuses = backend.socket.statuses
        if self._divergent is None or self._divergent[0] != statuses:
            self._divergent = (statuses, now)
            return None
        if now - self._divergent[1] < self._settings.seconds:
            return None
        return f"ComfyUI's queue moved with no status frame for {now - self._divergent[1]:.1f} s"
