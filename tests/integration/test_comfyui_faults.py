from __future__ import annotations

import asyncio
import dataclasses
import socket
import uuid
from collections import Counter
from datetime import timedelta

import httpx

from comfy.emulator.config import EmulatorConfig
from comfy.emulator.server import RunningEmulator, running_emulator
from graphql_api.app import create_app
from graphql_api.settings import Settings
from tasks.runtime.reconciler import IN_FLIGHT_GRACE
from tasks.store.clock import utc_now
from tasks.store.database import Database
from tasks.store.models import Task
from tests.integration.test_comfyui_outcomes import wait_status
from tests.integration.test_runs_on_comfyui import submit, wait_terminal
from tests.support.graphql import GraphQLClient
from tests.support.server import serve_asgi


async def test_task_completes_although_the_websocket_dropped_mid_run(
    live: GraphQLClient, emulator: RunningEmulator
) -> None:
    task_id = await submit(live, steps=60)
    await wait_status(task_id, "PROCESSING")
    await asyncio.sleep(0.3)
    assert emulator.drop_websockets() == 1
    task = await wait_terminal(live, task_id)
    assert task["status"] == "COMPLETED"
    assert task["result"]["imageUrl"]


async def test_task_is_requeued_and_completed_after_the_backend_crashed(
    live: GraphQLClient, emulator: RunningEmulator
) -> None:
    task_id = await submit(live, steps=60)
    first = await wait_status(task_id, "PROCESSING")
    await asyncio.sleep(0.2)
    await emulator.crash()
    task = await wait_terminal(live, task_id)
    assert task["status"] == "COMPLETED"
    row = await Task.get(id=task_id)
    assert row.attempts == 2
    assert row.prompt_id != first.prompt_id
    assert row.seed == first.seed


async def test_two_backends_share_twenty_tasks(settings: Settings, database: Database) -> None:
    config = EmulatorConfig(step_seconds=0.01)
    async with running_emulator(config) as one, running_emulator(config) as two:
        both = dataclasses.replace(settings, dispatch=True, comfyui_urls=(one.url, two.url))
        async with serve_asgi(create_app(both)) as url, httpx.AsyncClient(base_url=url) as http:
            api = GraphQLClient(http)
            ids = [await submit(api, steps=5, seed=str(n)) for n in range(20)]
            tasks = [await wait_terminal(api, task_id, timeout=60) for task_id in ids]
    assert {t["status"] for t in tasks} == {"COMPLETED"}
    per_backend = Counter(t.backend for t in await Task.filter(id__in=ids))
    assert set(per_backend) == {one.url, two.url}
    assert min(per_backend.values()) >= 5


async def test_a_task_lost_more_often_than_allowed_fails_as_lost(
    settings: Settings, database: Database, emulator: RunningEmulator
) -> None:
    once = dataclasses.replace(
        settings, dispatch=True, comfyui_urls=(emulator.url,), max_attempts=1
    )
    async with serve_asgi(create_app(once)) as url, httpx.AsyncClient(base_url=url) as http:
        api = GraphQLClient(http)
        task_id = await submit(api, steps=60)
        await wait_status(task_id, "PROCESSING")
        await emulator.crash()
        task = await wait_terminal(api, task_id)
    assert task["status"] == "FAILED"
    assert task["error"]["code"] == "LOST"


async def test_an_unreachable_backend_is_not_ready_and_gets_no_work(
    settings: Settings, database: Database, emulator: RunningEmulator
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    both = dataclasses.replace(settings, dispatch=True, comfyui_urls=(dead, emulator.url))
    async with serve_asgi(create_app(both)) as url, httpx.AsyncClient(base_url=url) as http:
        api = GraphQLClient(http)
        tasks = [
            await wait_terminal(api, await submit(api, steps=2, seed=str(n))) for n in range(3)
        ]
        backends = (await api.execute("{ backends { url ready notReadyReason } }")).ok()["backends"]
    assert {t["status"] for t in tasks} == {"COMPLETED"}
    down = next(b for b in backends if b["url"] == dead)
    assert down["ready"] is False
    assert down["notReadyReason"]
    assert {t.backend for t in await Task.all()} == {emulator.url}


async def test_a_task_claimed_but_never_sent_is_checked_by_the_watchdog_and_runs(
    settings: Settings, api: GraphQLClient, emulator: RunningEmulator
) -> None:
    """The API died between claiming a task and POST /prompt: the restarted service's first
    reconciliation still gives the claim its in-flight grace, the watchdog then requeues it."""
    task_id = await submit(api, steps=3)  # `api` does not dispatch
    claimed_at = utc_now() - IN_FLIGHT_GRACE + timedelta(seconds=3)
    await Task.filter(id=task_id).update(
        prompt_id=str(uuid.uuid4()), backend=emulator.url, attempts=1, dispatched_at=claimed_at
    )
    live = dataclasses.replace(settings, dispatch=True, comfyui_urls=(emulator.url,))
    async with serve_asgi(create_app(live)) as url, httpx.AsyncClient(base_url=url) as http:
        task = await wait_terminal(GraphQLClient(http), task_id, timeout=30)
    assert task["status"] == "COMPLETED"
    assert (await Task.get(id=task_id)).attempts == 2
