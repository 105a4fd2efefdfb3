"""Blob storage: the BlobStore contract, the local folder implementation and key helpers."""

from __future__ import annotations

from storage.keys import (
    content_type_for,
    input_key,
    output_key,
    output_thumbnail_key,
    preview_key,
    thumbnail_key,
    validate_key,
)
from storage.local import LocalBlobStore
from storage.store import BlobInfo, BlobStore, ListedBlob, OpenedBlob

__all__ = [
    "BlobInfo",
    "BlobStore",
    "ListedBlob",
    "LocalBlobStore",
    "OpenedBlob",
    "content_type_for",
    "input_key",
    "output_key",
    "output_thumbnail_key",
    "preview_key",
    "thumbnail_key",
    "validate_key",
]
