"""Subscription fan-out below Strawberry's per-operation generator.

A valid subscription operation is run here, with graphql-core's public subscription steps
(`Executor.build`, `create_source_event_stream`, `execute_subscription_event`), instead of
through Strawberry's stream: each subscriber keeps its source (its queue in the broker) and
nothing more. An event many subscribers receive is executed once per (source event, operation
document, variables, owner, public URL); its `next` payload is serialized once, and every
subscriber writes the same text behind its own operation id.

Payloads that name their source event (`shared_source`, the very object the broker delivered
to every subscriber) are shared; any other payload (a snapshot, say) is executed for its
subscriber alone. Anything the relay does not run (queries and mutations over the socket,
documents that do not parse or validate) is left to Strawberry, which reports it as before.

Direct writes: when a stream's update carries a `direct` handle (`tasks.DirectDelivery`), the
relay takes the stream's later events itself, in the publisher's loop, instead of waking each
subscriber's task for each one. An event the update's `later` turns into what the stream would
yield is executed right there, as it is offered to the first subscriber, when its execution
completes without waiting (a progress event's fields read memory only); its payload is then
written to each socket as the event is offered to it, the whole fan-out one pass of the
publisher, no subscriber's task woken. Otherwise the first subscriber offered the event is woken
as before and executes it; every other one is held (its event kept beside its queue, its task
asleep) and, once the payload is ready, the executing task writes it to each held socket in one
loop. Events arriving while one is held (a transition and the progress right
behind it) are held too, each written once the ones before it are. A write that cannot
complete at once (the socket's buffer is full) is abandoned before anything is written and the
subscriber's events are released to its own task, which writes them with backpressure.
Per-operation order, conflation (the broker's queue) and every message stay as before.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Collection,
    Coroutine,
    Mapping,
    Sequence,
)
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, cast

from graphql import (
    ASTValidationRule,
    DocumentNode,
    ExecutionResult,
    Executor,
    GraphQLError,
    GraphQLSchema,
    OperationType,
    create_source_event_stream,
    execute_subscription_event,
    get_operation_ast,
    parse,
    validate,
)
from graphql.pyutils import AwaitableOrValue, is_awaitable
from graphql.type.definition import GraphQLResolveInfoHelpers

from graphql_api.context import RequestContext
from graphql_api.encoding import json_text
from graphql_api.errors import coded
from graphql_api.parsing import variables_key

# (id of the document, variables, owner, public URL): who may share an event's payload
Tail = tuple[int, str, str, str]
# (id of the source event, id of the one Tail object for those values)
ResultKey = tuple[int, int]

DEFAULT_SIZE = 1024
DOCUMENTS = 256
TAILS = 1024
EXECUTORS = 64

T = TypeVar("T")

ReportErrors = Callable[[list[GraphQLError]], None]


class Sink(Protocol):
    """Where one subscriber's messages go (its socket, under its operation id)."""

    async def refuse(self, errors: list[GraphQLError]) -> None:
        """The operation cannot start: variables or the subscription's own setup failed."""

    async def send(self, payload: str) -> None:
        """One `next` (or legacy `data`) payload, already serialized."""

    def send_at_once(self, payload: str) -> bool:
        """The same, only if the socket takes it without waiting: False when nothing was
        written (its buffer is full); a closed socket raises."""


Later = Callable[[Any], Any]
"""Turns a later event of a stream into what the stream yields for it (its execution's root), or
None where it is left to the subscribers' own tasks."""


class Direct(Protocol):
    """What a stream's update may carry to have its later events delivered by the relay
    (`tasks.DirectDelivery`): `take` is offered each event it may hold."""

    take: Callable[[Any], bool] | None

    def oldest(self) -> Any | None:
        """The oldest event held (the next to write), or None."""

    def delivered(self, event: Any) -> bool:
        """`event` was written: the subscriber is done with it."""

    def release(self) -> None:
        """What is held goes the stream's own way."""

    def unbind(self) -> None:
        """No more events are offered; anything held is released."""


