"""How far one attempt of a prompt got, as a bar that moves linearly with sampler steps and never
goes back.

percent = 100 * (other nodes done + steps done) / (other nodes + total steps), where "other
nodes" are the nodes of the bound prompt but the sampler, "done" counts executed and cached
nodes alike, and the total steps are the bound `steps` until the sampler reports its own count.
It stays below 100 until the result is stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from tasks.runtime.run_times import RunKind

PERCENT_BEFORE_RESULT = 99.0


@dataclass
class SamplingClock:
    """When the sampler's steps arrived (monotonic seconds): this run's measured step rate."""

    first_step: int = 0
    first_at: float | None = None
    last_step: int = 0
    last_at: float | None = None
    done_at: float | None = None

    def stepped(self, step: int, total: int, now: float) -> None:
        if self.first_at is None:
            self.first_step, self.first_at = step, now
        self.last_step, self.last_at = step, now
        if step >= total and self.done_at is None:
            self.done_at = now

    def seconds_per_step(self) -> float | None:
        """Measured between the first step seen and the newest (the first step alone also
        holds the model's warm-up, so it is no measure)."""
        if self.first_at is None or self.last_at is None or self.last_step <= self.first_step:
            return None
        return (self.last_at - self.first_at) / (self.last_step - self.first_step)


@dataclass
class PromptRun:
    """What the tracker knows of one prompt while it runs."""

    prompt_id: str
    task_id: UUID
    node_count: int
    sampler_node: str
    done_nodes: set[str] = field(default_factory=set)
    current_node: str | None = None
    step: int = 0
    total_steps: int = 0
    percent: float = 0.0
    started: bool = False
    finishing: bool = False
    last_preview_at: float = float("-inf")
    began_at: float | None = None
    """When execution started (monotonic), for the measured length of whole runs."""
    sampling: SamplingClock = field(default_factory=SamplingClock)
    kind: RunKind | None = None
    """What the run's measured times are kept under."""

    def preview_due(self, now: float, min_interval: float) -> bool:
        """At most one preview per `min_interval` seconds reaches storage and subscribers."""
        if now - self.last_preview_at < min_interval:
            return False
        self.last_preview_at = now
        return True

    def cached(self, nodes: list[str]) -> None:
        self.done_nodes.update(nodes)

    def executing(self, node: str | None) -> None:
        if self.current_node is not None and self.current_node != node:
            self.done_nodes.add(self.current_node)
        self.current_node = node

    def sampled(self, node: str, value: int, maximum: int, now: float = 0.0) -> bool:
        """Record a step a node reported; True when it was a new step of the sampler (a step
        is heard twice: in `progress_state`, then in `progress`)."""
        if node != self.sampler_node or (value == self.step and maximum == self.total_steps):
            return False
        if value > self.step or maximum != self.total_steps:
            self.sampling.stepped(value, maximum, now)
        self.step = value
        self.total_steps = maximum
        return True

    @property
    def sampler_done(self) -> bool:
        return self.sampler_node in self.done_nodes

    def update_percent(self) -> float:
        other_nodes = max(self.node_count - 1, 0)
        steps_total = max(self.total_steps, 1)
        done_nodes = min(len(self.done_nodes - {self.sampler_node}), other_nodes)
        done_steps = steps_total if self.sampler_done else min(self.step, steps_total)
        share = (done_nodes + done_steps) / (other_nodes + steps_total)
        self.percent = max(self.percent, min(PERCENT_BEFORE_RESULT, 100.0 * share))
        return self.percent
