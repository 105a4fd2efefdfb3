"""Rebuild the compact recordings in this folder from the raw ComfyUI 0.8.0 traces.

    .venv/bin/python -m tests.comfy.emulator.recordings.refresh /work/shared/comfyui/traces

Keeps every websocket frame (progress_state reduced to state/value/max per node), every HTTP
exchange (minus the Date header) and the socket open/close/send records, in arrival order.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
KEPT_PLAIN = ("ws_open", "ws_close", "ws_send", "note")


def compact(record: dict[str, Any]) -> dict[str, Any] | None:
    kind = record["kind"]
    if kind == "ws_text":
        return _text(record)
    if kind == "ws_binary":
        return {
            "kind": kind,
            "client": record.get("client"),
            "u32": record["u32_be"],
            "metadata": record.get("metadata"),
            "payload_len": record.get("payload_len"),
        }
    if kind == "http":
        headers = record.get("headers") or {}
        return {
            "kind": kind,
            "method": record["method"],
            "path": record["path"],
            "request": record.get("request"),
            "status": record.get("status"),
            "headers": {name: value for name, value in headers.items() if name != "date"},
            "body": record.get("body"),
        }
    if kind in KEPT_PLAIN:
        return {key: value for key, value in record.items() if key not in ("seq", "t", "wall_ms")}
    return None


def _text(record: dict[str, Any]) -> dict[str, Any]:
    compacted = {"kind": "ws_text", "client": record["client"], "type": record["type"]}
    data = record["msg"]["data"]
    if record["type"] == "progress_state":
        nodes = data["nodes"].items()
        compacted["nodes"] = {node: [v["state"], v["value"], v["max"]] for node, v in nodes}
    else:
        compacted["data"] = data
    return compacted


def refresh(traces: Path) -> None:
    for trace in sorted(traces.glob("*.jsonl")):
        lines = trace.read_text().splitlines()
        records = [compact(json.loads(line)) for line in lines if line.strip()]
        kept = [record for record in records if record is not None]
        (HERE / f"{trace.stem}.json").write_text(json.dumps(kept, indent=0) + "\n")


if __name__ == "__main__":
    refresh(Path(sys.argv[1]))
