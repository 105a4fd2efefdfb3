"""Per-request context: the services the resolvers call, the caller, and per-request loaders."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from strawberry.dataloader import DataLoader

from graphql_api.metrics import TaskMetrics
from storage.links import BlobLinks
from tasks import Services, StoredImage, Task, images_by_id, owned_tasks


async def load_images(ids: list[UUID]) -> list[StoredImage | None]:
    found = await images_by_id(ids)
    return [found.get(image_id) for image_id in ids]


def task_loader(owner: str) -> DataLoader[UUID, Task | None]:
    """Tasks of `owner` by id, one query per batch (a page's `rerunOf` fields); not cached, as
    tasks change while a subscription's context lives."""

    async def load(ids: list[UUID]) -> list[Task | None]:
        found = await owned_tasks(ids, owner)
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

    def file_url_now(self, blob_key: str) -> str | None:
        """The same link when it is made without waiting (one the API serves), else None."""
        return self.links.url_now(blob_key, self.public_url)

    async def sign(self, blob_keys: Iterable[str], into: dict[str, str]) -> None:
        """Sign the links of a page's blobs in one pass (blob key → URL into `into`), for its
        fields to read without waiting; `into` belongs to one read, like every link."""
        for key in blob_keys:
            if key not in into:
                into[key] = await self.file_url(key)
