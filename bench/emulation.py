"""The bundled ComfyUI emulator as the benchmarks use it: frames stamped when the emulator sends
them, and prompts queued straight into it (the baselines), bound from the service's template."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.relay_analysis import step_in
from comfy.client import ComfyClient
from comfy.emulator.hub import Frame, Hub
from comfy.emulator.state import Emulator
from workflows.binder import bind
from workflows.manifest import WorkflowTemplate
from workflows.parameters import resolve_parameters
from workflows.registry import load_templates

SERVICE_CLIENT_ID = "kontext-graphql"  # the service's default KONTEXT_COMFYUI_CLIENT_ID
OUTPUT_PREFIX = "kontext"  # what the service's dispatcher binds, so prompts are identical
PREVIEWS = {"preview_method": "auto"}  # the extra_data the service's dispatcher sends


@dataclass(frozen=True)
class SentFrame:
    stamp: float
    sid: str | None
    kind: str
    data: dict[str, Any]


Listener = Callable[[SentFrame], None]


class RecordingHub(Hub):
    """Stands between the emulator's messenger and its hub: stamps every text frame (monotonic
    clock) before handing it on. The messenger only calls `send`; sockets stay on the real hub."""

    def __init__(self, inner: Hub) -> None:
        super().__init__()
        self.inner = inner
        self.frames: list[SentFrame] = []
        self.listeners: list[Listener] = []

    def send(self, frame: Frame, sid: str | None) -> None:
        stamp = time.monotonic()
        if isinstance(frame, str):
            message = json.loads(frame)
            sent = SentFrame(stamp, sid, str(message.get("type")), dict(message.get("data") or {}))
            self.frames.append(sent)
            for listener in self.listeners:
                listener(sent)
        self.inner.send(frame, sid)

    def take(self) -> list[SentFrame]:
        frames, self.frames = self.frames, []
        return frames


def record_frames(emulator: Emulator) -> RecordingHub:
    """Start stamping what this in-process emulator sends (nothing in the emulator changes)."""
    recorder = RecordingHub(emulator.hub)
    emulator.messenger.hub = recorder
    return recorder


def progress_stamps(frames: list[SentFrame], sid: str) -> dict[tuple[str, int], float]:
    """(prompt_id, step) -> when the emulator sent that `progress` frame to `sid`."""
    return {
        (str(f.data.get("prompt_id")), int(f.data["value"])): f.stamp
        for f in frames
        if f.kind == "progress" and f.sid == sid
    }


def step_stamps(
    frames: list[SentFrame], sid: str, sampler_node: str
) -> dict[tuple[str, int], float]:
    """(prompt_id, step) -> when the emulator sent `sid` the first frame carrying that step: its
    `progress_state`, which ComfyUI sends before the step's preview and `progress` frame."""
    stamps: dict[tuple[str, int], float] = {}
    for f in frames:
        step = step_in(f.kind, f.data, sampler_node) if f.sid == sid else None
        if step is not None:
            stamps.setdefault((str(f.data.get("prompt_id")), step[0]), f.stamp)
    return stamps


@dataclass
class DirectPrompts:
    """Queues the service's own workflow straight into a ComfyUI (emulated or not)."""

    client: ComfyClient
    template: WorkflowTemplate = field(default_factory=lambda: load_templates().get_default())
    image_name: str = ""
    description: str = "make it red"

    async def upload(self, png: bytes) -> None:
        """Upload under the name the service uses (its sha256), so the prompts are identical."""
        uploaded = await self.client.upload_image(png, filename=upload_name(png))
        self.image_name = uploaded.name

    def prompt(self, *, steps: int, seed: int) -> dict[str, Any]:
        return bound_prompt(
            self.template, self.image_name, steps=steps, seed=seed, description=self.description
        )

    async def queue(self, *, steps: int, seed: int | None = None) -> str:
        prompt_id = str(uuid.uuid4())
        chosen = seed if seed is not None else uuid.uuid4().int % 2**63
        await self.client.queue_prompt(
            self.prompt(steps=steps, seed=chosen), prompt_id=prompt_id, extra_data=dict(PREVIEWS)
        )
        return prompt_id


def bound_prompt(
    template: WorkflowTemplate, image_name: str, *, steps: int, seed: int, description: str
) -> dict[str, Any]:
    """The service's template bound as its dispatcher binds it; `steps` may exceed the
    template's range (ComfyUI takes up to 10000)."""
    raw = {"description": description, "steps": 1, "seed": seed}
    params = resolve_parameters(template, raw)
    graph = bind(template, params, images={"image": image_name}, filename_prefix=OUTPUT_PREFIX)
    graph[template.sampler_node]["inputs"]["steps"] = steps
    return graph


def upload_name(png: bytes) -> str:
    """The name the service uploads a PNG reference image under: its sha256."""
    return f"{hashlib.sha256(png).hexdigest()}.png"