class Shared:
    """One event's payload for one (document, variables, owner, public URL), shared by every
    subscriber: computed by the first subscriber task that reaches it (`claimed`), written by
    it to the subscribers held for it (`waiters`). Once `ready`, `text` is the payload, or None
    when its execution was abandoned (or failed): each subscriber then executes it for itself.
    `future` is the same outcome for subscriber tasks to wait on (a failure as its exception)."""

    __slots__ = ("claimed", "future", "ready", "text", "waiters")

    def __init__(self, future: asyncio.Future[str | None], *, claimed: bool) -> None:
        self.future = future
        self.claimed = claimed
        self.ready = False
        self.text: str | None = None
        self.waiters: list[Feed] = []

    def settle(self, text: str | None) -> None:
        """Its payload, or None: abandoned."""
        self.ready, self.text = True, text
        if not self.future.done():
            self.future.set_result(text)

    def fail(self, error: BaseException) -> None:
        """Its execution failed: waiting tasks raise `error`, held subscribers execute it."""
        self.ready = True
        self.future.set_exception(error)
        self.future.exception()  # retrieved: each waiting subscriber raises it for itself

    def abandon(self) -> None:
        """Nobody executes it for the others: each subscriber held for it executes it itself."""
        if not self.ready:
            self.settle(None)
        self.fan_out()

    def fan_out(self) -> None:
        """Done: every subscriber held for it writes what it holds, oldest first, as far as
        the payloads are ready (one held behind an older event is written after it, from the
        older one's fan-out); one whose socket does not take a write at once, or whose payload
        is missing, gets its events back, to handle them in its own task."""
        waiters, self.waiters = self.waiters, []
        for feed in waiters:
            feed.write_ready()


@dataclass(frozen=True, slots=True)
class Plan:
    """A valid subscription operation, ready to run for any caller."""

    query: str
    """The operation's text, one string for every subscriber that sent the same text."""
    document: DocumentNode
    operation_name: str | None
    variables: Mapping[str, Any] | None
    variables_key: str


class SharedResults:
    """The latest per-event payloads (None: its execution was abandoned), least recently used
    dropped first. An entry pins its event, document and tail, so the ids in its key cannot be
    reused while it lives."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self._size = size
        self._entries: OrderedDict[ResultKey, tuple[object, object, object, Shared]] = OrderedDict()

    def get(self, key: ResultKey) -> Shared | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return entry[3]

    def put(self, key: ResultKey, pins: tuple[object, object, object], payload: Shared) -> None:
        self._entries[key] = (*pins, payload)
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            _, (*_, dropped) = self._entries.popitem(last=False)
            if not dropped.claimed:  # its subscribers no longer find it: none will execute it
                dropped.abandon()

    def __len__(self) -> int:
        return len(self._entries)


class Documents:
    """Subscription documents that parse and validate, by text and operation name; anything
    else maps to None (Strawberry's own path reports it)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        rules: Collection[type[ASTValidationRule]],
        max_tokens: int,
        size: int = DOCUMENTS,
    ) -> None:
        self._schema = schema
        self._rules = tuple(rules)
        self._max_tokens = max_tokens
        self._size = size
        self._known: OrderedDict[tuple[str, str | None], tuple[str, DocumentNode] | None] = (
            OrderedDict()
        )

    def subscription(
        self, query: str, operation_name: str | None
    ) -> tuple[str, DocumentNode] | None:
        """The text as first seen (kept once for all who send it) and its document, or None."""
        key = (query, operation_name)
        if key in self._known:
            self._known.move_to_end(key)
            return self._known[key]
        document = self._checked(query, operation_name)
        known = None if document is None else (query, document)
        self._known[key] = known
        while len(self._known) > self._size:
            self._known.popitem(last=False)
        return known

    def _checked(self, query: str, operation_name: str | None) -> DocumentNode | None:
        try:
            document = parse(query, max_tokens=self._max_tokens)
        except GraphQLError:
            return None
        operation = get_operation_ast(document, operation_name)
        if operation is None or operation.operation is not OperationType.SUBSCRIPTION:
            return None
        if validate(self._schema, document, self._rules):
            return None
        return document


async def _gather_after_settling(values: Sequence[Awaitable[Any]]) -> list[Any]:
    raise RuntimeError("this execution has settled: there is no more work to gather")


def _track_after_settling(values: Sequence[Any]) -> None:
    raise RuntimeError("this execution has settled: there is no more work to track")


SETTLED = GraphQLResolveInfoHelpers(gather=_gather_after_settling, track=_track_after_settling)


def release(executor: Executor[Any]) -> None:
    """Break the reference cycle of a settled executor: graphql-core's executor holds helpers
    bound to itself, for resolvers to use while it executes, so without this only the cyclic
    collector frees it, at its next full collection (until then, one per subscriber and event
    stays in memory: ~5 KB each)."""
    executor.async_helpers = SETTLED


