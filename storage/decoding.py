"""Pillow work on untrusted bytes. Everything here blocks: callers run it in a worker thread.

Opening is lazy (header only), so the declared size is checked before any pixel is decoded.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from typing import TypeVar

from PIL import ExifTags, Image, ImageOps

from storage.errors import ImageRejected, RejectionCode
from storage.formats import ImageFormat
from storage.limits import ImageLimits, check_dimensions, megapixels
from storage.trailing import jpeg_end

T = TypeVar("T")

# What Pillow raises on malformed or truncated input (UnidentifiedImageError is an OSError).
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error)
BOMB_ERRORS = (Image.DecompressionBombError, Image.DecompressionBombWarning)

STANDARD_MODES = ("RGB", "RGBA")
ALPHA_MODES = ("RGBA", "RGBa", "LA", "La", "PA")
# Modes whose ICC profile still describes the pixels once they are RGB(A).
RGB_PROFILE_MODES = ("RGB", "RGBA", "RGBX", "P", "PA")
DAMAGED = "The image is damaged or truncated and cannot be read; please send the file again."
SIXTEEN_BIT_GRAY = ("I;16", "I;16B", "I;16L", "I;16N", "I")
ROTATING_ORIENTATIONS = range(2, 9)


def open_checked(data: bytes, fmt: ImageFormat, limits: ImageLimits) -> Image.Image:
    """Parse only the header and refuse dimensions over the limits."""
    image = guarded(lambda: Image.open(io.BytesIO(data), formats=[fmt]), limits)
    try:
        check_dimensions(image.width, image.height, limits)
    except ImageRejected:
        image.close()
        raise
    return image


def verify_structure(data: bytes, fmt: ImageFormat, limits: ImageLimits) -> None:
    """Pillow's structural check (chunk CRCs, end markers); it consumes the opened image. A JPEG
    must also reach its end-of-image marker: the decoder would pad a cut one with grey rows."""
    with open_checked(data, fmt, limits) as image:
        guarded(image.verify, limits)
    if fmt == "JPEG" and jpeg_end(data) is None:
        raise ImageRejected(RejectionCode.BAD_IMAGE, DAMAGED)


def load_pixels(image: Image.Image, limits: ImageLimits) -> None:
    """Decode the current frame completely, so truncated or corrupt data is refused here."""
    guarded(image.load, limits)


def guarded(action: Callable[[], T], limits: ImageLimits) -> T:
    """Run a Pillow call, turning its exceptions into ImageRejected."""
    try:
        return action()
    except BOMB_ERRORS as exc:
        raise ImageRejected(
            RejectionCode.IMAGE_TOO_MANY_PIXELS,
            f"The image declares far more pixels than the {megapixels(limits.max_pixels)} "
            "megapixel limit.",
        ) from exc
    except DECODE_ERRORS as exc:
        raise ImageRejected(RejectionCode.BAD_IMAGE, DAMAGED) from exc


def is_animated(image: Image.Image) -> bool:
    return bool(getattr(image, "is_animated", False))


def needs_rotation(image: Image.Image) -> bool:
    orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
    return orientation in ROTATING_ORIENTATIONS


def upright(image: Image.Image) -> Image.Image:
    """The image turned as its EXIF orientation says (a new image), or the image itself."""
    if not needs_rotation(image):
        return image
    return ImageOps.exif_transpose(image)


def has_alpha(image: Image.Image) -> bool:
    return image.mode in ALPHA_MODES or "transparency" in image.info


def standard_mode(image: Image.Image) -> Image.Image:
    """The image as 8-bit RGB or RGBA (palette, grayscale, CMYK and 16-bit modes converted)."""
    target = "RGBA" if has_alpha(image) else "RGB"
    if image.mode == target:
        return image
    if image.mode in SIXTEEN_BIT_GRAY:
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    return image.convert(target)


def keeps_color_profile(mode: str) -> bool:
    return mode in RGB_PROFILE_MODES


def encode(
    image: Image.Image,
    fmt: ImageFormat,
    *,
    icc_profile: bytes | None,
    quality: int = 95,
    webp_method: int = 4,
) -> bytes:
    """Encode one frame, with no metadata but an optional ICC profile (EXIF is dropped: the
    orientation has been applied to the pixels). `webp_method` trades WebP encoding time for
    size (0 fastest, 6 smallest)."""
    image.info = {}
    options: dict[str, object] = {"quality": quality} if fmt != "PNG" else {"compress_level": 6}
    if fmt == "WEBP":
        options["method"] = webp_method
    if icc_profile:
        options["icc_profile"] = icc_profile
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()
