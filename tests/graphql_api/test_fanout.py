"""One execution and one serialized payload per subscription event, whatever the number of
subscribers."""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
import strawberry
from graphql import Executor, GraphQLError

from graphql_api.context import RequestContext
from graphql_api.errors import ErrorCodes
from graphql_api.fanout import Shared, SharedResults
from graphql_api.schema import KontextSchema


@dataclass
class Counter:
    calls: int = 0
    gate: asyncio.Event = field(default_factory=asyncio.Event)


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

    @strawberry.field
    async def gated_value(self) -> int:
        self.counter.calls += 1
        await self.counter.gate.wait()
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


@strawberry.type
class FailingSubscription(Subscription):
    @strawberry.subscription
    async def broken(self) -> AsyncGenerator[int, None]:
        raise RuntimeError("source failed")
        yield 0


def schema() -> KontextSchema:
    return KontextSchema(
        query=Query,
        subscription=FailingSubscription,
        extensions=[ErrorCodes],
        validation_rules=(),
        max_tokens=1000,
    )


@dataclass
class Collected:
    payloads: list[str] = field(default_factory=list)
    refusals: list[list[GraphQLError]] = field(default_factory=list)

    async def refuse(self, errors: list[GraphQLError]) -> None:
        self.refusals.append(errors)

    async def send(self, payload: str) -> None:
        self.payloads.append(payload)

    def send_at_once(self, payload: str) -> bool:
        self.payloads.append(payload)
        return True


async def run(
    api: KontextSchema, ctx: RequestContext, query: str, variables: dict[str, Any] | None = None
) -> Collected:
    plan = api.relay.plan(query, variables, None)
    assert plan is not None
    sink = Collected()
    await api.relay.run(plan, ctx, sink)
    return sink


async def collect(
    api: KontextSchema, ctx: RequestContext, query: str, variables: dict[str, Any] | None = None
) -> list[Any]:
    return [
        json.loads(payload)["data"] for payload in (await run(api, ctx, query, variables)).payloads
    ]


async def test_many_subscribers_of_one_event_share_one_execution_and_one_payload() -> None:
    api, feed = schema(), Feed(events=[Event(1), Event(2), Event(3)])
    query = "subscription { updates { value } }"
    sinks = await asyncio.gather(*(run(api, context(feed), query) for _ in range(20)))
    assert all(
        [json.loads(p)["data"] for p in sink.payloads]
        == [{"updates": {"value": n}} for n in (1, 2, 3)]
        for sink in sinks
    )
    assert feed.counter.calls == 3
    # The same serialized text for every subscriber, not equal copies of it.
    assert all(sink.payloads[0] is sinks[0].payloads[0] for sink in sinks)


async def test_different_variables_or_callers_are_executed_apart() -> None:
    api, feed = schema(), Feed(events=[Event(1)])
    doubled = await collect(api, context(feed), "subscription { updates(scale: 2) { value } }")
    plain = await collect(api, context(feed), "subscription { updates { value } }")
    other = await collect(api, context(feed, owner="p"), "subscription { updates { value } }")
    by_variable = await collect(
        api, context(feed), "subscription($s: Int!) { updates(scale: $s) { value } }", {"s": 3}
    )
    assert doubled == [{"updates": {"value": 2}}]
    assert plain == other == [{"updates": {"value": 1}}]
    assert by_variable == [{"updates": {"value": 3}}]
    assert feed.counter.calls == 4


async def test_payloads_without_a_source_are_never_shared() -> None:
    api, feed = schema(), Feed(events=[Event(1)], shared=False)
    query = "subscription { updates { value } }"
    await asyncio.gather(*(collect(api, context(feed), query) for _ in range(3)))
    assert feed.counter.calls == 3


@pytest.mark.parametrize(
    "query",
    [
        "{ ok }",
        "subscription { updates { value } ",
        "subscription { nope }",
        "subscription A { updates { value } } subscription B { updates { value } }",
    ],
)
def test_what_the_relay_does_not_run_goes_strawberrys_way(query: str) -> None:
    """Queries, and documents that do not parse or validate, are Strawberry's to answer."""
    assert schema().relay.plan(query, None, None) is None


