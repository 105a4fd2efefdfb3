"""Another replica learns progress from the NOTIFY payload, applied to the snapshot it holds,
and whether an ending enqueued a webhook delivery."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
import pytest

from tasks.background import BackgroundTasks
from tasks.events.pg_broker import (
    CHANNEL,
    WIRE_VERSION,
    HeldSnapshots,
    PostgresBroker,
    UnknownWireVersion,
    decode,
    encode,
)
from tasks.requests import WebhookEvent
from tasks.status import TaskStatus
from tasks.store.clock import utc_now
from tasks.store.database import Database, postgres_dsn
from tasks.store.models import Task
from tasks.store.snapshots import EventKind, TaskEvent
from tasks.store.transitions import TaskChanges
from tasks.store.webhook_models import TaskWebhook
from tasks.webhooks.sender import enqueued_a_delivery
from tests.tasks.test_transitions import PROMPT, Recorder, started


@dataclass
class Published:
    """A replica's changes and what it published."""

    recorder: Recorder
    changes: TaskChanges


@pytest.fixture
async def here(database: Database, background: BackgroundTasks) -> AsyncIterator[Published]:
    recorder = Recorder()
    changes = TaskChanges(recorder, background)
    yield Published(recorder, changes)
    await changes.close()


async def test_progress_travels_in_the_payload_and_moves_the_held_snapshot_on(
    here: Published,
) -> None:
    recorder, changes = here.recorder, here.changes
    task = await started(changes)
    finish = utc_now() + timedelta(seconds=42)
    await changes.progress(task.id, PROMPT, step=3, total_steps=20, progress=15.0,
                           estimated_finish_at=finish)  # fmt: skip
    await changes.progress(task.id, PROMPT, step=4, total_steps=20, progress=20.0)
    first_status, first_progress, second_progress = (
        decode(encode(event, "another replica")) for event in recorder.events
    )
    held = HeldSnapshots()
    # The transition is read from the row, where it was written before it was published.
    status_event, _, nothing = first_status
    relayed = await held.relayed(status_event, nothing)
    assert relayed is not None and (relayed.status, relayed.sequence) == (
        TaskStatus.PROCESSING,
        1,
    )
    # Progress is not in the row yet: it comes from the payload, onto the snapshot held.
    for (event, _, progress), step in ((first_progress, 3), (second_progress, 4)):
        assert event.kind is EventKind.PROGRESS and progress is not None
        relayed = await held.relayed(event, progress)
        assert relayed is not None and (relayed.step, relayed.sequence) == (step, event.sequence)
        assert relayed.estimated_finish_at == finish
    assert (await Task.get(id=task.id)).step == 0


async def test_a_replica_holding_nothing_applies_the_payload_to_a_snapshot_of_the_row(
    here: Published,
) -> None:
    recorder, changes = here.recorder, here.changes
    task = await started(changes)
    await changes.progress(task.id, PROMPT, step=2, total_steps=5, progress=40.0)
    event, _, progress = decode(encode(recorder.events[-1], "another replica"))
    held = HeldSnapshots()
    relayed = await held.relayed(event, progress)
    assert relayed is not None and (relayed.step, relayed.progress, relayed.sequence) == (
        2,
        40.0,
        2,
    )
    assert len(held) == 1
    # An ending forgets what was held.
    await changes.apply(task.id, EventKind.STATUS, status=TaskStatus.COMPLETED)
    ended, _, nothing = decode(encode(recorder.events[-1], "another replica"))
    relayed = await held.relayed(ended, nothing)
    assert relayed is not None and relayed.status is TaskStatus.COMPLETED and relayed.step == 2
    assert len(held) == 0


async def test_a_preview_travels_in_the_payload_with_the_progress_before_it(
    here: Published,
) -> None:
    recorder, changes = here.recorder, here.changes
    task = await started(changes)
    await changes.progress(task.id, PROMPT, step=2, total_steps=5, progress=40.0)
    await changes.preview(task.id, PROMPT, "previews/t/a.jpg")
    event, _, payload = decode(encode(recorder.events[-1], "another replica"))
    assert event.kind is EventKind.PREVIEW and payload is not None
    relayed = await HeldSnapshots().relayed(event, payload)
    assert relayed is not None and (relayed.preview_key, relayed.step) == ("previews/t/a.jpg", 2)


