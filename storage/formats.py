"""Which image format a byte string really is, read from its first bytes (never from a name or a
declared content type), and the facts that go with each accepted format."""

from __future__ import annotations

from typing import Literal

from storage.errors import ImageRejected, RejectionCode

ImageFormat = Literal["PNG", "JPEG", "WEBP"]

CONTENT_TYPES: dict[ImageFormat, str] = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "WEBP": "image/webp",
}
EXTENSIONS: dict[ImageFormat, str] = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SIGNATURE = b"\xff\xd8\xff"

# Formats people commonly send by mistake, named so the refusal says what was found.
OTHER_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"GIF87a", 0, "a GIF image"),
    (b"GIF89a", 0, "a GIF image"),
    (b"BM", 0, "a BMP image"),
    (b"II*\x00", 0, "a TIFF image"),
    (b"MM\x00*", 0, "a TIFF image"),
    (b"ftypheic", 4, "a HEIC image"),
    (b"ftypheix", 4, "a HEIC image"),
    (b"ftypmif1", 4, "a HEIF image"),
    (b"ftypavif", 4, "an AVIF image"),
    (b"%PDF", 0, "a PDF document"),
)


def sniff_format(data: bytes) -> ImageFormat | None:
    """The accepted format the bytes start with, or None."""
    if data.startswith(PNG_SIGNATURE):
        return "PNG"
    if data.startswith(JPEG_SIGNATURE):
        return "JPEG"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def require_format(data: bytes) -> ImageFormat:
    """The accepted format of `data`, or ImageRejected(BAD_IMAGE) naming what was found instead."""
    if not data:
        raise ImageRejected(RejectionCode.BAD_IMAGE, "The file is empty (0 bytes).")
    found = sniff_format(data)
    if found is not None:
        return found
    raise ImageRejected(
        RejectionCode.BAD_IMAGE,
        f"The file is {describe_unaccepted(data)}; only PNG, JPEG and WebP images are accepted.",
    )


def describe_unaccepted(data: bytes) -> str:
    for signature, offset, name in OTHER_SIGNATURES:
        if data[offset : offset + len(signature)] == signature:
            return name
    return "not an image"


def png_bit_depth(data: bytes) -> int:
    """The bit depth a PNG's IHDR declares (byte 24 of a well-formed file); 0 if unreadable."""
    return data[24] if len(data) > 24 and data[12:16] == b"IHDR" else 0
