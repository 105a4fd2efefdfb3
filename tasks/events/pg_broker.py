"""Fan-out across replicas with PostgreSQL LISTEN/NOTIFY.

Payloads stay small (task id, owner, sequence, kind, status, sender); a replica that hears a
change made elsewhere reads the row once and hands it to all its local subscribers.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from uuid import UUID

import asyncpg
from tortoise import fields

from tasks.events.broker import EventFilter, InProcessBroker, Subscription
from tasks.events.kinds import EventKind, TaskEvent
from tasks.events.progress_writes import PROGRESS_FIELDS
from tasks.status import TaskStatus
from tasks.store.database import postgres_dsn
from tasks.store.models import Task

logger = logging.getLogger(__name__)

CHANNEL = "kontext_task_events"
RECONNECT_DELAY = 1.0


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
        # Progress is written behind: the row other replicas read may not have it yet.
        data["p"] = {name: to_wire(getattr(event.task, name)) for name in PROGRESS_FIELDS}
    return json.dumps(data, separators=(",", ":"))


def to_wire(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


def from_wire(name: str, value: object) -> object:
    """A progress field as the model has it (times travel as ISO 8601 text)."""
    if isinstance(value, str) and isinstance(Task._meta.fields_map[name], fields.DatetimeField):
        return datetime.fromisoformat(value)
    return value


def decode(payload: str) -> tuple[TaskEvent, str, dict[str, object] | None]:
    data = json.loads(payload)
    event = TaskEvent(
        task_id=UUID(data["t"]),
        owner=data["o"],
        sequence=int(data["s"]),
        kind=EventKind(data["k"]),
        status=TaskStatus(data["st"]),
    )
    return event, data["r"], data.get("p")


def with_progress(row: Task, event: TaskEvent, progress: dict[str, object] | None) -> Task:
    """The row as the event describes it, when the event is newer than what was read."""
    if progress is None or row.sequence >= event.sequence:
        return row
    for name, value in progress.items():
        if name in PROGRESS_FIELDS:
            setattr(row, name, from_wire(name, value))
    row.sequence = event.sequence
    return row


class PostgresBroker:
    """Delivers local events at once and relays them to, and from, the other replicas."""

    def __init__(self, database_url: str) -> None:
        self._dsn = postgres_dsn(database_url)
        self._local = InProcessBroker()
        self._sender = uuid.uuid4().hex
        self._publisher: asyncpg.Connection | None = None
        self._listener: asyncio.Task[None] | None = None
        self._publish_lock = asyncio.Lock()
        self._listening = asyncio.Event()

    async def __aenter__(self) -> PostgresBroker:
        self._listener = asyncio.create_task(self._listen_forever(), name="pg-broker-listen")
        await asyncio.wait_for(self._listening.wait(), timeout=15)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
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
        self._local.deliver(event)
        payload = encode(event, self._sender)
        async with self._publish_lock:
            try:
                connection = await self._publishing_connection()
                await connection.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                logger.warning("could not relay task event to other replicas: %s", exc)
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
        connection = await asyncpg.connect(self._dsn, timeout=10)
        queue: asyncio.Queue[str] = asyncio.Queue()
        closed = asyncio.Event()
        try:
            connection.add_termination_listener(lambda _connection: closed.set())
            await connection.add_listener(CHANNEL, lambda *args: queue.put_nowait(args[3]))
            self._listening.set()
            relay = asyncio.create_task(self._relay(queue))
            try:
                yield closed
            finally:
                relay.cancel()
                await asyncio.gather(relay, return_exceptions=True)
        finally:
            await connection.close()

    async def _relay(self, queue: asyncio.Queue[str]) -> None:
        while True:
            event, sender, progress = decode(await queue.get())
            if sender == self._sender or not self._local.subscriber_count:
                continue
            row = await Task.get_or_none(id=event.task_id)
            if row is not None:
                row = with_progress(row, event, progress)
            self._local.deliver(dataclasses.replace(event, task=row, local=False))
