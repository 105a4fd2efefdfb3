"""The ComfyUI backends this service runs tasks on, and which of them can take work now."""

from __future__ import annotations

import enum
import logging
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from comfy.client import ComfyClient
from comfy.errors import ComfyError
from comfy.models import QueuedPrompt
from tasks.runtime.capabilities import missing_requirements
from tasks.runtime.socket_health import SocketHealth
from workflows.template import RequiredModel, WorkflowTemplate

logger = logging.getLogger(__name__)

# One prompt running and one queued behind it: the GPU never waits for us, and no task is
# stranded in one backend's queue while another backend is idle.
PROMPTS_PER_BACKEND = 2


@dataclass(frozen=True)
class TemplateNeeds:
    """What one template needs of a backend: its node types and model files."""

    node_types: frozenset[str]
    models: frozenset[RequiredModel]

    @property
    def model_files(self) -> frozenset[str]:
        return frozenset(model.file_name for model in self.models)


@dataclass(frozen=True)
class Requirements:
    """What a backend must offer for our templates to run: all of them (`node_types`,
    `models`) and each one (`templates`, by name)."""

    node_types: frozenset[str] = frozenset()
    models: frozenset[RequiredModel] = frozenset()
    templates: Mapping[str, TemplateNeeds] = field(default_factory=dict)

    @classmethod
    def of(cls, templates: Iterable[WorkflowTemplate], chosen: Mapping[str, str]) -> Requirements:
        """The needs of `templates` with the configured model files (`KONTEXT_MODEL_*`)."""
        needs = {
            t.name: TemplateNeeds(t.required_node_types, t.required_models(chosen))
            for t in templates
        }
        return cls(
            node_types=frozenset().union(*(n.node_types for n in needs.values())),
            models=frozenset().union(*(n.models for n in needs.values())),
            templates=needs,
        )

    def model_files(self, workflow: str) -> frozenset[str]:
        needs = self.templates.get(workflow)
        return needs.model_files if needs is not None else frozenset()


class BackendKind(enum.Enum):
    COMFYUI = "COMFYUI"
    BUNDLED_EMULATOR = "BUNDLED_EMULATOR"
    EXTERNAL_EMULATOR = "EXTERNAL_EMULATOR"


UNCHECKED = "not checked yet"


@dataclass
class Backend:
    url: str
    client: ComfyClient
    emulated: bool = False
    """The bundled emulator, started by this service."""
    reports_emulator: bool = False
    """The server says in /system_stats that it is an emulator (one started by hand)."""
    connected: bool = False
    checked: bool = False
    problem: str | None = UNCHECKED
    version: str | None = None
    running: list[str] = field(default_factory=list)
    queued: list[str] = field(default_factory=list)
    reconnects: int = 0
    finishing: set[str] = field(default_factory=set)
    """Prompts done executing whose output is still being collected (they hold no slot)."""
    socket: SocketHealth = field(default_factory=SocketHealth)
    requirements: Requirements = field(default_factory=Requirements)
    cannot_run: dict[str, str] = field(default_factory=dict)
    """Why this server cannot run a template, by template name (from its /object_info)."""
    loaded_models: frozenset[str] = frozenset()
    """The model files of the prompt sent here last: what ComfyUI holds in memory now."""

    def can_run(self, workflow: str) -> bool:
        return workflow not in self.cannot_run

    @property
    def runnable(self) -> list[str]:
        return sorted(name for name in self.requirements.templates if self.can_run(name))

    @property
    def name(self) -> str:
        return self.url

    @property
    def ready(self) -> bool:
        return self.connected and self.problem is None and self.socket.stalled_since is None

    @property
    def kind(self) -> BackendKind:
        if self.emulated:
            return BackendKind.BUNDLED_EMULATOR
        return BackendKind.EXTERNAL_EMULATOR if self.reports_emulator else BackendKind.COMFYUI

    @property
    def not_ready_reason(self) -> str | None:
        if not self.connected:
            checked = f"; {self.problem}" if self.problem and self.problem != UNCHECKED else ""
            return "websocket not connected" + checked
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
        templates use (on start-up, on every (re)connect, and while it is not ready). A new
        problem is logged as a warning once (start-up included), not on every re-check."""
        before = self.problem
        try:
            stats = await self.client.system_stats()
            object_info = await self.client.object_info()
        except ComfyError as exc:
            self.problem = f"unreachable: {exc}"
        else:
            self.version = stats.comfyui_version
            self.reports_emulator = stats.emulator
            self.checked = True
            self.cannot_run = {
                name: "; ".join(problems)
                for name, needs in self.requirements.templates.items()
                if (problems := missing_requirements(object_info, needs.node_types, needs.models))
            }
            runs_one = any(map(self.can_run, self.requirements.templates))
            problems = (
                []
                if runs_one
                else missing_requirements(
                    object_info, self.requirements.node_types, self.requirements.models
                )
            )
            self.problem = "; ".join(problems) or None
        if self.problem is not None and self.problem != before:
            logger.warning(
                "ComfyUI backend %s cannot take tasks: %s", self.url, self.problem,
                extra={"backend": self.url},
            )  # fmt: skip

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

    def not_ready_note(self) -> str | None:
        """Why no backend can take a task now (each one's reason); None when one is ready, or
        when this replica dispatches to none (others do)."""
        backends = self.all
        if not backends or any(backend.ready for backend in backends):
            return None
        reasons = "; ".join(f"{b.url}: {b.not_ready_reason}" for b in backends)
        return f"no ComfyUI backend is ready ({reasons})"

    def with_room(self, loads: Counter[str]) -> list[Backend]:
        """The ready backends with room for another prompt."""
        return [
            b for b in self._backends.values() if b.ready and loads[b.name] < PROMPTS_PER_BACKEND
        ]

    def refusal(self, workflow: str) -> str | None:
        """Why no configured backend can ever run `workflow`, once every backend has told us
        what it offers; None while one could (or has not answered yet, or none is configured)."""
        backends = self.all
        if not backends or any(not b.checked or b.can_run(workflow) for b in backends):
            return None
        return "; ".join(f"{b.url}: {b.cannot_run[workflow]}" for b in backends)

    def waiting_reason(self, workflow: str) -> str | None:
        """Why a pending task of `workflow` is not sent now; None when a backend can take it."""
        if not self.all:
            return None  # an API-only replica (KONTEXT_DISPATCH=false): others send tasks
        able = [b for b in self.all if b.can_run(workflow)]
        if any(b.ready for b in able):
            return None
        if not able:
            return self.refusal(workflow) or "no backend can run this workflow"
        reasons = "; ".join(f"{b.url}: {b.not_ready_reason}" for b in able)
        return f"waiting for a backend that can run {workflow}: {reasons}"
