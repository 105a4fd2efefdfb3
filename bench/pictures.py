"""Photo-like PNGs made on the fly (noise and gradients compress like a photograph, unlike a
flat colour), and cheap unique variants of one PNG."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

from PIL import Image, ImageChops

CACHE_DIR = Path(__file__).resolve().parent / ".cache"
PNG_END = 12  # the IEND chunk: length, type, CRC


def photo_like(width: int, height: int) -> Image.Image:
    gradient = Image.linear_gradient("L").resize((width, height))
    noise = Image.effect_noise((width, height), 24)
    fractal = Image.effect_mandelbrot((width, height), (-2.2, -1.2, 0.8, 1.2), 60)
    red = ImageChops.add(gradient, noise, scale=1.3)
    green = ImageChops.blend(fractal, noise, 0.3)
    blue = gradient.transpose(Image.Transpose.ROTATE_180)
    return Image.merge("RGB", (red, green, blue))


def photo_png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    photo_like(width, height).save(buffer, format="PNG")
    return buffer.getvalue()


def cached_photo_png(width: int, height: int) -> Path:
    """A large photo-like PNG, made once and kept under bench/.cache (it takes seconds)."""
    path = CACHE_DIR / f"photo-{width}x{height}.png"
    if not path.exists():
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.write_bytes(photo_png(width, height))
        partial.replace(path)
    return path


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def with_marker(png: bytes, marker: int) -> bytes:
    """The same picture with a tEXt chunk before IEND: other bytes, other hash, same pixels."""
    text = _chunk(b"tEXt", b"bench\x00" + str(marker).encode())
    return png[:-PNG_END] + text + png[-PNG_END:]
