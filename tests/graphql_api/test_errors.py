from __future__ import annotations

import asyncio
import json
from contextlib import aclosing
from typing import Any

import pytest
from graphql import GraphQLError, GraphQLSyntaxError, Source, execute_sync, parse
from graphql import build_schema as graphql_schema
from strawberry.types.execution import ExecutionResult
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from graphql_api.errors import error_code
from graphql_api.schema import build_schema
from tests.support.graphql import GraphQLClient
from tests.support.graphql_ws import graphql_ws

HISTORY = "query($first: Int) { history(first: $first) { totalCount } }"


async def test_null_for_an_argument_with_a_default_is_bad_user_input() -> None:
    result = await build_schema().execute(HISTORY, variable_values={"first": None})
    assert result.errors
    assert [error.extensions for error in result.errors] == [{"code": "BAD_USER_INPUT"}]
    assert "not to be None" in result.errors[0].message


def test_argument_coercion_errors_are_input_errors_despite_their_path() -> None:
    schema = graphql_schema("type Query { f(n: Int! = 1): Int }")
    result = execute_sync(schema, parse("query($n: Int) { f(n: $n) }"), variable_values={"n": None})
    assert result.errors and result.errors[0].path == ["f"]
    assert error_code(result.errors[0]) == "BAD_USER_INPUT"


def test_a_graphql_error_a_resolver_raises_stays_internal_whatever_its_message() -> None:
    """Input errors are told apart by where they arise, not by what they say."""
    lookalike = GraphQLError("Argument 'first' has invalid value: Expected type 'Int'.")
    with pytest.raises(GraphQLError) as raised:
        raise lookalike
    located = GraphQLError(lookalike.message, path=["history"], original_error=raised.value)
    assert error_code(located) == "INTERNAL_SERVER_ERROR"


async def test_variables_that_do_not_coerce_are_bad_user_input_whatever_they_say() -> None:
    result = await build_schema().execute(HISTORY, variable_values={"first": "many"})
    assert result.errors and result.errors[0].path is None
    assert [error.extensions for error in result.errors] == [{"code": "BAD_USER_INPUT"}]


def test_an_error_without_a_path_outside_execution_is_a_validation_failure() -> None:
    assert error_code(GraphQLError("Expected type 'Int'.")) == "GRAPHQL_VALIDATION_FAILED"
    assert error_code(GraphQLError("Expected type 'Int'."), executed=True) == "BAD_USER_INPUT"


def test_a_resolver_failure_stays_internal_whatever_its_message() -> None:
    failure = RuntimeError("Argument 'first' has invalid value")
    located = GraphQLError(str(failure), path=["history"], original_error=failure)
    assert error_code(located) == "INTERNAL_SERVER_ERROR"


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("subscription { nope }", {}),
        ("subscription($id: ID!) { taskProgress(id: $id) { kind } }", {}),
        ("subscription($id: ID!) { taskProgress(id: $id) { kind } }", {"id": {"a": 1}}),
    ],
)
async def test_streamed_refusals_are_coded_as_they_are_yielded(
    query: str, variables: dict[str, object]
) -> None:
    """A websocket sends each result the moment the stream yields it."""
    stream = await build_schema().stream(query, variable_values=variables)
    async with aclosing(stream):
        async for result in stream:
            assert isinstance(result, ExecutionResult) and result.errors
            codes = [(error.extensions or {}).get("code") for error in result.errors]
            assert codes and codes[0] in ("GRAPHQL_VALIDATION_FAILED", "BAD_USER_INPUT"), codes
            break


@pytest.mark.parametrize("query", ["{ task(", " ", "subscription { taskProgress(id: "])
async def test_documents_that_do_not_parse_are_coded_parse_failures(
    api: GraphQLClient, query: str
) -> None:
    response = await api.execute(query)
    assert response.codes == ["GRAPHQL_PARSE_FAILED"], response.body
    assert response.errors[0]["message"].startswith("Syntax Error")


async def test_a_document_that_parses_but_does_not_fit_the_schema_is_a_validation_failure(
    api: GraphQLClient,
) -> None:
    response = await api.execute("{ taks(id: 1) { id } }")
    assert response.codes == ["GRAPHQL_VALIDATION_FAILED"], response.body


def test_parse_failures_are_told_apart_by_type_not_by_message() -> None:
    lookalike = GraphQLError("Syntax Error: a validation rule may say anything")
    assert error_code(lookalike) == "GRAPHQL_VALIDATION_FAILED"
    assert error_code(GraphQLSyntaxError(Source("{"), 1, "Unexpected <EOF>.")) == (
        "GRAPHQL_PARSE_FAILED"
    )


