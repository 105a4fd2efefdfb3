"""Builds every websocket message the emulator sends and hands it to the hub."""

from __future__ import annotations

from typing import Any

from comfy.emulator import wire
from comfy.emulator.hub import Connection, Hub

SERVER_FEATURES: dict[str, Any] = {
    "supports_preview_metadata": True,
    "max_upload_size": 104857600,
    "extension": {"manager": {"supports_v4": True}},
}


def server_features(max_upload_size: int) -> dict[str, Any]:
    return {**SERVER_FEATURES, "max_upload_size": max_upload_size}


class Messenger:
    def __init__(self, hub: Hub, max_upload_size: int) -> None:
        self.hub = hub
        self.max_upload_size = max_upload_size

    def status(self, remaining: int, sid: str | None = None) -> None:
        data: dict[str, Any] = {"status": {"exec_info": {"queue_remaining": remaining}}}
        if sid is not None:
            data["sid"] = sid
        self.hub.send(wire.text("status", data), sid)

    def feature_flags(self, sid: str) -> None:
        self.hub.send(wire.text("feature_flags", server_features(self.max_upload_size)), sid)

    def executing(self, node_id: str, prompt_id: str, sid: str) -> None:
        data = {"node": node_id, "display_node": node_id, "prompt_id": prompt_id}
        self.hub.send(wire.text("executing", data), sid)

    def executing_replay(self, node_id: str, sid: str) -> None:
        """What a reconnecting socket of the running prompt's client gets: no prompt_id."""
        self.hub.send(wire.text("executing", {"node": node_id}), sid)

    def finished(self, prompt_id: str, sid: str) -> None:
        self.hub.send(wire.text("executing", {"node": None, "prompt_id": prompt_id}), sid)

    def executed(
        self, node_id: str, output: dict[str, Any] | None, prompt_id: str, sid: str
    ) -> None:
        data = {"node": node_id, "display_node": node_id, "output": output, "prompt_id": prompt_id}
        self.hub.send(wire.text("executed", data), sid)

    def progress(
        self, value: int, maximum: int, prompt_id: str, node_id: str, sid: str | None
    ) -> None:
        data = {"value": value, "max": maximum, "prompt_id": prompt_id, "node": node_id}
        self.hub.send(wire.text("progress", data), sid)

    def progress_state(self, snapshot: dict[str, Any], sid: str | None) -> None:
        self.hub.send(wire.text("progress_state", snapshot), sid)

    def event(self, kind: str, data: dict[str, Any], sid: str | None) -> None:
        """execution_start / _cached / _success / _error / _interrupted."""
        self.hub.send(wire.text(kind, data), sid)

    def preview(self, jpeg: bytes, prompt_id: str, node_id: str, connection: Connection) -> None:
        if connection.wants_preview_metadata:
            metadata = {
                "node_id": node_id,
                "prompt_id": prompt_id,
                "display_node_id": node_id,
                "parent_node_id": None,
                "real_node_id": node_id,
                "image_type": "image/jpeg",
            }
            connection.frames.put_nowait(wire.metadata_preview(metadata, jpeg))
        else:
            connection.frames.put_nowait(wire.legacy_preview(jpeg))
