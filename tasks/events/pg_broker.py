"""Fan-out across replicas with PostgreSQL LISTEN/NOTIFY.

Payloads stay small: task id, owner, sequence, kind, status, sender, the payload's version, and
for progress the progress fields. Transitions are written before they are published, so a
replica that hears one made elsewhere reads the row once and hands its snapshot to all its local
subscribers.
Progress is published before it is written (the row may not have it for a while), so a
replica learns it from the payload instead: applied to the snapshot it already holds of that
running task (the newest it published or relayed), or to a snapshot of the row read when it
holds none. The snapshots it holds are dropped when the task stops running, when it has no
subscribers, and when its listening connection is renewed (it may have missed changes).

A replica NOTIFYs only while another one listens: each listening session names itself
(`LISTENER_NAME`) and counts the others' sessions in `pg_stat_activity` (and those of replicas
of earlier versions, by their last statement) when it connects and every
`presence_check_seconds` after. A replica that finds others greets them on the channel
and waits (at most `GREETING_SECONDS`) until each has answered: an answer is sent after its
sender began to NOTIFY, so every event it publishes after it reaches the newcomer, which has
no subscribers before it is ready. A lone replica (the usual single-process deployment) spends
no NOTIFY on progress nobody else will read.
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
RECONNECT_DELAY = 1.0
NOTIFY = "SELECT pg_notify($1, $2)"
LISTENER_NAME = "kontext-task-events"
"""The application_name of every replica's listening session: how replicas count each other."""
OTHER_LISTENERS = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> $2"
    " AND (application_name = $1 OR query = $3)"
)
OLDER_LISTENER_QUERY = f'LISTEN "{CHANNEL}"'
"""The last statement of a replica of an earlier version's listening session (it names none and
runs nothing after LISTEN): such a replica is counted, and NOTIFYed, too."""
PRESENCE_CHECK_SECONDS = 5.0
GREETING_SECONDS = 2.0
"""How long a replica that found others waits for their answers before it goes on anyway."""
NOTIFY_DRAIN_SECONDS = 5.0
"""How long closing waits for events published but not yet relayed."""
WIRE_VERSION = 1
"""The version of the event payload this replica writes and reads (`"v"`; a payload without it
is version 1, from a replica before versions). A change that replicas of this version would
misread takes the next one."""
FROM_MEMORY = frozenset({EventKind.PROGRESS, EventKind.PREVIEW})
"""Events published before their row is written: the payload carries what they changed."""
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
        "v": WIRE_VERSION,
    }
    if event.webhook_due:
        data["w"] = 1
    if event.kind in FROM_MEMORY and event.task is not None:
        data["p"] = {name: to_wire(value) for name, value in progress_of(event.task).items()}
    return json.dumps(data, separators=(",", ":"))


