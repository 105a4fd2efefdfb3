"""Pillow work behind the emulated nodes. Every function is blocking: call it from a thread."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from PIL import Image, ImageOps, PngImagePlugin

PREFERRED_KONTEXT_RESOLUTIONS = (
    (672, 1568), (688, 1504), (720, 1456), (752, 1392), (800, 1328), (832, 1248), (880, 1184),
    (944, 1104), (1024, 1024), (1104, 944), (1184, 880), (1248, 832), (1328, 800), (1392, 752),
    (1456, 720), (1504, 688), (1568, 672),
)  # fmt: skip

RESAMPLING = {
    "nearest-exact": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "area": Image.Resampling.BOX,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
}

SPACING_COLOURS = {
    "white": (255, 255, 255),
    "black": (0, 0, 0),
    "red": (255, 0, 0),
    "green": (0, 255, 0),
    "blue": (0, 0, 255),
}


def load_rgb(path: Path) -> Image.Image:
    """Open an uploaded image; raises PIL.UnidentifiedImageError for anything else."""
    with Image.open(path) as opened:
        return ImageOps.exif_transpose(opened).convert("RGB")


def invert(image: Image.Image) -> Image.Image:
    return ImageOps.invert(image)


def scale(image: Image.Image, method: str, width: int, height: int, crop: str) -> Image.Image:
    width, height = _fill_missing_side(image, width, height)
    if (width, height) == image.size:
        return image.copy()
    if crop == "center":
        return ImageOps.fit(image, (width, height), RESAMPLING[method])
    return image.resize((width, height), RESAMPLING[method])


def scale_by(image: Image.Image, method: str, factor: float) -> Image.Image:
    width = max(1, round(image.width * factor))
    height = max(1, round(image.height * factor))
    return image.resize((width, height), RESAMPLING[method])


def kontext_scale(image: Image.Image) -> Image.Image:
    aspect = image.width / image.height
    _, width, height = min((abs(aspect - w / h), w, h) for w, h in PREFERRED_KONTEXT_RESOLUTIONS)
    return ImageOps.fit(image, (width, height), Image.Resampling.LANCZOS)


def stitch(
    first: Image.Image,
    second: Image.Image,
    direction: str,
    match_size: bool,
    spacing: int,
    colour: str,
) -> Image.Image:
    horizontal = direction in ("left", "right")
    if match_size:
        second = _match(second, first, horizontal)
    parts = [second, first] if direction in ("left", "up") else [first, second]
    spacing += spacing % 2
    fill = SPACING_COLOURS[colour]
    if horizontal:
        return _concat_horizontal(parts, spacing, fill)
    return _concat_vertical(parts, spacing, fill)


def vae_crop(image: Image.Image) -> Image.Image:
    """Crop to multiples of 8 around the centre, as VAE encoding does."""
    width, height = (image.width // 8) * 8, (image.height // 8) * 8
    if (width, height) == image.size:
        return image.copy()
    left, top = (image.width % 8) // 2, (image.height % 8) // 2
    return image.crop((left, top, left + max(width, 8), top + max(height, 8)))


def sample(base: Image.Image, fingerprint: str, denoise: float) -> Image.Image:
    """A deterministic 'generation': the reference tinted by a colour drawn from the settings."""
    digest = hashlib.sha256(fingerprint.encode()).digest()
    tint = Image.new("RGB", base.size, (digest[0], digest[1], digest[2]))
    mixed = Image.blend(base, tint, 0.25 + 0.5 * max(0.0, min(denoise, 1.0)))
    return mixed.rotate(180) if digest[3] % 2 else mixed


def preview_jpeg(start: Image.Image, end: Image.Image, fraction: float, size: int) -> bytes:
    frame = Image.blend(start, end, max(0.0, min(fraction, 1.0)))
    frame = ImageOps.contain(frame, (size, size), Image.Resampling.BILINEAR)
    return _encode(frame, "JPEG", quality=95)


def preview_pair(
    start: Image.Image, size: int, fingerprint: str, denoise: float
) -> tuple[Image.Image, Image.Image]:
    """Both ends of a sampler run at the preview size, made small first: the start shrunk (a box
    reduce, then the preview's own resampling), the end 'generated' from that small start as
    `sample` makes it from the full one. `preview_jpeg` of them gives frames of the same size."""
    factor = int(1 / min(size / start.width, size / start.height))
    reduced = start.reduce(factor) if factor > 1 else start
    small = ImageOps.contain(reduced, (size, size), Image.Resampling.BILINEAR)
    return small, sample(small, fingerprint, denoise)


def save_png(image: Image.Image, path: Path, text: dict[str, str]) -> None:
    info = PngImagePlugin.PngInfo()
    for key, value in text.items():
        info.add_text(key, value)
    image.save(path, format="PNG", pnginfo=info, compress_level=4)


def recode(path: Path, image_format: str, quality: int) -> bytes:
    """The `preview=webp;50` variant of GET /view."""
    with Image.open(path) as opened:
        image = opened.convert("RGB") if image_format == "jpeg" else opened.copy()
    return _encode(image, image_format.upper(), quality=quality)


def _encode(image: Image.Image, image_format: str, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, quality=quality)
    return buffer.getvalue()


def _fill_missing_side(image: Image.Image, width: int, height: int) -> tuple[int, int]:
    if width == 0 and height == 0:
        return image.size
    if width == 0:
        width = max(1, round(image.width * height / image.height))
    if height == 0:
        height = max(1, round(image.height * width / image.width))
    return width, height


def _match(image: Image.Image, reference: Image.Image, horizontal: bool) -> Image.Image:
    aspect = image.width / image.height
    if horizontal:
        size = (max(1, int(reference.height * aspect)), reference.height)
    else:
        size = (reference.width, max(1, int(reference.width / aspect)))
    return image.resize(size, Image.Resampling.LANCZOS)


def _concat_horizontal(
    parts: list[Image.Image], spacing: int, fill: tuple[int, int, int]
) -> Image.Image:
    height = max(part.height for part in parts)
    width = sum(part.width for part in parts) + spacing
    canvas = Image.new("RGB", (width, height), fill)
    canvas.paste(parts[0], (0, (height - parts[0].height) // 2))
    canvas.paste(parts[1], (parts[0].width + spacing, (height - parts[1].height) // 2))
    return canvas


def _concat_vertical(
    parts: list[Image.Image], spacing: int, fill: tuple[int, int, int]
) -> Image.Image:
    width = max(part.width for part in parts)
    height = sum(part.height for part in parts) + spacing
    canvas = Image.new("RGB", (width, height), fill)
    canvas.paste(parts[0], ((width - parts[0].width) // 2, 0))
    canvas.paste(parts[1], ((width - parts[1].width) // 2, parts[0].height + spacing))
    return canvas
