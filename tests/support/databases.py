"""Test databases: a fresh SQLite file per test, or the shared PostgreSQL emptied per test."""

from __future__ import annotations

import os
from pathlib import Path

import asyncpg
from tortoise.contrib.test import truncate_all_models

from tasks.store.database import Database, postgres_dsn

POSTGRES_DEFAULT = "postgres://postgres@127.0.0.1:5432/test"


def chosen_database() -> str:
    """KONTEXT_TEST_DATABASE_URL: unset or "sqlite" for SQLite files, else a PostgreSQL URL."""
    return os.environ.get("KONTEXT_TEST_DATABASE_URL", "sqlite")


def database_url_for(tmp_path: Path) -> str:
    chosen = chosen_database()
    if chosen == "sqlite":
        return f"sqlite://{tmp_path / 'kontext.sqlite3'}"
    return chosen


async def reset_postgres(url: str) -> None:
    """Start the run from an empty schema, so migrations are applied from the first one."""
    connection = await asyncpg.connect(postgres_dsn(url), timeout=10)
    try:
        await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    finally:
        await connection.close()


async def prepare_database(url: str) -> None:
    """Apply migrations and remove every row, so each test starts from an empty schema."""
    async with Database(url) as database:
        await database.migrate()
        with database.bound():
            await truncate_all_models()