async def test_an_ending_says_when_it_enqueued_a_webhook_delivery(here: Published) -> None:
    """The webhook sender wakes for an ending that enqueued a delivery, here or elsewhere, not
    for every ending."""
    recorder, changes = here.recorder, here.changes
    quiet = await started(changes)
    await Task.filter(id=quiet.id).update(prompt_id="another prompt")
    announced = await started(changes)
    await TaskWebhook.create(task_id=announced.id, owner="o", url="https://hooks.example/x",
                             events=[WebhookEvent.COMPLETED.value])  # fmt: skip
    for task in (quiet, announced):
        await changes.apply(task.id, EventKind.STATUS, status=TaskStatus.COMPLETED)
    endings = [event for event in recorder.events if event.status is TaskStatus.COMPLETED]
    assert [(event.task_id, event.webhook_due) for event in endings] == [
        (quiet.id, False),
        (announced.id, True),
    ]
    relayed = [decode(encode(event, "another replica"))[0] for event in endings]
    assert [event.webhook_due for event in relayed] == [False, True]
    assert [enqueued_a_delivery(event) for event in relayed] == [False, True]


@pytest.mark.postgres_only
async def test_events_published_in_a_burst_reach_another_replica_all_and_in_order(
    database: Database, database_url: str, background: BackgroundTasks
) -> None:
    """Payloads waiting while a NOTIFY is under way go together in the next round trip; the
    other replica still hears every one, in publishing order."""
    published = [
        TaskEvent(
            task_id=uuid.uuid4(),
            owner="o",
            sequence=1,
            kind=EventKind.STATUS,
            status=TaskStatus.PROCESSING,
        )
        for _ in range(40)
    ]
    async with (
        PostgresBroker(database_url, background) as here,
        PostgresBroker(database_url, background) as there,
        there.subscribe(lambda event: True) as heard,
    ):
        for event in published:
            await here.publish(event)  # returns before its NOTIFY is sent
        async with asyncio.timeout(10):
            received = [await heard.next() for _ in published]
    assert [event.task_id for event in received] == [event.task_id for event in published]
    assert not any(event.local for event in received)


async def relayed_after_raw_payloads(
    database_url: str, background: BackgroundTasks, payloads: list[str], then: TaskEvent
) -> TaskEvent:
    """NOTIFY `payloads` as written (by a replica of another version, say), then publish `then`
    from one replica: what another replica relays next."""
    async with (
        PostgresBroker(database_url, background) as here,
        PostgresBroker(database_url, background) as there,
        there.subscribe(lambda event: True) as heard,
    ):
        sender = await asyncpg.connect(postgres_dsn(database_url))
        try:
            for payload in payloads:
                await sender.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)
        finally:
            await sender.close()
        await here.publish(then)
        async with asyncio.timeout(10):
            return await heard.next()


@pytest.mark.postgres_only
async def test_a_payload_that_cannot_be_relayed_does_not_stop_the_ones_after_it(
    database: Database, database_url: str, background: BackgroundTasks
) -> None:
    """A payload another replica cannot read (a replica of another version, say) is logged and
    skipped; relaying goes on with the next one."""
    later = status_event()
    unreadable = ["not JSON", '{"t": "not a uuid"}', '{"k": "NO SUCH KIND"}']
    received = await relayed_after_raw_payloads(database_url, background, unreadable, later)
    assert received.task_id == later.task_id and not received.local


def test_payloads_carry_their_version_and_a_newer_one_is_refused() -> None:
    event = TaskEvent(
        task_id=uuid.uuid4(), owner="o", sequence=3, kind=EventKind.STATUS,
        status=TaskStatus.PROCESSING,
    )  # fmt: skip
    written = json.loads(encode(event, "this replica"))
    assert written["v"] == WIRE_VERSION == 1
    del written["v"]  # as a replica before versions wrote it
    assert decode(json.dumps(written))[0] == event
    written["v"] = WIRE_VERSION + 1
    with pytest.raises(UnknownWireVersion, match="in version 2"):
        decode(json.dumps(written))


