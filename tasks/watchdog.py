"""Deadlines and silence: tasks past their deadline are stopped and fail as TIMED_OUT, and a
running task whose backend has said nothing for too long is checked by polling, not trusted."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from tasks.backends import Backend, BackendPool
from tasks.background import repeat_every
from tasks.cancelling import RemoteCanceller
from tasks.clock import utc_now
from tasks.models import Task
from tasks.outcomes import TaskOutcomes
from tasks.reconciler import IN_FLIGHT_GRACE, Reconciler
from tasks.status import ACTIVE_STATUSES, TaskStatus

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WatchdogSettings:
    interval_seconds: float = 1.0
    silence_seconds: float = 120.0


class Watchdog:
    def __init__(
        self,
        *,
        pool: BackendPool,
        outcomes: TaskOutcomes,
        canceller: RemoteCanceller,
        reconciler: Reconciler,
        settings: WatchdogSettings,
    ) -> None:
        self._pool = pool
        self._outcomes = outcomes
        self._canceller = canceller
        self._reconciler = reconciler
        self._settings = settings

    async def run(self) -> None:
        await repeat_every(self._settings.interval_seconds, self.sweep, "watchdog sweep")

    def _ours(self, task: Task) -> bool:
        """A task this replica may act on: not sent yet, or on a backend it tracks."""
        backend = self._pool.get(task.backend)
        return task.backend is None or (backend is not None and backend.connected)

    async def sweep(self) -> None:
        now = utc_now()
        expired = await Task.filter(status__in=list(ACTIVE_STATUSES), deadline_at__lt=now)
        for task in filter(self._ours, expired):
            await self._canceller.cancel_remote(task)
            seconds = int((task.deadline_at - task.created_at).total_seconds())  # type: ignore[operator]
            await self._outcomes.failed(
                task.id, "TIMED_OUT", f"The task did not finish within its {seconds} s deadline."
            )
        quiet_since = now - timedelta(seconds=self._settings.silence_seconds)
        silent = await Task.filter(status=TaskStatus.PROCESSING, updated_at__lt=quiet_since)
        # Claimed but never confirmed as sent (e.g. the process died between the claim and POST
        # /prompt): nothing else looks at them until the next reconnect or their deadline.
        unsent = await Task.filter(
            status=TaskStatus.PENDING,
            prompt_id__isnull=False,
            queued_at__isnull=True,
            dispatched_at__lt=now - IN_FLIGHT_GRACE,
        )
        backends: dict[str, Backend] = {}
        for task in filter(self._ours, [*silent, *unsent]):
            backend = self._pool.get(task.backend)
            if backend is not None:
                backends[backend.name] = backend
        for backend in backends.values():
            logger.warning(
                "tasks on %s silent for %ss or never confirmed as sent: checking it",
                backend.url,
                self._settings.silence_seconds,
            )
            await self._reconciler.reconcile(backend)
