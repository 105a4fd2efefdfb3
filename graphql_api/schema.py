"""The Strawberry schema, built from the query, mutation and subscription types."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import strawberry
from graphql import ASTValidationRule, GraphQLError, specified_rules
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from graphql_api.context import RequestContext
from graphql_api.errors import ErrorCodes, error_code
from graphql_api.executing import lean_resolvers, service_executor
from graphql_api.fanout import Documents, SubscriptionRelay
from graphql_api.mutations import Mutation
from graphql_api.parsing import ReportingParserCache
from graphql_api.queries import Query
from graphql_api.readings import Readings, noted_into
from graphql_api.reuse import KeptAnswers
from graphql_api.scalars import SCALAR_MAP
from graphql_api.subscriptions import Subscription
from graphql_api.types import Image, Task
from graphql_api.validating import DocumentValidationCache, ValidatedDocuments

# Distinct operation texts kept parsed and validated (clients send a handful, always the same).
PARSED_DOCUMENTS = 256


QUERY = OperationType.QUERY

# Strawberry adds these to every validation.
STRAWBERRY_RULES = (MaybeNullValidationRule, OneOfInputValidationRule)


class KontextSchema(strawberry.Schema):
    """Logs unexpected errors only: a refused request is the caller's news, not the operator's.
    Its `relay` runs subscriptions for the websocket handlers (graphql_api/fanout.py), with the
    same parse limit and validation rules as the extensions apply."""

    def __init__(
        self,
        *,
        validation_rules: tuple[type[ASTValidationRule], ...],
        max_tokens: int,
        answers: KeptAnswers | None = None,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        if not self.exception_handlers:  # a straight call would skip them
            lean_resolvers(self)
        self.execution_context_class = service_executor(self._schema, PARSED_DOCUMENTS)
        rules = (*specified_rules, *validation_rules, *STRAWBERRY_RULES)
        documents = Documents(self._schema, rules, max_tokens, size=PARSED_DOCUMENTS)
        self.relay = SubscriptionRelay(
            self._schema, documents, self.process_errors, executor=self.execution_context_class
        )
        self._answers = answers

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        """As Strawberry's, but an answer made from reads that come back equal is given again
        without parsing, validating or executing anything (graphql_api/reuse.py)."""
        answers = self._answers
        if (
            answers is None
            or query is None
            or not isinstance(context_value, RequestContext)
            or (allowed_operation_types is not None and QUERY not in allowed_operation_types)
        ):
            return await super().execute(
                query, variable_values, context_value, root_value, operation_name,
                allowed_operation_types, operation_extensions,
            )  # fmt: skip
        operation = (query, operation_name)
        key = answers.key_of(operation, variable_values, context_value)
        if key is not None:
            data = await answers.still_true(key)
            if data is not None:
                if context_value.metrics is not None:
                    context_value.metrics.answers_given_again.inc()
                return ExecutionResult(data=data, errors=None)
        readings = Readings()
        with noted_into(readings):
            result = await super().execute(
                query, variable_values, context_value, root_value, operation_name,
                allowed_operation_types, operation_extensions,
            )  # fmt: skip
        if readings.repeatable and not result.errors and result.data is not None:
            answers.keep(operation, variable_values, context_value, result.data, readings, key=key)
        return result

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        unexpected = [e for e in errors if error_code(e) == "INTERNAL_SERVER_ERROR"]
        if unexpected:
            super().process_errors(unexpected, execution_context)


def build_schema(
    *,
    max_depth: int = 12,
    max_tokens: int = 4000,
    max_aliases: int = 30,
    introspection: bool = True,
    answers: KeptAnswers | None = None,
) -> KontextSchema:
    # The limits' rule classes are made once, so a cached verdict is keyed by the same rules.
    limits = [
        *QueryDepthLimiter(max_depth=max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=max_aliases).validation_rules,
    ]
    hidden = [] if introspection else list(DisableIntrospection().validation_rules)
    validated = ValidatedDocuments(PARSED_DOCUMENTS)
    return KontextSchema(
        validation_rules=(*limits, *hidden),
        max_tokens=max_tokens,
        answers=KeptAnswers() if answers is None else answers,
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Task, Image],
        extensions=[
            ErrorCodes,
            lambda: MaxTokensLimiter(max_token_count=max_tokens),
            lambda: AddValidationRules(limits),
            *([] if introspection else [DisableIntrospection]),
            # Same text, same document object; same document and rules, the same verdict.
            lambda: ReportingParserCache(maxsize=PARSED_DOCUMENTS),
            lambda: DocumentValidationCache(validated),
        ],
        config=StrawberryConfig(scalar_map=dict(SCALAR_MAP)),
    )
