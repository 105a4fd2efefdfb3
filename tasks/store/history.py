"""Reading an owner's tasks and uploads: keyset-paginated pages newest first on (created_at, id),
with the images they show joined in; one task, a batch, the tasks of an idempotency key; a
waiting task's place in line; and the counts limits and metrics read."""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol, TypeVar
from uuid import UUID

from tortoise.expressions import Q
from tortoise.filters import escape_like
from tortoise.functions import Count
from tortoise.models import Model
from tortoise.queryset import QuerySet

from tasks.errors import InvalidRequest
from tasks.requests import HistoryQuery, check_text
from tasks.status import ACTIVE_STATUSES, TaskStatus
from tasks.store.models import ImageKind, StoredImage, Task
from tasks.store.reading import (
    IMAGE_COLUMNS,
    TASK_COLUMNS,
    Dialect,
    ImageRecord,
    Statement,
    connection,
    image_of,
    task_of,
)
from tasks.store.snapshots import TaskSnapshot

__all__ = [
    "MAX_PAGE",
    "Cursor",
    "HistoryPage",
    "ImageRecord",
    "ImageRelation",
    "Task",
    "admission_counts",
    "batch_of",
    "check_history_query",
    "history_count",
    "history_page",
    "owned_task",
    "owned_task_with_images",
    "owned_tasks",
    "queue_position",
    "tasks_by_status",
    "tasks_of_idempotency_key",
    "uploads_page",
]

MAX_PAGE = 100
MAX_SEARCH = 200

ImageRelation = Literal["reference_image", "second_image", "result_image"]
"""An image a task names, joined into a page when the caller will show it."""
RELATIONS: tuple[ImageRelation, ...] = ("reference_image", "second_image", "result_image")


class Dated(Protocol):
    """A row listed newest first: by its creation time, then its id."""

    @property
    def id(self) -> UUID: ...

    @property
    def created_at(self) -> datetime: ...


DatedRow = TypeVar("DatedRow", bound=Model)


@dataclass(frozen=True)
class Cursor:
    created_at: datetime
    task_id: UUID

    def encode(self) -> str:
        raw = f"{self.created_at.isoformat()}|{self.task_id}"
        return base64.urlsafe_b64encode(raw.encode()).decode()

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """The cursor `encode` made; its time must name an offset and be a UTC instant."""
        try:
            created, task_id = base64.urlsafe_b64decode(text.encode()).decode().split("|")
            moment = datetime.fromisoformat(created)
            if moment.utcoffset() is None:
                raise ValueError("a cursor's time carries its UTC offset")
            return cls(created_at=moment.astimezone(UTC), task_id=UUID(task_id))
        except (ValueError, OverflowError, binascii.Error, UnicodeError) as exc:
            raise InvalidRequest.single(
                "after", "This cursor is not one this API handed out.", "BAD_CURSOR"
            ) from exc

    @classmethod
    def of(cls, row: Dated) -> Cursor:
        return cls(created_at=row.created_at, task_id=row.id)


@dataclass(frozen=True)
class HistoryPage:
    tasks: list[TaskSnapshot]
    has_next_page: bool
    images: dict[UUID, ImageRecord] = field(default_factory=dict)
    """The images of the relations asked for, by id (read with the tasks)."""

    @property
    def end_cursor(self) -> str | None:
        return Cursor.of(self.tasks[-1]).encode() if self.tasks else None

    @property
    def start_cursor(self) -> str | None:
        return Cursor.of(self.tasks[0]).encode() if self.tasks else None


def check_page_size(first: int) -> None:
    if not 1 <= first <= MAX_PAGE:
        raise InvalidRequest.single("first", f"must be between 1 and {MAX_PAGE}.", "OUT_OF_RANGE")


async def newest_first(
    rows: QuerySet[DatedRow], first: int, after: str | None
) -> tuple[list[DatedRow], bool]:
    """One page of `rows` newest first, after the cursor `after`; and whether more follow."""
    check_page_size(first)
    if after is not None:
        cursor = Cursor.decode(after)
        rows = rows.filter(
            Q(created_at__lt=cursor.created_at)
            | Q(created_at=cursor.created_at, id__lt=cursor.task_id)
        )
    found = await rows.order_by("-created_at", "-id").limit(first + 1)
    return list(found[:first]), len(found) > first