@pytest.mark.postgres_only
async def test_events_of_a_newer_version_are_skipped_with_one_warning(
    database: Database,
    database_url: str,
    background: BackgroundTasks,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A replica of a newer version (a rolling upgrade) is logged once by each replica that
    hears it, not for each event; relaying goes on with the events it can read."""
    readable = status_event()
    newer = json.loads(encode(status_event(), "a newer replica"))
    newer["v"] = WIRE_VERSION + 1
    payloads = [json.dumps(newer)] * 3
    received = await relayed_after_raw_payloads(database_url, background, payloads, readable)
    assert received.task_id == readable.task_id
    warnings = [r for r in caplog.records if "a newer replica" in r.getMessage()]
    # One from each listening replica (both heard the 3 payloads), not one per payload.
    assert [r.levelname for r in warnings] == ["WARNING", "WARNING"]


def status_event() -> TaskEvent:
    return TaskEvent(
        task_id=uuid.uuid4(),
        owner="o",
        sequence=1,
        kind=EventKind.STATUS,
        status=TaskStatus.PROCESSING,
    )


@pytest.mark.postgres_only
async def test_a_lone_replica_notifies_nothing_until_another_listens(
    database: Database, database_url: str, background: BackgroundTasks
) -> None:
    """Alone, a replica spends no NOTIFY; a replica that starts greets it, waits for its
    answer, and from then on hears every event it publishes."""
    unheard, later = status_event(), status_event()
    watcher = await asyncpg.connect(postgres_dsn(database_url))
    said: asyncio.Queue[str] = asyncio.Queue()
    await watcher.add_listener(CHANNEL, lambda *args: said.put_nowait(args[3]))
    await watcher.execute("SELECT 1")  # its last statement no longer LISTEN: not a replica
    try:
        async with PostgresBroker(database_url, background) as here:
            assert not here.others_listen
            await here.publish(unheard)
            async with (
                PostgresBroker(database_url, background) as there,
                there.subscribe(lambda event: True) as heard,
            ):
                assert here.others_listen and there.others_listen
                await here.publish(later)
                async with asyncio.timeout(10):
                    received = await heard.next()
                    payloads = [await said.get()]
                    while str(later.task_id) not in payloads[-1]:
                        payloads.append(await said.get())
    finally:
        await watcher.close()
    assert received.task_id == later.task_id and not received.local
    kinds = [next(iter(json.loads(payload))) for payload in payloads]
    assert kinds == ["hello", "here", "t"]  # the greeting, its answer, the later event only
    assert not any(str(unheard.task_id) in payload for payload in payloads)


@pytest.mark.postgres_only
async def test_a_replica_stops_notifying_once_no_other_listens(
    database: Database, database_url: str, background: BackgroundTasks
) -> None:
    async with PostgresBroker(database_url, background, presence_check_seconds=0.05) as here:
        async with PostgresBroker(database_url, background) as there:
            assert here.others_listen and there.others_listen
        async with asyncio.timeout(10):
            while here.others_listen:
                await asyncio.sleep(0.05)


@pytest.mark.postgres_only
async def test_a_replica_of_an_earlier_version_listening_is_notified(
    database: Database, database_url: str, background: BackgroundTasks
) -> None:
    """An earlier version's listening session names nothing and runs nothing after LISTEN; it
    does not answer a greeting, but it is counted, and every event reaches it."""
    event = status_event()
    older = await asyncpg.connect(postgres_dsn(database_url))
    said: asyncio.Queue[str] = asyncio.Queue()
    await older.add_listener(CHANNEL, lambda *args: said.put_nowait(args[3]))
    try:
        async with PostgresBroker(database_url, background) as here:
            assert here.others_listen
            await here.publish(event)
            async with asyncio.timeout(10):
                payloads = [await said.get()]
                while str(event.task_id) not in payloads[-1]:
                    payloads.append(await said.get())
    finally:
        await older.close()
    assert [next(iter(json.loads(payload))) for payload in payloads] == ["hello", "t"]
