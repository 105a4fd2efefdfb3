from __future__ import annotations

import contextlib
import os

import pytest
from PIL import ExifTags, Image, ImageChops, ImageCms, ImageStat, PngImagePlugin

from storage.errors import ImageRejected
from storage.images import ImageDescription, ImageLimits, describe_image, make_thumbnail
from storage.incremental import IncrementalImage
from tests.storage.pictures import (
    jpeg_with_orientation,
    noisy,
    opened,
    png_rgb16,
    save,
    two_tone,
)


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


def read_whole(source: bytes, limits: ImageLimits | None = None) -> tuple[ImageDescription, bytes]:
    reader = IncrementalImage(limits)
    try:
        for start in range(0, len(source), 64 * 1024):
            reader.feed(source[start : start + 64 * 1024])
        return reader.finish()
    finally:
        reader.close()


@pytest.fixture
def no_full_size_png_decode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pillow may read a PNG's header, never decode its pixels: that is the full-size buffer."""

    def refuse(image: PngImagePlugin.PngImageFile) -> None:
        raise AssertionError(f"a {image.size} PNG was decoded at full size")

    monkeypatch.setattr(PngImagePlugin.PngImageFile, "load", refuse)


def mean_difference(first: Image.Image, second: Image.Image) -> float:
    difference = ImageChops.difference(first.convert("RGB"), second.convert("RGB"))
    return sum(ImageStat.Stat(difference).mean) / 3


async def test_a_large_png_is_thumbnailed_without_decoding_it_at_full_size(
    no_full_size_png_decode: None,
) -> None:
    image = two_tone(2400, 1600)
    source = save(image, "PNG")
    described, thumbnail = read_whole(source)
    assert (described.width, described.height) == (2400, 1600)
    small = opened(thumbnail)
    expected = image.copy()
    expected.thumbnail((256, 256), Image.Resampling.LANCZOS)
    assert small.format == "WEBP"
    assert small.size == expected.size
    assert mean_difference(small, expected) < 4


async def test_a_large_png_keeps_its_orientation_profile_and_alpha(
    no_full_size_png_decode: None,
) -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    image = two_tone(1200, 600).convert("RGBA")
    image.putalpha(128)
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    described, thumbnail = read_whole(save(image, "PNG", exif=exif, icc_profile=profile))
    assert (described.width, described.height) == (600, 1200)
    small = opened(thumbnail)
    assert small.size == (128, 256)
    assert small.mode == "RGBA"
    assert small.info.get("icc_profile") == profile
    # Turned 90 degrees clockwise: the red left half is now on top.
    assert small.convert("RGB").getpixel((64, 10)) == pytest.approx((255, 0, 0), abs=8)
    assert small.convert("RGB").getpixel((64, 245)) == pytest.approx((0, 0, 255), abs=8)


def test_a_large_sixteen_bit_png_keeps_the_high_byte(no_full_size_png_decode: None) -> None:
    _, thumbnail = read_whole(png_rgb16(1100, 600, (0x1234, 0xABCD, 0xFF00)))
    assert opened(thumbnail).convert("RGB").getpixel((10, 10)) == pytest.approx(
        (0x12, 0xAB, 0xFF), abs=3
    )


def test_a_damaged_large_png_is_refused(no_full_size_png_decode: None) -> None:
    source = noisy(1200, 800)
    with pytest.raises(ImageRejected) as refused:
        read_whole(source[: len(source) // 2])
    assert refused.value.code == "BAD_IMAGE"


def open_deleted_files() -> list[str]:
    found = []
    for descriptor in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/self/fd/{descriptor}")
            if target.endswith("(deleted)"):
                found.append(target)
    return found


def test_a_large_png_read_leaves_no_temporary_file_open() -> None:
    before = open_deleted_files()
    for _ in range(3):
        read_whole(noisy(1200, 800))
    # Every spooled file is closed and gone, none kept open by a decoder's cache.
    assert len(open_deleted_files()) <= len(before)
