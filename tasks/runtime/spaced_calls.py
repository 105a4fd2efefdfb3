"""A call made at once when asked, unless the last one was recent: then once, at the end of the
spacing, however many times it was asked for meanwhile. A request that comes while the call
runs gets a call of its own after it (what it asks about may have changed after the call began)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any

from tasks.background import BackgroundTasks

Call = Callable[[], Coroutine[Any, Any, None]]


class SpacedCalls:
    def __init__(self, jobs: BackgroundTasks, seconds: float, name: str) -> None:
        self._jobs = jobs
        self._seconds = seconds
        self._name = name
        self._last: float | None = None
        self._next: Call | None = None
        self._worker: asyncio.Task[Any] | None = None

    def request(self, call: Call) -> None:
        self._next = call
        if self._worker is None or self._worker.done():
            self._worker = self._jobs.start(self._calls(), self._name)

    async def _calls(self) -> None:
        while (call := self._next) is not None:
            if self._last is not None:
                wait = self._last + self._seconds - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
            self._next = None
            self._last = time.monotonic()
            await call()
