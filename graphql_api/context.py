"""Per-request context: the services the resolvers call, the caller, and per-request loaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from strawberry.dataloader import DataLoader

from graphql_api.metrics import TaskMetrics
from storage.links import BlobLinks
from tasks.models import StoredImage
from tasks.services import Services


async def load_images(ids: list[UUID]) -> list[StoredImage | None]:
    found = {image.id: image for image in await StoredImage.filter(id__in=ids)}
    return [found.get(image_id) for image_id in ids]


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

    async def file_url(self, blob_key: str) -> str:
        """Where the caller downloads a stored blob; made anew on every read (presigned URLs
        expire), so never keep it across requests."""
        return await self.links.url_for(blob_key, self.public_url)