def payload_of(result: ExecutionResult, report: ReportErrors) -> str:
    """The `next` payload as Strawberry writes it: data, then coded errors if any."""
    body: dict[str, object] = {"data": result.data}
    if result.errors:
        errors = list(coded(result.errors, executed=True))
        report(errors)
        body["errors"] = [error.formatted for error in errors]
    return json_text(body)


async def settled(value: AwaitableOrValue[T]) -> T:
    if is_awaitable(value):
        return await cast("Awaitable[T]", value)
    return cast("T", value)


async def closed(events: AsyncIterator[Any]) -> None:
    close = getattr(events, "aclose", None)
    if close is not None:
        await close()


def sent_at_once(send: Coroutine[Any, Any, None]) -> bool:
    """Runs a socket write up to its first wait: True when it completed without one; else it is
    abandoned there, before the frame was written (a full buffer is waited for first), and
    the caller writes the frame another way. A write that fails raises as it would."""
    try:
        send.send(None)
    except StopIteration:
        return True
    send.close()
    return False


class Feed:
    """One running operation whose stream lets the relay deliver its events directly.

    Offered one event after another for every subscriber, so each offer takes the fewest steps
    it can: the event's payload is looked up once per pass (`SubscriptionRelay.shared_of`), read
    as an attribute, and written through the sink straight to the server."""

    __slots__ = ("closed", "context", "direct", "later", "owed", "plan", "relay", "sink", "tail")

    def __init__(self, relay: SubscriptionRelay, plan: Plan, context: RequestContext, sink: Sink):
        self.relay = relay
        self.plan = plan
        self.context = context
        self.sink = sink
        self.tail = relay.tail_of(plan, context)
        self.direct: Direct | None = None
        self.later: Later | None = None
        self.owed: Shared | None = None
        self.closed = False

    def attach(self, direct: Direct, later: Later | None) -> None:
        self.direct = direct
        self.later = later
        direct.take = self.take

    def take(self, source: object) -> bool:
        """Offered an event from the publisher's loop: True when it is held for the relay to
        write (or already written), False to let the subscriber's own task handle it."""
        if self.closed:
            return False
        relay = self.relay
        shared = relay.shared_of(source, self.tail)
        if shared is None:
            future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
            text = relay.payload_at_once(self.plan, self.context, self.tail, self.later, source)
            shared = Shared(future, claimed=text is not None)
            relay.keep(source, self.plan.document, self.tail, shared)
            if text is None:
                # This subscriber's task executes it (woken as before); the others wait held.
                self.owed = shared
                return False
            shared.settle(text)
        if not shared.ready:
            shared.waiters.append(self)
            return True
        text, direct = shared.text, self.direct
        if text is None or direct is None:
            return False
        if direct.oldest() is not source:
            return True  # behind an older held event: written once that one is
        return self.write_oldest(direct, source, text)

    def write_oldest(self, direct: Direct, source: object, text: str) -> bool:
        """Writes the payload of `source`, the oldest event held, if the socket takes it at once
        (then the subscriber is done with the event); else leaves it to the subscriber's task."""
        try:
            written = self.sink.send_at_once(text)
        except Exception:  # noqa: BLE001 - the socket is gone: the subscriber's task ends it
            written = False
        if written:
            direct.delivered(source)
        return written

    def write_ready(self) -> None:
        """Writes the held events, oldest first, while their payloads are ready; stops at one
        still being executed (its fan-out goes on from there). Anything that cannot be
        written at once goes back to the subscriber's task, with everything behind it."""
        direct = self.direct
        while not self.closed and direct is not None:
            source = direct.oldest()
            if source is None:
                return
            shared = self.relay.shared_of(source, self.tail)
            if shared is not None and not shared.ready:
                return
            text = None if shared is None else shared.text
            if text is None or not self.write_oldest(direct, source, text):
                self.release()
                return

    def release(self) -> None:
        if self.direct is not None:
            self.direct.release()

    def close(self) -> None:
        self.closed = True
        self.relay.forget_executor(self.tail, self.context)
        if self.direct is not None:
            self.direct.unbind()
        owed, self.owed = self.owed, None
        if owed is not None and not owed.claimed:
            owed.claimed = True
            owed.abandon()


def failure(error: Exception) -> GraphQLError:
    return (
        error if isinstance(error, GraphQLError) else GraphQLError(str(error), original_error=error)
    )


