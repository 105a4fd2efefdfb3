"""Faults the emulator can be told to show, changeable at run time (POST /_emulator/faults)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


class BadFaultRequest(Exception):
    """A fault description the emulator cannot use."""


OUT_OF_MEMORY_TYPE = "torch.OutOfMemoryError"
OUT_OF_MEMORY_MESSAGE = (
    "Allocation on device \nThis error means you ran out of memory on your GPU.\n\nTIPS: If "
    "the workflow worked before you might have accidentally set the batch_size to a large number."
)
"""What ComfyUI's execution.py reports for a CUDA out-of-memory error: the exception, then its
tips (it also unloads every model)."""


@dataclass
class ExecutionFault:
    """The node `node_id` raises when it runs (not when it is served from cache)."""

    node_id: str
    exception_type: str = "RuntimeError"
    exception_message: str = "Emulated failure injected into this node\n"
    times: int | None = 1
    """How many prompts fail this way; None keeps failing until cleared."""

    @classmethod
    def parse(cls, payload: object) -> ExecutionFault:
        if not isinstance(payload, dict) or not isinstance(payload.get("node_id"), str):
            raise BadFaultRequest("execution_error needs a string node_id")
        times = payload.get("times", 1)
        if times is not None and (not isinstance(times, int) or times < 1):
            raise BadFaultRequest("times must be a positive integer or null")
        if payload.get("out_of_memory") is True:
            return cls(payload["node_id"], OUT_OF_MEMORY_TYPE, OUT_OF_MEMORY_MESSAGE, times)
        return cls(
            node_id=payload["node_id"],
            exception_type=str(payload.get("exception_type", cls.exception_type)),
            exception_message=str(payload.get("exception_message", cls.exception_message)),
            times=times,
        )


@dataclass
class Faults:
    reject_prompts: int = 0
    """The next N POST /prompt are refused with a validation error (400)."""
    execution_error: ExecutionFault | None = None
    http_delay_seconds: float = 0.0
    """Every ComfyUI HTTP route answers this much later."""

    def take_rejection(self) -> bool:
        if self.reject_prompts <= 0:
            return False
        self.reject_prompts -= 1
        return True

    def failure_at(self, node_id: str) -> ExecutionFault | None:
        fault = self.execution_error
        if fault is None or fault.node_id != node_id:
            return None
        if fault.times is not None:
            fault.times -= 1
            if fault.times <= 0:
                self.execution_error = None
        return fault

    def update(self, payload: object) -> None:
        if not isinstance(payload, dict):
            raise BadFaultRequest("expected a JSON object")
        if "reject_prompts" in payload:
            self.reject_prompts = _non_negative_int(payload["reject_prompts"], "reject_prompts")
        if "execution_error" in payload:
            raw = payload["execution_error"]
            self.execution_error = None if raw is None else ExecutionFault.parse(raw)
        if "http_delay_seconds" in payload:
            self.http_delay_seconds = _non_negative_float(payload["http_delay_seconds"])

    def clear(self) -> None:
        self.reject_prompts = 0
        self.execution_error = None
        self.http_delay_seconds = 0.0

    def snapshot(self) -> dict[str, Any]:
        return asdict(self)


def _non_negative_int(value: object, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise BadFaultRequest(f"{name} must be a non-negative integer")
    return value


def _non_negative_float(value: object) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
        raise BadFaultRequest("http_delay_seconds must be a non-negative number")
    return float(value)
