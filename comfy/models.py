"""What the ComfyUI HTTP API answers, as typed values built from its JSON bodies.

The `from_json` constructors raise KeyError, TypeError or ValueError on a body of the wrong
shape; the client turns those into ComfyProtocolError where it receives the body.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final, Literal, TypeAlias

Outcome: TypeAlias = Literal["success", "error", "interrupted"]
JobStatus: TypeAlias = Literal["pending", "in_progress", "completed", "failed"]
HistoryMessage: TypeAlias = tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class UploadedImage:
    name: str
    subfolder: str
    type: str

    @property
    def reference(self) -> str:
        """The value a LoadImage node's `image` input takes to read this file."""
        return f"{self.subfolder}/{self.name}" if self.subfolder else self.name

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> UploadedImage:
        return cls(
            name=_text(body["name"]),
            subfolder=_text(body.get("subfolder") or ""),
            type=_text(body.get("type") or "input"),
        )


@dataclass(frozen=True)
class QueuedPrompt:
    prompt_id: str
    number: int
    node_errors: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> QueuedPrompt:
        return cls(
            prompt_id=_text(body["prompt_id"]),
            number=int(body["number"]),
            node_errors=dict(body.get("node_errors") or {}),
        )


@dataclass(frozen=True)
class OutputImage:
    filename: str
    subfolder: str
    type: str
    node_id: str

    @property
    def view_params(self) -> dict[str, str]:
        """The query of GET /view for this image."""
        return {"filename": self.filename, "subfolder": self.subfolder, "type": self.type}


def output_images(outputs: dict[str, Any]) -> list[OutputImage]:
    """The images of a prompt's outputs (`{node_id: {"images": [...]}}`), node by node."""
    return [
        OutputImage(
            filename=_text(image["filename"]),
            subfolder=_text(image.get("subfolder") or ""),
            type=_text(image.get("type") or "output"),
            node_id=str(node_id),
        )
        for node_id, output in outputs.items()
        for image in (output or {}).get("images") or []
    ]


_OUTCOMES: Final[Mapping[str, Outcome]] = MappingProxyType(
    {
        "execution_success": "success",
        "execution_error": "error",
        "execution_interrupted": "interrupted",
    }
)


def outcome_of(messages: list[HistoryMessage]) -> Outcome | None:
    """Success, error or interrupt, told by the last execution message; None while unknown."""
    for kind, _ in reversed(messages):
        if kind in _OUTCOMES:
            return _OUTCOMES[kind]
    return None


def error_of(messages: list[HistoryMessage]) -> dict[str, Any] | None:
    """The data of the execution_error message, if the prompt failed with one."""
    return next((data for kind, data in reversed(messages) if kind == "execution_error"), None)


def _messages(status: dict[str, Any]) -> list[HistoryMessage]:
    return [(_text(kind), dict(data)) for kind, data in status.get("messages") or []]


@dataclass(frozen=True)
class HistoryEntry:
    """A finished prompt as GET /history/{id} reports it (failed and interrupted ones too)."""

    prompt_id: str
    status_str: str
    completed: bool
    messages: list[HistoryMessage]
    outputs: list[OutputImage]

    @property
    def outcome(self) -> Outcome:
        """Failed and interrupted prompts are both "error"; only the last message tells them apart."""
        if self.status_str == "success":
            return "success"
        return "interrupted" if outcome_of(self.messages) == "interrupted" else "error"

    @property
    def error(self) -> dict[str, Any] | None:
        return error_of(self.messages)

    @classmethod
    def from_json(cls, prompt_id: str, entry: dict[str, Any]) -> HistoryEntry:
        status = entry.get("status") or {}
        return cls(
            prompt_id=prompt_id,
            status_str=_text(status.get("status_str") or ""),
            completed=bool(status.get("completed", False)),
            messages=_messages(status),
            outputs=output_images(entry.get("outputs") or {}),
        )


@dataclass(frozen=True)
class QueueSnapshot:
    """Prompt ids in ComfyUI's queue: the running one(s) and the pending ones in run order."""

    running: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)

    def __contains__(self, prompt_id: object) -> bool:
        return prompt_id in self.running or prompt_id in self.pending

    def pending_position(self, prompt_id: str) -> int | None:
        """0 for the prompt that runs next; None when it is not pending."""
        return self.pending.index(prompt_id) if prompt_id in self.pending else None

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> QueueSnapshot:
        return cls(
            running=_queue_ids(body["queue_running"]), pending=_queue_ids(body["queue_pending"])
        )


def _queue_ids(items: list[list[Any]]) -> list[str]:
    """Items are [number, prompt_id, prompt, extra_data, outputs]; lower numbers run first."""
    return [_text(item[1]) for item in sorted(items, key=lambda item: float(item[0]))]


@dataclass(frozen=True)
class Job:
    """A prompt as GET /api/jobs/{id} reports it (ComfyUI 0.8 and later)."""

    id: str
    status: str  # a JobStatus; kept open for statuses newer servers may add
    priority: int | None
    create_time: int | None
    execution_start_time: int | None
    execution_end_time: int | None
    outputs: list[OutputImage]
    execution_error: dict[str, Any] | None
    raw: dict[str, Any]

    @property
    def outcome(self) -> Outcome | None:
        """Interrupted jobs are "failed" without an execution_error; None while not finished."""
        if self.status == "completed":
            return "success"
        if self.status == "failed":
            return "error" if self.execution_error is not None else "interrupted"
        return None

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Job:
        return cls(
            id=_text(body["id"]),
            status=_text(body["status"]),
            priority=_optional_int(body.get("priority")),
            create_time=_optional_int(body.get("create_time")),
            execution_start_time=_optional_int(body.get("execution_start_time")),
            execution_end_time=_optional_int(body.get("execution_end_time")),
            outputs=output_images(body.get("outputs") or {}),
            execution_error=body.get("execution_error"),
            raw=body,
        )


@dataclass(frozen=True)
class Device:
    name: str
    type: str
    vram_total: int | None
    vram_free: int | None


@dataclass(frozen=True)
class SystemStats:
    comfyui_version: str | None
    python_version: str | None
    pytorch_version: str | None
    os: str | None
    ram_total: int | None
    ram_free: int | None
    devices: list[Device]
    emulator: bool = False
    """The server is the emulator (comfy/emulator), which says so in /system_stats."""

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> SystemStats:
        system = body.get("system") or {}
        return cls(
            comfyui_version=system.get("comfyui_version"),
            python_version=system.get("python_version"),
            pytorch_version=system.get("pytorch_version"),
            os=system.get("os"),
            ram_total=_optional_int(system.get("ram_total")),
            ram_free=_optional_int(system.get("ram_free")),
            devices=[_device(device) for device in body.get("devices") or []],
            emulator=isinstance(body.get("emulator"), dict),
        )


def _device(device: dict[str, Any]) -> Device:
    return Device(
        name=_text(device.get("name") or ""),
        type=_text(device.get("type") or ""),
        vram_total=_optional_int(device.get("vram_total")),
        vram_free=_optional_int(device.get("vram_free")),
    )


def _text(value: Any) -> str:
    if not isinstance(value, str | int):
        raise TypeError(f"expected a string, got {value!r:.80}")
    return str(value)


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)