class SubscriptionRelay:
    """Runs subscription operations for the websocket handlers, sharing per-event work."""

    def __init__(
        self,
        schema: GraphQLSchema,
        documents: Documents,
        report: ReportErrors,
        executor: type[Executor[Any]],
    ) -> None:
        self._schema = schema
        self._executor_class = executor
        self._documents = documents
        self._report = report
        self._results = SharedResults()
        # The (source event, tail, payload) looked up last: every offer of one pass asks for it.
        self._recent: tuple[object, Tail, Shared] | None = None
        self._tails: OrderedDict[Tail, Tail] = OrderedDict()
        # The executor each tail's events are executed from in the publisher's loop.
        self._executors: OrderedDict[Tail, Executor[Any]] = OrderedDict()
        # Documents whose later events waited once when executed at once: left to subscribers.
        self._waiting: OrderedDict[int, DocumentNode] = OrderedDict()

    def tail_of(self, plan: Plan, context: RequestContext) -> Tail:
        """One object for every subscriber with these values (its id keys shared payloads);
        the least recently used forgotten first (a subscriber then keeps its own)."""
        tail = (id(plan.document), plan.variables_key, context.owner, context.public_url)
        known = self._tails.get(tail)
        if known is not None:
            self._tails.move_to_end(tail)
            return known
        self._tails[tail] = tail
        while len(self._tails) > TAILS:
            self._tails.popitem(last=False)
        return tail

    def shared_of(self, source: object, tail: Tail) -> Shared | None:
        """The payload of `source` for `tail`'s subscribers, if any is kept. The one looked up
        last is the most recently used entry, so answering it again needs no lookup."""
        recent = self._recent
        if recent is not None and recent[0] is source and recent[1] is tail:
            return recent[2]
        shared = self._results.get((id(source), id(tail)))
        self._recent = None if shared is None else (source, tail, shared)
        return shared

    def keep(self, source: object, document: DocumentNode, tail: Tail, shared: Shared) -> None:
        """`shared` is the payload of `source` for `tail`'s subscribers from now on."""
        self._results.put((id(source), id(tail)), (source, document, tail), shared)
        self._recent = (source, tail, shared)

    def payload_at_once(
        self, plan: Plan, context: RequestContext, tail: Tail, later: Later | None, source: object
    ) -> str | None:
        """The event's payload, executed here and now, when its execution completes without
        waiting; else None (its subscribers' tasks execute it). An execution that would wait
        is settled the way graphql-core settles work it abandons, and the document's later
        events are left to the subscribers' tasks from then on."""
        if later is None or id(plan.document) in self._waiting:
            return None
        root = later(source)
        if root is None:
            return None
        executor = self._event_executor(plan, context, tail)
        if executor is None:
            return None
        per_event = executor.build_per_event_executor(root)
        waits = False
        try:
            result = execute_subscription_event(per_event)
            waits = is_awaitable(result)
            if not waits:
                return payload_of(cast("ExecutionResult", result), self._report)
            per_event.settle_in_background([cast("Awaitable[ExecutionResult]", result)])
        except Exception:  # noqa: BLE001 - the subscriber's own task executes it and reports it
            return None
        finally:
            if not waits:
                release(per_event)
        self._waiting[id(plan.document)] = plan.document
        while len(self._waiting) > DOCUMENTS:
            self._waiting.popitem(last=False)
        return None

    def _event_executor(
        self, plan: Plan, context: RequestContext, tail: Tail
    ) -> Executor[Any] | None:
        """What the events of `tail`'s subscribers are executed from in the publisher's loop
        (each event on a copy of it, as graphql-core executes subscription events): built once,
        with the variables coerced, for the subscriber whose event is executed first, and kept
        while that subscriber stays (`forget_executor`); the least recently used goes first.
        The tail's subscribers share every value their payloads depend on, so the payload is
        the same whichever of them it was built for."""
        executor = self._executors.get(tail)
        if executor is not None:
            self._executors.move_to_end(tail)
            return executor
        built = self._executor(plan, context)
        if not isinstance(built, Executor):
            return None
        self._executors[tail] = built
        while len(self._executors) > EXECUTORS:
            _, dropped = self._executors.popitem(last=False)
            release(dropped)
        return built

    def forget_executor(self, tail: Tail, context: RequestContext) -> None:
        """The subscriber with `context` left: the tail's executor, if built for it, goes too
        (it would keep that subscriber's context); the next event builds one anew."""
        executor = self._executors.get(tail)
        if executor is not None and executor.context_value is context:
            del self._executors[tail]
            release(executor)

    def plan(
        self, query: str, variables: Mapping[str, Any] | None, operation_name: str | None
    ) -> Plan | None:
        """What the relay runs, or None: the operation goes Strawberry's way."""
        known = self._documents.subscription(query, operation_name)
        if known is None:
            return None
        text, document = known
        return Plan(text, document, operation_name, variables, variables_key(variables))

    def _executor(self, plan: Plan, context: RequestContext) -> Executor[Any] | list[GraphQLError]:
        return self._executor_class.build(
            self._schema,
            plan.document,
            context_value=context,
            raw_variable_values=dict(plan.variables) if plan.variables is not None else None,
            operation_name=plan.operation_name,
        )

    async def run(self, plan: Plan, context: RequestContext, sink: Sink) -> bool:
        """Every event of the operation into `sink`, until its source ends (True), or its
        refusal (False). While it waits for an event, a subscriber holds its source (its queue)
        and nothing of the execution: an event's executor is built when it is executed."""
        executor = self._executor(plan, context)
        if not isinstance(executor, Executor):
            await self._refuse(executor, sink)
            return False
        try:
            source: AsyncIterable[Any] | ExecutionResult = await settled(
                create_source_event_stream(executor)
            )
        finally:
            release(executor)
        if isinstance(source, ExecutionResult):
            await self._refuse(source.errors or [], sink)
            return False
        del executor
        # Relayed in this frame: one frame fewer for every idle subscription.
        events = aiter(source)
        del source
        feed: Feed | None = None
        try:
            async for event in events:
                direct = getattr(event, "direct", None) if feed is None else None
                if direct is not None:
                    feed = Feed(self, plan, context, sink)
                    feed.attach(direct, getattr(event, "later", None))
                await sink.send(await self._payload(plan, context, event))
                del event, direct  # nothing of the last event is kept while waiting for the next
        except Exception as exc:  # noqa: BLE001 - the source failed: its error is the last message
            await sink.send(payload_of(ExecutionResult(None, [failure(exc)]), self._report))
        finally:
            if feed is not None:
                feed.close()
            await closed(events)
        return True

    async def _refuse(self, errors: list[GraphQLError], sink: Sink) -> None:
        refused = list(coded(errors, executed=True))
        self._report(refused)
        await sink.refuse(refused)

    async def _payload(self, plan: Plan, context: RequestContext, event: Any) -> str:
        source = getattr(event, "shared_source", None)
        if source is None:
            return await self._execute(plan, context, event)
        tail = self.tail_of(plan, context)
        shared = self.shared_of(source, tail)
        if shared is None:
            shared = Shared(asyncio.get_running_loop().create_future(), claimed=True)
            self.keep(source, plan.document, tail, shared)
            return await self._execute_for_all(plan, context, event, shared)
        if not shared.claimed:  # held subscribers wait for it: this task executes it
            shared.claimed = True
            return await self._execute_for_all(plan, context, event, shared)
        if not shared.ready:
            # Shielded: one subscriber leaving must not cancel what the others wait for.
            await asyncio.shield(shared.future)
        text = shared.future.result()
        if text is None:  # the subscriber that executed it left before it was done
            return await self._execute(plan, context, event)
        return text

    async def _execute_for_all(
        self, plan: Plan, context: RequestContext, event: Any, shared: Shared
    ) -> str:
        """Executed in the first receiver's own task, not a task of its own: when nothing in it
        waits (a progress event), the payload is ready before the next subscriber runs, so every
        other subscriber takes it at once, woken once instead of twice; the subscribers held
        for it are written to from here."""
        try:
            text = await self._execute(plan, context, event)
        except asyncio.CancelledError:
            shared.abandon()
            raise
        except Exception as exc:
            shared.fail(exc)
            shared.fan_out()
            raise
        shared.settle(text)
        shared.fan_out()
        return text

    async def _execute(self, plan: Plan, context: RequestContext, event: Any) -> str:
        executor = self._executor(plan, context)
        if not isinstance(executor, Executor):  # the variables coerced when the operation began
            return payload_of(ExecutionResult(None, executor), self._report)
        per_event = executor.build_per_event_executor(event)
        try:
            result = await settled(execute_subscription_event(per_event))
        finally:
            release(per_event)
            release(executor)
        return payload_of(result, self._report)
