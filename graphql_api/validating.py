"""Validation verdicts kept per parsed document object.

Strawberry's ValidationCache keys its LRU on the document itself, so every request hashes the
whole syntax tree (graphql-core's nodes hash field by field, recursively): ~12 µs for the
17-field `task(id)` query, more for a history page, on every request. The parser cache hands
the same document object to every request with the same text, so here a verdict is found by
the document's identity (and the rules); each entry holds its document, so an id is never
reused while its verdict is kept.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

Rules = tuple[type[ASTValidationRule], ...]


class ValidatedDocuments:
    """The last `size` verdicts, by document object and rules; owned by one schema."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._known: OrderedDict[tuple[int, Rules], tuple[DocumentNode, list[GraphQLError]]] = (
            OrderedDict()
        )

    def verdict(
        self, schema: GraphQLSchema, document: DocumentNode, rules: Rules
    ) -> list[GraphQLError]:
        key = (id(document), rules)
        known = self._known.get(key)
        if known is not None and known[0] is document:
            self._known.move_to_end(key)
            return known[1]
        errors = validate_document(schema, document, rules)
        self._known[key] = (document, errors)
        while len(self._known) > self._size:
            self._known.popitem(last=False)
        return errors


class DocumentValidationCache(SchemaExtension):
    """Validates each parsed document once per set of rules (see the module's note)."""

    def __init__(self, documents: ValidatedDocuments) -> None:
        super().__init__()
        self._documents = documents

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        assert context.graphql_document is not None  # a document that did not parse stops earlier
        context.pre_execution_errors = self._documents.verdict(
            context.schema._schema, context.graphql_document, context.validation_rules
        )
        yield
