"""ComfyUI's websocket protocol, shared by the client and the emulator: one import for both.

Text frames are `{"type": T, "data": {...}}` (the TypedDicts of `comfy.messages`); ComfyUI
writes them with `json.dumps`: default separators `", "` and `": "`, keys in insertion order.
Binary frames are the previews of `comfy.previews`. Both are re-exported here.

A client's first frame may be the feature_flags hello (`feature_flags_hello()`); ComfyUI then
answers with its own feature_flags and sends previews as event 4, which names the prompt.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final, TypeAlias

from comfy.errors import ProtocolError
from comfy.messages import (
    ClientFeatureFlags,
    ClientFeatureFlagsMessage,
    ClientMessage,
    ExecInfo,
    ExecutedData,
    ExecutedMessage,
    ExecutingData,
    ExecutingMessage,
    ExecutionCachedData,
    ExecutionCachedMessage,
    ExecutionErrorData,
    ExecutionErrorMessage,
    ExecutionInterruptedData,
    ExecutionInterruptedMessage,
    ExecutionStartData,
    ExecutionStartMessage,
    ExecutionSuccessData,
    ExecutionSuccessMessage,
    FeatureFlagsMessage,
    MessageType,
    NodeProgress,
    NodeState,
    ProgressData,
    ProgressMessage,
    ProgressStateData,
    ProgressStateMessage,
    ServerFeatureFlags,
    ServerMessage,
    StatusData,
    StatusMessage,
    StatusPayload,
)
from comfy.previews import (
    IMAGE_FORMATS,
    PREVIEW_IMAGE,
    PREVIEW_IMAGE_WITH_METADATA,
    BinaryEvent,
    PreviewFrame,
    PreviewMetadata,
    encode_preview,
    parse_preview,
    preview_event,
    preview_metadata,
)

__all__ = [
    "IMAGE_FORMATS",
    "MESSAGE_TYPES",
    "PREVIEW_IMAGE",
    "PREVIEW_IMAGE_WITH_METADATA",
    "BinaryEvent",
    "ClientFeatureFlags",
    "ClientFeatureFlagsMessage",
    "ClientMessage",
    "ExecInfo",
    "ExecutedData",
    "ExecutedMessage",
    "ExecutingData",
    "ExecutingMessage",
    "ExecutionCachedData",
    "ExecutionCachedMessage",
    "ExecutionErrorData",
    "ExecutionErrorMessage",
    "ExecutionInterruptedData",
    "ExecutionInterruptedMessage",
    "ExecutionStartData",
    "ExecutionStartMessage",
    "ExecutionSuccessData",
    "ExecutionSuccessMessage",
    "FeatureFlagsMessage",
    "MessageType",
    "NodeProgress",
    "NodeState",
    "PreviewFrame",
    "PreviewMetadata",
    "ProgressData",
    "ProgressMessage",
    "ProgressStateData",
    "ProgressStateMessage",
    "ProtocolError",
    "ServerFeatureFlags",
    "ServerMessage",
    "StatusData",
    "StatusMessage",
    "StatusPayload",
    "encode_message",
    "encode_preview",
    "feature_flags_hello",
    "parse_client_message",
    "parse_message",
    "parse_preview",
    "preview_event",
    "preview_metadata",
]

logger = logging.getLogger(__name__)

# What each message's data must hold, and of which JSON types: a tuple of Python types, or a
# nested mapping for an object. Keys not listed are optional and not checked.
_Shape: TypeAlias = Mapping[str, "tuple[type, ...] | _Shape"]
_STR = (str,)
_INT = (int,)
_NUMBER = (int, float)
_LIST = (list,)
_OBJECT = (dict,)
_NULLABLE_STR = (str, type(None))
_SHAPES: Final[Mapping[str, _Shape]] = MappingProxyType(
    {
        "status": {"status": {"exec_info": {"queue_remaining": _INT}}},
        "feature_flags": {},
        "execution_start": {"prompt_id": _STR},
        "execution_cached": {"nodes": _LIST, "prompt_id": _STR},
        "executing": {"node": _NULLABLE_STR},
        "progress": {"value": _NUMBER, "max": _NUMBER, "prompt_id": _STR, "node": _STR},
        "progress_state": {"prompt_id": _STR, "nodes": _OBJECT},
        "executed": {"node": _STR, "output": _OBJECT, "prompt_id": _STR},
        "execution_success": {"prompt_id": _STR},
        "execution_error": {
            "prompt_id": _STR,
            "node_id": _STR,
            "node_type": _STR,
            "exception_message": _STR,
            "exception_type": _STR,
        },
        "execution_interrupted": {"prompt_id": _STR, "node_id": _STR, "node_type": _STR},
    }
)
MESSAGE_TYPES: Final[frozenset[str]] = frozenset(_SHAPES)


def encode_message(message: Mapping[str, Any]) -> str:
    """A text frame exactly as ComfyUI writes it."""
    return json.dumps(message)


def parse_message(raw: str | bytes) -> ServerMessage | None:
    """The typed message in a text frame, or None (logged) for a type this module does not know.

    Raises ProtocolError when the frame is not JSON, not a message, or a known type lacks a field.
    """
    message = _load_envelope(raw)
    kind = message["type"]
    shape = _SHAPES.get(kind)
    if shape is None:
        logger.debug("ignoring ComfyUI message of unknown type %r", kind)
        return None
    _check(message["data"], shape, kind)
    return message  # type: ignore[return-value]  # its shape was checked just above


def feature_flags_hello() -> ClientFeatureFlagsMessage:
    """The first frame a client sends to get previews with metadata (event 4)."""
    return {"type": "feature_flags", "data": {"supports_preview_metadata": True}}


def parse_client_message(raw: str | bytes) -> ClientMessage | None:
    """A frame a client sent, as the server reads it; None for anything ComfyUI ignores."""
    try:
        message = _load_envelope(raw)
    except ProtocolError:
        return None
    data = message["data"]
    if message["type"] != "feature_flags" or not isinstance(
        data.get("supports_preview_metadata", False), bool
    ):
        return None
    return {
        "type": "feature_flags",
        "data": {"supports_preview_metadata": bool(data.get("supports_preview_metadata"))},
    }


def _load_envelope(raw: str | bytes) -> dict[str, Any]:
    try:
        message = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"frame is not JSON: {_excerpt(raw)}") from exc
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise ProtocolError(f"frame has no message type: {_excerpt(raw)}")
    if not isinstance(message.get("data"), dict):
        raise ProtocolError(f"{message['type']} frame has no data object: {_excerpt(raw)}")
    return message


def _check(data: Mapping[str, Any], shape: _Shape, where: str) -> None:
    for key, expected in shape.items():
        if key not in data:
            raise ProtocolError(f"{where} lacks {key!r}")
        value = data[key]
        if isinstance(expected, Mapping):
            if not isinstance(value, dict):
                raise ProtocolError(f"{where}.{key} is not an object")
            _check(value, expected, f"{where}.{key}")
        elif not isinstance(value, expected):
            raise ProtocolError(f"{where}.{key} has the wrong type: {value!r:.80}")


def _excerpt(raw: str | bytes) -> str:
    return repr(raw[:80])
