from __future__ import annotations

import asyncio
import contextlib
import dataclasses

import httpx
import pytest

from comfy.emulator.config import EmulatorConfig
from comfy.emulator.server import RunningEmulator, running_emulator
from graphql_api.app import create_app
from graphql_api.settings import Settings
from tasks.status import TaskStatus
from tasks.store.database import Database
from tasks.store.models import Task
from tests.integration.test_client_ids import connected_backend
from tests.integration.test_runs_on_comfyui import submit, wait_terminal
from tests.integration.test_subscriptions import collect, updates
from tests.support.graphql import GraphQLClient
from tests.support.server import serve_asgi

pytestmark = pytest.mark.postgres_only


async def test_subscriber_on_one_replica_sees_every_step_dispatched_by_another(
    settings: Settings,
) -> None:
    assert settings.database_url.startswith("postgres")
    # Steps at a GPU-like pace: a subscriber keeping up sees each one (a lagging one would get
    # merged progress events, by design).
    async with running_emulator(EmulatorConfig(step_seconds=0.2)) as emulator:
        await watch_through_another_replica(settings, emulator)


async def watch_through_another_replica(settings: Settings, emulator: RunningEmulator) -> None:
    worker = dataclasses.replace(settings, dispatch=True, comfyui_urls=(emulator.url,))
    api_only = dataclasses.replace(settings, dispatch=False)
    async with (
        serve_asgi(create_app(worker)) as worker_url,
        serve_asgi(create_app(api_only)) as api_url,
        httpx.AsyncClient(base_url=worker_url) as http,
    ):
        watcher = asyncio.create_task(collect(api_url, await submit(GraphQLClient(http), steps=10)))
        events = updates(await asyncio.wait_for(watcher, 30))
    # A step's event may carry the next node already (progress events merge when a reader lags),
    # but every step number reaches the subscriber.
    assert set(range(1, 11)) <= {e["step"] for e in events}
    assert [e["status"] for e in events if e["kind"] == "STATUS"][-1] == "COMPLETED"
    assert events[-1]["result"]["imageUrl"].startswith(api_url)


async def test_one_replica_tracks_a_backend_and_another_takes_over_when_it_stops(
    settings: Settings, emulator: RunningEmulator
) -> None:
    dispatching = dataclasses.replace(settings, dispatch=True, comfyui_urls=(emulator.url,))
    backends = "{ backends { connected } }"

    async def connected(client: GraphQLClient) -> bool:
        return bool((await client.execute(backends)).ok()["backends"][0]["connected"])

    async with contextlib.AsyncExitStack() as second_stack:
        first_stack = contextlib.AsyncExitStack()
        first_url = await first_stack.enter_async_context(serve_asgi(create_app(dispatching)))
        first = GraphQLClient(
            await first_stack.enter_async_context(httpx.AsyncClient(base_url=first_url))
        )
        async with asyncio.timeout(10):
            while not await connected(first):
                await asyncio.sleep(0.1)
        second_url = await second_stack.enter_async_context(serve_asgi(create_app(dispatching)))
        second = GraphQLClient(
            await second_stack.enter_async_context(httpx.AsyncClient(base_url=second_url))
        )
        await asyncio.sleep(0.5)
        assert not await connected(second), "exactly one replica holds the backend"
        task_id = await submit(first, steps=40)
        await first_stack.aclose()  # the replica holding the lease goes away mid-run
        task = await wait_terminal(second, task_id, timeout=30)
        assert task["status"] == "COMPLETED"
        assert await connected(second)


async def test_two_dispatching_replicas_with_their_own_client_ids_finish_fifty_tasks(
    settings: Settings, database: Database
) -> None:
    """The compose shape: two dispatching replicas on one database and one ComfyUI. The one
    tracking the backend stops mid-run; the other takes over, hears nothing of the prompts the
    first one sent (their events go to the first one's client id), and still settles them."""
    async with running_emulator(EmulatorConfig(step_seconds=0.01)) as emulator:
        dispatching = dataclasses.replace(settings, dispatch=True, comfyui_urls=(emulator.url,))
        async with contextlib.AsyncExitStack() as second_stack:
            first_stack = contextlib.AsyncExitStack()
            first_url = await first_stack.enter_async_context(serve_asgi(create_app(dispatching)))
            first = GraphQLClient(
                await first_stack.enter_async_context(httpx.AsyncClient(base_url=first_url))
            )
            first_backend = await connected_backend(first)
            second_url = await second_stack.enter_async_context(serve_asgi(create_app(dispatching)))
            second = GraphQLClient(
                await second_stack.enter_async_context(
                    httpx.AsyncClient(base_url=second_url, timeout=30)
                )
            )
            ids = [await submit(second, steps=3, seed=str(n)) for n in range(50)]
            async with asyncio.timeout(30):
                while await finished(ids) < 10:
                    await asyncio.sleep(0.05)
            await first_stack.aclose()  # a rolling restart: the tracking replica goes away
            tasks = [await wait_terminal(second, task_id, timeout=60) for task_id in ids]
            assert [task["status"] for task in tasks] == ["COMPLETED"] * 50
            second_backend = await connected_backend(second)
    assert second_backend["clientId"] != first_backend["clientId"]
    assert (first_backend["stalls"], second_backend["stalls"]) == (0, 0)


async def finished(ids: list[str]) -> int:
    return await Task.filter(id__in=ids, status=TaskStatus.COMPLETED).count()
