"""The database resource: one Tortoise context per application, migrations, and request binding."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import asyncpg
from tortoise import context as tortoise_context
from tortoise.context import TortoiseContext
from tortoise.migrations.executor import MigrationExecutor

from tasks.store.pooling import orm_connection

logger = logging.getLogger(__name__)

APP_LABEL = "kontext"
MODEL_MODULES = ["tasks.store.models", "tasks.store.webhook_models"]
MIGRATIONS_MODULE = "tasks.migrations"
POSTGRES_SCHEMES = ("postgres://", "postgresql://", "asyncpg://")
MIGRATION_LOCK_KEY = 0x4B4F4E54  # "KONT": one advisory lock id for schema changes


def is_postgres(database_url: str) -> bool:
    return database_url.startswith(POSTGRES_SCHEMES)


def tortoise_config(database_url: str) -> dict[str, Any]:
    return {
        "connections": {
            "default": orm_connection(database_url, postgres=is_postgres(database_url))
        },
        "apps": {
            APP_LABEL: {
                "models": MODEL_MODULES,
                "migrations": MIGRATIONS_MODULE,
                "default_connection": "default",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


# Read by the `tortoise` command line (`tortoise makemigrations`); the service builds its own
# configuration from settings.
TORTOISE_CLI_CONFIG = tortoise_config("sqlite://data/kontext.sqlite3")


def postgres_dsn(database_url: str) -> str:
    """asyncpg wants postgres:// or postgresql://; Tortoise also accepts asyncpg://."""
    scheme, rest = database_url.split("://", 1)
    return f"postgresql://{rest}" if scheme == "asyncpg" else database_url


def ensure_sqlite_directory(database_url: str) -> None:
    prefix = "sqlite://"
    if not database_url.startswith(prefix):
        return
    path = database_url[len(prefix) :].split("?", 1)[0]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


class Database:
    """Owns the ORM context; enter it once per application (async with)."""

    def __init__(self, database_url: str) -> None:
        self.url = database_url
        self._context = TortoiseContext()

    @property
    def is_postgres(self) -> bool:
        return is_postgres(self.url)

    async def __aenter__(self) -> Database:
        await asyncio.to_thread(ensure_sqlite_directory, self.url)
        with self.bound():
            await self._context.init(config=tortoise_config(self.url))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with self.bound():
            await self._context.close_connections()

    @contextlib.contextmanager
    def bound(self) -> Iterator[None]:
        """Make this database the one the ORM uses in the current asyncio context.

        Tortoise resolves connections through a context variable; requests and background tasks
        that do not descend from the task that opened the database bind it explicitly.
        """
        token = tortoise_context._current_context.set(self._context)
        try:
            yield
        finally:
            tortoise_context._current_context.reset(token)

    async def migrate(self) -> list[str]:
        """Apply pending migrations; returns the names applied.

        Safe to run on every start: on PostgreSQL an advisory lock makes replicas that start
        together apply each migration once.
        """
        async with self._migration_lock():
            with self.bound():
                executor = MigrationExecutor(self._context.db(), tortoise_config(self.url)["apps"])
                plan = await executor.plan()
                await executor.migrate()
        applied = [f"{step.migration.app_label}.{step.migration.name}" for step in plan]
        for name in applied:
            logger.info("applied migration %s", name)
        return applied

    async def pending_migrations(self) -> list[str]:
        with self.bound():
            executor = MigrationExecutor(self._context.db(), tortoise_config(self.url)["apps"])
            plan = await executor.plan()
        return [step.migration.name for step in plan]

    async def ping(self) -> None:
        with self.bound():
            await self._context.db().execute_query("SELECT 1")

    @contextlib.asynccontextmanager
    async def _migration_lock(self) -> AsyncIterator[None]:
        if not self.is_postgres:
            yield
            return
        connection = await asyncpg.connect(postgres_dsn(self.url), timeout=10)
        try:
            await connection.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
            yield
        finally:
            await connection.close()
