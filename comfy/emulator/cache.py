"""Node outputs cached by input signature, as ComfyUI's default (classic) cache keeps them.

A node's signature covers its class, its change probe (the image hash for LoadImage), its
constant inputs and, recursively, the signatures of the nodes it links to. Before each prompt
every entry whose signature the new prompt does not use is dropped.
"""

from __future__ import annotations

import json
from collections.abc import Hashable
from typing import Any

from comfy.emulator.catalogue import NodeCatalogue
from comfy.emulator.values import NodeResult

Signature = Hashable


class OutputCache:
    def __init__(self) -> None:
        self._entries: dict[Signature, NodeResult] = {}

    def keep_only(self, used: set[Signature]) -> None:
        self._entries = {key: value for key, value in self._entries.items() if key in used}

    def get(self, signature: Signature) -> NodeResult | None:
        return self._entries.get(signature)

    def put(self, signature: Signature, result: NodeResult) -> None:
        self._entries[signature] = result

    def __len__(self) -> int:
        return len(self._entries)


def is_link(value: object) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], str)
        and isinstance(value[1], (int, float))
    )


def signatures(
    prompt: dict[str, Any], catalogue: NodeCatalogue, environment: Any
) -> dict[str, Signature]:
    """Blocking (change probes read files): run it in a thread."""
    computed: dict[str, Signature] = {}
    for node_id in prompt:
        _signature(node_id, prompt, catalogue, environment, computed, set())
    return computed


def _signature(
    node_id: str,
    prompt: dict[str, Any],
    catalogue: NodeCatalogue,
    environment: Any,
    computed: dict[str, Signature],
    visiting: set[str],
) -> Signature:
    if node_id in computed:
        return computed[node_id]
    if node_id in visiting or node_id not in prompt:
        return ("unresolvable", node_id)
    visiting.add(node_id)
    node = prompt[node_id]
    spec = catalogue.get(node["class_type"])
    probe = spec.change_probe(node["inputs"], environment) if spec and spec.change_probe else ""
    parts: list[Hashable] = [node["class_type"], probe]
    for key in sorted(node["inputs"]):
        value = node["inputs"][key]
        if is_link(value):
            upstream = _signature(value[0], prompt, catalogue, environment, computed, visiting)
            parts.append((key, "link", upstream, value[1]))
        else:
            parts.append((key, json.dumps(value, sort_keys=True, default=str)))
    visiting.discard(node_id)
    computed[node_id] = tuple(parts)
    return computed[node_id]
