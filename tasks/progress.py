"""How far a prompt got: nodes done (cached or executed) plus sampler steps, as a bar that never goes back."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID


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

    def sampled(self, node: str, value: int, maximum: int) -> bool:
        """Record a progress frame; True when it was the sampler's (a real step)."""
        if node != self.sampler_node:
            return False
        self.step = value
        self.total_steps = maximum
        return True

    def update_percent(self) -> float:
        nodes_besides_sampler = max(self.node_count - 1, 0)
        done = len(self.done_nodes - {self.sampler_node})
        steps_total = max(self.total_steps, 1)
        sampler_done = 1.0 if self.sampler_node in self.done_nodes else self.step / steps_total
        total_units = nodes_besides_sampler + steps_total
        done_units = min(done, nodes_besides_sampler) + sampler_done * steps_total
        # 100 is reserved for the moment the result is stored.
        self.percent = max(self.percent, min(99.0, 100.0 * done_units / total_units))
        return self.percent