def check_history_query(query: HistoryQuery) -> None:
    check_page_size(query.first)
    check_text(query.search, "search")
    if query.search is not None and len(query.search) > MAX_SEARCH:
        raise InvalidRequest.single(
            "search", f"is limited to {MAX_SEARCH} characters.", "OUT_OF_RANGE"
        )


def history_filter(query: HistoryQuery, dialect: Dialect) -> tuple[str, list[Any]]:
    """The WHERE clause of the owner's tasks that `query`'s filters keep, and its values: a
    status among those asked for, the search text anywhere in the description,
    case-insensitive, `%` and `_` taken literally (as the ORM's `icontains` writes it)."""
    clauses = ['"task"."owner" = ?']
    values: list[Any] = [query.owner]
    if query.statuses:
        statuses = sorted(str(status.value) for status in query.statuses)
        if dialect == "postgres":  # one text for any number of statuses
            clauses.append('"task"."status" = ANY(?)')
            values.append(statuses)
        else:
            clauses.append(f'"task"."status" IN ({",".join("?" * len(statuses))})')
            values += statuses
    if query.search:
        clauses.append('UPPER(CAST("task"."description" AS VARCHAR)) LIKE UPPER(?) ESCAPE \'\\\'')
        values.append(f"%{escape_like(query.search.strip())}%")
    return " AND ".join(clauses), values


@functools.cache
def task_select(joined: frozenset[ImageRelation]) -> str:
    """The columns of a task, then those of the image of each of its `joined` relations (in
    the order of `RELATIONS`), from the task table with those images joined; written once for
    each combination of relations."""
    columns = [f'"task"."{column}"' for column in TASK_COLUMNS]
    tables = ['"task"']
    for relation in RELATIONS:
        if relation in joined:
            columns += [f'"{relation}"."{column}"' for column in IMAGE_COLUMNS]
            tables.append(
                f'LEFT OUTER JOIN "stored_image" "{relation}"'
                f' ON "{relation}"."id" = "task"."{relation}_id"'
            )
    return f"SELECT {', '.join(columns)} FROM {' '.join(tables)}"


def tasks_read(
    rows: Iterable[Iterable[Any]], dialect: Dialect, joined: Collection[ImageRelation]
) -> tuple[list[TaskSnapshot], dict[UUID, ImageRecord]]:
    """The tasks of rows read by `task_select(joined)` (values in its column order), and their
    joined images by id."""
    shown = [relation for relation in RELATIONS if relation in joined]
    tasks: list[TaskSnapshot] = []
    images: dict[UUID, ImageRecord] = {}
    width, image_width = len(TASK_COLUMNS), len(IMAGE_COLUMNS)
    for row in rows:
        values = list(row)
        tasks.append(task_of(values[:width], dialect))
        for start in range(width, width + image_width * len(shown), image_width):
            image = image_of(values[start : start + image_width], dialect)
            if image is not None:
                images[image.id] = image
    return tasks, images


KEPT_COUNT = Statement.of('SELECT "tasks" FROM "history_count" WHERE "owner" = ?')


async def history_count(query: HistoryQuery) -> int:
    """Tasks matching the filters, all pages (only when asked for). Without filters, the count
    the database keeps for the owner (`HistoryCount`); with them, a COUNT over those tasks."""
    check_history_query(query)
    client, dialect = connection()
    if not query.statuses and query.search is None:
        _, rows = await client.execute_query(KEPT_COUNT.for_dialect(dialect), [query.owner])
        return int(next(iter(rows[0]))) if rows else 0
    where, values = history_filter(query, dialect)
    statement = Statement.of(f'SELECT COUNT(*) FROM "task" WHERE {where}')
    _, rows = await client.execute_query(statement.for_dialect(dialect), values)
    return int(next(iter(rows[0])))


async def history_page(query: HistoryQuery, joined: Collection[ImageRelation] = ()) -> HistoryPage:
    """A page of the owner's history newest first, with the images of its `joined` relations
    (one statement: the images joined to the page's rows)."""
    check_history_query(query)
    client, dialect = connection()
    where, values = history_filter(query, dialect)
    if query.after is not None:
        cursor = Cursor.decode(query.after)
        where += ' AND ("task"."created_at" < ? OR ("task"."created_at" = ? AND "task"."id" < ?))'
        values += [cursor.created_at, cursor.created_at, str(cursor.task_id)]
    statement = Statement.of(
        f"{task_select(frozenset(joined))} WHERE {where}"
        ' ORDER BY "task"."created_at" DESC, "task"."id" DESC LIMIT ?'
    )
    _, rows = await client.execute_query(statement.for_dialect(dialect), [*values, query.first + 1])
    tasks, images = tasks_read(rows[: query.first], dialect, joined)
    return HistoryPage(tasks, len(rows) > query.first, images)


