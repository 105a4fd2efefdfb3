"""An image read as its bytes stream past: hashed, described and decoded chunk by chunk with
Pillow's incremental parser, so no copy of the file is ever held (only the decoded pixels).

`feed` and `finish` block (they decode): call them in a worker thread.
"""

from __future__ import annotations

import hashlib

from PIL import Image, ImageFile

from storage.decoding import guarded
from storage.errors import ImageRejected, RejectionCode
from storage.formats import CONTENT_TYPES
from storage.images import (
    THUMBNAIL_QUALITY,
    THUMBNAIL_SIDE,
    ImageDescription,
    shrunk_webp,
    upright_size,
)
from storage.limits import ImageLimits, check_dimensions


class IncrementalImage:
    def __init__(self, limits: ImageLimits | None = None) -> None:
        self._limits = limits or ImageLimits()
        self._parser = ImageFile.Parser()
        self._sha256 = hashlib.sha256()
        self._size = 0
        self._checked = False

    def feed(self, chunk: bytes) -> None:
        self._sha256.update(chunk)
        self._size += len(chunk)
        guarded(lambda: self._parser.feed(chunk), self._limits)
        opened = self._parser.image
        if not self._checked and opened is not None:
            check_dimensions(opened.width, opened.height, self._limits)
            self._checked = True

    def finish(self) -> tuple[ImageDescription, bytes]:
        """The image's description and its thumbnail (as `make_thumbnail` makes it)."""
        image: Image.Image = guarded(self._parser.close, self._limits)
        fmt = image.format
        if fmt not in CONTENT_TYPES:
            raise ImageRejected(RejectionCode.BAD_IMAGE, f"Unexpected image format {fmt}.")
        with image:
            width, height = guarded(lambda: upright_size(image), self._limits)
            thumbnail = guarded(
                lambda: shrunk_webp(image, THUMBNAIL_SIDE, THUMBNAIL_QUALITY), self._limits
            )
        described = ImageDescription(
            format=fmt,
            content_type=CONTENT_TYPES[fmt],
            width=width,
            height=height,
            sha256=self._sha256.hexdigest(),
            size=self._size,
        )
        return described, thumbnail
