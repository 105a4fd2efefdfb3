from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest

from comfy.emulator.config import EmulatorConfig
from comfy.emulator.server import RunningEmulator, running_emulator
from graphql_api.app import create_app
from graphql_api.settings import Settings
from tasks.store.database import Database
from tests.support.graphql import GraphQLClient
from tests.support.server import serve_asgi


@pytest.fixture
async def emulator() -> AsyncIterator[RunningEmulator]:
    async with running_emulator(EmulatorConfig(step_seconds=0.02)) as running:
        yield running


@pytest.fixture
async def live_url(settings: Settings, emulator: RunningEmulator) -> AsyncIterator[str]:
    live = dataclasses.replace(settings, dispatch=True, comfyui_urls=(emulator.url,))
    async with serve_asgi(create_app(live)) as url:
        yield url


@pytest.fixture
async def live(live_url: str, database: Database) -> AsyncIterator[GraphQLClient]:
    async with httpx.AsyncClient(base_url=live_url, timeout=30) as http:
        yield GraphQLClient(http)
