"""What a running node sees: its prompt, the environment, and sampler step reporting."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from comfy.emulator.environment import Environment
from comfy.emulator.values import Interrupted

if TYPE_CHECKING:
    from comfy.emulator.engine import PromptRun
    from comfy.emulator.hub import Connection

EXPLICIT_PREVIEWS = ("auto", "latent2rgb", "taesd")


class RunningNode:
    def __init__(self, run: PromptRun, node_id: str) -> None:
        self._run = run
        self._node_id = node_id

    @property
    def node_id(self) -> str:
        return self._node_id

    @property
    def prompt(self) -> Mapping[str, Any]:
        return self._run.prompt

    @property
    def extra_data(self) -> Mapping[str, Any]:
        return self._run.item.extra_data

    @property
    def environment(self) -> Environment:
        return self._run.parts.environment

    async def sampler_step(self, value: int, total: int, preview: Callable[[], bytes]) -> None:
        jpeg: bytes | None = None
        if self.environment.config.sleep_steps:
            # The preview is made halfway through the step, which sleeps for the rest of its
            # time: a GPU host's pixel work, kept away from the moments its client handles the
            # frames of a step (just after they are sent).
            clock = asyncio.get_running_loop().time
            began, seconds = clock(), self.environment.config.step_seconds
            if self._preview_connection() is not None:
                await self._wait_step(seconds / 2)
                jpeg = await asyncio.to_thread(preview)
            await self._wait_step(seconds - (clock() - began))
        else:
            await self._wait_step(self.environment.config.step_seconds)
        run = self._run
        run.progress.update(self._node_id, value, total)
        run.send_progress_state()
        connection = self._preview_connection()
        messenger, prompt_id = run.parts.messenger, run.item.prompt_id
        if connection is None:
            messenger.progress(value, total, prompt_id, self._node_id, run.client_id)
            return
        if jpeg is None:
            jpeg = await asyncio.to_thread(preview)
        if connection.wants_preview_metadata:
            messenger.preview(jpeg, prompt_id, self._node_id, connection)
            messenger.progress(value, total, prompt_id, self._node_id, run.client_id)
        else:
            messenger.progress(value, total, prompt_id, self._node_id, run.client_id)
            messenger.preview(jpeg, prompt_id, self._node_id, connection)

    def _preview_connection(self) -> Connection | None:
        """The client's socket when it is to get latent previews, else None."""
        run = self._run
        return run.parts.hub.get(run.client_id) if self._previews_wanted() else None

    async def _wait_step(self, seconds: float) -> None:
        interrupt = self._run.parts.interrupt
        if interrupt.is_set():
            raise Interrupted(self._node_id)
        try:
            await asyncio.wait_for(interrupt.wait(), max(seconds, 0.0))
        except TimeoutError:
            return
        raise Interrupted(self._node_id)

    def _previews_wanted(self) -> bool:
        requested = self.extra_data.get("preview_method")
        if requested in EXPLICIT_PREVIEWS:
            return True
        if requested == "none":
            return False
        return self.environment.config.preview_method != "none"
