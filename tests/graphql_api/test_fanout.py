"""One execution per subscription event, whatever the number of subscribers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any, cast

import strawberry
from strawberry.extensions import ParserCache

from graphql_api.context import RequestContext
from graphql_api.fanout import SharedResults, sharing_executor


@dataclass
class Counter:
    calls: int = 0


@dataclass(frozen=True)
class Event:
    value: int


@strawberry.type
class Update:
    value_: strawberry.Private[int]
    counter: strawberry.Private[Counter]
    shared_source: strawberry.Private[Event | None] = None

    @strawberry.field
    def value(self) -> int:
        self.counter.calls += 1
        return self.value_


@dataclass
class Feed:
    events: list[Event]
    counter: Counter = field(default_factory=Counter)
    shared: bool = True


@strawberry.type
class Query:
    ok: bool = True


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def updates(self, info: strawberry.Info, scale: int = 1) -> AsyncGenerator[Update, None]:
        feed: Feed = info.context.feed
        for event in feed.events:
            source = event if feed.shared else None
            yield Update(value_=event.value * scale, counter=feed.counter, shared_source=source)


class FeedContext(RequestContext):
    feed: Feed


def context(feed: Feed, owner: str = "o") -> RequestContext:
    ctx = FeedContext(
        services=cast(Any, None), owner=owner, public_url="http://x", links=cast(Any, None)
    )
    ctx.feed = feed
    return ctx


def schema() -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        subscription=Subscription,
        execution_context_class=sharing_executor(SharedResults()),
        # The same text must give the same document: results are keyed on the operation node.
        extensions=[ParserCache],
    )


async def collect(api: strawberry.Schema, ctx: RequestContext, query: str) -> list[Any]:
    stream = await api.subscribe(query, context_value=ctx)
    return [result.data async for result in stream]


async def test_many_subscribers_of_one_event_share_one_execution() -> None:
    api, feed = schema(), Feed(events=[Event(1), Event(2), Event(3)])
    query = "subscription { updates { value } }"
    results = await asyncio.gather(*(collect(api, context(feed), query) for _ in range(20)))
    assert all(found == [{"updates": {"value": n}} for n in (1, 2, 3)] for found in results)
    assert feed.counter.calls == 3


async def test_different_variables_or_callers_are_executed_apart() -> None:
    api, feed = schema(), Feed(events=[Event(1)])
    doubled = await collect(api, context(feed), "subscription { updates(scale: 2) { value } }")
    plain = await collect(api, context(feed), "subscription { updates { value } }")
    other = await collect(api, context(feed, owner="p"), "subscription { updates { value } }")
    assert doubled == [{"updates": {"value": 2}}]
    assert plain == other == [{"updates": {"value": 1}}]
    assert feed.counter.calls == 3


async def test_payloads_without_a_source_are_never_shared() -> None:
    api, feed = schema(), Feed(events=[Event(1)], shared=False)
    query = "subscription { updates { value } }"
    await asyncio.gather(*(collect(api, context(feed), query) for _ in range(3)))
    assert feed.counter.calls == 3


def test_the_oldest_results_are_dropped_beyond_the_size() -> None:
    results = SharedResults(size=2)
    loop = asyncio.new_event_loop()
    try:
        for n in range(3):
            results.put((n, 0, "", "", ""), (None, None), loop.create_future())
        assert len(results) == 2
        assert results.get((0, 0, "", "", "")) is None
    finally:
        loop.close()
