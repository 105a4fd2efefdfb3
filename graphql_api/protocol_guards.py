"""Checks on websocket protocol messages before Strawberry handles them, and close reasons a
websocket can carry. Pure functions: the handlers in ws_handlers.py act on what they say.

Strawberry indexes into messages as if they were well formed; a message that is not (a list, an
id that is not a string, a payload whose query is a number) would raise in its handler and end
the connection without a protocol close. Each check returns why a message is malformed, or None.
"""

from __future__ import annotations

from collections.abc import Mapping

# A close frame holds at most 125 bytes: the 2-byte code and a UTF-8 reason.
MAX_CLOSE_REASON_BYTES = 123
SHOWN_TYPE_CHARACTERS = 32

TRANSPORT_WS_CLIENT_TYPES = frozenset({"connection_init", "ping", "pong", "subscribe", "complete"})
LEGACY_WS_OPERATION_TYPES = frozenset({"start", "stop"})


def close_reason(text: str) -> str:
    """`text` as a close reason: valid UTF-8 (lone surrogates replaced), at most 123 bytes, never
    cut inside a character."""
    encoded = text.encode("utf-8", "replace")
    if len(encoded) <= MAX_CLOSE_REASON_BYTES:
        return encoded.decode("utf-8")
    return encoded[:MAX_CLOSE_REASON_BYTES].decode("utf-8", "ignore")


def transport_ws_problem(message: object) -> str | None:
    """Why a graphql-transport-ws message from a client is malformed, or None."""
    if not isinstance(message, Mapping):
        return "A message must be a JSON object"
    kind = message.get("type")
    if not isinstance(kind, str):
        return "A message must have a string type"
    if kind not in TRANSPORT_WS_CLIENT_TYPES:
        return f"Unknown message type: {shown_type(kind)}"
    if kind == "subscribe":
        return id_problem(message) or operation_problem(message.get("payload"))
    if kind == "complete":
        return id_problem(message)
    return optional_object_problem(message, "payload")


def legacy_ws_problem(message: object) -> str | None:
    """Why a graphql-ws (legacy) message from a client is malformed, or None. Types the legacy
    protocol does not know are left to Strawberry, which ignores them."""
    if not isinstance(message, Mapping):
        return "A message must be a JSON object"
    kind = message.get("type")
    if kind not in LEGACY_WS_OPERATION_TYPES:
        return None
    if kind == "start":
        return id_problem(message) or operation_problem(message.get("payload"))
    return id_problem(message)


def id_problem(message: Mapping[str, object]) -> str | None:
    if not isinstance(message.get("id"), str):
        return "An operation message must have a string id"
    return None


def operation_problem(payload: object) -> str | None:
    """The payload of `subscribe` (or legacy `start`): a GraphQL request as JSON."""
    if not isinstance(payload, Mapping):
        return "The payload must be a JSON object"
    if not isinstance(payload.get("query"), str):
        return "The payload's query must be a string"
    if not isinstance(payload.get("operationName"), str | None):
        return "The payload's operationName must be a string or null"
    return optional_object_problem(payload, "variables") or optional_object_problem(
        payload, "extensions"
    )


def optional_object_problem(container: Mapping[str, object], name: str) -> str | None:
    if not isinstance(container.get(name), Mapping | None):
        return f"{name} must be a JSON object or null"
    return None


def shown_type(kind: str) -> str:
    if len(kind) <= SHOWN_TYPE_CHARACTERS:
        return kind
    return f"{kind[:SHOWN_TYPE_CHARACTERS]}…"
