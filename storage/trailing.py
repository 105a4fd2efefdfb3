"""Where an encoded image ends, read from its structure, so bytes appended after it (a polyglot's
HTML or ZIP) can be noticed. Pure byte walking: no decoding, no I/O."""

from __future__ import annotations

from collections.abc import Callable

from storage.formats import PNG_SIGNATURE, ImageFormat

JPEG_RESTART_MARKERS = range(0xD0, 0xD8)
JPEG_STANDALONE_MARKERS = (0x01, 0xD8, *JPEG_RESTART_MARKERS)
JPEG_END_OF_IMAGE = 0xD9
JPEG_START_OF_SCAN = 0xDA


def png_end(data: bytes) -> int | None:
    """The offset just past the IEND chunk, or None when the chunks cannot be walked."""
    at = len(PNG_SIGNATURE)
    while at + 12 <= len(data):
        length = int.from_bytes(data[at : at + 4], "big")
        kind = data[at + 4 : at + 8]
        at += 12 + length
        if kind == b"IEND":
            return at if at <= len(data) else None
    return None


def webp_end(data: bytes) -> int | None:
    """The offset just past the RIFF container (its size, padded to an even length)."""
    if len(data) < 12:
        return None
    size = int.from_bytes(data[4:8], "little")
    end = 8 + size + (size % 2)
    return end if end <= len(data) else None


def entropy_end(data: bytes, at: int) -> int | None:
    """The offset of the first marker after entropy-coded data (0xFF00 and RSTn belong to it)."""
    while True:
        at = data.find(b"\xff", at)
        if at < 0 or at + 1 >= len(data):
            return None
        following = data[at + 1]
        if following != 0x00 and following not in JPEG_RESTART_MARKERS:
            return at
        at += 2


def jpeg_end(data: bytes) -> int | None:
    """The offset just past the EOI marker, or None when the markers cannot be walked."""
    at = 2
    while at + 2 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:
            at += 1
        elif marker == JPEG_END_OF_IMAGE:
            return at + 2
        elif marker in JPEG_STANDALONE_MARKERS:
            at += 2
        else:
            at += 2 + int.from_bytes(data[at + 2 : at + 4], "big")
            if marker == JPEG_START_OF_SCAN:
                found = entropy_end(data, at)
                if found is None:
                    return None
                at = found
    return None


ENDS: dict[ImageFormat, Callable[[bytes], int | None]] = {
    "PNG": png_end,
    "JPEG": jpeg_end,
    "WEBP": webp_end,
}


def has_trailing_bytes(data: bytes, fmt: ImageFormat) -> bool:
    """True when bytes follow the image's end, or when its end cannot be found (so the caller
    re-encodes rather than storing bytes it could not account for)."""
    end = ENDS[fmt](data)
    return end is None or end < len(data)
