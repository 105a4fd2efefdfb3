"""Writes that stand or fall together: a transaction (a savepoint inside another one), and the
error a write breaking a unique constraint raises.

`atomic()` is Tortoise's `in_transaction()`, entered so that a cancellation arriving while the
transaction begins does not leave it begun. Tortoise takes the connection first (SQLite's
one-connection lock, or a connection of the PostgreSQL pool) and then sends BEGIN; cancelled
during BEGIN, its `__aenter__` raises without its `__aexit__` ever running, so the lock (or the
connection) is never given back, and on SQLite every later query waits for it forever (a
shutdown cancelling the webhook sender's claim, say). Here the transaction is ended at once when
that happens, and the cancellation goes on. `__aexit__` gives the connection back in a
`finally`, so a cancellation while it rolls back or commits is safe already.
"""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType

from tortoise.backends.base.client import TransactionContext
from tortoise.exceptions import IntegrityError as DuplicateRow
from tortoise.transactions import in_transaction

__all__ = ["DuplicateRow", "atomic"]


def took_connection(context: TransactionContext) -> bool:
    """Whether entering `context` got as far as holding its connection: Tortoise sets its
    `token` (the connection made current) right before BEGIN. A savepoint has none: the
    transaction around it ends it."""
    return getattr(context, "token", None) is not None


class Atomic:
    __slots__ = ("_context",)

    def __init__(self) -> None:
        self._context = in_transaction()

    async def __aenter__(self) -> None:
        context = self._context
        try:
            await context.__aenter__()
        except asyncio.CancelledError:
            if took_connection(context):
                with contextlib.suppress(Exception):  # BEGIN may not have run: nothing to undo
                    await context.__aexit__(asyncio.CancelledError, None, None)
            raise

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._context.__aexit__(exc_type, exc, traceback)


def atomic() -> Atomic:
    """A transaction (a savepoint inside another one), safe to cancel while it begins."""
    return Atomic()
