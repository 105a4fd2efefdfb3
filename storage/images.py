"""Image intake and derived images: normalise what people send, describe stored images, make
thumbnails and previews. The Pillow work runs in a worker thread; these functions never block the
event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field

from PIL import ExifTags, Image

from storage.decoding import (
    encode,
    guarded,
    is_animated,
    keeps_color_profile,
    load_pixels,
    needs_rotation,
    open_checked,
    standard_mode,
    upright,
    verify_structure,
)
from storage.formats import CONTENT_TYPES, ImageFormat, png_bit_depth, require_format
from storage.limits import ImageLimits, check_byte_size
from storage.trailing import has_trailing_bytes

__all__ = [
    "ImageDescription",
    "ImageFormat",
    "ImageLimits",
    "LivePreview",
    "NormalizedImage",
    "describe_image",
    "make_live_preview",
    "make_preview",
    "make_thumbnail",
    "normalize_image",
]

SIDEWAYS_ORIENTATIONS = (5, 6, 7, 8)
MAX_WEBP_SIDE = 16_383
THUMBNAIL_SIDE = 256
THUMBNAIL_QUALITY = 80
# Thumbnails and previews: a box reduce straight to within 1x of the final size (an area average,
# ~1 ms for 1 MP where a reduce to 2x and a LANCZOS pass take ~5 ms), then WebP method 2 (~2 ms
# where method 4 takes ~5 ms, for files ~3 % larger). Both are paid on every upload's request.
SMALL_REDUCING_GAP = 1.0
SMALL_WEBP_METHOD = 2


@dataclass(frozen=True)
class WebpEffort:
    """How much work goes into a small WebP: the encoder's method and the resampling filter."""

    method: int
    resampling: Image.Resampling


THUMBNAIL_EFFORT = WebpEffort(SMALL_WEBP_METHOD, Image.Resampling.LANCZOS)
# A live (latent) preview is replaced within a second and never kept past its task: a bilinear
# resize (~1.7 ms where LANCZOS takes ~3.2 ms for 512 px) and WebP method 0 (~3.5 ms where
# method 2 takes ~6 ms, files no larger here) halve what each one costs.
LIVE_PREVIEW_EFFORT = WebpEffort(0, Image.Resampling.BILINEAR)
LIVE_PREVIEW_QUALITY = THUMBNAIL_QUALITY


@dataclass(frozen=True)
class NormalizedImage:
    """An accepted image: upright, first frame only, 8-bit RGB or RGBA, in its original format.

    `data` is the sender's own bytes when nothing had to change, a re-encoding otherwise (bytes
    appended after the image's end, as in a PNG+HTML polyglot, count as a change).
    """

    data: bytes
    format: ImageFormat
    content_type: str
    width: int
    height: int
    sha256: str
    size: int
    thumbnail: bytes = field(repr=False)
    """The thumbnail (as `make_thumbnail` makes it), from the pixels decoded for the check."""


@dataclass(frozen=True)
class ImageDescription:
    """Facts about an image read from its header (its pixels are not decoded)."""

    format: ImageFormat
    content_type: str
    width: int
    height: int
    sha256: str
    size: int


async def normalize_image(data: bytes, limits: ImageLimits | None = None) -> NormalizedImage:
    """Validate and normalise an uploaded image; raises ImageRejected with the reason."""
    limits = limits or ImageLimits()
    require_format(data)
    check_byte_size(len(data), limits)
    return await asyncio.to_thread(normalize_now, data, limits)


async def describe_image(data: bytes, limits: ImageLimits | None = None) -> ImageDescription:
    """Format, upright dimensions and hash of an image (only the pixel limits apply)."""
    return await asyncio.to_thread(describe_now, data, limits or ImageLimits())


async def make_thumbnail(
    data: bytes, max_side: int = THUMBNAIL_SIDE, *, limits: ImageLimits | None = None
) -> bytes:
    """A small WebP (quality 80) no larger than `max_side` on either side."""
    return await make_preview(data, max_side, quality=THUMBNAIL_QUALITY, limits=limits)


async def make_preview(
    data: bytes, max_side: int = 512, quality: int = 85, *, limits: ImageLimits | None = None
) -> bytes:
    """A WebP scaled down to fit `max_side` (never up), upright, first frame only."""
    if not 1 <= max_side <= MAX_WEBP_SIDE:
        raise ValueError(f"max_side must be between 1 and {MAX_WEBP_SIDE}")
    return await asyncio.to_thread(scaled_webp, data, max_side, quality, limits or ImageLimits())


@dataclass(frozen=True)
class LivePreview:
    """A running task's latest preview, ready to store."""

    data: bytes
    format: ImageFormat

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]


