"""The ORM's PostgreSQL pool takes connections back without asyncpg's reset query, and an open
transaction is still rolled back when a connection goes back."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from tortoise import connections

from tasks.store.database import Database, tortoise_config
from tasks.store.models import Task
from tasks.store.pooling import session_kept


def test_postgres_connections_go_back_without_the_reset_query() -> None:
    config = tortoise_config("postgresql://kontext:secret@db.internal:5433/kontext?maxsize=7")
    default: dict[str, Any] = config["connections"]["default"]
    assert default["engine"] == "tortoise.backends.asyncpg"
    assert default["credentials"] == {
        "host": "db.internal",
        "port": 5433,
        "user": "kontext",
        "password": "secret",
        "database": "kontext",
        "maxsize": "7",
        "reset": session_kept,
    }


def test_sqlite_keeps_its_url() -> None:
    url = "sqlite:///tmp/kontext.sqlite3"
    assert tortoise_config(url)["connections"]["default"] == url


@pytest.mark.postgres_only
async def test_a_connection_given_back_mid_transaction_is_rolled_back(
    database: Database,
) -> None:
    assert await Task.all().count() == 0  # the pool opens with the first query
    pool: asyncpg.Pool = connections.get("default")._pool
    assert pool._reset is session_kept
    async with pool.acquire() as connection:
        await connection.execute("BEGIN")
        await connection.execute("CREATE TEMPORARY TABLE left_open (id int)")
        assert connection.is_in_transaction()
    for _ in range(3):
        async with pool.acquire() as connection:
            assert not connection.is_in_transaction()
            assert await connection.fetchval("SELECT to_regclass('pg_temp.left_open')") is None
