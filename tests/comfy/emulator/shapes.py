"""Comparing JSON documents by shape: same keys in the same order, same value types."""

from __future__ import annotations

from typing import Any


def shape_differences(got: Any, want: Any, path: str = "$") -> list[str]:
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return [f"{path}: {type(got).__name__} instead of an object"]
        if list(got) != list(want):
            return [f"{path}: keys {list(got)} instead of {list(want)}"]
        return [d for key in want for d in shape_differences(got[key], want[key], f"{path}.{key}")]
    if isinstance(want, list):
        if not isinstance(got, list):
            return [f"{path}: {type(got).__name__} instead of a list"]
        if want and got:
            return shape_differences(got[0], want[0], f"{path}[0]")
        return []
    if type(got) is not type(want):
        return [f"{path}: {type(got).__name__} instead of {type(want).__name__}"]
    return []


def assert_same_shape(got: Any, want: Any) -> None:
    differences = shape_differences(got, want)
    assert not differences, "\n".join(differences)


def progress_nodes(data: dict[str, Any]) -> dict[str, list[Any]]:
    return {node: [v["state"], v["value"], v["max"]] for node, v in data["nodes"].items()}
