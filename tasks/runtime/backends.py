"""The ComfyUI backends this service runs tasks on, and which of them can take work now."""

from __future__ import annotations

import enum
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from comfy.client import ComfyClient
from comfy.errors import ComfyError, ComfyUnavailable
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

Result = TypeVar("Result")


class Backend:
    """One ComfyUI server and what this service knows of it.

    Its state has one writer: the backend's own calls to the server record what they learn
    (`check`, `refresh_queue`, `queue_prompt`, `upload_image`, `free_memory`), and the
    tracker of its event stream reports what the socket hears through the `mark_...` methods
    (so the queue it knows follows the events heard between two reads of /queue).
    Everyone else reads."""

    def __init__(
        self,
        *,
        url: str,
        client: ComfyClient,
        emulated: bool = False,
        requirements: Requirements | None = None,
        connected: bool = False,
        problem: str | None = UNCHECKED,
        checked: bool = False,
        cannot_run: Mapping[str, str] | None = None,
        loaded_models: frozenset[str] = frozenset(),
        running: Sequence[str] = (),
    ) -> None:
        self.url = url
        self.client = client
        self.emulated = emulated
        """The bundled emulator, started by this service."""
        self.requirements = requirements or Requirements()
        self._connected = connected
        self._problem = problem
        self._cannot_run: dict[str, str] = dict(cannot_run or {})
        self._loaded_models = loaded_models
        self._running: tuple[str, ...] = tuple(running)
        self._queued: tuple[str, ...] = ()
        self._sending: set[str] = set()
        """Prompts whose POST /prompt has not answered yet: counted as queued meanwhile."""
        self._reports_emulator = False
        self._checked = checked
        self._version: str | None = None
        self._reconnects = 0
        self._finishing: set[str] = set()
        self._socket = SocketHealth()

    # What is known of it (read by everyone).

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def checked(self) -> bool:
        """It has answered what it offers at least once."""
        return self._checked

    @property
    def problem(self) -> str | None:
        return self._problem

    @property
    def version(self) -> str | None:
        return self._version

    @property
    def reports_emulator(self) -> bool:
        """The server says in /system_stats that it is an emulator (one started by hand)."""
        return self._reports_emulator

    @property
    def running(self) -> tuple[str, ...]:
        return self._running

    @property
    def queued(self) -> tuple[str, ...]:
        return self._queued

    @property
    def reconnects(self) -> int:
        return self._reconnects

    @property
    def finishing(self) -> frozenset[str]:
        """Prompts done executing whose output is still being collected (they hold no slot)."""
        return frozenset(self._finishing)

    @property
    def socket(self) -> SocketHealth:
        """What the websocket heard (read it; the tracker reports to it through the backend)."""
        return self._socket

    @property
    def cannot_run(self) -> Mapping[str, str]:
        """Why this server cannot run a template, by template name (from its /object_info)."""
        return self._cannot_run

    @property
    def loaded_models(self) -> frozenset[str]:
        """The model files of the prompt sent here last: what ComfyUI holds in memory now."""
        return self._loaded_models

    def can_run(self, workflow: str) -> bool:
        return workflow not in self._cannot_run

    @property
    def runnable(self) -> list[str]:
        return sorted(name for name in self.requirements.templates if self.can_run(name))

    @property
    def name(self) -> str:
        return self.url

    @property
    def ready(self) -> bool:
        return self._connected and self._problem is None and self._socket.stalled_since is None

    @property
    def kind(self) -> BackendKind:
        if self.emulated:
            return BackendKind.BUNDLED_EMULATOR
        return BackendKind.EXTERNAL_EMULATOR if self._reports_emulator else BackendKind.COMFYUI

    @property
    def not_ready_reason(self) -> str | None:
        if not self._connected:
            checked = f"; {self._problem}" if self._problem and self._problem != UNCHECKED else ""
            return "websocket not connected" + checked
        if self._socket.stall_reason is not None:
            return (
                f"websocket stalled: ComfyUI stopped routing events to client id "
                f"{self.client.client_id} ({self._socket.stall_reason}); reconnecting"
            )
        return self._problem

    # What its event stream tells (reported by its tracker).

    def mark_connected(self) -> datetime | None:
        """A socket was greeted (so ComfyUI routes to it): returns when the stall it ends
        began, None when there was none."""
        self._connected = True
        return self._socket.connected()

    def mark_disconnected(self) -> None:
        """The socket closed; the stream reconnects."""
        self._connected = False
        self._reconnects += 1

    def mark_untracked(self) -> None:
        """This replica stopped following the backend (it lost the lease)."""
        self._connected = False

    def mark_status_heard(self) -> None:
        self._socket.heard_status()

    def mark_stalled(self, reason: str, at: datetime) -> bool:
        """ComfyUI no longer routes to our socket; True when it is a new stall."""
        return self._socket.stalled(reason, at)

    def mark_finishing(self, prompt_id: str) -> None:
        """The prompt stopped executing: its slot is free while its output is brought home."""
        self._finishing.add(prompt_id)

    def mark_finished(self, prompt_id: str) -> None:
        self._finishing.discard(prompt_id)

    def mark_started(self, prompt_id: str) -> None:
        """The prompt began executing: it moves from the queue's pending part to its running."""
        self._queued = tuple(p for p in self._queued if p != prompt_id)
        if prompt_id not in self._running:
            self._running = (*self._running, prompt_id)

    def mark_left(self, prompt_id: str) -> None:
        """The prompt's execution ended (succeeded, failed or interrupted): it left the queue."""
        self._running = tuple(p for p in self._running if p != prompt_id)
        self._queued = tuple(p for p in self._queued if p != prompt_id)

    def mark_queue_empty(self) -> None:
        """A `status` frame said nothing remains in the queue (but what is on its way to it)."""
        self._running = ()
        self._queued = tuple(self._sending)

    @property
    def queue_size(self) -> int:
        """How many prompts the queue holds as far as we know (running and pending)."""
        return len({*self._running, *self._queued})

    # What the dispatcher decided.

    def mark_assigned(self, models: frozenset[str]) -> None:
        """A prompt needing `models` was claimed for this backend: once it runs, they are what
        ComfyUI holds (counted from the claim, so the next choice already sees them)."""
        self._loaded_models = models

    # Its own calls to the server, and what they learn.

    async def queue_prompt(
        self, prompt: dict[str, Any], *, prompt_id: str, extra_data: dict[str, Any]
    ) -> QueuedPrompt:
        """POST /prompt; ComfyUI's `status` broadcast should reach our socket soon after. The
        prompt counts as queued from the moment it is sent (its `status` may come before the
        answer), and no longer if the server refused it."""
        heard = self._socket.statuses
        if prompt_id not in self._running and prompt_id not in self._queued:
            self._queued = (*self._queued, prompt_id)
        self._sending.add(prompt_id)
        try:
            queued = await self._unless_unavailable(
                self.client.queue_prompt(prompt, prompt_id=prompt_id, extra_data=extra_data)
            )
        except BaseException:
            self._queued = tuple(p for p in self._queued if p != prompt_id)
            raise
        finally:
            self._sending.discard(prompt_id)
        self._socket.prompt_sent(heard, time.monotonic())
        return queued

    def uploaded_name(self, digest: str) -> str | None:
        """The name of an input image (by its bytes' sha256) already uploaded to this server."""
        uploaded = self.client.uploaded(digest)
        return None if uploaded is None else uploaded.name

    async def upload_image(self, data: bytes, *, filename: str, digest: str) -> str:
        """Upload an input image (its bytes' sha256 `digest`); the name ComfyUI stored it under."""
        uploaded = await self._unless_unavailable(
            self.client.upload_image(data, filename=filename, digest=digest)
        )
        return uploaded.name

    async def _unless_unavailable(self, call: Awaitable[Result]) -> Result:
        """Await a call to the server; an unreachable server is its problem until it is
        checked again."""
        try:
            return await call
        except ComfyUnavailable as exc:
            self._problem = f"unavailable: {exc}"
            raise

    async def free_memory(self) -> None:
        """POST /free (unload models, free memory): nothing stays loaded."""
        self._loaded_models = frozenset()
        await self.client.free_memory()

    async def check(self) -> None:
        """Ask the server what it is and whether it has every node type and model file our
        templates use (on start-up, on every (re)connect, and while it is not ready). A new
        problem is logged as a warning once (start-up included), not on every re-check."""
        before = self._problem
        try:
            stats = await self.client.system_stats()
            object_info = await self.client.object_info()
        except ComfyError as exc:
            self._problem = f"unreachable: {exc}"
        else:
            self._version = stats.comfyui_version
            self._reports_emulator = stats.emulator
            self._checked = True
            self._cannot_run = {
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
            self._problem = "; ".join(problems) or None
        if self._problem is not None and self._problem != before:
            logger.warning(
                "ComfyUI backend %s cannot take tasks: %s", self.url, self._problem,
                extra={"backend": self.url},
            )  # fmt: skip

    async def refresh_queue(self) -> None:
        snapshot = await self.client.queue()
        self._running = tuple(snapshot.running)
        on_the_way = (p for p in self._sending if p not in snapshot)  # read before it arrived
        self._queued = (*snapshot.pending, *on_the_way)


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

    def free_slots(self, loads: Counter[str]) -> int:
        """How many more prompts the ready backends can take now."""
        return sum(PROMPTS_PER_BACKEND - loads[b.name] for b in self.with_room(loads))

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
