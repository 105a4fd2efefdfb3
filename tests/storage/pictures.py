"""Images made with Pillow (or by hand, byte by byte) for the storage tests."""

from __future__ import annotations

import io
import os
import struct
import zlib

from PIL import ExifTags, Image


def save(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def noisy(width: int, height: int, fmt: str = "PNG") -> bytes:
    """Random pixels: compresses badly, so a cut anywhere lands inside the image data."""
    image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    return save(image, fmt)


def two_tone(width: int, height: int) -> Image.Image:
    """Red on the left half, blue on the right: shows which way an image was turned."""
    image = Image.new("RGB", (width, height), (255, 0, 0))
    image.paste((0, 0, 255), (width // 2, 0, width, height))
    return image


def jpeg_with_orientation(width: int, height: int, orientation: int) -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    return save(two_tone(width, height), "JPEG", exif=exif, quality=95)


def png_chunk(kind: bytes, body: bytes) -> bytes:
    payload = kind + body
    return struct.pack(">I", len(body)) + payload + struct.pack(">I", zlib.crc32(payload))


def png_rgb16(width: int, height: int, rgb16: tuple[int, int, int]) -> bytes:
    """A 16-bit-per-channel RGB PNG (Pillow cannot write one), filled with one colour."""
    header = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    row = b"\x00" + struct.pack(">HHH", *rgb16) * width
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(row * height))
        + png_chunk(b"IEND", b"")
    )


def animated(
    fmt: str, colors: list[tuple[int, int, int]], size: tuple[int, int] = (32, 24)
) -> bytes:
    frames = [Image.new("RGB", size, color) for color in colors]
    return save(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image
