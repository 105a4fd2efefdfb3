"""A replica sends NOTIFY only while another replica listens, and one that starts listening is
known to every other replica before it serves anyone."""

from __future__ import annotations

import asyncio

import pytest

from tasks.background import BackgroundTasks
from tasks.events.pg_broker import PostgresBroker
from tasks.store.database import Database
from tasks.store.transitions import TaskChanges
from tests.tasks.test_transitions import Recorder, started

pytestmark = pytest.mark.postgres_only


async def test_events_are_relayed_only_while_another_replica_listens(database: Database) -> None:
    background = BackgroundTasks()
    recorder = Recorder()
    task = await started(TaskChanges(recorder, background))
    event = recorder.events[-1]
    async with PostgresBroker(database.url, background) as first:
        assert first._peers.none_listen  # alone: nothing to relay
        async with PostgresBroker(database.url, background) as second:
            # The second entered only once the first answered, so the first relays to it now.
            assert not first._peers.none_listen and not second._peers.none_listen
            async with second.subscribe(lambda heard: heard.task_id == task.id) as watching:
                await first.publish(event)
                relayed = await watching.next()
            assert (relayed.task_id, relayed.sequence, relayed.local) == (
                task.id,
                event.sequence,
                False,
            )
        async with asyncio.timeout(30):  # until the first hears the second's goodbye
            while not first._peers.none_listen:
                await asyncio.sleep(0.01)
        async with first.subscribe(lambda heard: True) as own:
            await first.publish(event)  # delivered here all the same, with no NOTIFY
            assert (await own.next()).sequence == event.sequence
    await background.aclose()
