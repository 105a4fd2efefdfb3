"""Outgoing websocket frames, built with the protocol definitions the client parses with."""

from __future__ import annotations

from typing import Any

from comfy.protocol import (
    PREVIEW_IMAGE,
    PREVIEW_IMAGE_WITH_METADATA,
    PreviewFrame,
    encode_message,
    encode_preview,
)


def text(kind: str, data: dict[str, Any]) -> str:
    return encode_message({"type": kind, "data": data})


def legacy_preview(jpeg: bytes) -> bytes:
    return encode_preview(PreviewFrame(event=PREVIEW_IMAGE, mime="image/jpeg", image=jpeg))


def metadata_preview(metadata: dict[str, Any], jpeg: bytes) -> bytes:
    frame = PreviewFrame(
        event=PREVIEW_IMAGE_WITH_METADATA,
        mime=str(metadata.get("image_type", "image/jpeg")),
        image=jpeg,
        metadata=metadata,
    )
    return encode_preview(frame)
