"""Rebuild the recordings in this folder from the raw ComfyUI 0.8.0 traces.

    .venv/bin/python -m tests.comfy.recordings.refresh /work/shared/comfyui/traces

Writes `ws.jsonl` (every websocket record: text frames with their exact `raw` text, binary frame
headers, the client's own sends and the closes), `http.jsonl` (every HTTP exchange with its
status, headers and body; Date and length headers dropped) and copies the saved frames
(`<scenario>_frames/`), all in arrival order.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
WS_KINDS = {"ws_text", "ws_binary", "ws_send", "ws_open", "ws_close"}
DROPPED_HEADERS = {"date", "content-length", "transfer-encoding"}
TIMING = ("t", "wall_ms", "elapsed_ms")


def _compact(scenario: str, record: dict[str, Any]) -> dict[str, Any]:
    kept = {key: value for key, value in record.items() if key not in TIMING and key != "msg"}
    kept["scenario"] = scenario
    if "saved" in kept:
        kept["saved"] = kept["saved"].removeprefix("traces/")
    if isinstance(kept.get("body"), dict) and "saved" in kept["body"]:
        kept["body"] = {**kept["body"], "saved": kept["body"]["saved"].removeprefix("traces/")}
    if "headers" in kept:
        headers = kept["headers"] or {}
        kept["headers"] = {k: v for k, v in headers.items() if k not in DROPPED_HEADERS}
    return kept


def refresh(traces: Path) -> None:
    ws: list[str] = []
    http: list[str] = []
    for trace in sorted(traces.glob("*.jsonl")):
        for line in trace.read_text().splitlines():
            record = json.loads(line)
            if record["kind"] in WS_KINDS:
                ws.append(json.dumps(_compact(trace.stem, record)))
            elif record["kind"] == "http" and record.get("status") is not None:
                http.append(json.dumps(_compact(trace.stem, record)))
    (HERE / "ws.jsonl").write_text("\n".join(ws) + "\n")
    (HERE / "http.jsonl").write_text("\n".join(http) + "\n")
    for saved in sorted(traces.glob("*_frames/*")):
        (HERE / saved.parent.name).mkdir(exist_ok=True)
        shutil.copyfile(saved, HERE / saved.parent.name / saved.name)


if __name__ == "__main__":
    refresh(Path(sys.argv[1]))
