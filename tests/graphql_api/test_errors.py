from __future__ import annotations

from contextlib import aclosing

import pytest
from graphql import GraphQLError
from strawberry.types.execution import ExecutionResult

from graphql_api.errors import error_code
from graphql_api.schema import build_schema

HISTORY = "query($first: Int) { history(first: $first) { totalCount } }"


async def test_null_for_an_argument_with_a_default_is_bad_user_input() -> None:
    result = await build_schema().execute(HISTORY, variable_values={"first": None})
    assert result.errors
    assert [error.extensions for error in result.errors] == [{"code": "BAD_USER_INPUT"}]
    assert "not to be None" in result.errors[0].message


def test_argument_coercion_errors_are_input_errors_despite_their_path() -> None:
    coercion = GraphQLError("Argument 'first' has invalid value: Expected type 'Int'.")
    located = GraphQLError(coercion.message, path=["history"], original_error=coercion)
    assert error_code(located) == "BAD_USER_INPUT"


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