async def uploads_page(owner: str, first: int, after: str | None) -> tuple[list[StoredImage], bool]:
    """A page of the owner's reference images after the cursor `after`; and whether more follow."""
    return await newest_first(StoredImage.filter(owner=owner, kind=ImageKind.INPUT), first, after)


@functools.cache
def one_task_statement(joined: frozenset[ImageRelation]) -> Statement:
    """The statement of one owned task with the images of its `joined` relations, written once
    for each combination of relations."""
    return Statement.of(f'{task_select(joined)} WHERE "task"."id" = ? AND "task"."owner" = ?')


async def owned_task_with_images(
    task_id: UUID, owner: str, joined: Collection[ImageRelation] = ()
) -> tuple[TaskSnapshot, dict[UUID, ImageRecord]] | None:
    """The owner's task and the images of its `joined` relations, in one statement (one row:
    the join costs no more than a second query, and saves its round trip); None if the owner
    has no such task."""
    client, dialect = connection()
    statement = one_task_statement(frozenset(joined))
    values = [str(task_id), owner]  # ids as the ORM sends them (SQLite binds no UUID)
    _, rows = await client.execute_query(statement.for_dialect(dialect), values)
    if not rows:
        return None
    tasks, images = tasks_read(rows, dialect, joined)
    return tasks[0], images


async def owned_task(task_id: UUID, owner: str) -> Task | None:
    return await Task.get_or_none(id=task_id, owner=owner)


async def owned_tasks(task_ids: Collection[UUID], owner: str) -> dict[UUID, Task]:
    """Those of the tasks that `owner` has, by id."""
    return {task.id: task for task in await Task.filter(id__in=list(task_ids), owner=owner)}


async def batch_of(batch_id: UUID, owner: str) -> list[Task]:
    """The owner's tasks of one batch (those not deleted), in batch order."""
    return await Task.filter(batch_id=batch_id, owner=owner).order_by("batch_index")


async def tasks_of_idempotency_key(owner: str, key: str) -> list[Task]:
    """The tasks one request with this idempotency key created, in batch order."""
    return await Task.filter(owner=owner, idempotency_key=key).order_by("batch_index")


async def queue_position(task_id: UUID, created_at: datetime, sent: bool) -> int:
    """How many tasks will start before this one (0: it is next, or already queued in ComfyUI)."""
    if sent:
        return 0
    waiting = Task.filter(status=TaskStatus.PENDING)
    sent_ahead = await waiting.filter(prompt_id__isnull=False).count()
    older = await waiting.filter(
        Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=task_id),
        prompt_id__isnull=True,
    ).count()
    return sent_ahead + older


ACTIVE_STATUS_LIST = ", ".join(f"'{status.value}'" for status in sorted(ACTIVE_STATUSES))
ADMISSION_COUNTS = Statement.of(
    'SELECT COUNT(CASE WHEN "owner" = ? THEN 1 END),'
    f" COUNT(CASE WHEN \"status\" = '{TaskStatus.PENDING.value}' THEN 1 END)"
    f' FROM "task" WHERE "status" IN ({ACTIVE_STATUS_LIST})'
)


async def admission_counts(owner: str) -> tuple[int, int]:
    """The owner's unfinished tasks and every waiting task, in one statement (both are among
    the unfinished tasks, which the status index finds)."""
    client, dialect = connection()
    _, rows = await client.execute_query(ADMISSION_COUNTS.for_dialect(dialect), [owner])
    unfinished, pending = rows[0]
    return int(unfinished), int(pending)


async def tasks_by_status() -> dict[TaskStatus, int]:
    """How many tasks are in each status (every status named, 0 when none)."""
    counts = dict.fromkeys(TaskStatus, 0)
    for row in await Task.annotate(n=Count("id")).group_by("status").values("status", "n"):
        counts[TaskStatus(row["status"])] = int(row["n"])
    return counts
