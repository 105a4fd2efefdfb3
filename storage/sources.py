"""Where an image's bytes come from: inline base64 text (raw or a `data:` URI) and http(s) URLs
(storage.fetch). Both refuse oversize input before holding it decoded in memory."""

from __future__ import annotations

import base64
import binascii

from storage.errors import ImageRejected, RejectionCode, human_size, over_limit
from storage.fetch import fetch_url

__all__ = ["decode_base64", "fetch_url"]

# Line breaks and other whitespace tolerated inside base64 text, as a share of its length.
WHITESPACE_ALLOWANCE = 0.05
URL_SAFE_TO_STANDARD = str.maketrans("-_", "+/")


def decode_base64(text: str, max_bytes: int) -> bytes:
    """The bytes encoded in `text`: raw base64 (standard or URL-safe alphabet, padding optional,
    whitespace ignored) or a `data:<type>;base64,<data>` URI, whose declared type is ignored.

    Raises ImageRejected: BAD_BASE64 for malformed text, IMAGE_TOO_LARGE when the decoded size
    would pass `max_bytes` (checked from the length, before decoding).
    """
    payload = without_data_uri_header(text.strip())
    refuse_if_surely_too_long(payload, max_bytes)
    compact = "".join(payload.split())
    if not compact:
        raise bad_base64("The base64 text is empty.")
    size = decoded_size(compact)
    if size > max_bytes:
        raise ImageRejected(
            RejectionCode.IMAGE_TOO_LARGE,
            f"The image in the base64 text {over_limit(size, max_bytes)}.",
        )
    return strict_decode(compact)


def without_data_uri_header(text: str) -> str:
    if text[:5].lower() != "data:":
        return text
    header, comma, payload = text.partition(",")
    if not comma:
        raise bad_base64("The data URI has no ',' before its data.")
    if not header.lower().endswith(";base64"):
        raise bad_base64("The data URI must be base64 encoded: data:image/png;base64,...")
    return payload


def refuse_if_surely_too_long(payload: str, max_bytes: int) -> None:
    """Refuse text too long to fit the limit even if part of it were whitespace."""
    longest = (max_bytes + 2) // 3 * 4 * (1 + WHITESPACE_ALLOWANCE) + 1024
    if len(payload) > longest:
        raise ImageRejected(
            RejectionCode.IMAGE_TOO_LARGE,
            f"The base64 text is {human_size(len(payload))} long, more than an image of the "
            f"{human_size(max_bytes)} limit needs.",
        )


def decoded_size(compact: str) -> int:
    padding = len(compact) - len(compact.rstrip("="))
    return len(compact) * 3 // 4 - min(padding, 2)


def strict_decode(compact: str) -> bytes:
    if len(compact.rstrip("=")) % 4 == 1:
        raise bad_base64("The base64 text has a wrong length; it may have been cut short.")
    standard = compact.translate(URL_SAFE_TO_STANDARD)
    padded = standard + "=" * (-len(standard) % 4)
    try:
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise bad_base64(
            "The text is not valid base64 (only A-Z, a-z, 0-9, '+', '/' and '=' padding)."
        ) from exc


def bad_base64(message: str) -> ImageRejected:
    return ImageRejected(RejectionCode.BAD_BASE64, message)
