"""One emulated ComfyUI server: its folders, node catalogue, sockets, faults and session."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from comfy.emulator.config import EmulatorConfig
from comfy.emulator.environment import Environment
from comfy.emulator.faults import Faults
from comfy.emulator.files import FileStore
from comfy.emulator.hub import Hub
from comfy.emulator.messenger import Messenger
from comfy.emulator.node_types import standard_catalogue
from comfy.emulator.session import Session
from comfy.emulator.validation import PromptValidator

logger = logging.getLogger(__name__)

Outage = Callable[[float], None]
"""Asks the server hosting the emulator to stop listening for the given seconds (connections
are refused meanwhile) and then listen again; the host owns that work."""


class Emulator:
    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self._owns_root = config.root_dir is None
        root = config.root_dir or Path(tempfile.mkdtemp(prefix="comfyui-emulator-"))
        overrides = {"input": config.input_dir, "output": config.output_dir}
        self.files = FileStore(root, {k: v for k, v in overrides.items() if v is not None})
        self.environment = Environment(config, self.files)
        self.catalogue = standard_catalogue()
        self.hub = Hub()
        self.messenger = Messenger(self.hub, config.max_upload_size)
        self.faults = Faults()
        self.memory_frees: list[dict[str, bool]] = []
        """Every POST /free received, as its flags (unload_models, free_memory)."""
        self.validator = PromptValidator(self.catalogue, self.environment)
        self.session = self._new_session()
        self.outage: Outage | None = None
        self._started = False

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Emulator]:
        await asyncio.to_thread(self.files.prepare)
        self.session.start()
        self._started = True
        try:
            yield self
        finally:
            self._started = False
            await self.session.aclose()
            self.hub.drop()
            if self._owns_root:
                await asyncio.to_thread(shutil.rmtree, self.files.root, True)

    async def crash(self, downtime_seconds: float = 0.0) -> None:
        """Like a killed process: sockets cut (1006), queue, history, cache and counter gone."""
        logger.warning("emulated crash: forgetting queue, history and cache")
        await self.session.aclose()
        self.hub.drop()
        self.session = self._new_session()
        if self._started:
            self.session.start()
        if downtime_seconds > 0 and self.outage is not None:
            self.outage(downtime_seconds)

    def _new_session(self) -> Session:
        return Session(self.catalogue, self.environment, self.hub, self.messenger, self.faults)
