"""An owner for long-running asyncio tasks: started together, cancelled and awaited together."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any

logger = logging.getLogger(__name__)


class BackgroundTasks:
    """The one owner of background work. The application's lifespan creates it; each component
    that starts work of its own takes a `scope` of it, which it may close early (its own work
    only), and which closes at the latest with the owner."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._scopes: set[BackgroundTasks] = set()
        self._parent: BackgroundTasks | None = None

    def start(self, coroutine: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def scope(self) -> BackgroundTasks:
        """A group of this owner's for one component's work."""
        child = BackgroundTasks()
        child._parent = self
        self._scopes.add(child)
        return child

    async def first_of(self, coroutines: Mapping[str, Coroutine[Any, Any, Any]]) -> None:
        """Run these side by side (by name) until one of them ends; then stop the others."""
        together = self.scope()
        try:
            jobs = [together.start(coroutine, name) for name, coroutine in coroutines.items()]
            await asyncio.wait(jobs, return_when=asyncio.FIRST_COMPLETED)
        finally:
            await together.aclose()

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("background task %s crashed", task.get_name(), exc_info=task.exception())

    async def aclose(self) -> None:
        """Cancel this group's work (its scopes' too) and wait for it to end."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for scope in list(self._scopes):
            await scope.aclose()
        if self._parent is not None:
            self._parent._scopes.discard(self)


async def repeat_every(seconds: float, action: Callable[[], Awaitable[object]], what: str) -> None:
    """Run `action` every `seconds`, forever; a failed run is logged and the next one retries,
    so the loop outlives any one of them."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await action()
        except Exception:
            logger.exception("%s failed; retrying later", what)
