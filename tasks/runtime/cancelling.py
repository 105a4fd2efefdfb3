"""Stopping a task's prompt on its backend, whether it waits in ComfyUI's queue or runs."""

from __future__ import annotations

import logging

from comfy.errors import ComfyError
from tasks.runtime.backends import BackendPool
from tasks.store.task_rows import Task

logger = logging.getLogger(__name__)


class RemoteCanceller:
    def __init__(self, pool: BackendPool) -> None:
        self._pool = pool

    async def cancel_remote(self, task: Task) -> None:
        backend = self._pool.get(task.backend)
        if backend is None or task.prompt_id is None:
            return
        try:
            # Deleting only touches pending prompts and interrupting only the named running one,
            # so both are safe whichever state the prompt is in by now.
            await backend.client.delete_from_queue([task.prompt_id])
            await backend.client.interrupt(task.prompt_id)
        except ComfyError as exc:
            logger.warning("could not cancel prompt %s on %s: %s", task.prompt_id, backend.url, exc)
