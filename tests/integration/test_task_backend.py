from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest

from comfy.emulator.server import RunningEmulator
from graphql_api.app import create_app
from graphql_api.settings import Settings
from tasks.store.database import Database
from tests.integration.test_runs_on_comfyui import submit, wait_terminal
from tests.support.graphql import GraphQLClient
from tests.support.server import serve_asgi

BACKEND = "query($id: ID!) { task(id: $id) { status backend } }"
BACKENDS = "{ backends { url } }"


@pytest.fixture
async def with_credentials(
    settings: Settings, emulator: RunningEmulator, database: Database
) -> AsyncIterator[tuple[GraphQLClient, str]]:
    """The service configured with the emulator's address carrying a user name and password."""
    plain = emulator.url
    secret = plain.replace("://", "://kontext:s3cret@", 1)
    live = dataclasses.replace(settings, dispatch=True, comfyui_urls=(secret,))
    async with serve_asgi(create_app(live)) as url, httpx.AsyncClient(base_url=url) as http:
        yield GraphQLClient(http), plain


async def test_a_sent_task_names_its_backend_as_the_backends_query_does(
    live: GraphQLClient,
) -> None:
    task_id = await submit(live, steps=2)
    assert (await wait_terminal(live, task_id))["status"] == "COMPLETED"
    backend = (await live.execute(BACKEND, id=task_id)).ok()["task"]["backend"]
    assert backend == (await live.execute(BACKENDS)).ok()["backends"][0]["url"]


async def test_credentials_in_a_backend_address_are_never_shown(
    with_credentials: tuple[GraphQLClient, str],
) -> None:
    api, plain = with_credentials
    task_id = await submit(api, steps=2)
    assert (await wait_terminal(api, task_id))["status"] == "COMPLETED"
    assert (await api.execute(BACKEND, id=task_id)).ok()["task"]["backend"] == plain.rstrip("/")
    assert (await api.execute(BACKENDS)).ok()["backends"] == [{"url": plain.rstrip("/")}]
