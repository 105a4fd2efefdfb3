"""Client ids on ComfyUI: unique per process, and a socket ComfyUI stops routing to is noticed
(ComfyUI keeps one socket per client id and forgets the id when any socket with it closes)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import Any

import httpx
from websockets.asyncio.client import connect

from comfy.emulator.server import RunningEmulator
from graphql_api.app import create_app
from graphql_api.settings import Settings
from tasks.store.database import Database
from tasks.store.models import Task
from tests.integration.test_comfyui_outcomes import wait_status
from tests.integration.test_runs_on_comfyui import submit, wait_terminal
from tests.support.graphql import GraphQLClient
from tests.support.server import serve_asgi

BACKENDS = (
    "{ backends { url connected ready notReadyReason reconnects clientId stalledSince stalls } }"
)


async def connected_backend(api: GraphQLClient) -> dict[str, Any]:
    async with asyncio.timeout(10):
        while True:
            backend: dict[str, Any] = (await api.execute(BACKENDS)).ok()["backends"][0]
            if backend["connected"]:
                return backend
            await asyncio.sleep(0.05)


async def visit_with(emulator: RunningEmulator, client_id: str) -> None:
    """Open a socket with this client id, take its greeting, and close it again."""
    async with connect(f"{emulator.ws_url}?clientId={client_id}") as socket:
        greeting = json.loads(await socket.recv())
        assert greeting["data"]["sid"] == client_id


async def test_a_task_completes_after_a_second_socket_with_our_client_id_came_and_went(
    live: GraphQLClient, emulator: RunningEmulator
) -> None:
    backend = await connected_backend(live)
    assert backend["clientId"].startswith("kontext-graphql-")
    assert (backend["stalls"], backend["stalledSince"]) == (0, None)
    await visit_with(emulator, backend["clientId"])
    # The emulator, like ComfyUI, has forgotten our socket: nothing would ever reach it.
    async with asyncio.timeout(5):
        while backend["clientId"] in emulator.state.hub.sids():
            await asyncio.sleep(0.01)

    task = await wait_terminal(live, await submit(live, steps=4), timeout=20)

    assert task["status"] == "COMPLETED", task
    after = await connected_backend(live)
    assert after["stalls"] == 1 and after["stalledSince"] is None and after["ready"], after
    assert after["clientId"] == backend["clientId"]
    assert after["clientId"] in emulator.state.hub.sids()


async def test_a_restarted_service_settles_the_prompt_its_previous_process_sent(
    settings: Settings, emulator: RunningEmulator, database: Database
) -> None:
    """The new process has a client id of its own, so the running prompt's events go to the old
    one's (closed) socket: the new one learns from the queue that the prompt left, and settles it."""
    live = dataclasses.replace(settings, dispatch=True, comfyui_urls=(emulator.url,))
    async with serve_asgi(create_app(live)) as url, httpx.AsyncClient(base_url=url) as http:
        before = GraphQLClient(http)
        old_id = (await connected_backend(before))["clientId"]
        task_id = await submit(before, steps=100)
        await wait_status(task_id, "PROCESSING")
    async with serve_asgi(create_app(live)) as url, httpx.AsyncClient(base_url=url) as http:
        after = GraphQLClient(http)
        assert (await connected_backend(after))["clientId"] != old_id
        prompt_id = (await Task.get(id=task_id)).prompt_id
        assert prompt_id is not None and emulator.state.session.queue.is_running(prompt_id)
        task = await wait_terminal(after, task_id, timeout=20)
    assert task["status"] == "COMPLETED", task
    assert (await Task.get(id=task_id)).attempts == 1
