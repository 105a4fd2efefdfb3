"""The in-memory prompt queue and history (lost on restart, like ComfyUI's)."""

from __future__ import annotations

import asyncio
import copy
import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

HistoryEntry = dict[str, Any]


@dataclass(order=True)
class QueueItem:
    """One accepted prompt; ordered like ComfyUI's heap tuples (number, then prompt_id)."""

    number: float
    prompt_id: str
    prompt: dict[str, Any] = field(compare=False)
    extra_data: dict[str, Any] = field(compare=False)
    outputs: list[str] = field(compare=False)
    sensitive: dict[str, Any] = field(compare=False, default_factory=dict)

    @property
    def client_id(self) -> str | None:
        client_id = self.extra_data.get("client_id")
        return client_id if isinstance(client_id, str) else None

    def public(self) -> list[Any]:
        """The 5-element form shown by /queue and /history (sensitive extra data removed)."""
        return [self.number, self.prompt_id, self.prompt, self.extra_data, self.outputs]


@dataclass
class RunningTask:
    task_id: int
    item: QueueItem


class PromptQueue:
    def __init__(self, history_limit: int, on_change: Callable[[], None]) -> None:
        self._history_limit = history_limit
        self._on_change = on_change
        self._pending: list[QueueItem] = []
        self._running: dict[int, QueueItem] = {}
        self._history: dict[str, HistoryEntry] = {}
        self._task_counter = 0
        self._not_empty = asyncio.Event()

    def put(self, item: QueueItem) -> None:
        heapq.heappush(self._pending, item)
        self._not_empty.set()
        self._on_change()

    async def get(self) -> RunningTask:
        while not self._pending:
            self._not_empty.clear()
            await self._not_empty.wait()
        item = heapq.heappop(self._pending)
        task = RunningTask(self._task_counter, copy.deepcopy(item))
        self._running[task.task_id] = task.item
        self._task_counter += 1
        self._on_change()
        return task

    def task_done(self, task: RunningTask, result: HistoryEntry, status: dict[str, Any]) -> None:
        item = self._running.pop(task.task_id)
        if len(self._history) > self._history_limit:
            self._history.pop(next(iter(self._history)))
        entry: HistoryEntry = {"prompt": item.public(), "outputs": {}, "status": status}
        entry.update(result)
        self._history[item.prompt_id] = entry
        self._on_change()

    def remaining(self) -> int:
        return len(self._pending) + len(self._running)

    def running(self) -> list[QueueItem]:
        return list(self._running.values())

    def pending(self) -> list[QueueItem]:
        """In heap order, as GET /queue lists them."""
        return list(self._pending)

    def is_running(self, prompt_id: str) -> bool:
        return any(item.prompt_id == prompt_id for item in self._running.values())

    def wipe(self) -> None:
        self._pending = []
        self._on_change()

    def delete(self, prompt_id: str) -> bool:
        """Remove the first pending item with this id; a running one is left alone."""
        for index, item in enumerate(self._pending):
            if item.prompt_id != prompt_id:
                continue
            if len(self._pending) == 1:
                self.wipe()
            else:
                self._pending.pop(index)
                heapq.heapify(self._pending)
            self._on_change()
            return True
        return False

    def history(self, max_items: int | None = None, offset: int = -1) -> dict[str, HistoryEntry]:
        if offset < 0 and max_items is not None:
            offset = len(self._history) - max_items
        selected: dict[str, HistoryEntry] = {}
        for index, (prompt_id, entry) in enumerate(self._history.items()):
            if index < offset:
                continue
            selected[prompt_id] = entry
            if max_items is not None and len(selected) >= max_items:
                break
        return selected

    def history_entry(self, prompt_id: str) -> dict[str, HistoryEntry]:
        entry = self._history.get(prompt_id)
        return {} if entry is None else {prompt_id: copy.deepcopy(entry)}

    def all_history(self) -> dict[str, HistoryEntry]:
        return dict(self._history)

    def wipe_history(self) -> None:
        self._history.clear()

    def delete_history(self, prompt_id: str) -> None:
        self._history.pop(prompt_id, None)
