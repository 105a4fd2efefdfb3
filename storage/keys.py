"""Blob keys: their allowed shape and the helpers that build them.

A key is a relative path of segments made of lowercase letters, digits, '_', '.' and '-', joined by
'/'. No segment may be empty or start with '.', so '..', hidden files and absolute paths are
impossible, and the same key is valid for a local folder and an S3-compatible bucket alike.
"""

from __future__ import annotations

import re
import secrets

from storage.errors import InvalidBlobKey
from storage.formats import EXTENSIONS, ImageFormat

MAX_KEY_LENGTH = 512
SEGMENT = re.compile(r"[a-z0-9_-][a-z0-9_.-]*")
SHA256_HEX = re.compile(r"[0-9a-f]{64}")
TOKEN_BYTES = 16


def validate_key(key: str) -> str:
    """The key itself when it has the allowed shape; InvalidBlobKey otherwise."""
    if not key:
        raise InvalidBlobKey(key, "it is empty")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidBlobKey(key[:64] + "...", f"it is longer than {MAX_KEY_LENGTH} characters")
    if key.startswith("/"):
        raise InvalidBlobKey(key, "it must not start with '/'")
    for segment in key.split("/"):
        if not SEGMENT.fullmatch(segment):
            raise InvalidBlobKey(
                key, "each part must be lowercase letters, digits, '_', '.', '-', not starting '.'"
            )
    return key


def input_key(sha256: str, fmt: ImageFormat) -> str:
    """Content-addressed key of an accepted input image: inputs/ab/abcdef….png."""
    digest = checked_digest(sha256)
    return f"inputs/{digest[:2]}/{digest}.{EXTENSIONS[fmt]}"


def thumbnail_key(sha256: str) -> str:
    """Content-addressed key of an input image's WebP thumbnail: thumbnails/ab/abcdef….webp."""
    digest = checked_digest(sha256)
    return f"thumbnails/{digest[:2]}/{digest}.webp"


def output_folder(group: str) -> str:
    """Where a group's generated images (and their thumbnails) are stored: outputs/<group>/."""
    return f"outputs/{checked_segment(group)}/"


def output_key(group: str, fmt: ImageFormat = "PNG") -> str:
    """Unguessable key of a generated image: outputs/<group>/<128-bit random token>.png."""
    return f"{output_folder(group)}{secrets.token_hex(TOKEN_BYTES)}.{EXTENSIONS[fmt]}"


def output_thumbnail_key(key: str) -> str:
    """The WebP thumbnail beside a stored image: outputs/g/t.png -> outputs/g/t.thumb.webp."""
    folder, slash, name = validate_key(key).rpartition("/")
    stem = name.rpartition(".")[0] or name
    return f"{folder}{slash}{stem}.thumb.webp"


def preview_folder(group: str) -> str:
    """Where a group's live previews are stored: previews/<group>/."""
    return f"previews/{checked_segment(group)}/"


def preview_key(group: str, fmt: ImageFormat = "WEBP") -> str:
    """Unguessable key of a live preview: previews/<group>/<128-bit random token>.webp."""
    return f"{preview_folder(group)}{secrets.token_hex(TOKEN_BYTES)}.{EXTENSIONS[fmt]}"


def checked_digest(sha256: str) -> str:
    if not SHA256_HEX.fullmatch(sha256):
        raise InvalidBlobKey(sha256, "not a lowercase hexadecimal SHA-256 digest")
    return sha256


def checked_segment(group: str) -> str:
    if "/" in group or not SEGMENT.fullmatch(group):
        raise InvalidBlobKey(group, "a key part must be lowercase letters, digits, '_', '.', '-'")
    return group


CONTENT_TYPES_BY_EXTENSION = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "json": "application/json",
    "txt": "text/plain",
}
DEFAULT_CONTENT_TYPE = "application/octet-stream"


def content_type_for(key: str) -> str:
    """The content type a key's extension stands for; stores serve blobs with it."""
    name = key.rpartition("/")[2]
    extension = name.rpartition(".")[2] if "." in name else ""
    return CONTENT_TYPES_BY_EXTENSION.get(extension, DEFAULT_CONTENT_TYPE)
