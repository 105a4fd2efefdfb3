"""A corpus of hostile images, built on demand. Each entry says what the service must do with it:
refuse it with one of the named reasons, or accept it (and then store a clean image)."""

from __future__ import annotations

import functools
import io
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from PIL import Image

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Hostile:
    name: str
    build: Callable[[], bytes]
    refused_with: frozenset[str] = frozenset()
    """Reasons accepted for a refusal; empty: the image must be accepted."""
    also_accepted: bool = False
    """True when accepting (and normalising) is as good as refusing."""

    @property
    def must_be_accepted(self) -> bool:
        return not self.refused_with


def encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def zeros_compressed(total: int) -> bytes:
    """zlib of `total` zero bytes, built from one compressed megabyte repeated: a full flush makes
    each copy independent, and the Adler-32 of zeros has a closed form. Fast and small."""
    block = 1 << 20
    unit_compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    unit = unit_compressor.compress(bytes(block)) + unit_compressor.flush(zlib.Z_FULL_FLUSH)
    full, rest = divmod(total, block)
    tail_compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    tail = tail_compressor.compress(bytes(rest)) + tail_compressor.flush(zlib.Z_FINISH)
    adler = ((total % 65521) << 16) | 1
    return b"\x78\xda" + unit * full + tail + struct.pack(">I", adler)


def png_of(
    width: int, height: int, *, depth: int = 8, color: int = 2, before_idat: bytes = b""
) -> bytes:
    """A real PNG of zero pixels, the IDAT a true compression bomb for large sizes."""
    channels = {0: 1, 2: 3, 6: 4}[color]
    row = 1 + width * channels * depth // 8
    header = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0)
    idat = zeros_compressed(row * height)
    return (
        PNG_SIGNATURE
        + chunk(b"IHDR", header)
        + before_idat
        + chunk(b"IDAT", idat)
        + chunk(b"IEND", b"")
    )


def png_declaring(width: int, height: int) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(64)))
        + chunk(b"IEND", b"")
    )


