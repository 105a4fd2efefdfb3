"""The storage library's errors.

    StorageError
     ├── ImageRejected(code, message)   an image (or where it came from) was refused; `code` is a
     │                                  RejectionCode, stable for API clients
     ├── InvalidBlobKey(key, reason)    a key outside the allowed shape (traversal, odd characters)
     ├── BlobNotFound(key)              no blob under that key
     ├── BlobTooLarge(key, limit)       a streamed write went over its byte cap (nothing is kept)
     └── ContentTypeMismatch(key, ...)  a content type that contradicts the key's extension

Foreign exceptions (Pillow, httpx, OSError, binascii) are translated into these where they happen.
"""

from __future__ import annotations

from enum import StrEnum


class RejectionCode(StrEnum):
    """Why an image was refused. Values are part of the public API (GraphQL `extensions`)."""

    BAD_IMAGE = "BAD_IMAGE"
    IMAGE_TOO_LARGE = "IMAGE_TOO_LARGE"
    IMAGE_TOO_MANY_PIXELS = "IMAGE_TOO_MANY_PIXELS"
    IMAGE_SIDE_TOO_LONG = "IMAGE_SIDE_TOO_LONG"
    BAD_BASE64 = "BAD_BASE64"
    URL_INVALID = "URL_INVALID"
    URL_FORBIDDEN = "URL_FORBIDDEN"
    URL_FETCH_FAILED = "URL_FETCH_FAILED"


class StorageError(Exception):
    """Base of every error the storage library raises on purpose."""


class ImageRejected(StorageError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class InvalidBlobKey(StorageError):
    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"invalid blob key {key!r}: {reason}")
        self.key = key
        self.reason = reason


class BlobNotFound(StorageError):
    def __init__(self, key: str) -> None:
        super().__init__(f"no blob stored under {key!r}")
        self.key = key


class BlobTooLarge(StorageError):
    def __init__(self, key: str, limit: int) -> None:
        super().__init__(f"blob {key!r} is larger than {human_size(limit)}; nothing was stored")
        self.key = key
        self.limit = limit


class ContentTypeMismatch(StorageError):
    def __init__(self, key: str, given: str, expected: str) -> None:
        super().__init__(f"blob {key!r} must be stored as {expected!r}, not {given!r}")
        self.key = key
        self.given = given
        self.expected = expected


def over_limit(size: int, limit: int) -> str:
    """'is 30 MB; the limit is 20 MB', exact in bytes when rounding would hide the difference."""
    found, allowed = human_size(size), human_size(limit)
    if found == allowed:
        found, allowed = f"{size} bytes", f"{limit} bytes"
    return f"is {found}; the limit is {allowed}"


def human_size(size: int) -> str:
    """A byte count as people read it: '20 MB', '30.5 MB', '512 KB', '17 bytes'."""
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"
