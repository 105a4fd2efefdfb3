"""Fuzzing the subscriptions' variables (and the subscribe message itself) over the websocket:
every error carries a code, and a malformed message closes the socket with a protocol code
rather than breaking it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.attack.budget import fuzz_settings
from tests.attack.service import ServiceThread
from tests.attack.sockets import (
    PROTOCOL_CLOSE_CODES,
    Exchange,
    raw_exchange,
    subscribe_with_sentinel,
)
from tests.attack.strategies import (
    FINISHED_TASK,
    PENDING_TASK,
    hostile_text,
    ids,
    json_values,
    loosely,
    status_lists,
    variables_of,
    with_known,
)
from tests.attack.verdicts import assert_coded_errors, assert_nothing_written, shown
from tests.support.graphql_ws import GraphQLWebSocket, graphql_ws

PROGRESS = """subscription($id: ID!) { taskProgress(id: $id) {
  sequence kind status step totalSteps progress currentNode queuePosition previewUrl
  task { id description } result { imageUrl } error { code } } }"""
UPDATES = """subscription($status: [TaskStatus!]) { taskUpdates(status: $status) {
  sequence kind status task { id } } }"""

pytestmark = [
    pytest.mark.database,
    # The service's loop runs beside Hypothesis in another thread, and the websocket libraries
    # there may touch the global `random` while an example is being drawn: not the strategies'.
    pytest.mark.filterwarnings(
        "ignore:Do not use the `random` module:hypothesis.errors.HypothesisDeprecationWarning"
    ),
]


def assert_messages_coded(messages: list[dict[str, Any]], sent: object) -> None:
    for message in messages:
        kind = message.get("type")
        assert kind in ("next", "error", "complete", "ping", "pong"), f"{message} for {shown(sent)}"
        if kind == "error":
            assert isinstance(message.get("payload"), list), f"{message} for {shown(sent)}"
            assert_coded_errors(message["payload"], sent)
        if kind == "next":
            assert_coded_errors(list(message["payload"].get("errors") or []), sent)


def subscription_attack(
    service: ServiceThread,
    socket: GraphQLWebSocket,
    known: dict[str, str],
    query: str,
    variables: Any,
) -> None:
    sent = with_known(variables, known)
    before = service.footprint()
    payload = {"query": query, "variables": sent}
    messages = service.run(subscribe_with_sentinel(socket, payload, known[PENDING_TASK]))
    assert_messages_coded(messages, sent)
    assert_nothing_written(before, service.footprint(), sent)


@fuzz_settings(0.5)
@given(variables=variables_of(st.fixed_dictionaries({"id": loosely(ids())})))
@example(variables={"id": FINISHED_TASK})
@example(variables={"id": "not-an-id"})
@example(variables={})
def test_task_progress_variables(
    service: ServiceThread, known: dict[str, str], variables: Any
) -> None:
    socket = service.enter(graphql_ws(service.url))
    subscription_attack(service, socket, known, PROGRESS, variables)


@fuzz_settings(0.5)
@given(variables=variables_of(st.fixed_dictionaries({}, optional={"status": status_lists()})))
@example(variables={"status": ["RUNNING"]})
@example(variables={"status": None})
def test_task_updates_variables(
    service: ServiceThread, known: dict[str, str], variables: Any
) -> None:
    socket = service.enter(graphql_ws(service.url))
    subscription_attack(service, socket, known, UPDATES, variables)


def subscribe_messages() -> st.SearchStrategy[str]:
    """Subscribe messages with a malformed payload, and frames that are not messages at all."""
    payload = st.one_of(
        json_values(),
        st.fixed_dictionaries(
            {"query": st.one_of(st.just(PROGRESS), json_values())},
            optional={
                "variables": json_values(),
                "operationName": json_values(),
                "extensions": json_values(),
            },
        ),
    )
    message = st.fixed_dictionaries(
        {"type": st.one_of(st.just("subscribe"), hostile_text(12)), "payload": payload},
        optional={"id": st.one_of(st.text(max_size=8), json_values())},
    )
    # A text frame is UTF-8: lone surrogates cannot be sent raw (inside JSON they are escaped).
    frames = hostile_text(20).map(lambda text: text.encode("utf-8", "replace").decode("utf-8"))
    return st.one_of(message.map(json.dumps), json_values().map(json.dumps), frames)


def assert_protocol_kept(exchange: Exchange, sent: str) -> None:
    assert_messages_coded(exchange.messages, sent)
    if exchange.close_code is not None:
        assert exchange.close_code in PROTOCOL_CLOSE_CODES, (
            f"the socket ended with {exchange.close_code} (not a protocol close) after {shown(sent)}"
        )


@fuzz_settings(0.5)
@given(message=subscribe_messages())
@example(message=json.dumps({"id": "1", "type": "subscribe", "payload": "nope"}))
@example(
    message=json.dumps(
        {"id": "1", "type": "subscribe", "payload": {"query": PROGRESS, "variables": [1]}}
    )
)
@example(message=json.dumps({"id": "1", "type": "subscribe", "payload": {"query": 5}}))
@example(message=json.dumps([]))
def test_subscribe_messages_keep_the_protocol(
    service: ServiceThread, known: dict[str, str], message: str
) -> None:
    before = service.footprint()
    exchange = service.run(raw_exchange(service.url, message, known[PENDING_TASK]))
    assert_protocol_kept(exchange, message)
    assert_nothing_written(before, service.footprint(), message)
