"""ComfyUI's websocket text messages, one TypedDict per message type.

Every frame is `{"type": T, "data": {...}}`. ComfyUI writes data keys in the order the `...Data`
TypedDicts declare them (optional keys only when present), so a message built in that order
encodes to exactly ComfyUI's bytes (see `comfy.protocol.encode_message`). `node_step` reads a
sampler's step out of the one message whose entries are not checked on arrival.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypeAlias, TypedDict

MessageType: TypeAlias = Literal[
    "status",
    "feature_flags",
    "execution_start",
    "execution_cached",
    "executing",
    "progress",
    "progress_state",
    "executed",
    "execution_success",
    "execution_error",
    "execution_interrupted",
]
NodeState: TypeAlias = Literal["pending", "running", "finished", "error"]


class ExecInfo(TypedDict):
    queue_remaining: int  # running + pending


class StatusPayload(TypedDict):
    exec_info: ExecInfo


class StatusData(TypedDict):
    status: StatusPayload
    sid: NotRequired[str]  # only in the first frame after connect: the socket's client id


class StatusMessage(TypedDict):
    """Sent on connect (with sid) and broadcast to every socket whenever the queue changes."""

    type: Literal["status"]
    data: StatusData


class ServerFeatureFlags(TypedDict, total=False):
    supports_preview_metadata: bool
    max_upload_size: int
    extension: dict[str, Any]


class FeatureFlagsMessage(TypedDict):
    """The server's answer to a client whose first frame was the feature_flags hello."""

    type: Literal["feature_flags"]
    data: ServerFeatureFlags


class ExecutionStartData(TypedDict):
    prompt_id: str
    timestamp: NotRequired[int]  # milliseconds since the epoch


class ExecutionStartMessage(TypedDict):
    type: Literal["execution_start"]
    data: ExecutionStartData


class ExecutionCachedData(TypedDict):
    nodes: list[str]  # served from cache; [] on a cold run, every node on a fully cached one
    prompt_id: str
    timestamp: NotRequired[int]


class ExecutionCachedMessage(TypedDict):
    type: Literal["execution_cached"]
    data: ExecutionCachedData


class ExecutingData(TypedDict):
    node: str | None  # None: the prompt is finished (after success, error or interrupt)
    display_node: NotRequired[str]
    prompt_id: NotRequired[str]  # absent in the replay a reconnecting socket gets


class ExecutingMessage(TypedDict):
    type: Literal["executing"]
    data: ExecutingData


class NodeProgress(TypedDict):
    value: float
    max: float
    state: NodeState
    node_id: str
    prompt_id: str
    display_node_id: str
    parent_node_id: str | None
    real_node_id: str


class ProgressStateData(TypedDict):
    prompt_id: str
    nodes: dict[str, NodeProgress]  # cumulative: every node started so far


class ProgressStateMessage(TypedDict):
    type: Literal["progress_state"]
    data: ProgressStateData


def node_step(data: ProgressStateData, node_id: str) -> tuple[int, int] | None:
    """(step, steps) of `node_id` in a `progress_state`, while it runs and once it has made a
    step; None otherwise, and for an entry of any other shape. A node's entry starts at 0 of 1
    when it begins and a sampler's values are whole numbers of steps (comfy_execution/progress.py),
    so a fraction is no step."""
    entry: Any = data["nodes"].get(node_id)
    if not isinstance(entry, dict) or entry.get("state") != "running":
        return None
    value: Any = entry.get("value")
    maximum: Any = entry.get("max")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (value, maximum)):
        return None
    if value < 1 or maximum < value or value != int(value) or maximum != int(maximum):
        return None
    return int(value), int(maximum)


class ProgressData(TypedDict):
    value: int
    max: int
    prompt_id: str
    node: str


class ProgressMessage(TypedDict):
    """One per sampler step."""

    type: Literal["progress"]
    data: ProgressData


class ExecutedData(TypedDict):
    node: str
    display_node: NotRequired[str]
    output: dict[str, Any]  # e.g. {"images": [{"filename", "subfolder", "type"}]}
    prompt_id: str


class ExecutedMessage(TypedDict):
    type: Literal["executed"]
    data: ExecutedData


class ExecutionSuccessData(TypedDict):
    prompt_id: str
    timestamp: NotRequired[int]


class ExecutionSuccessMessage(TypedDict):
    type: Literal["execution_success"]
    data: ExecutionSuccessData


class ExecutionErrorData(TypedDict):
    prompt_id: str
    node_id: str
    node_type: str
    executed: NotRequired[list[str]]
    exception_message: str
    exception_type: str
    traceback: NotRequired[list[str]]
    current_inputs: NotRequired[dict[str, Any]]
    current_outputs: NotRequired[list[str]]
    timestamp: NotRequired[int]


class ExecutionErrorMessage(TypedDict):
    type: Literal["execution_error"]
    data: ExecutionErrorData


class ExecutionInterruptedData(TypedDict):
    prompt_id: str
    node_id: str
    node_type: str
    executed: NotRequired[list[str]]
    timestamp: NotRequired[int]


class ExecutionInterruptedMessage(TypedDict):
    type: Literal["execution_interrupted"]
    data: ExecutionInterruptedData


ServerMessage: TypeAlias = (
    StatusMessage
    | FeatureFlagsMessage
    | ExecutionStartMessage
    | ExecutionCachedMessage
    | ExecutingMessage
    | ProgressMessage
    | ProgressStateMessage
    | ExecutedMessage
    | ExecutionSuccessMessage
    | ExecutionErrorMessage
    | ExecutionInterruptedMessage
)


class ClientFeatureFlags(TypedDict):
    supports_preview_metadata: bool


class ClientFeatureFlagsMessage(TypedDict):
    type: Literal["feature_flags"]
    data: ClientFeatureFlags


ClientMessage: TypeAlias = ClientFeatureFlagsMessage
