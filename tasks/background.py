"""An owner for long-running asyncio tasks: started together, cancelled and awaited together."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

logger = logging.getLogger(__name__)


class BackgroundTasks:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def start(self, coroutine: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("background task %s crashed", task.get_name(), exc_info=task.exception())

    async def aclose(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def repeat_every(seconds: float, action: Callable[[], Awaitable[object]], what: str) -> None:
    """Run `action` every `seconds`, forever; a failed run is logged and the next one retries,
    so the loop outlives any one of them."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await action()
        except Exception:
            logger.exception("%s failed; retrying later", what)
