"""How the ORM's PostgreSQL connections go back to their pool.

asyncpg resets every connection it takes back (`SELECT pg_advisory_unlock_all(); CLOSE ALL;
UNLISTEN *; RESET ALL`): one more round trip for each query the ORM makes outside a
transaction, about a third of the statements a task costs. The ORM's pool never holds the
session state that reset clears: advisory locks (migrations, backend leases) and LISTEN (the
event broker) live on connections of their own, nothing declares cursors outside a transaction
or sets session variables. What asyncpg still does before any reset stays: an open transaction
is rolled back and listeners are dropped.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from tortoise.backends.base.config_generator import expand_db_url

__all__ = ["orm_connection", "session_kept"]


async def session_kept(connection: asyncpg.Connection) -> None:
    """The pool's reset hook: the session has nothing to clear (see the module's note)."""


def orm_connection(database_url: str, *, postgres: bool) -> str | dict[str, Any]:
    """The ORM's connection settings for `database_url`: PostgreSQL with `session_kept` as the
    pool's reset, anything else as the URL itself."""
    if not postgres:
        return database_url
    config: dict[str, Any] = expand_db_url(database_url)
    config["credentials"]["reset"] = session_kept
    return config
