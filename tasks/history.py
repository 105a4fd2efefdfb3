"""History: a keyset-paginated list of a caller's tasks, newest first, on (created_at, id)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, TypeVar
from uuid import UUID

from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.queryset import QuerySet

from tasks.errors import InvalidRequest
from tasks.requests import HistoryQuery, check_text
from tasks.store.models import Task

MAX_PAGE = 100
MAX_SEARCH = 200


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
    tasks: list[Task]
    has_next_page: bool

    @property
    def end_cursor(self) -> str | None:
        return Cursor.of(self.tasks[-1]).encode() if self.tasks else None

    @property
    def start_cursor(self) -> str | None:
        return Cursor.of(self.tasks[0]).encode() if self.tasks else None


def check_page_size(first: int) -> None:
    if not 1 <= first <= MAX_PAGE:
        raise InvalidRequest.single(
            "first", f"first must be between 1 and {MAX_PAGE}.", "OUT_OF_RANGE"
        )


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
            "search", f"search is limited to {MAX_SEARCH} characters.", "OUT_OF_RANGE"
        )


def matching(query: HistoryQuery) -> QuerySet[Task]:
    base = Task.filter(owner=query.owner)
    if query.statuses:
        base = base.filter(status__in=list(query.statuses))
    if query.search:
        base = base.filter(description__icontains=query.search.strip())
    return base


async def history_count(query: HistoryQuery) -> int:
    """Tasks matching the filters, all pages (a COUNT over them: only when asked for)."""
    check_history_query(query)
    return await matching(query).count()


async def history_page(query: HistoryQuery) -> HistoryPage:
    check_history_query(query)
    tasks, has_next_page = await newest_first(matching(query), query.first, query.after)
    return HistoryPage(tasks=tasks, has_next_page=has_next_page)
