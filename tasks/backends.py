"""The ComfyUI backends this service runs tasks on, and which of them can take work now."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from comfy.client import ComfyClient
from comfy.errors import ComfyError
from comfy.models import QueuedPrompt
from tasks.capabilities import missing_requirements
from tasks.socket_health import SocketHealth
from workflows.template import RequiredModel

logger = logging.getLogger(__name__)

# One prompt running and one queued behind it: the GPU never waits for us, and no task is
# stranded in one backend's queue while another backend is idle.
PROMPTS_PER_BACKEND = 2


@dataclass(frozen=True)
class Requirements:
    """What a backend must offer for our templates to run."""

    node_types: frozenset[str] = frozenset()
    models: frozenset[RequiredModel] = frozenset()


@dataclass
class Backend:
    url: str
    client: ComfyClient
    emulated: bool = False
    connected: bool = False
    checked: bool = False
    problem: str | None = "not checked yet"
    version: str | None = None
    running: list[str] = field(default_factory=list)
    queued: list[str] = field(default_factory=list)
    reconnects: int = 0
    finishing: set[str] = field(default_factory=set)
    """Prompts done executing whose output is still being collected (they hold no slot)."""
    socket: SocketHealth = field(default_factory=SocketHealth)
    requirements: Requirements = field(default_factory=Requirements)

    @property
    def name(self) -> str:
        return self.url

    @property
    def ready(self) -> bool:
        return self.connected and self.problem is None and self.socket.stalled_since is None

    @property
    def not_ready_reason(self) -> str | None:
        if not self.connected:
            return "websocket not connected"
        if self.socket.stall_reason is not None:
            return (
                f"websocket stalled: ComfyUI stopped routing events to client id "
                f"{self.client.client_id} ({self.socket.stall_reason}); reconnecting"
            )
        return self.problem

    async def queue_prompt(
        self, prompt: dict[str, Any], *, prompt_id: str, extra_data: dict[str, Any]
    ) -> QueuedPrompt:
        """POST /prompt; ComfyUI's `status` broadcast should reach our socket soon after."""
        heard = self.socket.statuses
        queued = await self.client.queue_prompt(prompt, prompt_id=prompt_id, extra_data=extra_data)
        self.socket.prompt_sent(heard, time.monotonic())
        return queued

    async def check(self) -> None:
        """Ask the server what it is and whether it has every node type and model file our
        templates use (on start-up, on every (re)connect, and while it is not ready)."""
        try:
            stats = await self.client.system_stats()
            object_info = await self.client.object_info()
        except ComfyError as exc:
            self.problem = f"unreachable: {exc}"
            return
        self.version = stats.comfyui_version
        self.checked = True
        problems = missing_requirements(
            object_info, self.requirements.node_types, self.requirements.models
        )
        problem = "; ".join(problems) or None
        if problem is not None and problem != self.problem:
            logger.error("backend %s is not ready: %s", self.url, problem)
        self.problem = problem

    async def refresh_queue(self) -> None:
        snapshot = await self.client.queue()
        self.running = list(snapshot.running)
        self.queued = list(snapshot.pending)


class BackendPool:
    def __init__(self, backends: Sequence[Backend]) -> None:
        self._backends = {backend.name: backend for backend in backends}

    @property
    def all(self) -> list[Backend]:
        return list(self._backends.values())

    def get(self, name: str | None) -> Backend | None:
        return self._backends.get(name) if name else None

    def finishing_prompts(self) -> list[str]:
        return [prompt for backend in self._backends.values() for prompt in backend.finishing]

    def pick(self, loads: Counter[str]) -> Backend | None:
        """The least-loaded ready backend with room for another prompt."""
        candidates = [
            b for b in self._backends.values() if b.ready and loads[b.name] < PROMPTS_PER_BACKEND
        ]
        return min(candidates, key=lambda b: loads[b.name], default=None)