def to_wire(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


def from_wire(progress: Mapping[str, Any]) -> dict[str, Any]:
    return {
        name: datetime.fromisoformat(value)
        if name in WIRE_TIMES and isinstance(value, str)
        else value
        for name, value in progress.items()
    }


def greeting(sender: str) -> str:
    """Said by a replica that found others listening: answer me once you NOTIFY."""
    return json.dumps({"hello": sender}, separators=(",", ":"))


def answer(sender: str, to: str) -> str:
    """Said to a replica that greeted: from now on this one NOTIFYs what it publishes."""
    return json.dumps({"here": sender, "to": to}, separators=(",", ":"))


class UnknownWireVersion(ValueError):
    """An event payload of a version this replica cannot read (a newer replica wrote it)."""

    def __init__(self, version: object, sender: object) -> None:
        super().__init__(
            f"replica {sender} writes task events in version {version}; this replica reads "
            f"version {WIRE_VERSION}: its events reach this replica's subscribers only once "
            "this replica is upgraded"
        )
        self.sender = sender


def decode(payload: str) -> tuple[TaskEvent, str, dict[str, Any] | None]:
    data = json.loads(payload)
    version = data.get("v", 1)
    if version != WIRE_VERSION:
        raise UnknownWireVersion(version, data.get("r"))
    event = TaskEvent(
        task_id=UUID(data["t"]),
        owner=data["o"],
        sequence=int(data["s"]),
        kind=EventKind(data["k"]),
        status=TaskStatus(data["st"]),
        local=False,
        webhook_due=bool(data.get("w")),
    )
    progress = data.get("p")
    return event, data["r"], None if progress is None else from_wire(progress)


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

    def __init__(
        self,
        database_url: str,
        background: BackgroundTasks,
        *,
        presence_check_seconds: float = PRESENCE_CHECK_SECONDS,
    ) -> None:
        self._dsn = postgres_dsn(database_url)
        self._work = background.scope()
        self._local = InProcessBroker()
        self._sender = uuid.uuid4().hex
        self._publisher: asyncpg.Connection | None = None
        # Payloads waiting for their NOTIFY, sent in order by one task, all waiting ones per
        # round trip: the publisher never waits for the database.
        self._outgoing: list[str] = []
        self._notifying: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()
        self._held = HeldSnapshots()
        self._unreadable_senders: set[object] = set()  # replicas whose payloads were logged as such
        self._presence_check_seconds = presence_check_seconds
        self._others_listen = False
        self._greeted = 0  # greetings heard: a count taken before one arrived may be stale
        self._answers: asyncio.Queue[None] = asyncio.Queue()

    @property
    def others_listen(self) -> bool:
        """Whether another replica listens, so that what this one publishes is NOTIFYed."""
        return self._others_listen

    async def __aenter__(self) -> PostgresBroker:
        self._work.start(self._listen_forever(), "pg-broker-listen")
        await asyncio.wait_for(self._listening.wait(), timeout=15)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._notifying is not None:  # what was published is still said to the others
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    asyncio.shield(self._notifying), timeout=NOTIFY_DRAIN_SECONDS
                )
        await self._work.aclose()
        if self._publisher is not None:
            await self._publisher.close()

    @property
    def subscriber_count(self) -> int:
        return self._local.subscriber_count

    def subscribe(
        self, matches: EventFilter
    ) -> contextlib.AbstractAsyncContextManager[Subscription]:
        return self._local.subscribe(matches)

    def subscribe_to_task(
        self, task_id: UUID
    ) -> contextlib.AbstractAsyncContextManager[Subscription]:
        return self._local.subscribe_to_task(task_id)

    async def publish(self, event: TaskEvent) -> None:
        self._held.hold(event.task)
        self._local.deliver(event)
        if self._others_listen:
            self._say(encode(event, self._sender))

    def _say(self, payload: str) -> None:
        self._outgoing.append(payload)
        if self._notifying is None or self._notifying.done():
            self._notifying = self._work.start(self._notify_outgoing(), "pg-broker-notify")

    async def _notify_outgoing(self) -> None:
        """NOTIFY every waiting payload, in publishing order: those that arrived during one
        round trip go together in the next (one pipelined batch, one NOTIFY each)."""
        while self._outgoing:
            batch, self._outgoing = self._outgoing, []
            try:
                connection = await self._publishing_connection()
                if len(batch) == 1:  # the usual case; `executemany` costs ~20 µs more for one
                    await connection.execute(NOTIFY, CHANNEL, batch[0])
                else:
                    await connection.executemany(NOTIFY, [(CHANNEL, payload) for payload in batch])
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                logger.warning(
                    "could not relay %d task events to other replicas: %s", len(batch), exc
                )
                self._publisher = None

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
            relaying = self._work.scope()
            relaying.start(self._relay(queue), "pg-broker-relay")
            try:
                await self._greet_others(connection)
                self._listening.set()
                relaying.start(self._check_presence(connection), "pg-broker-presence")
                yield closed
            finally:
                await relaying.aclose()
        finally:
            await connection.close()

    async def _others_listening(self, connection: asyncpg.Connection) -> int:
        count = await connection.fetchval(
            OTHER_LISTENERS, LISTENER_NAME, connection.get_server_pid(), OLDER_LISTENER_QUERY
        )
        return int(count)

    async def _greet_others(self, connection: asyncpg.Connection) -> None:
        """Count the other replicas listening; when there are any, NOTIFY from now on, greet
        them and wait until each has answered (each then NOTIFYs what it publishes)."""
        while not self._answers.empty():
            self._answers.get_nowait()
        others = await self._others_listening(connection)
        if not others:
            return
        self._others_listen = True
        self._say(greeting(self._sender))
        try:
            async with asyncio.timeout(GREETING_SECONDS):
                for _ in range(others):
                    await self._answers.get()
        except TimeoutError:
            logger.warning("not every other replica answered within %.0f s", GREETING_SECONDS)

    async def _check_presence(self, connection: asyncpg.Connection) -> None:
        """Stop NOTIFYing once no other replica listens (a greeting heard meanwhile wins)."""
        while True:
            await asyncio.sleep(self._presence_check_seconds)
            greeted = self._greeted
            others = await self._others_listening(connection)
            if others:
                self._others_listen = True
            elif greeted == self._greeted:
                self._others_listen = False

    def _heard_presence(self, payload: str) -> bool:
        """A greeting (answered: from now on this replica NOTIFYs) or an answer to this one's;
        False for an event."""
        if not payload.startswith(('{"hello"', '{"here"')):
            return False
        said = json.loads(payload)
        if "hello" in said and said["hello"] != self._sender:
            self._greeted += 1
            self._others_listen = True
            self._say(answer(self._sender, to=said["hello"]))
        elif said.get("to") == self._sender:
            self._answers.put_nowait(None)
        return True

    async def _relay(self, queue: asyncio.Queue[str]) -> None:
        while True:
            payload = await queue.get()
            try:
                await self._relay_one(payload)
            except UnknownWireVersion as exc:
                if exc.sender not in self._unreadable_senders:
                    self._unreadable_senders.add(exc.sender)
                    logger.warning("%s", exc)
                self._held.clear()  # what is held may have missed that change
            except Exception:  # one payload (a replica of another version, a failed read) must
                # not end the relaying of every later one
                logger.exception("could not relay a task event from another replica")
                self._held.clear()  # what is held may have missed that change

    async def _relay_one(self, payload: str) -> None:
        if self._heard_presence(payload):
            return
        event, sender, progress = decode(payload)
        if sender == self._sender:
            return
        if not self._local.subscriber_count:
            self._held.clear()  # unheard changes would make what is held stale
            return
        snapshot = await self._held.relayed(event, progress)
        self._local.deliver(dataclasses.replace(event, task=snapshot))
