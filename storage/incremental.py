"""An image read as its bytes stream past: hashed on the way and spooled to a temporary file, then
described and thumbnailed from that file. No copy of the file is held in memory, nor its pixels
at full size: a JPEG is decoded at a reduced scale (Pillow's `draft`), a large PNG or WebP
shrunk strip by strip as it is decoded (`storage/streamed.py`).

`feed`, `finish` and `close` block (file I/O, decoding): call them in a worker thread.
"""

from __future__ import annotations

import hashlib
import tempfile
from typing import IO

from PIL import Image

from storage.decoding import guarded
from storage.errors import ImageRejected, RejectionCode
from storage.formats import CONTENT_TYPES, ImageFormat, sniff_format
from storage.images import (
    THUMBNAIL_QUALITY,
    THUMBNAIL_SIDE,
    ImageDescription,
    decoded_webp,
    shrunk_webp,
    upright_size,
)
from storage.limits import ImageLimits, check_dimensions
from storage.streamed import shrink_factor, shrunk_upright

SNIFF_BYTES = 64


class IncrementalImage:
    def __init__(self, limits: ImageLimits | None = None) -> None:
        self._limits = limits or ImageLimits()
        self._file: IO[bytes] | None = None
        self._sha256 = hashlib.sha256()
        self._size = 0
        self._head = b""

    def feed(self, chunk: bytes) -> None:
        self._sha256.update(chunk)
        self._size += len(chunk)
        if len(self._head) < SNIFF_BYTES:
            self._head += chunk[: SNIFF_BYTES - len(self._head)]
        if self._file is None:
            # Kept open across calls; `close` (the caller's finally) closes it.
            self._file = tempfile.TemporaryFile(prefix="kontext-image-")  # noqa: SIM115
        self._file.write(chunk)

    def finish(self) -> tuple[ImageDescription, bytes]:
        """The image's description and its thumbnail (as `make_thumbnail` makes it)."""
        fmt = sniff_format(self._head)
        spooled = self._file
        if fmt is None or spooled is None:
            raise ImageRejected(RejectionCode.BAD_IMAGE, "The file is not a PNG, JPEG or WebP.")
        thumbnail, (width, height) = thumbnail_of_file(spooled, fmt, self._limits)
        described = ImageDescription(
            format=fmt,
            content_type=CONTENT_TYPES[fmt],
            width=width,
            height=height,
            sha256=self._sha256.hexdigest(),
            size=self._size,
        )
        return described, thumbnail

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def thumbnail_of_file(
    file: IO[bytes], fmt: ImageFormat, limits: ImageLimits
) -> tuple[bytes, tuple[int, int]]:
    """The thumbnail of the `fmt` image in `file` (read from its start), as `make_thumbnail`
    makes it, and the image's upright size: a large PNG or WebP shrunk by libvips as it is
    decoded, then resampled and encoded by Pillow; a JPEG or a small image decoded whole."""
    file.seek(0)
    image: Image.Image = guarded(lambda: Image.open(file, formats=[fmt]), limits)
    with image:
        check_dimensions(image.width, image.height, limits)
        factor = shrink_factor(image.size, THUMBNAIL_SIDE)
        if fmt == "JPEG" or factor == 1:
            size = guarded(lambda: upright_size(image), limits)
            return decoded_webp(image, fmt, THUMBNAIL_SIDE, THUMBNAIL_QUALITY, limits), size
        small, size = shrunk_upright(file, factor)
        small.info = {"icc_profile": image.info.get("icc_profile")}
        return guarded(lambda: shrunk_webp(small, THUMBNAIL_SIDE, THUMBNAIL_QUALITY), limits), size
