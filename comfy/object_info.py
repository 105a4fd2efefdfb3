"""Reading ComfyUI's /object_info: which values a node's choice input (a dropdown) accepts.

Two shapes are live: the classic `"vae_name": [["ae.safetensors", ...], {...}]`, where the first
element is the list itself, and the newer `"format": ["COMBO", {"options": [...], ...}]`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def input_choices(
    object_info: Mapping[str, Any], node_type: str, input_name: str
) -> list[str] | None:
    """The accepted values of one input; None when the node, the input or a list is missing."""
    node = object_info.get(node_type)
    inputs = node.get("input") if isinstance(node, dict) else None
    if not isinstance(inputs, dict):
        return None
    for group in ("required", "optional"):
        declared = inputs.get(group)
        spec = declared.get(input_name) if isinstance(declared, dict) else None
        if isinstance(spec, list) and spec:
            return _choices(spec)
    return None


def _choices(spec: list[Any]) -> list[str] | None:
    first = spec[0]
    if isinstance(first, list):
        return [str(value) for value in first]
    if first == "COMBO" and len(spec) > 1 and isinstance(spec[1], dict):
        options = spec[1].get("options")
        if isinstance(options, list):
            return [str(value) for value in options]
    return None
