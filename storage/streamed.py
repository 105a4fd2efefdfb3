"""Large PNG and WebP files shrunk as their rows are decoded, never whole in memory.

Pillow decodes a PNG into one buffer of 4 bytes a pixel: a 24-megapixel output is 92 MiB of
pixels for a 35 MiB file. libvips (pyvips) reads the file sequentially, a strip of rows at a
time, and box-shrinks each strip as it passes, so only the shrunk image (and a few rows) is ever
held. The shrunk image is handed back to Pillow, which makes the thumbnail from it as it makes
every other one. JPEG needs none of this: Pillow's `draft` decodes it at a reduced scale.

Blocking (file reads, decoding): call it in a worker thread.
"""

from __future__ import annotations

from typing import IO, Any

import pyvips
from PIL import Image

from storage.decoding import DAMAGED
from storage.errors import ImageRejected, RejectionCode

# libvips keeps the last operations and their inputs for reuse; here every input is a new
# temporary file, so a kept operation would only keep that file (and its disk space) open.
pyvips.cache_set_max(0)

# Shrunk to no less than this many times the thumbnail's side, so the final resampling (Pillow's
# LANCZOS) still has the detail to work from, as Pillow's own `reducing_gap` keeps it.
KEEP_FACTOR = 2
MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}
# How an EXIF orientation turns the stored pixels upright (the same table as ImageOps').
UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
SIDEWAYS = (5, 6, 7, 8)


def shrink_factor(size: tuple[int, int], max_side: int) -> int:
    """The whole factor the image can be box-shrunk by before it is resampled to `max_side`;
    1 when shrinking is not worth it (the image is small already)."""
    return max(1, max(size) // (KEEP_FACTOR * max_side))


def shrunk_upright(file: IO[bytes], factor: int) -> tuple[Image.Image, tuple[int, int]]:
    """The image in `file` (a PNG or WebP, from its start), shrunk by `factor`, turned upright
    and as 8-bit L, LA, RGB or RGBA, with the upright size of the full image. Damaged or
    truncated data raises ImageRejected(BAD_IMAGE)."""
    file.seek(0)
    try:
        source = pyvips.Source.new_from_descriptor(file.fileno())
        image = pyvips.Image.new_from_source(source, "", access="sequential", fail_on="error")
        orientation = orientation_of(image)
        full = (image.width, image.height)
        shrunk = image.shrink(factor, factor) if factor > 1 else image
        small = pillow_image(eight_bit(shrunk))
    except pyvips.Error as exc:
        raise ImageRejected(RejectionCode.BAD_IMAGE, DAMAGED) from exc
    if orientation in UPRIGHT:
        small = small.transpose(UPRIGHT[orientation])
    return small, (full[::-1] if orientation in SIDEWAYS else full)


def orientation_of(image: Any) -> int:
    if image.get_typeof("orientation") == 0:
        return 1
    return int(image.get("orientation"))


def eight_bit(image: Any) -> Any:
    """16-bit samples to 8 (the high byte, as the intake keeps them); palettes come expanded."""
    if image.format == "uchar":
        return image
    return image.cast("uchar", shift=True)


def pillow_image(image: Any) -> Image.Image:
    mode = MODES.get(image.bands)
    if mode is None:
        raise ImageRejected(RejectionCode.BAD_IMAGE, DAMAGED)
    return Image.frombytes(mode, (image.width, image.height), image.write_to_memory())
