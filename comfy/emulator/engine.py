"""Runs one prompt: caching, node order, messages, history record."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from comfy.emulator import cache as signatures_of
from comfy.emulator import tracebacks
from comfy.emulator.cache import OutputCache, Signature, is_link
from comfy.emulator.catalogue import NodeCatalogue, NodeSpec
from comfy.emulator.environment import Environment
from comfy.emulator.faults import Faults
from comfy.emulator.graph import DependencyCycle, ExecutionList
from comfy.emulator.hub import Hub
from comfy.emulator.messenger import Messenger
from comfy.emulator.node_context import RunningNode
from comfy.emulator.progress import ProgressMap
from comfy.emulator.prompt_queue import QueueItem
from comfy.emulator.values import Interrupted, NodeFailure, NodeResult


@dataclass
class RunPointer:
    """What ComfyUI keeps on its server object: the running prompt's client and node."""

    client_id: str | None = None
    last_node_id: str | None = None


@dataclass(frozen=True)
class EngineParts:
    catalogue: NodeCatalogue
    environment: Environment
    hub: Hub
    messenger: Messenger
    faults: Faults
    cache: OutputCache
    pointer: RunPointer
    interrupt: asyncio.Event


@dataclass
class RunOutcome:
    history: dict[str, Any]
    status: dict[str, Any]


class NodeError(Exception):
    def __init__(self, node_id: str, failure: NodeFailure, inputs: dict[str, Any]) -> None:
        super().__init__(str(failure))
        self.node_id, self.failure, self.inputs = node_id, failure, inputs


