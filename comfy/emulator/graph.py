"""Execution order: ComfyUI's topological dissolve with its 'UX friendly' pick of the next node.

Nodes enter in depth-first order from the output nodes (inputs in their written order); among
the nodes whose inputs are ready, an output node goes first, then a node feeding an output
node, then one two links away from an output node, else the earliest entered. Cached nodes
never enter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from comfy.emulator.cache import is_link
from comfy.emulator.catalogue import NodeCatalogue


class DependencyCycle(Exception):
    def __init__(self, node_id: str) -> None:
        super().__init__("Dependency cycle detected")
        self.node_id = node_id


class ExecutionList:
    def __init__(
        self, prompt: dict[str, Any], catalogue: NodeCatalogue, is_cached: Callable[[str], bool]
    ) -> None:
        self._prompt = prompt
        self._catalogue = catalogue
        self._is_cached = is_cached
        self._pending: dict[str, None] = {}
        self._blockers: dict[str, set[str]] = {}
        self._blocking: dict[str, dict[str, None]] = {}

    def add_node(self, node_id: str) -> None:
        stack, links = [node_id], []
        while stack:
            current = stack.pop()
            if current in self._pending:
                continue
            self._pending[current] = None
            self._blockers[current] = set()
            self._blocking[current] = {}
            for source in self._sources(current):
                if not self._is_cached(source):
                    stack.append(source)
                links.append((source, current))
        for source, target in links:
            self._link(source, target)

    def is_empty(self) -> bool:
        return not self._pending

    def next_node(self) -> str:
        ready = [node for node in self._pending if not self._blockers[node]]
        if not ready:
            raise DependencyCycle(next(iter(self._pending)))
        return self._friendly_pick(ready)

    def complete(self, node_id: str) -> None:
        del self._pending[node_id]
        self._blockers.pop(node_id, None)
        for blocked in self._blocking.pop(node_id, {}):
            self._blockers[blocked].discard(node_id)

    def _sources(self, node_id: str) -> list[str]:
        inputs = self._prompt[node_id]["inputs"]
        return [value[0] for value in inputs.values() if is_link(value)]

    def _link(self, source: str, target: str) -> None:
        if self._is_cached(source) and source not in self._pending:
            return
        self.add_node(source)
        self._blocking[source][target] = None
        self._blockers[target].add(source)

    def _friendly_pick(self, ready: list[str]) -> str:
        for node in ready:
            if self._is_output(node):
                return node
        for node in ready:
            if any(self._is_output(blocked) for blocked in self._blocking[node]):
                return node
        for node in ready:
            if any(self._feeds_output(blocked) for blocked in self._blocking[node]):
                return node
        return ready[0]

    def _feeds_output(self, node_id: str) -> bool:
        if node_id not in self._pending:
            return False
        return any(self._is_output(blocked) for blocked in self._blocking[node_id])

    def _is_output(self, node_id: str) -> bool:
        spec = self._catalogue.get(self._prompt[node_id]["class_type"])
        return spec is not None and spec.output_node
