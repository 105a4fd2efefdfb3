"""Stored images: an owner's image by id, images by id, an owner's input of given content, new
input rows, which blob keys the database names, and the bytes stored by kind.

A named blob must never be deleted; an unnamed one is garbage once nothing is writing it."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from uuid import UUID, uuid4

from tortoise.expressions import Q
from tortoise.functions import Sum

from tasks.store.clock import utc_now
from tasks.store.models import ImageKind, StoredImage, Task
from tasks.store.reading import Statement, connection

__all__ = [
    "ImageKind",
    "StoredImage",
    "bytes_by_kind",
    "create_input",
    "images_by_id",
    "owned_image",
    "owned_input",
    "referenced",
]


async def owned_image(image_id: UUID, owner: str) -> StoredImage | None:
    return await StoredImage.get_or_none(id=image_id, owner=owner)


async def images_by_id(image_ids: Collection[UUID]) -> dict[UUID, StoredImage]:
    """Those of the images that exist, by id, in one query."""
    return {image.id: image for image in await StoredImage.filter(id__in=list(image_ids))}


async def owned_input(owner: str, sha256: str) -> StoredImage | None:
    """The owner's input image of this content (one per owner and content)."""
    return await StoredImage.get_or_none(owner=owner, kind=ImageKind.INPUT, sha256=sha256)


INPUT_COLUMNS = (
    "id",
    "owner",
    "kind",
    "sha256",
    "blob_key",
    "thumbnail_key",
    "content_type",
    "width",
    "height",
    "size",
    "created_at",
)
# One input row per owner and content (the partial unique index of migration 0002): a row that
# exists already is left as it is, and nothing comes back.
NEW_INPUT = Statement.of(
    f"INSERT INTO stored_image ({', '.join(INPUT_COLUMNS)})"
    f" VALUES ({', '.join('?' for _ in INPUT_COLUMNS)})"
    f" ON CONFLICT (owner, sha256) WHERE kind = '{ImageKind.INPUT}' DO NOTHING RETURNING *"
)


async def create_input(
    *,
    owner: str,
    sha256: str,
    blob_key: str,
    thumbnail_key: str,
    content_type: str,
    width: int,
    height: int,
    size: int,
) -> StoredImage | None:
    """The owner's new input row; None when the owner has an input of this content already (a
    concurrent first upload of it may have just committed one). One statement, which never fails
    on that row, so the caller's transaction needs no savepoint around it."""
    values: dict[str, object] = {
        "id": uuid4(),
        "owner": owner,
        "kind": ImageKind.INPUT,
        "sha256": sha256,
        "blob_key": blob_key,
        "thumbnail_key": thumbnail_key,
        "content_type": content_type,
        "width": width,
        "height": height,
        "size": size,
        "created_at": utc_now(),
    }
    fields_map = StoredImage._meta.fields_map
    params = [
        fields_map[column].to_db_value(values[column], StoredImage) for column in INPUT_COLUMNS
    ]
    client, dialect = connection(write=True)
    rows = await client.execute_query_dict(NEW_INPUT.for_dialect(dialect), params)
    return StoredImage._init_from_db(**rows[0]) if rows else None


async def referenced(keys: Sequence[str]) -> set[str]:
    """Those of `keys` that a stored image (blob or thumbnail) or a task (preview) names."""
    rows = await StoredImage.filter(Q(blob_key__in=keys) | Q(thumbnail_key__in=keys)).values_list(
        "blob_key", "thumbnail_key"
    )
    previews = await Task.filter(preview_key__in=keys).values_list("preview_key", flat=True)
    named = {str(key) for row in rows for key in row if key} | {str(key) for key in previews}
    return named & set(keys)


async def bytes_by_kind() -> dict[str, float]:
    """Bytes of stored images by kind (input, output); kinds with no image are left out."""
    rows = await StoredImage.annotate(total=Sum("size")).group_by("kind").values("kind", "total")
    return {str(row["kind"]): float(row["total"] or 0) for row in rows}
