"""Encoding of outgoing websocket frames: JSON text frames `{"type": T, "data": {...}}` and the
binary preview frames (event 1 `[u32 1][u32 1=JPEG][image]`, event 4 `[u32 4][u32 metadata
length][metadata JSON][image]`)."""

from __future__ import annotations

import json
import struct
from typing import Any

PREVIEW_IMAGE = 1
PREVIEW_IMAGE_WITH_METADATA = 4
JPEG = 1


def text(kind: str, data: dict[str, Any]) -> str:
    return json.dumps({"type": kind, "data": data})


def legacy_preview(jpeg: bytes) -> bytes:
    return struct.pack(">II", PREVIEW_IMAGE, JPEG) + jpeg


def metadata_preview(metadata: dict[str, Any], jpeg: bytes) -> bytes:
    encoded = json.dumps(metadata).encode()
    return struct.pack(">II", PREVIEW_IMAGE_WITH_METADATA, len(encoded)) + encoded + jpeg
