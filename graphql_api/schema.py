"""The Strawberry schema, built from the query, mutation and subscription types."""

from __future__ import annotations

import strawberry
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter

from strawberry.schema.config import StrawberryConfig

from graphql_api.errors import ErrorCodes
from graphql_api.scalars import SCALAR_MAP
from graphql_api.mutations import Mutation
from graphql_api.queries import Query
from graphql_api.subscriptions import Subscription
from graphql_api.types import Image, Task


def build_schema(
    *, max_depth: int = 12, max_tokens: int = 4000, max_aliases: int = 30
) -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Task, Image],
        extensions=[
            ErrorCodes,
            lambda: QueryDepthLimiter(max_depth=max_depth),
            lambda: MaxTokensLimiter(max_token_count=max_tokens),
            lambda: MaxAliasesLimiter(max_alias_count=max_aliases),
        ],
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
    )
