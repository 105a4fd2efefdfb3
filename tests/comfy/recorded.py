"""The ComfyUI 0.8.0 recordings in tests/comfy/recordings, read-only and in arrival order."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

RECORDINGS = Path(__file__).parent / "recordings"


@cache
def _load(name: str) -> tuple[dict[str, Any], ...]:
    lines = (RECORDINGS / name).read_text().splitlines()
    return tuple(json.loads(line) for line in lines if line)


def ws_records(
    kind: str, scenario: str | None = None, client: str | None = None
) -> list[dict[str, Any]]:
    """Websocket records of one kind (ws_text, ws_binary, ws_send, ws_close)."""
    return [
        copy.deepcopy(record)
        for record in _load("ws.jsonl")
        if record["kind"] == kind
        and scenario in (None, record["scenario"])
        and client in (None, record.get("client"))
    ]


def client_frames(scenario: str, client: str) -> list[dict[str, Any]]:
    """Every text and binary frame one client received, in order."""
    return [
        copy.deepcopy(record)
        for record in _load("ws.jsonl")
        if record["scenario"] == scenario
        and record.get("client") == client
        and record["kind"] in ("ws_text", "ws_binary")
    ]


def exchanges(
    scenario: str | None, method: str, path: str, status: int | None = None
) -> list[dict[str, Any]]:
    """Recorded HTTP exchanges for this method whose path starts with `path`."""
    return [
        copy.deepcopy(record)
        for record in _load("http.jsonl")
        if scenario in (None, record["scenario"])
        and record["method"] == method
        and record["path"].startswith(path)
        and status in (None, record["status"])
    ]


def exchange(scenario: str, method: str, path: str, status: int = 200) -> dict[str, Any]:
    """The first recorded exchange that matches."""
    return exchanges(scenario, method, path, status)[0]


def saved(name: str) -> bytes:
    """A frame or file the recorder saved, by its `saved` name (`<scenario>_frames/...`)."""
    return (RECORDINGS / name).read_bytes()
