from __future__ import annotations

import pytest

from graphql_api.protocol_guards import (
    MAX_CLOSE_REASON_BYTES,
    close_reason,
    legacy_ws_problem,
    transport_ws_problem,
)

QUERY = "subscription { taskUpdates { kind } }"


@pytest.mark.parametrize(
    "text", ["ok", "a" * 200, "é" * 70, "Unknown message type: \ud800", "€" * 41 + "x"]
)
def test_close_reasons_fit_a_close_frame(text: str) -> None:
    reason = close_reason(text)
    encoded = reason.encode("utf-8")  # a lone surrogate would raise here
    assert len(encoded) <= MAX_CLOSE_REASON_BYTES
    assert text.startswith(reason) or "?" in reason


@pytest.mark.parametrize(
    "message",
    [
        {"type": "connection_init"},
        {"type": "connection_init", "payload": {"authorization": "k"}},
        {"type": "ping", "payload": None},
        {"type": "pong"},
        {"id": "1", "type": "complete"},
        {"id": "1", "type": "subscribe", "payload": {"query": QUERY}},
        {
            "id": "1",
            "type": "subscribe",
            "payload": {"query": QUERY, "variables": None, "operationName": None},
        },
        {"id": "", "type": "subscribe", "payload": {"query": QUERY, "variables": {"a": 1}}},
    ],
)
def test_well_formed_transport_messages_pass(message: object) -> None:
    assert transport_ws_problem(message) is None


@pytest.mark.parametrize(
    "message",
    [
        5,
        [],
        "x",
        None,
        {},
        {"type": 5},
        {"type": "\ud800"},
        {"type": "a" * 200},
        {"type": "next", "id": "1"},
        {"type": "ping", "payload": 5},
        {"type": "complete", "id": [1]},
        {"type": "subscribe", "payload": {"query": QUERY}},
        {"type": "subscribe", "id": 1, "payload": {"query": QUERY}},
        {"type": "subscribe", "id": "1", "payload": "nope"},
        {"type": "subscribe", "id": "1", "payload": {"query": 5}},
        {"type": "subscribe", "id": "1", "payload": {"query": QUERY, "variables": [1]}},
        {"type": "subscribe", "id": "1", "payload": {"query": QUERY, "variables": "x"}},
        {"type": "subscribe", "id": "1", "payload": {"query": QUERY, "operationName": 1}},
        {"type": "subscribe", "id": "1", "payload": {"query": QUERY, "extensions": []}},
    ],
)
def test_malformed_transport_messages_are_named(message: object) -> None:
    problem = transport_ws_problem(message)
    assert problem
    assert len(close_reason(problem).encode()) <= MAX_CLOSE_REASON_BYTES


@pytest.mark.parametrize(
    ("message", "malformed"),
    [
        ({"type": "connection_init", "payload": {}}, False),
        ({"type": "start", "id": "1", "payload": {"query": QUERY}}, False),
        ({"type": "stop", "id": "1"}, False),
        ({"type": "whatever"}, False),
        ({"type": "start", "id": "1", "payload": "nope"}, True),
        ({"type": "start", "id": "1", "payload": {"query": 5}}, True),
        ({"type": "start", "id": "1", "payload": {"query": QUERY, "variables": [1]}}, True),
        ({"type": "stop", "id": [1]}, True),
        (5, True),
    ],
)
def test_legacy_messages(message: object, malformed: bool) -> None:
    assert (legacy_ws_problem(message) is not None) is malformed
