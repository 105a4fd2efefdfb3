"""Subscription fan-out: an event that many subscribers receive is executed once per distinct
(event, operation, variables, caller) and the same result is handed to each of them.

A subscription event is the root value of a per-event execution. Payloads that name their
source event (`shared_source`, the very object the broker delivered to every subscriber) can be
shared; any other payload (a snapshot, say) is executed for its subscriber alone. Operations are
told apart by their parsed node, so the schema needs Strawberry's ParserCache (the same text gives
the same document) for subscribers of different connections to share.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable
from typing import Any, cast

from graphql import ExecutionResult
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from graphql_api.context import RequestContext

# (id of the source event, id of the operation node, variables, owner, public URL)
ResultKey = tuple[int, int, str, str, str]

DEFAULT_SIZE = 1024


class SharedResults:
    """The latest per-event results, least recently used dropped first. An entry pins its event
    and operation node, so the ids in its key cannot be reused while it lives."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self._size = size
        self._entries: OrderedDict[ResultKey, tuple[object, object, asyncio.Future[Any]]] = (
            OrderedDict()
        )

    def get(self, key: ResultKey) -> asyncio.Future[Any] | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return entry[2]

    def put(self, key: ResultKey, pins: tuple[object, object], result: asyncio.Future[Any]) -> None:
        self._entries[key] = (*pins, result)
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


async def shared(result: asyncio.Future[Any]) -> Any:
    # Shielded: one subscriber leaving must not cancel the execution the others wait for.
    return await asyncio.shield(result)


def finished(value: Any) -> asyncio.Future[Any]:
    future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    future.set_result(value)
    return future


def sharing_executor(results: SharedResults) -> type[StrawberryGraphQLCoreExecutionContext]:
    """Strawberry's executor, sharing subscription event results through `results`."""

    class SharingExecutor(StrawberryGraphQLCoreExecutionContext):
        share_key: ResultKey | None = None
        share_pins: tuple[object, object] = (None, None)

        def build_per_event_executor(self, payload: Any) -> Any:
            # A copy of this executor (`copy(self)`), so of this class.
            executor = cast("SharingExecutor", super().build_per_event_executor(payload))
            source = getattr(payload, "shared_source", None)
            context = self.context_value
            if source is not None and isinstance(context, RequestContext):
                variables = repr(sorted(self.variable_values.coerced.items()))
                executor.share_key = (
                    id(source),
                    id(self.operation),
                    variables,
                    context.owner,
                    context.public_url,
                )
                executor.share_pins = (source, self.operation)
            return executor

        def execute_operation(self, serially: bool | None = None) -> Any:
            key = self.share_key
            if key is None:
                return super().execute_operation(serially)
            found = results.get(key)
            if found is not None:
                return shared(found)
            outcome = super().execute_operation(serially)
            if not self.is_awaitable(outcome):
                results.put(key, self.share_pins, finished(outcome))
                return outcome
            running: asyncio.Future[ExecutionResult] = asyncio.ensure_future(_awaited(outcome))
            results.put(key, self.share_pins, running)
            return shared(running)

    return SharingExecutor


async def _awaited(outcome: Awaitable[ExecutionResult]) -> ExecutionResult:
    return await outcome
