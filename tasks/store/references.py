"""Which blob keys the database names: a stored image's blob or thumbnail, or a task's preview.
A named blob must never be deleted; an unnamed one is garbage once nothing is writing it."""

from __future__ import annotations

from collections.abc import Sequence

from tortoise.expressions import Q

from tasks.store.models import StoredImage, Task


async def referenced(keys: Sequence[str]) -> set[str]:
    """Those of `keys` that a stored image (blob or thumbnail) or a task (preview) names."""
    rows = await StoredImage.filter(Q(blob_key__in=keys) | Q(thumbnail_key__in=keys)).values_list(
        "blob_key", "thumbnail_key"
    )
    previews = await Task.filter(preview_key__in=keys).values_list("preview_key", flat=True)
    named = {str(key) for row in rows for key in row if key} | {str(key) for key in previews}
    return named & set(keys)
