"""Exactly one replica tracks (and dispatches to) each backend: a PostgreSQL advisory lock held on
a connection of its own. When that replica dies, its connection closes, the lock is released, and
another replica takes the backend over within one retry interval. SQLite means one replica."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator
from typing import Protocol

import asyncpg

from tasks.store.database import postgres_dsn

logger = logging.getLogger(__name__)


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory lock id for a backend."""
    return int.from_bytes(
        hashlib.sha256(f"kontext-backend:{name}".encode()).digest()[:8], "big", signed=True
    )


class Leases(Protocol):
    def hold(self, name: str) -> contextlib.AbstractAsyncContextManager[asyncio.Event]: ...

    async def tracked(self, name: str) -> bool:
        """Whether a running replica (another one, for a backend this one does not configure)
        holds the backend's lease."""


class SoleReplica:
    """Without PostgreSQL there is one replica, and it holds every lease."""

    @contextlib.asynccontextmanager
    async def hold(self, name: str) -> AsyncIterator[asyncio.Event]:
        yield asyncio.Event()

    async def tracked(self, name: str) -> bool:
        return False


class PostgresLeases:
    def __init__(self, database_url: str, retry_seconds: float = 2.0) -> None:
        self._dsn = postgres_dsn(database_url)
        self._retry = retry_seconds

    @contextlib.asynccontextmanager
    async def hold(self, name: str) -> AsyncIterator[asyncio.Event]:
        """Wait until this replica holds the lease; the yielded event is set if it is lost."""
        while True:
            connection = await self._connect()
            if connection is not None:
                if await connection.fetchval("SELECT pg_try_advisory_lock($1)", lock_key(name)):
                    break
                await connection.close()
            await asyncio.sleep(self._retry)
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _connection: lost.set())
        logger.info("this replica now tracks backend %s", name)
        try:
            yield lost
        finally:
            await connection.close()

    async def tracked(self, name: str) -> bool:
        """Try the lease and let go at once; unsure (PostgreSQL unreachable) counts as tracked."""
        connection = await self._connect()
        if connection is None:
            return True
        try:
            key = lock_key(name)
            if await connection.fetchval("SELECT pg_try_advisory_lock($1)", key):
                await connection.execute("SELECT pg_advisory_unlock($1)", key)
                return False
            return True
        finally:
            await connection.close()

    async def _connect(self) -> asyncpg.Connection | None:
        try:
            return await asyncpg.connect(self._dsn, timeout=10)
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            logger.warning("cannot reach PostgreSQL for backend leases: %s", exc)
            return None
