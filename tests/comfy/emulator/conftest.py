from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from comfy.emulator import EmulatorConfig, RunningEmulator, running_emulator
from tests.comfy.emulator.wsclient import Recorder

FAST = EmulatorConfig(step_seconds=0.01)

StartEmulator = Callable[..., contextlib.AbstractAsyncContextManager[RunningEmulator]]


@pytest.fixture
def start_emulator(tmp_path: Any) -> StartEmulator:
    """Starts an emulator with FAST settings overridden by keyword arguments."""

    @contextlib.asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[RunningEmulator]:
        settings = {"step_seconds": 0.01, "root_dir": tmp_path / "comfyui", **overrides}
        async with running_emulator(EmulatorConfig(**settings)) as emulator:
            yield emulator

    return start


@pytest.fixture
async def emulator(start_emulator: StartEmulator) -> AsyncIterator[RunningEmulator]:
    async with start_emulator() as running:
        yield running


@pytest.fixture
async def http(emulator: RunningEmulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=emulator.url, timeout=10) as client:
        yield client


@pytest.fixture
def client_id() -> str:
    return str(uuid.uuid4())


@pytest.fixture
async def socket(emulator: RunningEmulator, client_id: str) -> AsyncIterator[Recorder]:
    async with Recorder(emulator.ws_url, client_id) as recorder:
        yield recorder
