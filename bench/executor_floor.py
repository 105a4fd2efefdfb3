"""The executor floor of a history page: Strawberry executing the very document the service is
sent, with the service's own output types (`Task`, `TaskConnection`, `Image` and their resolvers),
over a page built once in memory as the service hands it to them: each task with the images read
with its page, their links signed anew for every execution in one pass (`RequestContext.sign`,
as the service signs them). No HTTP, no database: what is left is the GraphQL execution every
server of this schema pays per page, on one core.

The service's `history` is reported as a share of this rate, measured in the same run.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import strawberry
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.types import Info

from bench.history_data import DESCRIPTIONS, LOCAL_OWNER, PARAMETERS
from bench.http_load import LoadResult
from graphql_api.context import RequestContext
from graphql_api.scalars import SCALAR_MAP
from graphql_api.types import (
    GenerationParameters,
    Image,
    PageInfo,
    ReadTogether,
    Task,
    TaskConnection,
    TaskEdge,
    TaskError,
)
from storage.links import ServedLinks
from tasks.requests import HistoryQuery
from tasks.service import Services
from tasks.status import TaskStatus
from tasks.store.models import StoredImage
from tasks.store.reading import ImageRecord

PUBLIC_URL = "http://127.0.0.1:8000"
SHARE_WITH_RESULT = 0.94  # as bench/history_data.py writes it


@dataclass(frozen=True)
class MemoryPage:
    connection: TaskConnection
    images: dict[uuid.UUID, ImageRecord]
    links: dict[str, str]
    """The page's links, signed anew for every execution (they belong to one read)."""


def keys_of(image: ImageRecord) -> tuple[str, ...]:
    return (
        (image.blob_key,) if image.thumbnail_key is None else (image.blob_key, image.thumbnail_key)
    )


def memory_image(image_id: uuid.UUID) -> ImageRecord:
    key = f"outputs/{image_id}.png"
    return ImageRecord(image_id, key, key + ".thumb.webp", 1024, 1024, "image/png", 1_500_000,
                       uuid.uuid4().hex * 2)  # fmt: skip


def memory_task(
    index: int, reference: uuid.UUID, result: ImageRecord | None, read_with: ReadTogether
) -> Task:
    options: list[tuple[str, Any]] = sorted({**PARAMETERS, "seed": index * 7919}.items())
    created = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=index)
    finished = created + timedelta(seconds=30)
    error = None if result else TaskError(code="EXECUTION_FAILED", message="the node failed")
    return Task(
        id=strawberry.ID(str(uuid.uuid4())),
        status=TaskStatus.COMPLETED if result else TaskStatus.FAILED,
        description=DESCRIPTIONS[index % len(DESCRIPTIONS)],
        workflow="flux_kontext_dev_basic",
        parameters=GenerationParameters(seed=index * 7919, **PARAMETERS),  # type: ignore[arg-type]
        parameter_values=dict(options),
        progress=100.0 if result else 40.0,
        step=20,
        total_steps=20,
        current_node=None,
        attempts=1,
        requeue_reason=None,
        backend_url="http://gpu-1:8188" if result else None,
        batch_id=None,
        batch_index=0,
        error=error,
        created_at=created,
        updated_at=finished,
        deadline_at=None,
        started_at=created,
        finished_at=finished,
        sent=True,
        running_estimate=None,
        preview_path=None,
        reference_image_id=reference,
        second_image_id=None,
        result_image_id=result.id if result else None,
        rerun_of_id=None,
        read_with=read_with,
    )


def memory_page(size: int) -> MemoryPage:
    """A page of `size` finished tasks, the same share with a result image as the bench data."""
    reference = memory_image(uuid.uuid4())
    images = {reference.id: reference}
    links: dict[str, str] = {}
    read_with = ReadTogether(images, links)
    edges = []
    for index in range(size):
        result = memory_image(uuid.uuid4()) if index % 50 < 50 * SHARE_WITH_RESULT else None
        if result:
            images[result.id] = result
        task = memory_task(index, reference.id, result, read_with)
        edges.append(TaskEdge(cursor=f"cursor-{index}", node=task))
    page_info = PageInfo(has_next_page=True, has_previous_page=False,
                         start_cursor=edges[0].cursor if edges else None,
                         end_cursor=edges[-1].cursor if edges else None)  # fmt: skip
    connection = TaskConnection(edges=edges, page_info=page_info,
                                query=HistoryQuery(owner=LOCAL_OWNER, first=size))  # fmt: skip
    return MemoryPage(connection, images, links)


def floor_schema(page: MemoryPage) -> strawberry.Schema:
    """A schema whose `history` hands out the page built in memory, its links signed for this
    execution; every type below it is the service's own. Parsing and validation are cached, as
    in the service."""

    @strawberry.type
    class Query:
        @strawberry.field
        async def history(
            self,
            info: Info[RequestContext, None],
            first: int = 20,
            after: str | None = None,
            status: list[TaskStatus] | None = None,
            search: str | None = None,
        ) -> TaskConnection:
            page.links.clear()
            results = (edge.node.result_image_id for edge in page.connection.edges)
            keys = [key for found in results if found for key in keys_of(page.images[found])]
            await info.context.sign(keys, into=page.links)
            return page.connection

    return strawberry.Schema(
        query=Query,
        types=[Task, Image],
        extensions=[lambda: ParserCache(maxsize=16), lambda: ValidationCache(maxsize=16)],
        config=StrawberryConfig(scalar_map=dict(SCALAR_MAP)),
    )


def memory_context(page: MemoryPage) -> RequestContext:
    """A fresh request context whose image rows come from memory (for any field read past the
    page) and whose links are the served ones."""

    async def load_images(ids: list[uuid.UUID]) -> list[StoredImage | None]:
        return [cast(StoredImage, page.images.get(image_id)) for image_id in ids]

    context = RequestContext(
        services=cast(Services, None),
        owner=LOCAL_OWNER,
        public_url=PUBLIC_URL,
        links=ServedLinks("/files"),
    )
    context.images.load_fn = load_images
    return context


async def execute_pages(
    document: str, variables: dict[str, Any], seconds: float, page_size: int = 50
) -> LoadResult:
    """Execute `document` back to back for `seconds` (one page at a time, like one core serving
    closed-loop clients); each page's time is kept as a latency, any error is counted."""
    page = memory_page(page_size)
    schema = floor_schema(page)
    found = LoadResult()
    began = time.perf_counter()
    deadline = began + seconds
    while (start := time.perf_counter()) < deadline:
        result = await schema.execute(
            document, variable_values=variables, context_value=memory_context(page)
        )
        if result.errors:
            found.fail(f"the executor floor's page failed: {result.errors[0]}")
        else:
            found.latencies.append(time.perf_counter() - start)
        if len(found.latencies) % 20 == 0:
            await asyncio.sleep(0)  # the loop's other work (the child's pipes) is not starved
    found.elapsed = time.perf_counter() - began
    return found
