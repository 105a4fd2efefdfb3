"""Access to the compact ComfyUI 0.8.0 recordings kept next to these tests."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

RECORDINGS = Path(__file__).parent / "recordings"


@cache
def _load(scenario: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = json.loads((RECORDINGS / f"{scenario}.json").read_text())
    return records


def records(scenario: str) -> list[dict[str, Any]]:
    return copy.deepcopy(_load(scenario))


def graph(full: bool = False) -> dict[str, Any]:
    name = "flux_kontext_dev_basic.api.json" if full else "flux_kontext_dev_basic.small.api.json"
    loaded: dict[str, Any] = json.loads((RECORDINGS / name).read_text())
    return loaded


def text_token(kind: str, data: Any) -> str:
    """The name a frame gets in an order comparison (as in traces/SUMMARY.txt)."""
    if kind == "status":
        remaining = data["status"]["exec_info"]["queue_remaining"]
        return f"status({remaining},sid)" if "sid" in data else f"status({remaining})"
    if kind == "executing":
        node = data.get("node")
        return f"executing({node})" if "prompt_id" in data else f"executing*({node})"
    return kind


def binary_token(event: int) -> str:
    return f"BINARY[{event}]"


def client_tokens(scenario: str, client: str) -> list[str]:
    tokens = []
    for record in _load(scenario):
        if record.get("client") != client:
            continue
        if record["kind"] == "ws_text":
            tokens.append(text_token(record["type"], record.get("data")))
        elif record["kind"] == "ws_binary":
            tokens.append(binary_token(record["u32"][0]))
    return tokens


def http(scenario: str, method: str, path: str) -> list[dict[str, Any]]:
    """Recorded exchanges for this method whose path starts with `path`."""
    return [
        record
        for record in records(scenario)
        if record["kind"] == "http"
        and record["method"] == method
        and record["path"].startswith(path)
    ]


def frames(scenario: str, client: str, kind: str) -> list[dict[str, Any]]:
    return [
        record
        for record in records(scenario)
        if record.get("client") == client and record.get("type") == kind
    ]
