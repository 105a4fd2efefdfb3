"""The `data` of a webhook message: the task as the API shows it to its owner, read through the
schema itself with a query that selects every field of `Task` (and of the objects under it), so
a field added to the API is in the messages too."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import strawberry
from graphql import (
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
)

from graphql_api.context import RequestContext
from storage.links import BlobLinks
from tasks import Services

LEFT_OUT = frozenset({"webhookDeliveries"})  # how the message itself is going is not news in it
MAX_NESTING = 4


def named_type(kind: GraphQLOutputType) -> GraphQLOutputType:
    while isinstance(kind, GraphQLNonNull | GraphQLList):
        kind = kind.of_type
    return kind


def takes_no_arguments(field: GraphQLField) -> bool:
    return all(not isinstance(arg.type, GraphQLNonNull) for arg in field.args.values())


def selection(kind: GraphQLObjectType, depth: int = 0) -> str:
    """Every field of `kind` callable without arguments, and its objects' fields, recursively."""
    parts = []
    for name, field in kind.fields.items():
        if name in LEFT_OUT or not takes_no_arguments(field):
            continue
        inner = named_type(field.type)
        if isinstance(inner, GraphQLObjectType):
            if depth < MAX_NESTING:
                parts.append(f"{name} {selection(inner, depth + 1)}")
        else:
            parts.append(name)
    return "{ " + " ".join(parts) + " }"


def task_query(schema: strawberry.Schema) -> str:
    task = schema._schema.get_type("Task")
    assert isinstance(task, GraphQLObjectType)
    return f"query WebhookTask($id: ID!) {{ task(id: $id) {selection(task)} }}"


class SchemaTaskPresenter:
    """Runs the task query as the task's owner would, with links to `public_url`."""

    def __init__(
        self, schema: strawberry.Schema, services: Services, links: BlobLinks, public_url: str
    ) -> None:
        self._schema = schema
        self._services = services
        self._links = links
        self._public_url = public_url.rstrip("/")
        self._query = task_query(schema)

    async def present(self, task_id: UUID, owner: str) -> dict[str, Any] | None:
        context = RequestContext(
            services=self._services, owner=owner, public_url=self._public_url, links=self._links
        )
        result = await self._schema.execute(
            self._query, variable_values={"id": str(task_id)}, context_value=context
        )
        if result.errors:
            if any((e.extensions or {}).get("code") == "NOT_FOUND" for e in result.errors):
                return None
            raise RuntimeError(f"could not read task {task_id}: {result.errors[0].message}")
        task: dict[str, Any] | None = (result.data or {}).get("task")
        return task
