"""Every error leaves the API with an `extensions.code`; domain errors are mapped here, once."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql import (
    ASTValidationRule,
    GraphQLError,
    GraphQLSyntaxError,
    ProvidedRequiredArgumentsRule,
    ValuesOfCorrectTypeRule,
)
from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionResult, StreamExecutionResult

from tasks import DomainError

logger = logging.getLogger(__name__)

# Where graphql-core coerces an argument's value while a field executes.
ARGUMENT_COERCION_MODULE = "graphql.execution.values"
BAD_USER_INPUT = "BAD_USER_INPUT"


class ReportsInputErrors(ASTValidationRule):
    """A validation rule whose every error is about a value the caller wrote (a literal that does
    not fit its type, a required argument left out): coded as input, not as a bad document."""

    def report_error(self, error: GraphQLError) -> None:
        error.extensions = {**(error.extensions or {}), "code": BAD_USER_INPUT}
        super().report_error(error)


class InputValuesOfCorrectType(ReportsInputErrors, ValuesOfCorrectTypeRule):
    pass


class InputRequiredArguments(ReportsInputErrors, ProvidedRequiredArgumentsRule):
    pass


INPUT_RULES: dict[type[ASTValidationRule], type[ASTValidationRule]] = {
    ValuesOfCorrectTypeRule: InputValuesOfCorrectType,
    ProvidedRequiredArgumentsRule: InputRequiredArguments,
}


def with_input_rules(
    rules: tuple[type[ASTValidationRule], ...],
) -> tuple[type[ASTValidationRule], ...]:
    """`rules` with the rules about input values replaced by ones that code their errors."""
    return tuple(INPUT_RULES.get(rule, rule) for rule in rules)


def raised_in(error: BaseException, module: str) -> bool:
    """Whether `error` was raised by code of `module` (its traceback's innermost frame)."""
    trace = error.__traceback__
    if trace is None:
        return False
    while trace.tb_next is not None:
        trace = trace.tb_next
    return bool(trace.tb_frame.f_globals.get("__name__") == module)


def is_argument_coercion_error(error: GraphQLError) -> bool:
    """An argument the caller gave could not be coerced. Such errors are raised while a field
    executes, so they carry a path like a resolver's failure would: what tells them apart is
    that graphql-core's argument coercion raised them, not a resolver."""
    original = error.original_error
    return isinstance(original, GraphQLError) and raised_in(original, ARGUMENT_COERCION_MODULE)


def is_variable_coercion_error(error: GraphQLError) -> bool:
    """Of the errors an operation's execution gives before any field runs (validation was
    over, and coded its own), those GraphQL itself made are the variables' coercion errors;
    anything else underneath (a failure of the server's) is not the caller's input."""
    original = error.original_error
    return error.path is None and (original is None or isinstance(original, GraphQLError))


def error_code(error: GraphQLError, *, executed: bool = False) -> str:
    """The code of `error`. `executed`: it came out of execution, after validation (whose
    errors are coded as they arise), so one without a path arose coercing the variables."""
    original = error.original_error
    if isinstance(original, DomainError):
        return original.code
    known = (error.extensions or {}).get("code")
    if isinstance(known, str):
        return known
    if isinstance(error, StrawberryInputCoercionError) or isinstance(
        original, StrawberryInputCoercionError
    ):
        return BAD_USER_INPUT  # Strawberry's own input checks (Maybe, OneOf), when validating or coercing
    if isinstance(error, GraphQLSyntaxError):
        return "GRAPHQL_PARSE_FAILED"
    if error.path is not None:
        return BAD_USER_INPUT if is_argument_coercion_error(error) else "INTERNAL_SERVER_ERROR"
    if executed and is_variable_coercion_error(error):
        return BAD_USER_INPUT
    return "GRAPHQL_VALIDATION_FAILED"


def with_code(error: GraphQLError, *, executed: bool = False) -> GraphQLError:
    """Fill in `extensions` (code, and the problems of a domain error) if missing."""
    extensions = dict(error.extensions or {})
    original = error.original_error
    if isinstance(original, DomainError):
        extensions = {**original.extensions, **extensions}
    elif (
        original is not None
        and "code" not in extensions
        and error_code(error, executed=executed) == "INTERNAL_SERVER_ERROR"
    ):
        logger.error("unexpected error in a resolver", exc_info=original)
        error.message = "Internal server error."
    extensions.setdefault("code", error_code(error, executed=executed))
    error.extensions = extensions
    return error


def coded(errors: list[GraphQLError] | None, *, executed: bool = False) -> Iterator[GraphQLError]:
    for error in errors or ():
        yield with_code(error, executed=executed)


class ErrorCodes(SchemaExtension):
    """Gives each error its code by where it arose: parsing and validation as they end (the
    rules about input values code theirs as they report them), the rest (variables, arguments,
    resolvers) after the operation or as each result streams."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        context.validation_rules = with_input_rules(context.validation_rules)
        yield
        if context.pre_execution_errors:
            context.pre_execution_errors = list(coded(context.pre_execution_errors))

    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context
        if context.pre_execution_errors:
            context.pre_execution_errors = list(coded(context.pre_execution_errors, executed=True))
        result = context.result
        if result is not None and result.errors:
            result.errors = list(coded(result.errors, executed=True))

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        """Websocket transports send each streamed result as soon as it is yielded, long before
        the operation ends: code its errors first (validation and variable errors included)."""
        if isinstance(result, ExecutionResult) and result.errors:
            result.errors = list(coded(result.errors, executed=True))
        yield
