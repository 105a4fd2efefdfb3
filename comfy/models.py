"""What the ComfyUI HTTP API answers, as typed values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Outcome = Literal["success", "error", "interrupted"]


@dataclass(frozen=True)
class UploadedImage:
    name: str
    subfolder: str
    type: str


@dataclass(frozen=True)
class QueuedPrompt:
    prompt_id: str
    number: int


@dataclass(frozen=True)
class OutputImage:
    filename: str
    subfolder: str
    type: str
    node_id: str


@dataclass(frozen=True)
class HistoryEntry:
    prompt_id: str
    status_str: str
    completed: bool
    messages: list[tuple[str, dict[str, Any]]]
    outputs: list[OutputImage]

    @property
    def outcome(self) -> Outcome:
        """Failed and interrupted prompts are both "error"; only the last message tells them apart."""
        if self.status_str == "success":
            return "success"
        last = self.messages[-1][0] if self.messages else ""
        return "interrupted" if last == "execution_interrupted" else "error"

    @property
    def error(self) -> dict[str, Any] | None:
        for kind, data in reversed(self.messages):
            if kind == "execution_error":
                return dict(data)
        return None


@dataclass(frozen=True)
class QueueSnapshot:
    running: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Job:
    id: str
    status: str
    raw: dict[str, Any]


@dataclass(frozen=True)
class SystemStats:
    comfyui_version: str | None
    python_version: str | None
    devices: list[dict[str, Any]]


def parse_history(prompt_id: str, body: dict[str, Any]) -> HistoryEntry | None:
    entry = body.get(prompt_id)
    if not entry:
        return None
    status = entry.get("status") or {}
    outputs = [
        OutputImage(
            filename=image["filename"],
            subfolder=image.get("subfolder", ""),
            type=image.get("type", "output"),
            node_id=str(node_id),
        )
        for node_id, output in (entry.get("outputs") or {}).items()
        for image in output.get("images", [])
    ]
    return HistoryEntry(
        prompt_id=prompt_id,
        status_str=str(status.get("status_str", "")),
        completed=bool(status.get("completed", False)),
        messages=[(str(kind), dict(data)) for kind, data in status.get("messages", [])],
        outputs=outputs,
    )


def parse_queue(body: dict[str, Any]) -> QueueSnapshot:
    def ids(items: list[list[Any]]) -> list[str]:
        return [str(item[1]) for item in items if len(item) > 1]

    return QueueSnapshot(
        running=ids(body.get("queue_running", [])), pending=ids(body.get("queue_pending", []))
    )


def parse_system_stats(body: dict[str, Any]) -> SystemStats:
    system = body.get("system") or {}
    return SystemStats(
        comfyui_version=system.get("comfyui_version"),
        python_version=system.get("python_version"),
        devices=list(body.get("devices") or []),
    )
