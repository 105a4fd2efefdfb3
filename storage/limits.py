"""How big an image we agree to handle, and the checks applied before any pixel is decoded."""

from __future__ import annotations

from dataclasses import dataclass

from storage.errors import ImageRejected, RejectionCode, over_limit


@dataclass(frozen=True)
class ImageLimits:
    """Caps applied to every incoming image.

    - `max_bytes` (20 MB): the encoded file, checked before decoding (and while downloading).
    - `max_pixels` (50 megapixels): width x height declared in the header, checked before the
      pixels are decoded. 50 MP admits full-resolution photos of 48/50 MP phone and camera
      sensors (8160 x 6120) while bounding decoded memory at about 200 MB (RGBA) per image.
      Pillow's own hard stop (2 x `PIL.Image.MAX_IMAGE_PIXELS`, about 179 MP) applies above it.
    - `max_side` (16384 px): the longest side, so extreme strips (1 x 50,000,000) are refused
      and every accepted image can be re-encoded as WebP (whose limit is 16383).
    """

    max_bytes: int = 20 * 1024 * 1024
    max_pixels: int = 50_000_000
    max_side: int = 16_384

    def __post_init__(self) -> None:
        for name in ("max_bytes", "max_pixels", "max_side"):
            if getattr(self, name) <= 0:
                raise ValueError(f"ImageLimits.{name} must be positive")


def check_byte_size(size: int, limits: ImageLimits) -> None:
    if size > limits.max_bytes:
        raise ImageRejected(
            RejectionCode.IMAGE_TOO_LARGE,
            f"The image {over_limit(size, limits.max_bytes)}.",
        )


def check_dimensions(width: int, height: int, limits: ImageLimits) -> None:
    pixels = width * height
    if pixels > limits.max_pixels:
        raise ImageRejected(
            RejectionCode.IMAGE_TOO_MANY_PIXELS,
            f"The image is {width}x{height} pixels ({megapixels(pixels)} megapixels); "
            f"the limit is {megapixels(limits.max_pixels)} megapixels.",
        )
    if max(width, height) > limits.max_side:
        raise ImageRejected(
            RejectionCode.IMAGE_SIDE_TOO_LONG,
            f"The image is {width}x{height} pixels; no side may be longer than "
            f"{limits.max_side} pixels.",
        )


def megapixels(pixels: int) -> str:
    return f"{pixels / 1_000_000:.1f}".removesuffix(".0")
