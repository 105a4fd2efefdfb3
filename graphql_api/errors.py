"""Every error leaves the API with an `extensions.code`; domain errors are mapped here, once."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionResult, StreamExecutionResult

from tasks import DomainError

logger = logging.getLogger(__name__)

INPUT_ERROR_MARKERS = (
    "got invalid value",
    "has invalid value",
    "not to be None",
    "Expected value of type",
    "Expected type",
    "OneOf Input Object",
    "must specify exactly one key",
    "must be non-null",
    "was not provided",
)


def is_input_error(error: GraphQLError) -> bool:
    """A variable or argument the caller gave could not be coerced. Argument errors are raised
    while a field executes, so they carry a path like a resolver's failure would: what tells
    them apart is that GraphQL itself raised them (no exception of ours underneath)."""
    original = error.original_error
    if original is not None and not isinstance(original, GraphQLError):
        return False
    if isinstance(error, GraphQLSyntaxError):
        return False
    return any(marker in error.message for marker in INPUT_ERROR_MARKERS)


def error_code(error: GraphQLError) -> str:
    original = error.original_error
    if isinstance(original, DomainError):
        return original.code
    if is_input_error(error):
        return "BAD_USER_INPUT"
    if error.path is not None:
        return "INTERNAL_SERVER_ERROR"
    if isinstance(error, GraphQLSyntaxError):
        return "GRAPHQL_PARSE_FAILED"
    return "GRAPHQL_VALIDATION_FAILED"


def with_code(error: GraphQLError) -> GraphQLError:
    """Fill in `extensions` (code, and the problems of a domain error) if missing."""
    extensions = dict(error.extensions or {})
    original = error.original_error
    if isinstance(original, DomainError):
        extensions = {**original.extensions, **extensions}
    elif (
        original is not None
        and "code" not in extensions
        and error_code(error) == "INTERNAL_SERVER_ERROR"
    ):
        logger.error("unexpected error in a resolver", exc_info=original)
        error.message = "Internal server error."
    extensions.setdefault("code", error_code(error))
    error.extensions = extensions
    return error


def coded(errors: list[GraphQLError] | None) -> Iterator[GraphQLError]:
    for error in errors or ():
        yield with_code(error)


class ErrorCodes(SchemaExtension):
    """Runs after every operation and gives each error its code."""

    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context
        if context.pre_execution_errors:
            context.pre_execution_errors = list(coded(context.pre_execution_errors))
        result = context.result
        if result is not None and result.errors:
            result.errors = list(coded(result.errors))

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        """Websocket transports send each streamed result as soon as it is yielded, long before
        the operation ends: code its errors first (validation and variable errors included)."""
        if isinstance(result, ExecutionResult) and result.errors:
            result.errors = list(coded(result.errors))
        yield
