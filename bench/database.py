"""The benchmarks' own PostgreSQL database (never the test suite's): created, emptied, migrated."""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from tasks.store.database import Database

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bench"
PROTECTED = frozenset({"test", "postgres", "template0", "template1"})


class UnsafeDatabase(ValueError):
    """The URL names a database the benchmarks must not wipe."""


def bench_database_url() -> str:
    return os.environ.get("KONTEXT_BENCH_DATABASE_URL", DEFAULT_URL)


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def maintenance_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres"))


def _check_safe(url: str) -> str:
    name = database_name(url)
    if not name or name in PROTECTED:
        raise UnsafeDatabase(f"refusing to wipe database {name!r}: use a database of its own")
    host = urlsplit(url).hostname or ""
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise UnsafeDatabase(f"refusing a database on {host!r}: benchmarks stay on loopback")
    return name


async def _create_if_missing(url: str, name: str) -> None:
    connection = await asyncpg.connect(maintenance_url(url), timeout=10)
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def _drop_schema(url: str) -> None:
    connection = await asyncpg.connect(url, timeout=10)
    try:
        await connection.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public")
    finally:
        await connection.close()


async def fresh_database(url: str) -> None:
    """Create the database if needed, empty it and apply every migration."""
    name = _check_safe(url)
    await _create_if_missing(url, name)
    await _drop_schema(url)
    async with Database(url) as database:
        await database.migrate()
