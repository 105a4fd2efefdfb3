"""The reference images an owner has given (uploaded, or sent with a task), newest first."""

from __future__ import annotations

from tasks.history import newest_first
from tasks.store.models import ImageKind, StoredImage


async def uploads_page(owner: str, first: int, after: str | None) -> tuple[list[StoredImage], bool]:
    """A page of the owner's reference images after the cursor `after`; and whether more follow."""
    return await newest_first(StoredImage.filter(owner=owner, kind=ImageKind.INPUT), first, after)
