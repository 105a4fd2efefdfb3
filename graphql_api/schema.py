"""The Strawberry schema, built from the query, mutation and subscription types."""

from __future__ import annotations

import strawberry
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter

from graphql_api.errors import ErrorCodes
from graphql_api.mutations import Mutation
from graphql_api.queries import Query
from graphql_api.types import Image, Task


def build_schema(
    *, max_depth: int = 12, max_tokens: int = 4000, max_aliases: int = 30
) -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        types=[Task, Image],
        extensions=[
            ErrorCodes,
            QueryDepthLimiter(max_depth=max_depth),
            MaxTokensLimiter(max_token_count=max_tokens),
            MaxAliasesLimiter(max_alias_count=max_aliases),
        ],
    )
