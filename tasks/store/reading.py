"""Reads of tasks and their images without the ORM's per-request work: the SQL text of each
shape is written once (so asyncpg prepares it once per connection and reuses it), and rows
become the frozen values readers use (`TaskSnapshot`, `ImageRecord`) without building models.

The ORM still hands out the connection (a transaction's, inside one) and says how each column
comes back: the driver's value is used as it is where it already is the Python value (asyncpg's
UUIDs and aware datetimes, every driver's numbers and text), the field converts it otherwise
(JSON text, the status enum, SQLite's UUIDs and times)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

from tortoise import fields
from tortoise.backends.base.client import BaseDBAsyncClient

from tasks.store.models import StoredImage, Task
from tasks.store.snapshots import TaskSnapshot

__all__ = [
    "IMAGE_COLUMNS",
    "TASK_COLUMNS",
    "Dialect",
    "ImageRecord",
    "Statement",
    "connection",
    "image_of",
    "task_of",
]

Dialect = Literal["postgres", "sqlite"]


@dataclass(frozen=True, slots=True)
class ImageRecord:
    """A stored image as its readers show it."""

    id: UUID
    blob_key: str
    thumbnail_key: str | None
    width: int
    height: int
    content_type: str
    size: int
    sha256: str


TASK_COLUMNS = tuple(field.name for field in dataclasses.fields(TaskSnapshot))
IMAGE_COLUMNS = tuple(field.name for field in dataclasses.fields(ImageRecord))


@dataclass(frozen=True)
class Statement:
    """One SQL text, written with `?` placeholders (SQLite's), numbered `$1`, `$2`, … for
    PostgreSQL once, when the statement is made."""

    text: str
    numbered: str

    @classmethod
    def of(cls, text: str) -> Statement:
        parts = text.split("?")
        numbered = parts[0] + "".join(f"${n}{part}" for n, part in enumerate(parts[1:], 1))
        return cls(text, numbered)

    def for_dialect(self, dialect: Dialect) -> str:
        return self.numbered if dialect == "postgres" else self.text


def connection(*, write: bool = False) -> tuple[BaseDBAsyncClient, Dialect]:
    """The connection the ORM would read tasks with now (or write them with), and its SQL
    dialect. Inside a transaction, the transaction's."""
    client = Task._choose_db(write)
    dialect: Dialect = "postgres" if client.capabilities.dialect == "postgres" else "sqlite"
    return client, dialect


Convert = Callable[[Any], Any]

# Field types whose column the driver already hands back as the Python value.
AS_READ: dict[Dialect, tuple[type[fields.Field[Any]], ...]] = {
    "postgres": (
        fields.UUIDField,
        fields.DatetimeField,
        fields.IntField,
        fields.BigIntField,
        fields.FloatField,
        fields.CharField,
        fields.TextField,
    ),
    "sqlite": (
        fields.IntField,
        fields.BigIntField,
        fields.FloatField,
        fields.CharField,
        fields.TextField,
    ),
}


UUID_KEY = fields.UUIDField()


def converters(
    model: type[Task] | type[StoredImage], columns: Sequence[str], dialect: Dialect
) -> tuple[tuple[int, Convert], ...]:
    """The position of each column whose value needs converting, with its conversion."""
    fields_map = model._meta.fields_map
    found: list[tuple[int, Convert]] = []
    for position, column in enumerate(columns):
        field = fields_map.get(column) or fields_map[column.removesuffix("_id")]
        if isinstance(field, fields.relational.ForeignKeyFieldInstance):
            field = UUID_KEY  # every relation of these models points at a UUID key
        if type(field) not in AS_READ[dialect]:
            found.append((position, field.to_python_value))
    return tuple(found)


TASK_CONVERTERS = {
    dialect: converters(Task, TASK_COLUMNS, dialect) for dialect in ("postgres", "sqlite")
}
IMAGE_CONVERTERS = {
    dialect: converters(StoredImage, IMAGE_COLUMNS, dialect) for dialect in ("postgres", "sqlite")
}


def converted(values: list[Any], conversions: tuple[tuple[int, Convert], ...]) -> list[Any]:
    for position, convert in conversions:
        value = values[position]
        if value is not None:
            values[position] = convert(value)
    return values


def task_of(values: list[Any], dialect: Dialect) -> TaskSnapshot:
    """The task of the values of `TASK_COLUMNS`, in their order, as read."""
    return TaskSnapshot(*converted(values, TASK_CONVERTERS[dialect]))


def image_of(values: list[Any], dialect: Dialect) -> ImageRecord | None:
    """The image of the values of `IMAGE_COLUMNS`, in their order, as read; None when its id
    is null (a relation left out by an outer join)."""
    if values[0] is None:
        return None
    return ImageRecord(*converted(values, IMAGE_CONVERTERS[dialect]))
