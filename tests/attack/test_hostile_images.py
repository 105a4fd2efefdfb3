"""A corpus of hostile images through generateImage, as base64 and as a multipart upload: each
is refused with BAD_USER_INPUT and the precise reason, or accepted and stored as a clean image
(readable, RGB/RGBA, 8-bit, one frame, the format claimed, nothing after its end); never a server
error, never a write on refusal, and never a decoded bomb (peak memory stays bounded)."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.attack.environments import fresh_settings
from tests.attack.hostile_images import MAX_BYTES, MAX_PIXELS, entry, hostile, names
from tests.attack.image_end import trailing_bytes
from tests.attack.memory import PeakMemory
from tests.attack.service import ServiceThread
from tests.attack.verdicts import assert_answered, assert_nothing_written
from tests.attack.wire import Reply

pytestmark = pytest.mark.database

GENERATE = """mutation($input: GenerateImageInput!) { generateImage(input: $input) {
  task { id referenceImage { url thumbnailUrl width height contentType size } } } }"""
UPLOAD_PATH = "variables.input.referenceImage.upload"
FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP"}
# A 4-megapixel image decodes to 16 MB (RGBA); any bomb in the corpus would need far more.
MEMORY_BOUND_MB = 160.0


@pytest.fixture(scope="module")
def image_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceThread]:
    folder: Path = tmp_path_factory.mktemp("hostile-images")
    settings = fresh_settings(folder, max_image_pixels=MAX_PIXELS, max_image_bytes=MAX_BYTES)
    with ServiceThread(settings) as service:
        yield service


def send(service: ServiceThread, data: bytes, transport: str) -> Reply:
    description = "make it night"
    if transport == "base64":
        source = {"base64": base64.b64encode(data).decode()}
        return service.graphql(
            GENERATE, {"input": {"referenceImage": source, "description": description}}
        )
    operations = {
        "query": GENERATE,
        "variables": {"input": {"referenceImage": {"upload": None}, "description": description}},
    }
    fields = {"operations": json.dumps(operations), "map": json.dumps({"0": [UPLOAD_PATH]})}
    return service.run(
        service.wire.post_multipart(fields, {"0": ("picture", data, "application/octet-stream")})
    )


def fetched(service: ServiceThread, url: str) -> tuple[bytes, str]:
    response = service.run(service.wire.get(url))
    assert response.status_code == 200, f"{url} answered {response.status_code}"
    return response.content, response.headers.get("content-type", "")


def assert_clean_image(service: ServiceThread, image: dict[str, Any], name: str) -> None:
    data, served_as = fetched(service, image["url"])
    fmt = FORMATS[image["contentType"]]
    assert served_as == image["contentType"], f"{name}: served as {served_as}"
    with Image.open(io.BytesIO(data), formats=[fmt]) as stored:
        assert getattr(stored, "n_frames", 1) == 1, f"{name}: the stored image is animated"
        stored.load()
        assert stored.mode in ("RGB", "RGBA"), f"{name}: stored in mode {stored.mode}"
        assert stored.size == (image["width"], image["height"]), f"{name}: {stored.size} vs {image}"
    if fmt == "PNG":
        assert data[24] == 8, f"{name}: the stored PNG has bit depth {data[24]}"
    extra = trailing_bytes(data, fmt)
    assert extra == 0, (
        f"{name}: the stored file carries {extra} bytes after the image: {data[-extra:][:60]!r}"
    )
    thumbnail, thumbnail_type = fetched(service, image["thumbnailUrl"])
    assert thumbnail_type == "image/webp", f"{name}: thumbnail served as {thumbnail_type}"
    with Image.open(io.BytesIO(thumbnail), formats=["WEBP"]) as small:
        assert max(small.size) <= 256, f"{name}: thumbnail of {small.size}"


def assert_precise_refusal(reply: Reply, name: str) -> None:
    item = entry(name)
    assert reply.codes == ["BAD_USER_INPUT"], f"{name}: {reply.errors}"
    extensions = reply.errors[0]["extensions"]
    assert extensions.get("field") == "input.referenceImage", f"{name}: {extensions}"
    assert extensions.get("reason") in item.refused_with, (
        f"{name}: refused with {extensions.get('reason')}, expected one of {sorted(item.refused_with)}"
    )


@pytest.mark.parametrize("transport", ["base64", "multipart"])
@pytest.mark.parametrize("name", names())
def test_hostile_image(image_service: ServiceThread, name: str, transport: str) -> None:
    data = hostile(name)
    before = image_service.footprint()
    memory = PeakMemory()
    memory.start()
    reply = send(image_service, data, transport)
    growth = memory.growth_mb()
    assert growth < MEMORY_BOUND_MB, f"{name}: peak memory grew by {growth:.0f} MB"
    assert_answered(reply, name)
    item = entry(name)
    if reply.refused:
        assert item.refused_with, f"{name} must be accepted: {reply.errors}"
        assert_precise_refusal(reply, name)
        assert_nothing_written(before, image_service.footprint(), name)
        return
    assert item.must_be_accepted or item.also_accepted, f"{name} must be refused"
    task = reply.data["generateImage"]["task"]
    assert_clean_image(image_service, task["referenceImage"], name)
