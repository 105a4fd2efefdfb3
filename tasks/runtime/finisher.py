"""Finishing a prompt: read its history, store its image, and end the task accordingly."""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from uuid import UUID

from comfy.errors import ComfyError, is_out_of_memory
from comfy.models import HistoryEntry
from tasks.runtime.backends import Backend
from tasks.runtime.outcomes import TaskOutcomes
from tasks.runtime.outputs import OutputCollector
from tasks.store.task_rows import Task, task_by_id
from workflows.registry import TemplateRegistry

logger = logging.getLogger(__name__)

# /history/{id} is written just after execution_success; give it a moment.
HISTORY_DELAYS = (0.0, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0)


class PromptFinisher:
    def __init__(
        self, *, outcomes: TaskOutcomes, collector: OutputCollector, templates: TemplateRegistry
    ) -> None:
        self._outcomes = outcomes
        self._collector = collector
        self._templates = templates

    async def complete(self, task_id: UUID, prompt_id: str, backend: Backend) -> None:
        entry = await self._history(prompt_id, backend)
        if entry is None:
            logger.warning(
                "no history for prompt %s on %s yet; reconciliation will retry",
                prompt_id,
                backend.url,
            )
            return
        await self.settle(task_id, prompt_id, entry, backend)

    async def settle(
        self, task_id: UUID, prompt_id: str, entry: HistoryEntry, backend: Backend
    ) -> None:
        """End a task from its prompt's history entry (success, error or interrupt); nothing
        when the task has left that prompt meanwhile (ended, or re-queued by another path)."""
        task = await self._running(task_id, prompt_id)
        if task is None:
            return
        if entry.outcome == "interrupted":
            await self._outcomes.cancelled(task_id, "Interrupted on the ComfyUI server.")
            return
        if entry.outcome == "error":
            await self._failed_from_error(task_id, entry.error or {}, backend)
            return
        template = self._templates.get(task.workflow)
        images = [image for image in entry.outputs if image.node_id == template.output_node]
        if not images:
            await self._outcomes.failed(
                task_id,
                "NO_OUTPUT",
                f"The prompt finished without an image from node {template.output_node}.",
            )
            return
        try:
            collected = await self._collector.collect(task, backend.client, images[0])
        except ComfyError as exc:
            logger.warning("could not download the output of task %s: %s", task_id, exc)
            return
        if await self._outcomes.completed(task_id, collected) is None:
            # Finished meanwhile (cancelled, or settled by another path): keep nothing of ours.
            await self._collector.discard(collected)

    async def fail_from_error(
        self, task_id: UUID, prompt_id: str, error: dict[str, Any], backend: Backend
    ) -> None:
        """End (or, out of memory, retry) a task from its prompt's execution error; nothing when
        the task has left that prompt meanwhile."""
        if await self._running(task_id, prompt_id) is not None:
            await self._failed_from_error(task_id, error, backend)

    async def _failed_from_error(
        self, task_id: UUID, error: dict[str, Any], backend: Backend
    ) -> None:
        node_type = error.get("node_type")
        message = str(error.get("exception_message", "The workflow failed.")).strip()
        details = {
            "node_id": error.get("node_id"),
            "node_type": node_type,
            "exception_type": error.get("exception_type"),
        }
        if is_out_of_memory(error):
            await self._free_memory(backend)
            first_line = message.splitlines()[0].strip() if message else ""
            await self._outcomes.out_of_memory(
                task_id, f"{node_type or 'A node'} ran out of GPU memory: {first_line}", details
            )
            return
        await self._outcomes.failed(
            task_id, "EXECUTION_FAILED", f"{node_type or 'A node'} failed: {message}", details
        )

    async def _running(self, task_id: UUID, prompt_id: str) -> Task | None:
        """The task while it is unfinished and still runs this prompt, else None: an outcome
        read for an earlier attempt (the tracker and the reconciler may both hold one) must not
        end a later one."""
        task = await task_by_id(task_id)
        if task is None or task.status.is_terminal or task.prompt_id != prompt_id:
            return None
        return task

    async def _free_memory(self, backend: Backend) -> None:
        """POST /free (unload models, free memory) so a retry starts from an empty GPU."""
        try:
            await backend.free_memory()
        except ComfyError as exc:
            logger.warning("could not free memory on %s after an OOM: %s", backend.url, exc)

    async def _history(self, prompt_id: str, backend: Backend) -> HistoryEntry | None:
        for delay in HISTORY_DELAYS:
            await asyncio.sleep(delay)
            entry = await backend.client.history(prompt_id)
            if entry is not None:
                return entry
        return None
