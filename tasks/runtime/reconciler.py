"""Reconciliation: after a (re)connect, check every unfinished task of a backend against what the
backend still knows, because ComfyUI drops events for absent sockets and forgets all on restart."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from comfy.errors import ComfyError
from tasks.runtime.backends import Backend
from tasks.runtime.finisher import PromptFinisher
from tasks.runtime.outcomes import TaskOutcomes
from tasks.status import TaskStatus
from tasks.store.clock import utc_now
from tasks.store.task_rows import Task, active_tasks_of_backend

logger = logging.getLogger(__name__)

# A claimed task whose POST /prompt has not been confirmed may still be on its way.
IN_FLIGHT_GRACE = timedelta(seconds=30)


class Reconciler:
    def __init__(self, *, outcomes: TaskOutcomes, finisher: PromptFinisher) -> None:
        self._outcomes = outcomes
        self._finisher = finisher

    async def reconcile(self, backend: Backend) -> None:
        try:
            await backend.refresh_queue()
            tasks = await active_tasks_of_backend(backend.name)
            for task in tasks:
                await self._check(task, backend)
        except ComfyError as exc:
            logger.warning("reconciliation of %s postponed: %s", backend.url, exc)

    async def check_prompts(self, backend: Backend, prompt_ids: Iterable[str]) -> None:
        """Settle the unfinished tasks of these prompts from what the backend knows of them."""
        try:
            tasks = await active_tasks_of_backend(backend.name, prompt_ids)
            for task in tasks:
                await self._check(task, backend)
        except ComfyError as exc:
            logger.warning("checking prompts on %s postponed: %s", backend.url, exc)

    async def _check(self, task: Task, backend: Backend) -> None:
        prompt_id = task.prompt_id
        assert prompt_id is not None
        entry = await backend.client.history(prompt_id)
        if entry is not None:
            await self._finisher.settle(task.id, prompt_id, entry, backend)
            return
        if prompt_id in backend.running:
            if task.status is TaskStatus.PENDING:
                await self._outcomes.started(task.id)
            return
        if prompt_id in backend.queued or await backend.client.job(prompt_id) is not None:
            return
        in_flight = task.queued_at is None and task.dispatched_at is not None
        if in_flight and utc_now() - task.dispatched_at < IN_FLIGHT_GRACE:  # type: ignore[operator]
            return
        logger.warning("backend %s forgot prompt %s of task %s", backend.url, prompt_id, task.id)
        await self._outcomes.lost(task, f"ComfyUI at {backend.url} no longer knows the prompt")
