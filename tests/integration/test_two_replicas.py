from __future__ import annotations

import asyncio
import dataclasses

import httpx
import pytest

from comfy.emulator.server import RunningEmulator
from graphql_api.app import create_app
from graphql_api.settings import Settings
from tests.integration.test_runs_on_comfyui import submit
from tests.integration.test_subscriptions import collect, updates
from tests.support.graphql import GraphQLClient
from tests.support.server import serve_asgi

pytestmark = pytest.mark.postgres_only


async def test_subscriber_on_one_replica_sees_every_step_dispatched_by_another(
    settings: Settings, emulator: RunningEmulator
) -> None:
    assert settings.database_url.startswith("postgres")
    worker = dataclasses.replace(settings, dispatch=True, comfyui_urls=(emulator.url,))
    api_only = dataclasses.replace(settings, dispatch=False)
    async with (
        serve_asgi(create_app(worker)) as worker_url,
        serve_asgi(create_app(api_only)) as api_url,
        httpx.AsyncClient(base_url=worker_url) as http,
    ):
        watcher = asyncio.create_task(collect(api_url, await submit(GraphQLClient(http), steps=10)))
        events = updates(await asyncio.wait_for(watcher, 30))
    steps = [e["step"] for e in events if e["kind"] == "PROGRESS" and e["currentNode"] == "31"]
    assert sorted(set(steps) - {0}) == list(range(1, 11))
    assert [e["status"] for e in events if e["kind"] == "STATUS"][-1] == "COMPLETED"
    assert events[-1]["result"]["imageUrl"].startswith(api_url)
