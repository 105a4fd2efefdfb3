"""One stored_image row per owner and uploaded content, even when first uploads race, and blobs a
committed row names are never removed by a failed request."""

from __future__ import annotations

import asyncio
import base64
import importlib
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from tortoise import connections
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from storage.local import LocalBlobStore
from tasks.intake import ImageIntake, IntakeSettings
from tasks.requests import Base64Source
from tasks.store.clock import utc_now
from tasks.store.database import Database
from tasks.store.models import ImageKind, StoredImage, Task
from tests.support.images import encoded

pytestmark = pytest.mark.usefixtures("database")

COPIED: tuple[str, ...] = ("owner", "kind", "sha256", "blob_key", "thumbnail_key")
COPIED += ("content_type", "width", "height", "size")
MIGRATION = importlib.import_module("tasks.migrations.0002_unique_input_images")


def intake(tmp_path: Path) -> tuple[ImageIntake, LocalBlobStore]:
    blobs = LocalBlobStore(tmp_path / "files")
    return ImageIntake(blobs, IntakeSettings()), blobs


def png_source(color: tuple[int, int, int] = (10, 200, 30)) -> Base64Source:
    return Base64Source(base64.b64encode(encoded(32, 24, color=color)).decode())


async def test_concurrent_first_uploads_of_one_image_share_one_row_and_its_blobs(
    tmp_path: Path, database: Database
) -> None:
    images, blobs = intake(tmp_path)
    acquired = await images.acquire(png_source(), owner="alice", field="image")

    async def upload() -> StoredImage:
        with database.bound():
            async with in_transaction():
                result = await images.persist(acquired, owner="alice")
        return result.image

    rows = await asyncio.gather(*(upload() for _ in range(6)))
    assert len({row.id for row in rows}) == 1
    assert await StoredImage.filter(owner="alice", kind=ImageKind.INPUT).count() == 1
    assert await blobs.exists(rows[0].blob_key)
    assert rows[0].thumbnail_key is not None and await blobs.exists(rows[0].thumbnail_key)


async def test_uploading_an_image_again_finds_its_row_and_the_transaction_goes_on(
    tmp_path: Path,
) -> None:
    """The owner's input of that content is met by the INSERT itself, which does not fail: the
    request's transaction (PostgreSQL aborts one on a failed statement) carries on."""
    images, _ = intake(tmp_path)
    acquired = await images.acquire(png_source(), owner="alice", field="image")
    async with in_transaction():
        first = await images.persist(acquired, owner="alice")
        again = await images.persist(acquired, owner="alice")
        assert await StoredImage.filter(owner="alice", kind=ImageKind.INPUT).count() == 1
    assert first.created and not again.created
    assert again.image.id == first.image.id and again.written_keys == []
    assert [
        name for name in COPIED if getattr(again.image, name) != getattr(first.image, name)
    ] == []


async def test_uploading_an_image_again_writes_back_a_blob_its_row_lost(tmp_path: Path) -> None:
    images, blobs = intake(tmp_path)
    acquired = await images.acquire(png_source(), owner="alice", field="image")
    row = (await images.persist(acquired, owner="alice")).image
    await blobs.delete(row.blob_key)
    again = await images.persist(acquired, owner="alice")
    assert again.image.id == row.id
    assert await blobs.exists(row.blob_key)


async def test_the_database_refuses_a_second_input_row_for_one_owner_and_content(
    tmp_path: Path,
) -> None:
    images, _ = intake(tmp_path)
    acquired = await images.acquire(png_source(), owner="alice", field="image")
    first = (await images.persist(acquired, owner="alice")).image
    await images.persist(acquired, owner="bob")  # another owner has a row of their own
    fields = {name: getattr(first, name) for name in ("sha256", "blob_key", "content_type")}
    with pytest.raises(IntegrityError):
        await StoredImage.create(
            owner="alice", kind=ImageKind.INPUT, width=1, height=1, size=1,
            created_at=utc_now(), **fields,
        )  # fmt: skip
    await StoredImage.create(  # outputs are not concerned
        owner="alice", kind=ImageKind.OUTPUT, width=1, height=1, size=1,
        created_at=utc_now(), **fields,
    )  # fmt: skip


async def test_discard_keeps_the_blobs_that_a_committed_row_names(tmp_path: Path) -> None:
    images, blobs = intake(tmp_path)
    acquired = await images.acquire(png_source(), owner="alice", field="image")
    row = (await images.persist(acquired, owner="alice")).image
    await blobs.put("inputs/zz/unused.png", b"x", "image/png")
    assert row.thumbnail_key is not None
    await images.discard([row.blob_key, row.thumbnail_key, "inputs/zz/unused.png"])
    assert await blobs.exists(row.blob_key) and await blobs.exists(row.thumbnail_key)
    assert not await blobs.exists("inputs/zz/unused.png")


async def test_ensure_blobs_writes_again_what_a_failed_request_removed(tmp_path: Path) -> None:
    images, blobs = intake(tmp_path)
    acquired = await images.acquire(png_source(), owner="alice", field="image")
    row = (await images.persist(acquired, owner="alice")).image
    await blobs.delete(row.blob_key)
    await images.ensure_blobs(acquired)
    assert await blobs.exists(row.blob_key)


async def test_migration_0002_merges_duplicate_input_rows_into_the_oldest(
    tmp_path: Path,
) -> None:
    images, _ = intake(tmp_path)
    acquired = await images.acquire(png_source(), owner="alice", field="image")
    oldest = (await images.persist(acquired, owner="alice")).image
    other = (await images.persist(acquired, owner="bob")).image
    connection = connections.get("default")
    await connection.execute_script(MIGRATION.DROP_INDEX)
    later = []
    for minutes in (1, 2):
        copy = StoredImage(
            **{name: getattr(oldest, name) for name in COPIED},
            created_at=oldest.created_at + timedelta(minutes=minutes),
        )
        await copy.save()
        later.append(copy)
    tasks = [
        await make_task(reference=later[0], second=later[1]),
        await make_task(reference=later[1], second=None),
        await make_task(reference=other, second=oldest),
    ]
    for statement in [*MIGRATION.Migration.operations[0].sql, MIGRATION.CREATE_INDEX]:
        await connection.execute_script(statement)
    rows = await StoredImage.filter(kind=ImageKind.INPUT).order_by("owner")
    assert [(row.owner, row.id) for row in rows] == [("alice", oldest.id), ("bob", other.id)]
    refs = [await Task.get(id=task.id) for task in tasks]
    assert [(t.reference_image_id, t.second_image_id) for t in refs] == [  # type: ignore[attr-defined]
        (oldest.id, oldest.id),
        (oldest.id, None),
        (other.id, oldest.id),
    ]


async def make_task(*, reference: StoredImage, second: StoredImage | None) -> Task:
    now = utc_now()
    return await Task.create(
        id=uuid.uuid4(), owner=reference.owner, workflow="w", description="d", parameters={},
        seed="1", reference_image=reference, second_image=second, request_hash="h",
        created_at=now, updated_at=now,
    )  # fmt: skip