def jpeg_declaring(width: int, height: int) -> bytes:
    data = bytearray(encoded(Image.new("RGB", (16, 16), (90, 20, 20)), "JPEG"))
    at = data.index(b"\xff\xc0")
    data[at + 5 : at + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def webp_declaring(width: int, height: int) -> bytes:
    """A lossy WebP whose VP8 frame header claims another size."""
    data = bytearray(encoded(Image.new("RGB", (16, 16), (20, 90, 20)), "WEBP", quality=50))
    at = data.index(b"\x9d\x01\x2a")
    data[at + 3 : at + 7] = struct.pack("<HH", width & 0x3FFF, height & 0x3FFF)
    return bytes(data)


def webp_canvas(width: int, height: int) -> bytes:
    """A still WebP wrapped in a VP8X chunk that declares a huge canvas."""
    plain = encoded(Image.new("RGB", (16, 16), (20, 20, 90)), "WEBP", quality=50)
    frame = plain[12:]
    vp8x = (
        bytes([0, 0, 0, 0]) + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    )
    body = b"WEBP" + chunk_le(b"VP8X", vp8x) + frame
    return b"RIFF" + struct.pack("<I", len(body)) + body


def chunk_le(kind: bytes, data: bytes) -> bytes:
    return kind + struct.pack("<I", len(data)) + data + (b"\x00" if len(data) % 2 else b"")


def text_bomb(kind: bytes) -> bytes:
    """A small PNG carrying a compressed text or ICC chunk that inflates to 256 MB."""
    payload = b"Comment\x00\x00" if kind == b"zTXt" else b"icc\x00\x00"
    return png_of(8, 8, before_idat=chunk(kind, payload + zeros_compressed(256 << 20)))


def bad_crc() -> bytes:
    data = bytearray(encoded(Image.new("RGB", (8, 8)), "PNG"))
    data[29] ^= 0xFF  # inside IHDR's CRC
    return bytes(data)


def exif_jpeg(orientation: int, filler: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010E] = "A" * filler
    return encoded(Image.new("RGB", (30, 20), (10, 10, 200)), "JPEG", exif=exif.tobytes())


def many_app_segments(count: int) -> bytes:
    """A JPEG with `count` full-size APP1 segments before its frame."""
    base = encoded(Image.new("RGB", (12, 12), (200, 200, 10)), "JPEG")
    segment = b"\xff\xe1" + struct.pack(">H", 65535) + b"Exif\x00\x00" + bytes(65527)
    return base[:2] + segment * count + base[2:]


def animated(fmt: str) -> bytes:
    frames = [Image.new("RGB", (10, 6), color) for color in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    return encoded(frames[0], fmt, save_all=True, append_images=frames[1:], duration=50, loop=0)


def cut(data: bytes) -> bytes:
    return data[: len(data) // 2]


def palette_with_transparency() -> bytes:
    image = Image.new("P", (6, 6), 1)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    return encoded(image, "PNG", transparency=0)


def sixteen_bit_rgb() -> bytes:
    return png_of(5, 4, depth=16, color=2)


def plain(width: int, height: int, fmt: str, mode: str = "RGB") -> bytes:
    return encoded(
        Image.new(mode, (width, height), (40, 80, 120, 255)[: len(mode)] if mode != "L" else 7), fmt
    )


IMAGE = frozenset({"BAD_IMAGE"})
PIXELS = frozenset({"IMAGE_TOO_MANY_PIXELS"})
SIDE = frozenset({"IMAGE_SIDE_TOO_LONG"})
SIZE = frozenset({"IMAGE_TOO_LARGE"})
MAX_PIXELS = 4_000_000
MAX_BYTES = 4 * 1024 * 1024


def corpus() -> Iterator[Hostile]:
    yield Hostile(
        "png header declares 100000x100000", lambda: png_declaring(100_000, 100_000), PIXELS
    )
    yield Hostile(
        "png header declares 2^31-1 squared",
        lambda: png_declaring(2**31 - 1, 2**31 - 1),
        PIXELS | IMAGE,
    )
    yield Hostile("png zlib bomb of 9000x9000 zero pixels", lambda: png_of(9000, 9000), PIXELS)
    yield Hostile("png zlib bomb within the limit (2000x2000)", lambda: png_of(2000, 2000))
    yield Hostile(
        "png zTXt chunk inflating to 256 MB", lambda: text_bomb(b"zTXt"), IMAGE, also_accepted=True
    )
    yield Hostile(
        "png iCCP chunk inflating to 256 MB", lambda: text_bomb(b"iCCP"), IMAGE, also_accepted=True
    )
    yield Hostile(
        "jpeg header declares 65000x65000", lambda: jpeg_declaring(65_000, 65_000), PIXELS
    )
    yield Hostile(
        "webp frame declares 16383x16383", lambda: webp_declaring(16_383, 16_383), PIXELS | IMAGE
    )
    yield Hostile(
        "webp canvas declares 16384x16384", lambda: webp_canvas(16_384, 16_384), PIXELS | IMAGE
    )
    yield Hostile("truncated png", lambda: cut(plain(64, 64, "PNG")), IMAGE)
    yield Hostile("truncated jpeg", lambda: cut(plain(64, 64, "JPEG")), IMAGE)
    yield Hostile("truncated webp", lambda: cut(plain(64, 64, "WEBP")), IMAGE)
    yield Hostile("png with a broken CRC", bad_crc, IMAGE)
    yield Hostile("png followed by a zip (polyglot)", lambda: plain(8, 8, "PNG") + zip_payload())
    yield Hostile(
        "png followed by html and script (polyglot)", lambda: plain(8, 8, "PNG") + HTML_PAYLOAD
    )
    yield Hostile(
        "jpeg followed by html and script (polyglot)", lambda: plain(8, 8, "JPEG") + HTML_PAYLOAD
    )
    yield Hostile(
        "webp followed by html and script (polyglot)", lambda: plain(8, 8, "WEBP") + HTML_PAYLOAD
    )
    yield Hostile("cmyk jpeg", lambda: plain(9, 7, "JPEG", "CMYK"))
    yield Hostile("16-bit grey png", lambda: encoded(Image.new("I;16", (7, 5), 40_000), "PNG"))
    yield Hostile("16-bit rgb png", sixteen_bit_rgb)
    yield Hostile("palette png with transparency", palette_with_transparency)
    yield Hostile("jpeg with a 60 kB exif block, orientation 6", lambda: exif_jpeg(6, 60_000))
    yield Hostile("jpeg with 40 full-size APP1 segments", lambda: many_app_segments(40))
    yield Hostile("animated png", lambda: animated("PNG"))
    yield Hostile("animated webp", lambda: animated("WEBP"))
    yield Hostile("animated gif", lambda: animated("GIF"), IMAGE)
    yield Hostile("still gif", lambda: plain(4, 4, "GIF", "L"), IMAGE)
    yield Hostile("1x1 png", lambda: plain(1, 1, "PNG"))
    yield Hostile("16384x1 png", lambda: plain(16_384, 1, "PNG"))
    yield Hostile("1x16384 jpeg", lambda: plain(1, 16_384, "JPEG"))
    yield Hostile("16385x1 png", lambda: plain(16_385, 1, "PNG"), SIDE)
    yield Hostile(
        "svg text",
        lambda: b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        IMAGE,
    )
    yield Hostile("pdf header", lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", IMAGE)
    yield Hostile(
        "png signature then 5 MB of junk", lambda: PNG_SIGNATURE + bytes(5 * 1024 * 1024), SIZE
    )


HTML_PAYLOAD = b"<html><body><script>fetch('/graphql')</script></body></html>"


def zip_payload() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.html", HTML_PAYLOAD)
    return buffer.getvalue()


@functools.cache
def hostile(name: str) -> bytes:
    return next(entry for entry in corpus() if entry.name == name).build()


def entry(name: str) -> Hostile:
    return next(item for item in corpus() if item.name == name)


def names() -> list[str]:
    return [item.name for item in corpus()]
