"""Small valid images for fuzzing (built on demand, never at import)."""

from __future__ import annotations

import functools
import io

from PIL import Image


def picture(width: int, height: int, fmt: str, mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    color: tuple[int, ...] = (30, 160, 90, 200)[: len(mode)] if mode != "L" else (128,)
    Image.new(mode, (width, height), color).save(buffer, format=fmt)
    return buffer.getvalue()


@functools.cache
def small_pictures() -> tuple[bytes, ...]:
    """A handful of tiny accepted images: each format, alpha, grey, 1x1."""
    return (
        picture(8, 8, "PNG"),
        picture(3, 5, "JPEG"),
        picture(6, 4, "WEBP"),
        picture(1, 1, "PNG", "RGBA"),
        picture(5, 5, "PNG", "L"),
        picture(4, 4, "WEBP", "RGBA"),
    )


@functools.cache
def gif() -> bytes:
    return picture(4, 4, "GIF", "L")
