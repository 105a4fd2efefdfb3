"""Fan-out across replicas with PostgreSQL LISTEN/NOTIFY.

Payloads stay small: task id, owner, sequence, kind, status, sender, and for progress the
progress fields. Transitions are written before they are published, so a replica that hears
one made elsewhere reads the row once and hands its snapshot to all its local subscribers.
Progress is published before it is written (the row may not have it for a while), so a
replica learns it from the payload instead: applied to the snapshot it already holds of that
running task (the newest it published or relayed), or to a snapshot of the row read when it
holds none. The snapshots it holds are dropped when the task stops running, when it has no
subscribers, and when its listening connection is renewed (it may have missed changes).

A NOTIFY is sent only while another replica listens (`Peers`): each listening connection says
`hello` when it starts listening, every other replica adds it to the replicas it relays to and
answers `here`, and a replica entering waits for an answer from every other listening
connection (counted in `pg_stat_activity` by its application name) before it serves anyone,
so no replica publishes a change unrelayed once a subscriber of the new one can ask for it.
Until every answer is in (or while the listening connection is renewed), every event is
relayed, as when nothing is known. A replica leaving says `bye`; one that vanished is relayed
to for as long as this replica runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import uuid
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from tasks.background import BackgroundTasks
from tasks.events.broker import EventFilter, InProcessBroker, Subscription
from tasks.status import TaskStatus
from tasks.store.database import postgres_dsn
from tasks.store.snapshots import (
    EventKind,
    TaskEvent,
    TaskSnapshot,
    advanced,
    progress_of,
    read_snapshot,
)

logger = logging.getLogger(__name__)

CHANNEL = "kontext_task_events"
LISTENER_NAME = "kontext-task-events"
"""The application name of every listening connection, so a replica can count the others."""
RECONNECT_DELAY = 1.0
ANSWERS_TIMEOUT = 5.0
"""How long a replica entering waits for the other listeners' `here` before it serves anyway
(it still relays everything until they are all in)."""
WIRE_TIMES = frozenset({"estimated_finish_at", "updated_at"})
"""Progress fields that travel as ISO 8601 text."""


def encode(event: TaskEvent, sender: str) -> str:
    data: dict[str, object] = {
        "t": str(event.task_id),
        "o": event.owner,
        "s": event.sequence,
        "k": event.kind.value,
        "st": event.status.value,
        "r": sender,
    }
    if event.kind is EventKind.PROGRESS and event.task is not None:
        data["p"] = {name: to_wire(value) for name, value in progress_of(event.task).items()}
    return json.dumps(data, separators=(",", ":"))


def control(kind: str, sender: str) -> str:
    """`hello` (started listening), `here` (the answer) or `bye` (stops listening)."""
    return json.dumps({"c": kind, "r": sender}, separators=(",", ":"))


def to_wire(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


def from_wire(progress: Mapping[str, Any]) -> dict[str, Any]:
    return {
        name: datetime.fromisoformat(value)
        if name in WIRE_TIMES and isinstance(value, str)
        else value
        for name, value in progress.items()
    }


def decode(payload: str) -> tuple[TaskEvent, str, dict[str, Any] | None]:
    return decode_data(json.loads(payload))


def decode_data(data: dict[str, Any]) -> tuple[TaskEvent, str, dict[str, Any] | None]:
    event = TaskEvent(
        task_id=UUID(data["t"]),
        owner=data["o"],
        sequence=int(data["s"]),
        kind=EventKind(data["k"]),
        status=TaskStatus(data["st"]),
        local=False,
    )
    progress = data.get("p")
    return event, data["r"], None if progress is None else from_wire(progress)


class Peers:
    """The other replicas known to listen, and whether that knowledge is complete."""

    def __init__(self) -> None:
        self._senders: set[str] = set()
        self._expected: int | None = None
        self._complete = asyncio.Event()

    def restart(self, expected: int) -> None:
        """A new listening connection: `expected` others listen; their answers are awaited."""
        self._senders.clear()
        self._expected = expected
        self._complete.clear()
        self._check()

    def interrupted(self) -> None:
        """The listening connection is gone: nothing is known until the next `restart`."""
        self._expected = None
        self._complete.clear()

    def heard(self, sender: str) -> None:
        self._senders.add(sender)
        self._check()

    def left(self, sender: str) -> None:
        self._senders.discard(sender)

    @property
    def none_listen(self) -> bool:
        """True only when every other listener answered and none is left."""
        return self._complete.is_set() and not self._senders

    async def wait_complete(self, seconds: float) -> bool:
        """True when every answer came in within `seconds`."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._complete.wait(), seconds)
        return self._complete.is_set()

    def _check(self) -> None:
        if self._expected is not None and len(self._senders) >= self._expected:
            self._complete.set()


