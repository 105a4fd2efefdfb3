"""What one subscriber's captured frames say: when each sampler step arrived, and its delay
from the emulator's send."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, cast

from comfy.messages import ProgressStateData, node_step

SAMPLER_NODE = "31"  # the template's KSampler: its progress frames are the sampling steps


def step_in(kind: str, data: dict[str, Any], sampler_node: str) -> tuple[int, int] | None:
    """(step, steps) of the sampler in a ComfyUI `progress` or `progress_state` message, else
    None."""
    if kind == "progress" and str(data.get("node")) == sampler_node:
        return int(data["value"]), int(data["max"])
    if kind == "progress_state" and isinstance(data.get("nodes"), dict):
        return node_step(cast(ProgressStateData, data), sampler_node)
    return None


class StepArrival(NamedTuple):
    """A sampler step's first arrival at one subscriber; `after_preview` when a PREVIEW event
    came just before it (the service stores a preview before it handles the next frame)."""

    step: int
    stamp: float
    after_preview: bool


@dataclass
class StepDelays:
    """One subscriber's per-step delays, split by whether a PREVIEW event came just before."""

    plain: list[float] = field(default_factory=list)
    after_preview: list[float] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.plain) + len(self.after_preview)


def step_arrivals(frames: Iterable[tuple[float, bytes]]) -> list[StepArrival]:
    """Each sampler step's first arrival in one subscriber's (stamp, raw frame) list. A slow
    subscriber may get steps merged (by design), so some steps can be absent."""
    arrivals: list[StepArrival] = []
    seen: set[int] = set()
    preview_pending = False
    for stamp, raw in frames:
        message = json.loads(raw)
        update = (message.get("payload") or {}).get("data", {}).get("taskProgress") or {}
        if update.get("kind") == "PREVIEW":
            preview_pending = True
        if update.get("kind") != "PROGRESS" or update.get("currentNode") != SAMPLER_NODE:
            continue
        step = int(update["step"])
        if step not in seen:
            seen.add(step)
            arrivals.append(StepArrival(step, stamp, preview_pending))
            preview_pending = False
    return arrivals


def subscriber_delays(arrivals: Iterable[StepArrival], sent: dict[int, float]) -> StepDelays:
    """Arrival of each sampler step at one subscriber minus its send time."""
    delays = StepDelays()
    for arrival in arrivals:
        if arrival.step in sent:
            bucket = delays.after_preview if arrival.after_preview else delays.plain
            bucket.append(arrival.stamp - sent[arrival.step])
    return delays
