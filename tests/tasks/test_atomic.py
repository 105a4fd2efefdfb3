"""A transaction cancelled while it begins gives its connection back: on SQLite (one connection,
one lock) every later query used to wait for it forever."""

from __future__ import annotations

import asyncio
import contextlib

from tasks.store.atomic import atomic
from tasks.store.database import Database
from tasks.store.models import Task

# Loop turns to let the transaction get before the cancellation: past the start of BEGIN, and on
# into the query and the commit.
TURNS = 40
# Long enough for any query on an idle database; a lock never given back waits forever.
NO_LONGER_THAN = 10.0


async def test_a_transaction_cancelled_at_any_point_leaves_the_database_usable(
    database: Database,
) -> None:
    cancelled_while_running = 0
    for turns in range(TURNS):

        async def write() -> None:
            async with atomic():
                await Task.filter(owner="nobody").count()

        task = asyncio.create_task(write())
        for _ in range(turns):
            await asyncio.sleep(0)
        if task.cancel():
            cancelled_while_running += 1
        with contextlib.suppress(asyncio.CancelledError):
            await task
        count = await asyncio.wait_for(Task.filter(owner="anyone").count(), NO_LONGER_THAN)
        assert count == 0, f"cancelled after {turns} turns"
    assert cancelled_while_running >= 3  # the cancellations landed inside the transaction
