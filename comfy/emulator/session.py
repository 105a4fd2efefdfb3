"""Everything a ComfyUI process keeps in memory: queue, history, cache, counter and its worker.

A crash throws the session away and starts a fresh one.
"""

from __future__ import annotations

import asyncio
import logging

from comfy.emulator.cache import OutputCache
from comfy.emulator.catalogue import NodeCatalogue
from comfy.emulator.engine import EngineParts, PromptRun, RunOutcome, RunPointer
from comfy.emulator.environment import Environment
from comfy.emulator.faults import Faults
from comfy.emulator.hub import Hub
from comfy.emulator.messenger import Messenger
from comfy.emulator.prompt_queue import PromptQueue, QueueItem

logger = logging.getLogger(__name__)


class Session:
    def __init__(
        self,
        catalogue: NodeCatalogue,
        environment: Environment,
        hub: Hub,
        messenger: Messenger,
        faults: Faults,
    ) -> None:
        self.messenger = messenger
        self.number = 0
        self.queue = PromptQueue(environment.config.history_limit, self._queue_changed)
        self.pointer = RunPointer()
        self.interrupt = asyncio.Event()
        self.cache = OutputCache()
        self.parts = EngineParts(
            catalogue, environment, hub, messenger, faults, self.cache, self.pointer, self.interrupt
        )
        self._worker: asyncio.Task[None] | None = None

    def take_number(self) -> int:
        number = self.number
        self.number += 1
        return number

    def start(self) -> None:
        self._worker = asyncio.create_task(self._work(), name="comfyui-emulator-worker")

    async def aclose(self) -> None:
        if self._worker is None:
            return
        self._worker.cancel()
        await asyncio.wait({self._worker})
        self._worker = None

    async def _work(self) -> None:
        while True:
            task = await self.queue.get()
            outcome = await self._run(task.item)
            self.queue.task_done(task, outcome.history, outcome.status)
            client_id = task.item.client_id
            if client_id is not None:
                self.messenger.finished(task.item.prompt_id, client_id)

    async def _run(self, item: QueueItem) -> RunOutcome:
        try:
            return await PromptRun(self.parts, item).run()
        except Exception:  # an emulator bug must not stop the worker; record it as a failure
            logger.exception("emulator failed while running prompt %s", item.prompt_id)
            status = {"status_str": "error", "completed": False, "messages": []}
            return RunOutcome({"outputs": {}, "meta": {}}, status)

    def _queue_changed(self) -> None:
        self.messenger.status(self.queue.remaining())
