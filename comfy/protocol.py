"""ComfyUI's websocket protocol as types: one TypedDict per text message, and the binary previews.

Text frames are `{"type": T, "data": {...}}`. Binary frames start with a big-endian u32 event:
1 PREVIEW_IMAGE `[1][format: 1=JPEG, 2=PNG][image]` for plain clients, and
4 PREVIEW_IMAGE_WITH_METADATA `[4][metadata length][metadata JSON][image]` for clients whose first
frame was the feature_flags hello (the metadata names the prompt).
"""

from __future__ import annotations

import json
import logging
import struct
from dataclasses import dataclass
from typing import Any, Literal, NotRequired, TypedDict

logger = logging.getLogger(__name__)


class ProtocolError(ValueError):
    """A frame that is not valid ComfyUI protocol."""


class ExecInfo(TypedDict):
    queue_remaining: int


class StatusPayload(TypedDict):
    exec_info: ExecInfo


class StatusData(TypedDict):
    status: StatusPayload
    sid: NotRequired[str]


class StatusMessage(TypedDict):
    type: Literal["status"]
    data: StatusData


class FeatureFlagsMessage(TypedDict):
    type: Literal["feature_flags"]
    data: dict[str, Any]


class ExecutionStartData(TypedDict):
    prompt_id: str
    timestamp: int


class ExecutionStartMessage(TypedDict):
    type: Literal["execution_start"]
    data: ExecutionStartData


class ExecutionCachedData(TypedDict):
    nodes: list[str]
    prompt_id: str
    timestamp: int


class ExecutionCachedMessage(TypedDict):
    type: Literal["execution_cached"]
    data: ExecutionCachedData


class ExecutingData(TypedDict):
    node: str | None
    display_node: NotRequired[str]
    prompt_id: NotRequired[str]


class ExecutingMessage(TypedDict):
    type: Literal["executing"]
    data: ExecutingData


class NodeProgress(TypedDict):
    value: float
    max: float
    state: str
    node_id: str
    prompt_id: str
    display_node_id: str
    parent_node_id: str | None
    real_node_id: str


class ProgressStateData(TypedDict):
    prompt_id: str
    nodes: dict[str, NodeProgress]


class ProgressStateMessage(TypedDict):
    type: Literal["progress_state"]
    data: ProgressStateData


class ProgressData(TypedDict):
    value: int
    max: int
    prompt_id: str
    node: str


class ProgressMessage(TypedDict):
    type: Literal["progress"]
    data: ProgressData


class ExecutedData(TypedDict):
    node: str
    display_node: str
    output: dict[str, Any]
    prompt_id: str


class ExecutedMessage(TypedDict):
    type: Literal["executed"]
    data: ExecutedData


class ExecutionSuccessData(TypedDict):
    prompt_id: str
    timestamp: int


class ExecutionSuccessMessage(TypedDict):
    type: Literal["execution_success"]
    data: ExecutionSuccessData


class ExecutionErrorData(TypedDict):
    prompt_id: str
    node_id: str
    node_type: str
    executed: list[str]
    exception_message: str
    exception_type: str
    traceback: list[str]
    current_inputs: Any
    current_outputs: Any
    timestamp: int


class ExecutionErrorMessage(TypedDict):
    type: Literal["execution_error"]
    data: ExecutionErrorData


class ExecutionInterruptedData(TypedDict):
    prompt_id: str
    node_id: str
    node_type: str
    executed: list[str]
    timestamp: int


class ExecutionInterruptedMessage(TypedDict):
    type: Literal["execution_interrupted"]
    data: ExecutionInterruptedData


ServerMessage = (
    StatusMessage
    | FeatureFlagsMessage
    | ExecutionStartMessage
    | ExecutionCachedMessage
    | ExecutingMessage
    | ProgressStateMessage
    | ProgressMessage
    | ExecutedMessage
    | ExecutionSuccessMessage
    | ExecutionErrorMessage
    | ExecutionInterruptedMessage
)

# The keys each message's data must have (the rest are optional or informational).
REQUIRED_KEYS: dict[str, tuple[str, ...]] = {
    "status": ("status",),
    "feature_flags": (),
    "execution_start": ("prompt_id",),
    "execution_cached": ("nodes", "prompt_id"),
    "executing": ("node",),
    "progress_state": ("prompt_id", "nodes"),
    "progress": ("value", "max", "prompt_id", "node"),
    "executed": ("node", "output", "prompt_id"),
    "execution_success": ("prompt_id",),
    "execution_error": ("prompt_id", "node_id", "node_type", "exception_message"),
    "execution_interrupted": ("prompt_id", "node_id", "node_type"),
}

FEATURE_FLAGS_HELLO = {"type": "feature_flags", "data": {"supports_preview_metadata": True}}


def encode_message(message: ServerMessage | dict[str, Any]) -> str:
    """A text frame as ComfyUI writes it (json.dumps with default separators)."""
    return json.dumps(message)


def parse_message(raw: str) -> ServerMessage | None:
    """A typed message; None (logged) for a type this client does not know."""
    try:
        message = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ProtocolError(f"not JSON: {raw[:80]!r}") from exc
    if not isinstance(message, dict) or not isinstance(message.get("data"), dict):
        raise ProtocolError(f"not a ComfyUI message: {raw[:80]!r}")
    kind = message.get("type")
    required = REQUIRED_KEYS.get(str(kind))
    if required is None:
        logger.info("ignoring unknown ComfyUI message type %r", kind)
        return None
    missing = [key for key in required if key not in message["data"]]
    if missing:
        raise ProtocolError(f"{kind} message lacks {missing}")
    return message  # type: ignore[return-value]


PREVIEW_IMAGE = 1
PREVIEW_IMAGE_WITH_METADATA = 4
IMAGE_FORMATS = {1: "image/jpeg", 2: "image/png"}


@dataclass(frozen=True)
class PreviewFrame:
    event: int
    mime: str
    image: bytes
    prompt_id: str | None = None
    node_id: str | None = None
    metadata: dict[str, Any] | None = None


def parse_preview(data: bytes) -> PreviewFrame:
    if len(data) < 8:
        raise ProtocolError("binary frame shorter than its header")
    event, second = struct.unpack(">II", data[:8])
    if event == PREVIEW_IMAGE:
        return PreviewFrame(
            event=event, mime=IMAGE_FORMATS.get(second, "image/jpeg"), image=data[8:]
        )
    if event == PREVIEW_IMAGE_WITH_METADATA:
        try:
            metadata = json.loads(data[8 : 8 + second])
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ProtocolError("preview metadata is not JSON") from exc
        return PreviewFrame(
            event=event,
            mime=str(metadata.get("image_type", "image/jpeg")),
            image=data[8 + second :],
            prompt_id=metadata.get("prompt_id"),
            node_id=metadata.get("node_id"),
            metadata=metadata,
        )
    raise ProtocolError(f"unknown binary event {event}")


def encode_preview(frame: PreviewFrame) -> bytes:
    if frame.event == PREVIEW_IMAGE_WITH_METADATA:
        metadata = json.dumps(frame.metadata or {}).encode()
        return struct.pack(">II", frame.event, len(metadata)) + metadata + frame.image
    image_format = 2 if frame.mime == "image/png" else 1
    return struct.pack(">II", frame.event, image_format) + frame.image
