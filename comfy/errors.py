"""Errors of the ComfyUI client, translated once at the boundary (httpx, websockets, JSON).

ComfyError
 ├── ComfyUnavailable        the server cannot be reached: refused, timed out, broken off
 │    └── ComfyServerError   it answered 5xx (status_code, body)
 ├── ComfyProtocolError      an answer whose status or shape we do not understand
 │    └── ProtocolError      a websocket frame that breaks the protocol
 ├── ComfyNotFound           the thing asked for does not exist there (e.g. /view 404)
 └── PromptRejected         400 from POST /prompt: ComfyUI's `error` and `node_errors`
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class ComfyError(Exception):
    """Anything that went wrong talking to a ComfyUI server."""


class ComfyUnavailable(ComfyError):
    """The server cannot serve us now; trying again later (or elsewhere) may work."""


class ComfyServerError(ComfyUnavailable):
    """The server answered with a 5xx status."""

    def __init__(self, message: str, *, status_code: int, body: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.body = body


class ComfyProtocolError(ComfyError):
    """An answer we do not understand: an unexpected status or body."""


class ProtocolError(ComfyProtocolError):
    """A websocket frame that is not valid ComfyUI protocol."""


class ComfyNotFound(ComfyError):
    """The server does not have what was asked for."""


class PromptRejected(ComfyError):
    """POST /prompt answered 400: the prompt failed validation and was not queued."""

    def __init__(self, error: dict[str, Any], node_errors: dict[str, Any]) -> None:
        self.error = error
        self.node_errors = node_errors
        super().__init__(summarize_rejection(error, node_errors))

    @property
    def error_type(self) -> str:
        return str(self.error.get("type", ""))

    @property
    def only_node(self) -> tuple[str | None, str | None]:
        """(node id, node type) when `node_errors` names exactly one node, else (None, None)."""
        if len(self.node_errors) != 1:
            return None, None
        node_id, node = next(iter(self.node_errors.items()))
        node_type = node.get("class_type") if isinstance(node, dict) else None
        return str(node_id), node_type if isinstance(node_type, str) else None


def summarize_rejection(error: dict[str, Any], node_errors: dict[str, Any]) -> str:
    """One readable line: the prompt's error, then every problem of every failing node."""
    parts = [_describe(error) or "Prompt rejected"]
    for node_id, node in node_errors.items():
        if not isinstance(node, dict):
            continue
        problems = [_describe(problem) for problem in node.get("errors", [])]
        where = f"node {node_id} ({node.get('class_type', '?')})"
        parts.extend(f"{where}: {problem}" for problem in problems if problem)
    return "; ".join(parts)


def _describe(problem: Any) -> str:
    if not isinstance(problem, dict):
        return ""
    message = str(problem.get("message") or problem.get("type") or "")
    details = str(problem.get("details") or "")
    if details and details not in message:
        return f"{message} ({details})" if message else details
    return message


OUT_OF_MEMORY_TYPES = frozenset({"torch.OutOfMemoryError", "torch.cuda.OutOfMemoryError"})
OUT_OF_MEMORY_TIP = "ran out of memory on your GPU"


def is_out_of_memory(error: Mapping[str, Any]) -> bool:
    """Whether an execution_error is ComfyUI reporting a GPU out-of-memory error: the
    exception type torch raises, or the tip execution.py adds to its message."""
    return error.get("exception_type") in OUT_OF_MEMORY_TYPES or OUT_OF_MEMORY_TIP in str(
        error.get("exception_message", "")
    )
