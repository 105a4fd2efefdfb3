from __future__ import annotations

import pytest

from storage.errors import ImageRejected
from storage.images import ImageLimits, describe_image, make_thumbnail
from storage.incremental import IncrementalImage
from tests.storage.pictures import jpeg_with_orientation, noisy, opened


@pytest.mark.parametrize("source", [noisy(600, 400), jpeg_with_orientation(300, 200, 6)])
async def test_an_image_read_in_chunks_is_described_and_thumbnailed_as_a_whole(
    source: bytes,
) -> None:
    reader = IncrementalImage()
    for start in range(0, len(source), 1000):
        reader.feed(source[start : start + 1000])
    described, thumbnail = reader.finish()
    reader.close()
    assert described == await describe_image(source)
    assert opened(thumbnail).size == opened(await make_thumbnail(source)).size


def test_dimensions_over_the_limits_are_refused_from_the_header() -> None:
    reader = IncrementalImage(ImageLimits(max_pixels=100))
    reader.feed(noisy(600, 400))
    with pytest.raises(ImageRejected):
        reader.finish()


def test_damaged_bytes_are_refused() -> None:
    reader = IncrementalImage()
    reader.feed(noisy(600, 400)[:5000])
    with pytest.raises(ImageRejected):
        reader.finish()