INVALID_SUBSCRIPTIONS = [
    ('subscription { taskProgress(id: "x") { kind ', "GRAPHQL_PARSE_FAILED"),
    ('subscription { taskProgres(id: "x") { kind } }', "GRAPHQL_VALIDATION_FAILED"),
]


@pytest.mark.parametrize(("query", "code"), INVALID_SUBSCRIPTIONS)
async def test_an_invalid_subscription_gets_an_error_message_over_graphql_transport_ws(
    app_url: str, query: str, code: str
) -> None:
    async with graphql_ws(app_url) as ws:
        await ws.send({"id": "1", "type": "subscribe", "payload": {"query": query}})
        reply = await asyncio.wait_for(ws.receive(), 5)
        assert reply["type"] == "error" and reply["id"] == "1", reply
        assert [e["extensions"]["code"] for e in reply["payload"]] == [code]
        # The connection stays usable for the next operation.
        await ws.send({"type": "ping"})
        assert (await asyncio.wait_for(ws.receive(), 5))["type"] == "pong"


@pytest.mark.parametrize(("query", "code"), INVALID_SUBSCRIPTIONS)
async def test_an_invalid_subscription_gets_an_error_message_over_legacy_graphql_ws(
    app_url: str, query: str, code: str
) -> None:
    url = app_url.replace("http://", "ws://", 1) + "/graphql"
    async with connect(url, subprotocols=[Subprotocol("graphql-ws")]) as socket:
        await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
        await socket.send(json.dumps({"id": "1", "type": "start", "payload": {"query": query}}))
        async with asyncio.timeout(5):
            while True:
                reply = json.loads(await socket.recv())
                if reply["type"] not in ("connection_ack", "ka"):
                    break
        assert (reply["type"], reply["id"]) == ("error", "1"), reply
        assert reply["payload"]["extensions"]["code"] == code


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ('{ history(first: "many") { totalCount } }', "BAD_USER_INPUT"),
        ("{ task { id } }", "BAD_USER_INPUT"),
        ("{ taks(id: 1) { id } }", "GRAPHQL_VALIDATION_FAILED"),
        ("query($id: ID!) { history { totalCount } }", "GRAPHQL_VALIDATION_FAILED"),
    ],
)
async def test_validation_codes_what_the_caller_wrote_as_input_by_the_rule_that_found_it(
    query: str, code: str
) -> None:
    """A literal that does not fit its type or a required argument left out is the caller's
    input; any other rule's refusal is about the document."""
    result = await build_schema().execute(query)
    assert result.errors
    assert [(error.extensions or {}).get("code") for error in result.errors] == [code]


PROGRESS_BY_ID = "subscription($id: ID!) { taskProgress(id: $id) { kind } }"


async def test_a_subscription_with_variables_that_do_not_coerce_is_refused_as_input(
    app_url: str,
) -> None:
    async with graphql_ws(app_url) as ws:
        await ws.send(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": PROGRESS_BY_ID, "variables": {"id": {"a": 1}}},
            }
        )
        reply = await asyncio.wait_for(ws.receive(), 5)
        assert (reply["type"], reply["id"]) == ("error", "1"), reply
        assert [e["extensions"]["code"] for e in reply["payload"]] == ["BAD_USER_INPUT"]


async def test_a_subscription_to_an_unknown_task_ends_with_not_found_over_legacy_graphql_ws(
    app_url: str,
) -> None:
    url = app_url.replace("http://", "ws://", 1) + "/graphql"
    async with connect(url, subprotocols=[Subprotocol("graphql-ws")]) as socket:
        await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
        start = {
            "query": PROGRESS_BY_ID,
            "variables": {"id": "00000000-0000-4000-8000-000000000000"},
        }
        await socket.send(json.dumps({"id": "7", "type": "start", "payload": start}))
        replies: list[dict[str, Any]] = []
        async with asyncio.timeout(5):
            while not replies or replies[-1]["type"] != "complete":
                reply = json.loads(await socket.recv())
                if reply["type"] not in ("connection_ack", "ka"):
                    replies.append(reply)
        assert [(r["type"], r["id"]) for r in replies] == [("data", "7"), ("complete", "7")]
        errors = replies[0]["payload"]["errors"]
        assert [e["extensions"]["code"] for e in errors] == ["NOT_FOUND"]
