"""The chaos run's own database: created and emptied before a run, then read (never written) by
the checks, on PostgreSQL through asyncpg and on SQLite through a read-only connection."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import asyncpg

Row = dict[str, Any]
CONNECT_TIMEOUT = 10.0
QUERY_TIMEOUT = 30.0
DATABASE_ERRORS = (asyncpg.PostgresError, sqlite3.Error, OSError, TimeoutError)


class Probe(Protocol):
    async def fetch(self, sql: str) -> list[Row]: ...


def split_postgres_url(url: str) -> tuple[str, str]:
    """(URL of the server's `postgres` database, the database name) of a PostgreSQL URL."""
    base, _, name = url.rpartition("/")
    return f"{base}/postgres", name.split("?", 1)[0]


def sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite://").split("?", 1)[0])


async def prepare_postgres(url: str) -> None:
    """Create the database if it is missing, then start from an empty schema."""
    server, name = split_postgres_url(url)
    if not name.replace("_", "").isalnum():
        raise ValueError(f"unexpected database name {name!r}")
    admin = await asyncpg.connect(server, timeout=CONNECT_TIMEOUT)
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    connection = await asyncpg.connect(url, timeout=CONNECT_TIMEOUT)
    try:
        await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    finally:
        await connection.close()


def remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


async def prepare_database(url: str) -> None:
    if url.startswith("sqlite://"):
        await asyncio.to_thread(remove_sqlite, sqlite_path(url))
    else:
        await prepare_postgres(url)


def plain(value: Any) -> Any:
    """UUIDs as text and timestamps as aware datetimes, whichever database answered."""
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


class PostgresProbe:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection
        self._lock = asyncio.Lock()

    async def fetch(self, sql: str) -> list[Row]:
        async with self._lock:
            records = await self._connection.fetch(sql, timeout=QUERY_TIMEOUT)
        return [{key: plain(value) for key, value in record.items()} for record in records]


class SqliteProbe:
    def __init__(self, path: Path) -> None:
        self._path = path

    async def fetch(self, sql: str) -> list[Row]:
        return await asyncio.to_thread(self._fetch, sql)

    def _fetch(self, sql: str) -> list[Row]:
        uri = f"file:{self._path}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=QUERY_TIMEOUT)) as db:
            db.row_factory = sqlite3.Row
            return [dict(row) for row in db.execute(sql).fetchall()]


@contextlib.asynccontextmanager
async def open_probe(url: str) -> AsyncIterator[Probe]:
    if url.startswith("sqlite://"):
        yield SqliteProbe(sqlite_path(url))
        return
    connection = await asyncpg.connect(url, timeout=CONNECT_TIMEOUT)
    try:
        yield PostgresProbe(connection)
    finally:
        await connection.close()


def as_datetime(value: Any) -> datetime | None:
    """A timestamp column as an aware datetime (SQLite keeps ISO text)."""
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
