"""The cumulative per-node map behind `progress_state` messages."""

from __future__ import annotations

import copy
from typing import Any

NodeState = dict[str, Any]


class ProgressMap:
    """Lists every node started in this prompt, in start order; cached nodes never appear."""

    def __init__(self, prompt_id: str) -> None:
        self.prompt_id = prompt_id
        self._nodes: dict[str, NodeState] = {}

    def start(self, node_id: str) -> None:
        self._nodes[node_id] = self._entry(node_id, 0.0, 1.0, "running")

    def update(self, node_id: str, value: int, maximum: int) -> None:
        entry = self._nodes.setdefault(node_id, self._entry(node_id, 0.0, 1.0, "running"))
        entry.update(value=value, max=maximum, state="running")

    def finish(self, node_id: str) -> None:
        entry = self._nodes.setdefault(node_id, self._entry(node_id, 0, 1, "running"))
        entry.update(value=entry["max"], state="finished")

    def snapshot(self) -> dict[str, Any]:
        return {"prompt_id": self.prompt_id, "nodes": copy.deepcopy(self._nodes)}

    def _entry(self, node_id: str, value: float, maximum: float, state: str) -> NodeState:
        return {
            "value": value,
            "max": maximum,
            "state": state,
            "node_id": node_id,
            "prompt_id": self.prompt_id,
            "display_node_id": node_id,
            "parent_node_id": None,
            "real_node_id": node_id,
        }
