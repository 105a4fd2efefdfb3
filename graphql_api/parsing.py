"""Parsing with a cache that never lets a syntax error escape the operation.

Strawberry's ParserCache parses inside its `on_parse` hook, outside the step that turns a
GraphQLSyntaxError into a result: the error would escape the operation uncoded (HTTP), end a
graphql-transport-ws operation with a bare `complete`, and leave a legacy graphql-ws client
without any answer. Here a document that does not parse is left unparsed, so Strawberry's own
parse step raises the same error again and reports it like every other refusal.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import GraphQLSyntaxError
from strawberry.extensions import ParserCache


class ReportingParserCache(ParserCache):
    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        try:
            context.graphql_document = self.cached_parse_document(
                context.query, **context.parse_options
            )
        except GraphQLSyntaxError:
            context.graphql_document = None
        yield


def variables_key(variables: Mapping[str, Any] | None) -> str:
    """An operation's variables as one text: equal texts for equal values (at the top level in
    any order), so it keys what is shared between requests with the same variables."""
    return repr(sorted((variables or {}).items()))