async def test_variables_that_do_not_coerce_refuse_the_operation_as_bad_input() -> None:
    api, feed = schema(), Feed(events=[Event(1)])
    query = "subscription($s: Int!) { updates(scale: $s) { value } }"
    sink = await run(api, context(feed), query, {"s": "x"})
    assert sink.payloads == []
    assert [[e.extensions for e in errors] for errors in sink.refusals] == [
        [{"code": "BAD_USER_INPUT"}]
    ]


async def test_a_failing_source_ends_with_its_error_as_strawberry_would_send_it() -> None:
    api, ctx = schema(), context(Feed(events=[]))
    sink = await run(api, ctx, "subscription { broken }")
    stream = await api.subscribe("subscription { broken }", context_value=ctx)
    strawberry_sends: list[dict[str, Any]] = [
        {"data": result.data, "errors": [error.formatted for error in result.errors or ()]}
        async for result in stream
    ]
    assert [json.loads(payload) for payload in sink.payloads] == strawberry_sends
    assert [error["message"] for error in strawberry_sends[0]["errors"]] == ["source failed"]


async def test_when_the_subscriber_executing_an_event_leaves_the_others_execute_it_themselves() -> (
    None
):
    api, feed = schema(), Feed(events=[Event(5)])
    query = "subscription { updates { gatedValue } }"
    leaving = asyncio.create_task(run(api, context(feed), query))
    while feed.counter.calls < 1:
        await asyncio.sleep(0)
    staying = asyncio.create_task(run(api, context(feed), query))
    for _ in range(5):
        await asyncio.sleep(0)
    leaving.cancel()
    while feed.counter.calls < 2:
        await asyncio.sleep(0)
    feed.counter.gate.set()
    sink = await staying
    assert [json.loads(payload)["data"] for payload in sink.payloads] == [
        {"updates": {"gatedValue": 5}}
    ]
    assert leaving.cancelled()


def test_the_oldest_results_are_dropped_beyond_the_size() -> None:
    results = SharedResults(size=2)
    loop = asyncio.new_event_loop()
    try:
        for n in range(3):
            results.put((n, 0), (None, None, None), Shared(loop.create_future(), claimed=True))
        assert len(results) == 2
        assert results.get((0, 0)) is None
    finally:
        loop.close()


class Waiter:
    """A subscriber held for a payload: counts how often it is asked to write what it holds."""

    def __init__(self) -> None:
        self.asked = 0

    def write_ready(self) -> None:
        self.asked += 1


def test_a_dropped_result_nobody_executes_yet_sends_its_held_subscribers_their_own_way() -> None:
    results = SharedResults(size=1)
    loop = asyncio.new_event_loop()
    try:
        unclaimed = Shared(loop.create_future(), claimed=False)
        claimed = Shared(loop.create_future(), claimed=True)
        waiters = [Waiter(), Waiter()]
        unclaimed.waiters.append(cast(Any, waiters[0]))
        claimed.waiters.append(cast(Any, waiters[1]))
        results.put((0, 0), (None, None, None), unclaimed)
        results.put((1, 0), (None, None, None), claimed)
        results.put((2, 0), (None, None, None), Shared(loop.create_future(), claimed=True))
        # Nobody would ever execute the first for its subscriber: it is abandoned at once.
        assert unclaimed.ready and unclaimed.text is None
        assert unclaimed.future.done() and unclaimed.future.result() is None
        assert waiters[0].asked == 1 and not unclaimed.waiters
        # The second is being executed: whoever does it still writes it to its subscribers.
        assert not claimed.ready and not claimed.future.done() and waiters[1].asked == 0
    finally:
        loop.close()


def executors_left_to_the_cyclic_collector() -> int:
    """How many executors only the cyclic collector would free now."""
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        return sum(isinstance(thing, Executor) for thing in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


async def test_executions_are_freed_as_they_settle_not_left_to_the_cyclic_collector() -> None:
    """graphql-core's executor is a reference cycle (helpers bound to itself); a subscriber's
    source stream and every event it executes would stay in memory until a full collection."""
    api, feed = schema(), Feed(events=[Event(1), Event(2), Event(3)], shared=False)
    query = "subscription { updates { value } }"
    await collect(api, context(feed), query)
    gc.collect()  # frees what earlier tests left (DEBUG_SAVEALL would only list it, and keep it)
    gc.disable()
    try:
        assert await collect(api, context(feed), query) == [
            {"updates": {"value": n}} for n in (1, 2, 3)
        ]
        assert executors_left_to_the_cyclic_collector() == 0
    finally:
        gc.enable()
