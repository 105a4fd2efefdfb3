from __future__ import annotations

import pytest
from PIL import Image

from storage.formats import ImageFormat
from storage.images import ImageLimits, normalize_image
from storage.trailing import has_trailing_bytes
from tests.storage.pictures import jpeg_with_orientation, noisy, save

HTML = b"<html><body><script>fetch('/graphql')</script></body></html>"
FORMATS: list[ImageFormat] = ["PNG", "JPEG", "WEBP"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_image_alone_has_no_trailing_bytes(fmt: ImageFormat) -> None:
    assert not has_trailing_bytes(noisy(40, 30, fmt), fmt)


def test_jpeg_segments_and_progressive_scans_are_walked_to_the_end() -> None:
    assert not has_trailing_bytes(jpeg_with_orientation(40, 30, 6), "JPEG")
    progressive = save(Image.new("RGB", (64, 48), (9, 99, 199)), "JPEG", progressive=True)
    assert not has_trailing_bytes(progressive, "JPEG")


@pytest.mark.parametrize("fmt", FORMATS)
def test_bytes_after_the_end_are_noticed(fmt: ImageFormat) -> None:
    assert has_trailing_bytes(noisy(40, 30, fmt) + HTML, fmt)


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_end_that_cannot_be_found_counts_as_trailing(fmt: ImageFormat) -> None:
    assert has_trailing_bytes(noisy(40, 30, fmt)[:-3], fmt)


@pytest.mark.parametrize("fmt", FORMATS)
async def test_a_polyglot_is_stored_re_encoded_without_its_payload(fmt: ImageFormat) -> None:
    image = noisy(40, 30, fmt)
    normalized = await normalize_image(image + HTML, ImageLimits())
    assert HTML not in normalized.data
    assert not has_trailing_bytes(normalized.data, fmt)
    assert (normalized.format, normalized.width, normalized.height) == (fmt, 40, 30)