async def make_live_preview(
    data: bytes, max_side: int, *, limits: ImageLimits | None = None
) -> LivePreview:
    """A running task's latest preview within `max_side`. A JPEG that already fits and is upright
    (what ComfyUI sends: 512 px at most by default) is kept as it is, neither decoded nor encoded;
    anything else becomes a WebP made with the cheapest settings (`LIVE_PREVIEW_EFFORT`). It lives
    only until the next one or the task's end."""
    if not 1 <= max_side <= MAX_WEBP_SIDE:
        raise ValueError(f"max_side must be between 1 and {MAX_WEBP_SIDE}")
    limits = limits or ImageLimits()
    check_byte_size(len(data), limits)
    return await asyncio.to_thread(live_preview_now, data, max_side, limits)


def live_preview_now(data: bytes, max_side: int, limits: ImageLimits) -> LivePreview:
    fmt = require_format(data)
    with open_checked(data, fmt, limits) as image:
        if fmt == "JPEG" and max(image.size) <= max_side and not needs_rotation(image):
            return LivePreview(data, "JPEG")
        webp = decoded_webp(image, fmt, max_side, LIVE_PREVIEW_QUALITY, limits, LIVE_PREVIEW_EFFORT)
        return LivePreview(webp, "WEBP")


def normalize_now(data: bytes, limits: ImageLimits) -> NormalizedImage:
    fmt = require_format(data)
    verify_structure(data, fmt, limits)
    with open_checked(data, fmt, limits) as image:
        load_pixels(image, limits)
        data, (width, height) = guarded(lambda: standardized(image, fmt, data), limits)
        # From the pixels just decoded: decoding the stored bytes again would double the work.
        thumbnail = guarded(lambda: shrunk_webp(image, THUMBNAIL_SIDE, THUMBNAIL_QUALITY), limits)
    return NormalizedImage(
        thumbnail=thumbnail,
        data=data,
        format=fmt,
        content_type=CONTENT_TYPES[fmt],
        width=width,
        height=height,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
    )


def standardized(
    image: Image.Image, fmt: ImageFormat, data: bytes
) -> tuple[bytes, tuple[int, int]]:
    """The bytes to store and the upright size: the original bytes when nothing had to change."""
    reworked = rework(image, fmt, data)
    if reworked is None:
        return data, image.size
    profile = image.info.get("icc_profile") if keeps_color_profile(image.mode) else None
    return encode(reworked, fmt, icc_profile=profile), reworked.size


def rework(image: Image.Image, fmt: ImageFormat, data: bytes) -> Image.Image | None:
    """The image to re-encode (turned upright, first frame, 8-bit RGB/RGBA, nothing appended
    after its end), or None when the original bytes can be kept as they are."""
    result = standard_mode(upright(image))
    unchanged = (
        result is image
        and not is_animated(image)
        and png_bit_depth(data) != 16
        and not has_trailing_bytes(data, fmt)
    )
    return None if unchanged else result


def describe_now(data: bytes, limits: ImageLimits) -> ImageDescription:
    fmt = require_format(data)
    with open_checked(data, fmt, limits) as image:
        width, height = guarded(lambda: upright_size(image), limits)
    return ImageDescription(
        format=fmt,
        content_type=CONTENT_TYPES[fmt],
        width=width,
        height=height,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
    )


def upright_size(image: Image.Image) -> tuple[int, int]:
    width, height = image.size
    if image.getexif().get(ExifTags.Base.Orientation, 1) in SIDEWAYS_ORIENTATIONS:
        return height, width
    return width, height


def scaled_webp(
    data: bytes,
    max_side: int,
    quality: int,
    limits: ImageLimits,
    effort: WebpEffort = THUMBNAIL_EFFORT,
) -> bytes:
    fmt = require_format(data)
    with open_checked(data, fmt, limits) as image:
        return decoded_webp(image, fmt, max_side, quality, limits, effort)


def decoded_webp(
    image: Image.Image,
    fmt: ImageFormat,
    max_side: int,
    quality: int,
    limits: ImageLimits,
    effort: WebpEffort = THUMBNAIL_EFFORT,
) -> bytes:
    """An opened image decoded (a JPEG at a reduced scale when that suffices) and scaled down to
    a WebP that fits `max_side`."""
    if fmt == "JPEG":
        image.draft(None, (max_side, max_side))
    load_pixels(image, limits)
    return guarded(lambda: shrunk_webp(image, max_side, quality, effort), limits)


def shrunk_webp(
    image: Image.Image, max_side: int, quality: int, effort: WebpEffort = THUMBNAIL_EFFORT
) -> bytes:
    profile = image.info.get("icc_profile") if keeps_color_profile(image.mode) else None
    small = standard_mode(upright(image))
    small.thumbnail((max_side, max_side), effort.resampling, reducing_gap=SMALL_REDUCING_GAP)
    return encode(small, "WEBP", icc_profile=profile, quality=quality, webp_method=effort.method)
