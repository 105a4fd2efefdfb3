"""Errors of the ComfyUI client, translated once at the boundary (httpx, websockets, JSON).

ComfyError
 ├── ComfyUnavailable    the server cannot be reached: refused, timed out, 5xx
 ├── ComfyProtocolError  an answer whose shape we do not understand
 └── PromptRejected      400 from POST /prompt, with ComfyUI's node_errors
"""

from __future__ import annotations

from typing import Any


class ComfyError(Exception):
    pass


class ComfyUnavailable(ComfyError):
    pass


class ComfyProtocolError(ComfyError):
    pass


class PromptRejected(ComfyError):
    def __init__(self, error: dict[str, Any], node_errors: dict[str, Any]) -> None:
        self.error = error
        self.node_errors = node_errors
        super().__init__(summarize_rejection(error, node_errors))


def summarize_rejection(error: dict[str, Any], node_errors: dict[str, Any]) -> str:
    """One readable line: the prompt error and each node's first problem."""
    parts = [str(error.get("message") or error.get("type") or "Prompt rejected")]
    details = error.get("details")
    if details:
        parts[0] += f": {details}"
    for node_id, node in node_errors.items():
        for problem in node.get("errors", [])[:1]:
            what = problem.get("details") or problem.get("message")
            parts.append(f"node {node_id} ({node.get('class_type')}): {what}")
    return "; ".join(parts)