class HeldSnapshots:
    """The newest snapshot of each running task this replica published or relayed."""

    def __init__(self) -> None:
        self._snapshots: dict[UUID, TaskSnapshot] = {}

    def __len__(self) -> int:
        return len(self._snapshots)

    def clear(self) -> None:
        self._snapshots.clear()

    def hold(self, snapshot: TaskSnapshot | None) -> None:
        if snapshot is None:
            return
        if snapshot.status is not TaskStatus.PROCESSING:
            self._snapshots.pop(snapshot.id, None)
            return
        held = self._snapshots.get(snapshot.id)
        if held is None or held.sequence < snapshot.sequence:
            self._snapshots[snapshot.id] = snapshot

    async def relayed(
        self, event: TaskEvent, progress: Mapping[str, Any] | None
    ) -> TaskSnapshot | None:
        """The task as a change made elsewhere left it: progress applied to the snapshot held
        (or to one of the row, when none is held); any other change read from the row, where
        it was written before it was published. None when the task is gone."""
        if progress is None:
            snapshot = await read_snapshot(event.task_id)
        else:
            snapshot = self._snapshots.get(event.task_id) or await read_snapshot(event.task_id)
            if snapshot is not None and snapshot.sequence < event.sequence:
                snapshot = dataclasses.replace(
                    advanced(snapshot, event.sequence, progress), status=event.status
                )
        self.hold(snapshot)
        return snapshot


class PostgresBroker:
    """Delivers local events at once and relays them to, and from, the other replicas."""

    def __init__(self, database_url: str, background: BackgroundTasks) -> None:
        self._dsn = postgres_dsn(database_url)
        self._work = background.scope()
        self._local = InProcessBroker()
        self._sender = uuid.uuid4().hex
        self._publisher: asyncpg.Connection | None = None
        self._publish_lock = asyncio.Lock()
        self._listening = asyncio.Event()
        self._held = HeldSnapshots()
        self._peers = Peers()

    async def __aenter__(self) -> PostgresBroker:
        self._work.start(self._listen_forever(), "pg-broker-listen")
        await asyncio.wait_for(self._listening.wait(), timeout=15)
        if not await self._peers.wait_complete(ANSWERS_TIMEOUT):
            logger.warning(
                "not every listening replica answered within %.0f s; relaying every event",
                ANSWERS_TIMEOUT,
            )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._work.aclose()
        with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            await self._notify(await self._publishing_connection(), control("bye", self._sender))
        if self._publisher is not None:
            await self._publisher.close()

    @property
    def subscriber_count(self) -> int:
        return self._local.subscriber_count

    def subscribe(
        self, matches: EventFilter
    ) -> contextlib.AbstractAsyncContextManager[Subscription]:
        return self._local.subscribe(matches)

    async def publish(self, event: TaskEvent) -> None:
        self._held.hold(event.task)
        self._local.deliver(event)
        if self._peers.none_listen:
            return  # no other replica would hear it
        payload = encode(event, self._sender)
        async with self._publish_lock:
            try:
                await self._notify(await self._publishing_connection(), payload)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                logger.warning("could not relay task event to other replicas: %s", exc)
                self._publisher = None

    @staticmethod
    async def _notify(connection: asyncpg.Connection, payload: str) -> None:
        await connection.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)

    async def _publishing_connection(self) -> asyncpg.Connection:
        if self._publisher is None or self._publisher.is_closed():
            self._publisher = await asyncpg.connect(self._dsn, timeout=10)
        return self._publisher

    async def _listen_forever(self) -> None:
        while True:
            try:
                async with self._listening_connection() as closed:
                    await closed.wait()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                logger.warning("task event listener lost its connection: %s", exc)
            self._listening.clear()
            self._peers.interrupted()
            await asyncio.sleep(RECONNECT_DELAY)

    @contextlib.asynccontextmanager
    async def _listening_connection(self) -> AsyncIterator[asyncio.Event]:
        connection = await asyncpg.connect(
            self._dsn, timeout=10, server_settings={"application_name": LISTENER_NAME}
        )
        queue: asyncio.Queue[str] = asyncio.Queue()
        closed = asyncio.Event()
        try:
            connection.add_termination_listener(lambda _connection: closed.set())
            await connection.add_listener(CHANNEL, lambda *args: queue.put_nowait(args[3]))
            self._held.clear()  # what was said while no connection listened is unknown
            others = await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1"
                " AND datname = current_database() AND pid <> pg_backend_pid()",
                LISTENER_NAME,
            )
            self._peers.restart(int(others))
            # Said before the relay starts, which answers others' `hello` on this connection.
            await self._notify(connection, control("hello", self._sender))
            relaying = self._work.scope()
            relaying.start(self._relay(queue, connection), "pg-broker-relay")
            self._listening.set()
            try:
                yield closed
            finally:
                await relaying.aclose()
        finally:
            await connection.close()

    async def _relay(self, queue: asyncio.Queue[str], connection: asyncpg.Connection) -> None:
        while True:
            data = json.loads(await queue.get())
            if await self._answered(data, connection):
                continue
            event, sender, progress = decode_data(data)
            if sender == self._sender:
                continue
            self._peers.heard(sender)
            if not self._local.subscriber_count:
                self._held.clear()  # unheard changes would make what is held stale
                continue
            snapshot = await self._held.relayed(event, progress)
            self._local.deliver(dataclasses.replace(event, task=snapshot))

    async def _answered(self, data: dict[str, Any], connection: asyncpg.Connection) -> bool:
        """Handle a replica's `hello`, `here` or `bye`; False when the payload is an event."""
        kind, sender = data.get("c"), data["r"]
        if kind is None:
            return False
        if sender == self._sender:
            return True
        if kind == "bye":
            self._peers.left(sender)
            return True
        self._peers.heard(sender)
        if kind == "hello":
            try:
                await self._notify(connection, control("here", self._sender))
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                logger.warning("could not answer replica %s: %s", sender, exc)
        return True