@dataclass
class PromptRun:
    parts: EngineParts
    item: QueueItem
    messages: list[list[Any]] = field(default_factory=list)
    executed: list[str] = field(default_factory=list)
    ui_outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    signatures: dict[str, Signature] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.progress = ProgressMap(self.item.prompt_id)

    @property
    def client_id(self) -> str | None:
        return self.item.client_id

    @property
    def prompt(self) -> dict[str, Any]:
        return self.item.prompt

    async def run(self) -> RunOutcome:
        self.parts.interrupt.clear()
        self.parts.pointer.client_id = self.client_id
        try:
            succeeded = await self._run_graph()
        finally:
            self.parts.pointer.last_node_id = None
        return self._outcome(succeeded)

    async def _run_graph(self) -> bool:
        prompt_id = self.item.prompt_id
        self.add_message("execution_start", {"prompt_id": prompt_id}, broadcast=False)
        cached = await self._prepare_cache()
        self.add_message(
            "execution_cached", {"nodes": cached, "prompt_id": prompt_id}, broadcast=False
        )
        try:
            await self._walk()
        except NodeError as error:
            self._report_error(error)
            return False
        except Interrupted as interruption:
            self._report_interrupt(str(interruption))
            return False
        except DependencyCycle as cycle:
            self._report_error(NodeError(cycle.node_id, _cycle_failure(), {}))
            return False
        self.add_message("execution_success", {"prompt_id": prompt_id}, broadcast=False)
        return True

    async def _prepare_cache(self) -> list[str]:
        parts = self.parts
        self.signatures = await asyncio.to_thread(
            signatures_of.signatures, self.prompt, parts.catalogue, parts.environment
        )
        parts.cache.keep_only(set(self.signatures.values()))
        return [node_id for node_id in self.prompt if self._is_cached(node_id)]

    def _is_cached(self, node_id: str) -> bool:
        return self.parts.cache.get(self.signatures[node_id]) is not None

    async def _walk(self) -> None:
        order = ExecutionList(self.prompt, self.parts.catalogue, self._is_cached)
        for output in self.item.outputs:
            order.add_node(output)
        while not order.is_empty():
            node_id = order.next_node()
            await self._execute(node_id)
            order.complete(node_id)

    async def _execute(self, node_id: str) -> None:
        cached = self.parts.cache.get(self.signatures[node_id])
        if cached is not None:
            self._replay(node_id, cached)
            return
        self.progress.start(node_id)
        self.send_progress_state()
        if self.client_id is not None:
            self.parts.pointer.last_node_id = node_id
            self.parts.messenger.executing(node_id, self.item.prompt_id, self.client_id)
        result = await self._run_node(node_id)
        self.parts.cache.put(self.signatures[node_id], result)
        self.executed.append(node_id)
        if result.ui:
            self._publish_ui(node_id, result.ui)
        self.progress.finish(node_id)
        self.send_progress_state()

    def _replay(self, node_id: str, cached: NodeResult) -> None:
        if self.client_id is not None:
            messenger = self.parts.messenger
            messenger.executed(node_id, cached.ui, self.item.prompt_id, self.client_id)
        if cached.ui is not None:
            self.ui_outputs[node_id] = cached.ui
        self.progress.finish(node_id)
        self.send_progress_state()

    def _publish_ui(self, node_id: str, ui: dict[str, Any]) -> None:
        self.ui_outputs[node_id] = ui
        if self.client_id is not None:
            self.parts.messenger.executed(node_id, ui, self.item.prompt_id, self.client_id)

    async def _run_node(self, node_id: str) -> NodeResult:
        spec = self._spec(node_id)
        inputs = self._gather(node_id, spec)
        if self.parts.interrupt.is_set():
            raise Interrupted(node_id)
        try:
            return await self._call(node_id, spec, inputs)
        except NodeFailure as failure:
            raise NodeError(node_id, failure, inputs) from failure

    async def _call(self, node_id: str, spec: NodeSpec, inputs: dict[str, Any]) -> NodeResult:
        fault = self.parts.faults.failure_at(node_id)
        if fault is not None:
            frames = tracebacks.emulated_failure(spec.name)
            raise NodeFailure(fault.exception_type, fault.exception_message, frames)
        node_seconds = self.parts.environment.config.node_seconds
        if node_seconds:
            await asyncio.sleep(node_seconds)
        try:
            return await spec.run(inputs, RunningNode(self, node_id))
        except (NodeFailure, Interrupted):
            raise
        except Exception as exc:  # any other failure inside a node is that node's error
            raise NodeFailure(_type_name(exc), f"{exc}\n", list(tracebacks.NODE_EXECUTION)) from exc

    def _gather(self, node_id: str, spec: NodeSpec) -> dict[str, Any]:
        raw = self.prompt[node_id]["inputs"]
        gathered: dict[str, Any] = {}
        for input_spec in spec.inputs:
            if input_spec.name in raw:
                gathered[input_spec.name] = self._resolve(raw[input_spec.name])
        return gathered

    def _resolve(self, value: Any) -> Any:
        if not is_link(value):
            return value
        upstream = self.parts.cache.get(self.signatures[value[0]])
        return None if upstream is None else upstream.outputs[int(value[1])]

    def _spec(self, node_id: str) -> NodeSpec:
        spec = self.parts.catalogue.get(self.prompt[node_id]["class_type"])
        if spec is None:
            raise NodeError(node_id, NodeFailure("KeyError", f"'{node_id}'\n"), {})
        return spec

    def add_message(self, event: str, data: dict[str, Any], broadcast: bool) -> None:
        stamped = {**data, "timestamp": int(time.time() * 1000)}
        self.messages.append([event, stamped])
        if self.client_id is not None or broadcast:
            self.parts.messenger.event(event, stamped, self.client_id)

    def send_progress_state(self) -> None:
        self.parts.messenger.progress_state(self.progress.snapshot(), self.client_id)

    def _report_error(self, error: NodeError) -> None:
        failure = error.failure
        data = {
            "prompt_id": self.item.prompt_id,
            "node_id": error.node_id,
            "node_type": self.prompt[error.node_id]["class_type"],
            "executed": list(self.executed),
            "exception_message": failure.exception_message,
            "exception_type": failure.exception_type,
            "traceback": failure.traceback,
            "current_inputs": {name: [_shown(value)] for name, value in error.inputs.items()},
            "current_outputs": list(self.prompt),
        }
        self.add_message("execution_error", data, broadcast=False)

    def _report_interrupt(self, node_id: str) -> None:
        data = {
            "prompt_id": self.item.prompt_id,
            "node_id": node_id,
            "node_type": self.prompt[node_id]["class_type"],
            "executed": list(self.executed),
        }
        self.add_message("execution_interrupted", data, broadcast=True)

    def _outcome(self, succeeded: bool) -> RunOutcome:
        status = {
            "status_str": "success" if succeeded else "error",
            "completed": succeeded,
            "messages": self.messages,
        }
        if not succeeded:
            return RunOutcome({"outputs": {}, "meta": {}}, status)
        meta = {node_id: _meta(node_id) for node_id in self.ui_outputs}
        return RunOutcome({"outputs": dict(self.ui_outputs), "meta": meta}, status)


def _meta(node_id: str) -> dict[str, Any]:
    return {
        "node_id": node_id,
        "display_node": node_id,
        "parent_node": None,
        "real_node_id": node_id,
    }


def _shown(value: Any) -> Any:
    if value is None or isinstance(value, (int, float, bool, str)):
        return value
    return str(value)


def _type_name(exc: Exception) -> str:
    kind = type(exc)
    return (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )


def _cycle_failure() -> NodeFailure:
    return NodeFailure("graph.DependencyCycleError", "Dependency cycle detected", [])
