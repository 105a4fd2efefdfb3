"""Validation verdicts are kept per parsed document object (the parser cache hands the same
object to every request with the same text), without hashing the syntax tree."""

from __future__ import annotations

from graphql import ASTValidationRule, ValidationContext, parse, specified_rules

from graphql_api.schema import build_schema
from graphql_api.validating import ValidatedDocuments


def counting_rules(calls: list[str]) -> tuple[type[ASTValidationRule], ...]:
    class Counting(ASTValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            calls.append("validated")

    return (*specified_rules, Counting)


def test_a_document_is_validated_once_and_found_by_its_identity() -> None:
    schema = build_schema()._schema
    calls: list[str] = []
    rules = counting_rules(calls)
    documents = ValidatedDocuments(size=2)
    document = parse("{ __typename }")
    assert documents.verdict(schema, document, rules) == []
    assert documents.verdict(schema, document, rules) == []
    assert len(calls) == 1
    assert documents.verdict(schema, parse("{ __typename }"), rules) == []  # another object
    assert len(calls) == 2


def test_a_refused_documents_errors_are_kept_and_the_oldest_verdict_goes_first() -> None:
    schema = build_schema()._schema
    calls: list[str] = []
    rules = counting_rules(calls)
    documents = ValidatedDocuments(size=2)
    refused, kept, newest = (
        parse("{ nope }"),
        parse("{ __typename }"),
        parse("{ workflows { name } }"),
    )
    errors = documents.verdict(schema, refused, rules)
    assert [error.message.split(" Did")[0] for error in errors] == [
        "Cannot query field 'nope' on type 'Query'."
    ]
    assert documents.verdict(schema, refused, rules) is errors
    documents.verdict(schema, kept, rules)
    documents.verdict(schema, newest, rules)  # over the size: `refused` is dropped
    assert len(calls) == 3
    documents.verdict(schema, kept, rules)
    assert len(calls) == 3
    documents.verdict(schema, refused, rules)
    assert len(calls) == 4
