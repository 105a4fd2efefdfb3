"""Bounded polling of state that offers no event to wait on (another process, a socket's log)."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable


async def poll_until(predicate: Callable[[], bool], *, within: float, every: float = 0.01) -> None:
    """Return once `predicate()` holds; TimeoutError after `within` seconds."""
    for _ in range(max(1, math.ceil(within / every))):
        if predicate():
            return
        await asyncio.sleep(every)
    if not predicate():
        raise TimeoutError(f"condition not met within {within}s")


async def poll_until_async(
    predicate: Callable[[], Awaitable[bool]], *, within: float, every: float = 0.25
) -> None:
    """The same for a condition that has to be asked for (an HTTP query)."""
    async with asyncio.timeout(within):
        for _ in range(max(1, math.ceil(within / every))):
            if await predicate():
                return
            await asyncio.sleep(every)
        if not await predicate():
            raise TimeoutError(f"condition not met within {within}s")
