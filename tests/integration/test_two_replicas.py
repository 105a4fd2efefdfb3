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
