"""The `backends` query tells ComfyUI from an emulator (bundled, or started by hand and saying
so in /system_stats); with no backend ready, generateImage still queues the task and says why
it waits."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import logging
import socket

import httpx
import pytest

from comfy.client import ComfyClient
from comfy.emulator.server import RunningEmulator
from graphql_api.app import create_app
from graphql_api.settings import Settings
from tasks.store.database import Database
from tests.support.graphql import GraphQLClient
from tests.support.images import encoded
from tests.support.server import serve_asgi

BACKENDS = "{ backends { url emulated kind ready notReadyReason } }"
GENERATE = (
    "mutation($input: GenerateImageInput!) { generateImage(input: $input) "
    "{ message task { id status } } }"
)


async def test_the_emulator_says_so_in_system_stats(emulator: RunningEmulator) -> None:
    async with ComfyClient(emulator.url, client_id="probe") as client:
        stats = await client.system_stats()
    assert stats.emulator is True
    assert stats.comfyui_version == "0.8.0"


async def test_an_emulator_started_by_hand_is_an_external_emulator(live: GraphQLClient) -> None:
    backends = (await live.execute(BACKENDS)).ok()["backends"]
    assert [(b["emulated"], b["kind"]) for b in backends] == [(True, "EXTERNAL_EMULATOR")]


async def test_the_bundled_emulator_is_a_bundled_emulator(
    settings: Settings, database: Database
) -> None:
    bundled = dataclasses.replace(settings, dispatch=True, comfyui_urls=())
    async with serve_asgi(create_app(bundled)) as url, httpx.AsyncClient(base_url=url) as http:
        backends = (await GraphQLClient(http).execute(BACKENDS)).ok()["backends"]
    assert [(b["emulated"], b["kind"]) for b in backends] == [(True, "BUNDLED_EMULATOR")]


async def test_with_no_backend_ready_the_task_is_queued_and_the_message_says_why(
    settings: Settings, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    unreachable = dataclasses.replace(settings, dispatch=True, comfyui_urls=(dead,))
    edit = {
        "referenceImage": {"base64": base64.b64encode(encoded(8, 8)).decode()},
        "description": "make it red",
    }
    async with serve_asgi(create_app(unreachable)) as url, httpx.AsyncClient(base_url=url) as http:
        api = GraphQLClient(http)
        payload = (await api.execute(GENERATE, input=edit)).ok()["generateImage"]
        backends = (await api.execute(BACKENDS)).ok()["backends"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert f"ComfyUI backend {dead} cannot take tasks: unreachable" in "\n".join(warnings)
    assert payload["task"]["status"] == "PENDING"
    assert payload["message"].startswith("task queued; no ComfyUI backend is ready")
    assert dead in payload["message"] and "unreachable" in payload["message"]
    assert backends[0]["ready"] is False
    assert "unreachable" in backends[0]["notReadyReason"]
    assert backends[0]["kind"] == "COMFYUI" and backends[0]["emulated"] is False


async def test_with_a_ready_backend_the_message_is_plain(live: GraphQLClient) -> None:
    edit = {
        "referenceImage": {"base64": base64.b64encode(encoded(8, 8)).decode()},
        "description": "make it red",
    }
    for _ in range(200):
        if (await live.execute(BACKENDS)).ok()["backends"][0]["ready"]:
            break
        await asyncio.sleep(0.05)
    payload = (await live.execute(GENERATE, input=edit)).ok()["generateImage"]
    assert payload["message"] == "task queued"
