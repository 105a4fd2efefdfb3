"""Image intake writes an input and its thumbnail completely, or not at all."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from storage import images as images_module
from storage.blobs import LocalBlobStore
from storage.errors import ImageRejected, RejectionCode
from storage.limits import ImageLimits
from tasks.errors import InvalidRequest
from tasks.intake import ImageIntake, IntakeSettings
from tasks.requests import Base64Source
from tasks.store.database import Database
from tasks.store.models import StoredImage
from tests.support.images import encoded

pytestmark = pytest.mark.database


def files_under(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()] if folder.exists() else []


def source_of(data: bytes) -> Base64Source:
    return Base64Source(text=base64.b64encode(data).decode())


async def test_a_thumbnail_follows_raised_limits(database: Database, tmp_path: Path) -> None:
    """An image only a raised limit admits (a side over the 16384 default) gets its thumbnail."""
    limits = ImageLimits(max_side=20_000)
    intake = ImageIntake(LocalBlobStore(tmp_path / "files"), IntakeSettings(limits=limits))
    image = await intake.acquire(source_of(encoded(20_000, 1)), owner="o", field="image")
    result = await intake.persist(image, owner="o")
    assert result.image.thumbnail_key in result.written_keys
    assert len(files_under(tmp_path / "files")) == 2


async def test_a_refused_thumbnail_leaves_nothing_written(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The thumbnail is made by the check, from its decoded pixels: refusing it refuses the
    image before anything is written."""

    def refuse(image: object, side: int, quality: int) -> bytes:
        raise ImageRejected(RejectionCode.BAD_IMAGE, "no thumbnail")

    monkeypatch.setattr(images_module, "shrunk_webp", refuse)
    intake = ImageIntake(LocalBlobStore(tmp_path / "files"), IntakeSettings())
    with pytest.raises(InvalidRequest) as caught:
        await intake.acquire(source_of(encoded(30, 20)), owner="o", field="image")
    assert caught.value.extensions["field"] == "image"
    assert files_under(tmp_path / "files") == []
    assert await StoredImage.all().count() == 0
