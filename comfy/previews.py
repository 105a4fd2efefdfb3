"""ComfyUI's binary websocket frames: live previews of a sampler's latent.

Every binary frame starts with a big-endian u32 event number:

* 1 PREVIEW_IMAGE: `[u32 1][u32 format: 1=JPEG, 2=PNG][image]`, sent to clients that did not
  say hello; it does not name its prompt.
* 4 PREVIEW_IMAGE_WITH_METADATA: `[u32 4][u32 metadata length][metadata JSON][image]`, sent to
  clients whose first frame was the feature_flags hello; the metadata names node and prompt.

Event 2 never leaves the server; event 3 (progress text) is not a preview.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from types import MappingProxyType
from typing import Any, Final, TypedDict

from comfy.errors import ProtocolError

_HEADER: Final = struct.Struct(">II")


class BinaryEvent(IntEnum):
    PREVIEW_IMAGE = 1
    UNENCODED_PREVIEW_IMAGE = 2
    TEXT = 3
    PREVIEW_IMAGE_WITH_METADATA = 4


PREVIEW_IMAGE: Final = BinaryEvent.PREVIEW_IMAGE
PREVIEW_IMAGE_WITH_METADATA: Final = BinaryEvent.PREVIEW_IMAGE_WITH_METADATA
IMAGE_FORMATS: Final = MappingProxyType({1: "image/jpeg", 2: "image/png"})
_FORMAT_OF_MIME: Final = MappingProxyType({mime: number for number, mime in IMAGE_FORMATS.items()})


class PreviewMetadata(TypedDict):
    node_id: str
    prompt_id: str
    display_node_id: str
    parent_node_id: str | None
    real_node_id: str
    image_type: str  # a MIME type, e.g. "image/jpeg"


@dataclass(frozen=True)
class PreviewFrame:
    """One preview image; prompt_id and node_id are known only from event 4 frames."""

    event: int
    mime: str
    image: bytes
    prompt_id: str | None = None
    node_id: str | None = None
    metadata: Mapping[str, Any] | None = None  # event 4's metadata as sent

    @property
    def image_format(self) -> int:
        """The event 1 format number of this image's type (1 JPEG, 2 PNG)."""
        number = _FORMAT_OF_MIME.get(self.mime)
        if number is None:
            raise ProtocolError(f"event 1 cannot carry {self.mime}")
        return number


def preview_metadata(
    *,
    prompt_id: str,
    node_id: str,
    mime: str = "image/jpeg",
    display_node_id: str | None = None,
    parent_node_id: str | None = None,
    real_node_id: str | None = None,
) -> PreviewMetadata:
    """Event 4 metadata, with its keys in the order ComfyUI writes them."""
    return {
        "node_id": node_id,
        "prompt_id": prompt_id,
        "display_node_id": display_node_id or node_id,
        "parent_node_id": parent_node_id,
        "real_node_id": real_node_id or node_id,
        "image_type": mime,
    }


def preview_event(data: bytes) -> int:
    """The event number a binary frame starts with."""
    if len(data) < _HEADER.size:
        raise ProtocolError(f"binary frame of {len(data)} bytes is shorter than its header")
    event: int = _HEADER.unpack_from(data)[0]
    return event


def encode_preview(frame: PreviewFrame) -> bytes:
    """The binary frame ComfyUI sends for this preview."""
    if frame.event == PREVIEW_IMAGE:
        return _HEADER.pack(PREVIEW_IMAGE, frame.image_format) + frame.image
    if frame.event == PREVIEW_IMAGE_WITH_METADATA:
        metadata = json.dumps(frame.metadata or _metadata_of(frame)).encode()
        return _HEADER.pack(PREVIEW_IMAGE_WITH_METADATA, len(metadata)) + metadata + frame.image
    raise ProtocolError(f"binary event {frame.event} is not a preview")


def parse_preview(data: bytes) -> PreviewFrame:
    """The preview in a binary frame; ProtocolError for anything else or a broken frame."""
    event = preview_event(data)
    second: int = _HEADER.unpack_from(data)[1]
    if event == PREVIEW_IMAGE:
        return _legacy_preview(second, data[_HEADER.size :])
    if event == PREVIEW_IMAGE_WITH_METADATA:
        return _metadata_preview(second, data[_HEADER.size :])
    raise ProtocolError(f"binary event {event} is not a preview")


def _legacy_preview(image_format: int, image: bytes) -> PreviewFrame:
    mime = IMAGE_FORMATS.get(image_format)
    if mime is None:
        raise ProtocolError(f"unknown preview image format {image_format}")
    return PreviewFrame(event=PREVIEW_IMAGE, mime=mime, image=image)


def _metadata_preview(length: int, rest: bytes) -> PreviewFrame:
    if length > len(rest):
        raise ProtocolError(f"preview metadata of {length} bytes overruns the frame")
    metadata = _load_metadata(rest[:length])
    return PreviewFrame(
        event=PREVIEW_IMAGE_WITH_METADATA,
        mime=str(metadata.get("image_type") or "image/jpeg"),
        image=rest[length:],
        prompt_id=_optional_str(metadata.get("prompt_id")),
        node_id=_optional_str(metadata.get("node_id")),
        metadata=metadata,
    )


def _load_metadata(raw: bytes) -> dict[str, Any]:
    try:
        metadata = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ProtocolError("preview metadata is not JSON") from exc
    if not isinstance(metadata, dict):
        raise ProtocolError("preview metadata is not an object")
    return metadata


def _metadata_of(frame: PreviewFrame) -> PreviewMetadata:
    if frame.prompt_id is None or frame.node_id is None:
        raise ProtocolError("an event 4 preview needs its prompt_id and node_id")
    return preview_metadata(prompt_id=frame.prompt_id, node_id=frame.node_id, mime=frame.mime)


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)
