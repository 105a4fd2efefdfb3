"""A conditional UPDATE of a task that hands back the row as written (`UPDATE … RETURNING *`),
so a change and the read that announces it are one statement. Both databases support it
(SQLite since 3.35); the ORM's own update query is built, and only its execution differs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from tasks.store.models import Task


async def update_returning(
    task_id: UUID, where: Mapping[str, Any], values: Mapping[str, Any]
) -> Task | None:
    """The task's row after `values` were written, if it matched `where`; else None."""
    query = Task.filter(id=task_id, **where).update(**values)
    query._choose_db_if_not_chosen(True)  # the transaction's connection inside one
    query._make_query()
    sql, params = query.query.get_parameterized_sql()
    rows = await query._db.execute_query_dict(f"{sql} RETURNING *", params)
    return Task._init_from_db(**rows[0]) if rows else None
