"""A backend is ready only when it has the configured model files; a refused prompt that names
one node says which."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import httpx

from comfy.emulator.config import ModelFiles
from comfy.emulator.server import RunningEmulator
from graphql_api.app import create_app
from graphql_api.settings import Settings
from tasks.store.database import Database
from tasks.store.models import Task
from tests.integration.test_client_ids import connected_backend
from tests.integration.test_comfyui_outcomes import fault
from tests.integration.test_runs_on_comfyui import GENERATE, edit_request, submit, wait_terminal
from tests.support.graphql import GraphQLClient
from tests.support.server import serve_asgi


async def test_a_backend_without_the_configured_vae_is_not_ready_and_says_which_file(
    settings: Settings, emulator: RunningEmulator, database: Database
) -> None:
    live = dataclasses.replace(
        settings, dispatch=True, comfyui_urls=(emulator.url,), model_vae="ae_fp16.safetensors"
    )
    async with serve_asgi(create_app(live)) as url, httpx.AsyncClient(base_url=url) as http:
        api = GraphQLClient(http)
        backend = await connected_backend(api)
        refused = await api.execute(GENERATE, input=edit_request())
    assert backend["ready"] is False
    reason = backend["notReadyReason"]
    assert "'ae_fp16.safetensors'" in reason and "VAELoader.vae_name" in reason, reason
    assert "ae.safetensors" in reason.split("offers:")[1], reason
    # No configured backend can run the workflow: refused at once rather than left waiting.
    assert refused.codes == ["NO_BACKEND"], refused.body
    assert "'ae_fp16.safetensors'" in refused.errors[0]["extensions"]["reason"]
    assert await Task.all().count() == 0


async def test_the_models_are_checked_again_when_the_socket_reconnects(
    live: GraphQLClient, emulator: RunningEmulator
) -> None:
    assert (await connected_backend(live))["ready"]
    # The server restarts without the VAE file (the emulator reads its config on each request).
    environment: Any = emulator.state.environment
    without_vae = dataclasses.replace(environment.config, models=ModelFiles(vae=()))
    object.__setattr__(environment, "config", without_vae)
    reconnects = (await connected_backend(live))["reconnects"]
    assert emulator.drop_websockets() == 1
    async with asyncio.timeout(10):
        while True:
            backend = await connected_backend(live)
            if backend["reconnects"] > reconnects and not backend["ready"]:
                break
            await asyncio.sleep(0.05)
    assert "missing model file 'ae.safetensors'" in backend["notReadyReason"]
    assert "offers: pixel_space" in backend["notReadyReason"]


async def test_a_refusal_naming_one_node_carries_its_id_and_type(
    live: GraphQLClient, emulator: RunningEmulator
) -> None:
    await fault(emulator, reject_prompts=1)
    task = await wait_terminal(live, await submit(live, steps=3))
    assert task["error"]["code"] == "WORKFLOW_INVALID"
    assert (task["error"]["nodeId"], task["error"]["nodeType"]) == ("136", "SaveImage")
