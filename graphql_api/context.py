"""Per-request context: the services the resolvers call, the caller, and per-request loaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from strawberry.dataloader import DataLoader

from graphql_api.metrics import TaskMetrics
from storage.links import BlobLinks
from tasks import Services, StoredImage, Task


async def load_images(ids: list[UUID]) -> list[StoredImage | None]:
    found = {image.id: image for image in await StoredImage.filter(id__in=ids)}
    return [found.get(image_id) for image_id in ids]


def task_loader(owner: str) -> DataLoader[UUID, Task | None]:
    """Tasks of `owner` by id, one query per batch (a page's `rerunOf` fields); not cached, as
    tasks change while a subscription's context lives."""

    async def load(ids: list[UUID]) -> list[Task | None]:
        found = {task.id: task for task in await Task.filter(id__in=ids, owner=owner)}
        return [found.get(task_id) for task_id in ids]

    return DataLoader(load_fn=load, cache=False)


@dataclass
class RequestContext:
    services: Services
    owner: str
    public_url: str
    links: BlobLinks
    images: DataLoader[UUID, StoredImage | None] = field(
        default_factory=lambda: DataLoader(load_fn=load_images)
    )
    metrics: TaskMetrics | None = None
    connection_params: dict[str, Any] | None = None
    upgrade_authorization: str | None = None
    """The Authorization header of a websocket's upgrade request (non-browser clients)."""
    tasks: DataLoader[UUID, Task | None] = field(init=False)

    def __post_init__(self) -> None:
        self.tasks = task_loader(self.owner)

    async def file_url(self, blob_key: str) -> str:
        """Where the caller downloads a stored blob; made anew on every read (presigned URLs
        expire), so never keep it across requests."""
        return await self.links.url_for(blob_key, self.public_url)
