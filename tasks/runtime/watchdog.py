"""Deadlines and silence: every unfinished task reaches its deadline or a reconciliation.

Tasks past their deadline are stopped and fail as TIMED_OUT, whichever backend they are on. A
task on a tracked backend that has said nothing for too long (running, waiting in ComfyUI's
queue, or claimed and never confirmed as sent) has its backend checked by polling; a task on a
backend no running replica tracks any more is queued again.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from tasks.background import repeat_every
from tasks.runtime.backends import Backend, BackendPool
from tasks.runtime.cancelling import RemoteCanceller
from tasks.runtime.leases import Leases
from tasks.runtime.outcomes import TaskOutcomes
from tasks.runtime.reconciler import IN_FLIGHT_GRACE, Reconciler
from tasks.status import TaskStatus
from tasks.store.clock import utc_now
from tasks.store.task_rows import expired_tasks, silent_tasks, stranded_tasks, unsent_tasks

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WatchdogSettings:
    interval_seconds: float = 1.0
    silence_seconds: float = 120.0
    recheck_seconds: float = 10.0
    """A backend with silent tasks is reconciled again at most this often."""
    log_seconds: float = 300.0
    """The warning about a backend's silent tasks is repeated at most this often."""


class Throttle:
    """Allows one action per key every `seconds`."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._last: dict[str, float] = {}

    def allows(self, key: str, now: float) -> bool:
        last = self._last.get(key)
        if last is not None and now - last < self._seconds:
            return False
        self._last[key] = now
        return True


class Watchdog:
    def __init__(
        self,
        *,
        pool: BackendPool,
        outcomes: TaskOutcomes,
        canceller: RemoteCanceller,
        reconciler: Reconciler,
        leases: Leases,
        settings: WatchdogSettings,
    ) -> None:
        self._pool = pool
        self._outcomes = outcomes
        self._canceller = canceller
        self._reconciler = reconciler
        self._leases = leases
        self._settings = settings
        self._rechecks = Throttle(min(settings.recheck_seconds, settings.silence_seconds))
        self._warnings = Throttle(settings.log_seconds)

    async def run(self) -> None:
        await repeat_every(self._settings.interval_seconds, self.sweep, "watchdog sweep")

    async def sweep(self) -> None:
        await self._time_out()
        await self._check_silent()
        await self._requeue_untracked()

    async def _time_out(self) -> None:
        """Past its deadline a task ends, on whichever backend, tracked or not: the deadline is
        the caller's. Its prompt is stopped where this replica can reach the backend."""
        expired = await expired_tasks()
        for task in expired:
            await self._canceller.cancel_remote(task)
            seconds = int((task.deadline_at - task.created_at).total_seconds())  # type: ignore[operator]
            await self._outcomes.failed(
                task.id, "TIMED_OUT", f"The task did not finish within its {seconds} s deadline."
            )

    async def _check_silent(self) -> None:
        now = utc_now()
        quiet_since = now - timedelta(seconds=self._settings.silence_seconds)
        # Running, or waiting in ComfyUI's queue, with no word for too long.
        silent = await silent_tasks(quiet_since)
        # Claimed but never confirmed as sent (e.g. the process died between the claim and POST
        # /prompt): nothing else looks at them until the next reconnect or their deadline.
        unsent = await unsent_tasks(now - IN_FLIGHT_GRACE)
        backends: dict[str, Backend] = {}
        worrying: dict[str, int] = {}
        for task in [*silent, *unsent]:
            backend = self._pool.get(task.backend)
            if backend is None or not backend.connected:
                continue
            backends[backend.name] = backend
            # A prompt waiting its turn in ComfyUI's queue is silent by nature: only a running
            # one, or one never confirmed as sent, is worth a warning.
            if task.status is TaskStatus.PROCESSING or task.queued_at is None:
                worrying[backend.name] = worrying.get(backend.name, 0) + 1
        clock = time.monotonic()
        for name, backend in backends.items():
            if not self._rechecks.allows(name, clock):
                continue
            count = worrying.get(name, 0)
            if count and self._warnings.allows(name, clock):
                logger.warning(
                    "%d task(s) on %s silent for %ss or never confirmed as sent: checking it",
                    count,
                    backend.url,
                    self._settings.silence_seconds,
                )
            else:
                logger.debug("checking the silent tasks on %s", backend.url)
            await self._reconciler.reconcile(backend)

    async def _requeue_untracked(self) -> None:
        """Tasks on a backend this replica does not configure, and no running replica tracks
        (it was removed from every replica's KONTEXT_COMFYUI_URLS): nobody would ever hear of
        them again, so they go back to the queue (or fail LOST after their last attempt)."""
        quiet_since = utc_now() - timedelta(seconds=self._settings.silence_seconds)
        ours = [backend.name for backend in self._pool.all]
        stranded = await stranded_tasks(quiet_since, ours)
        tracked: dict[str, bool] = {}
        clock = time.monotonic()
        for task in stranded:
            name = str(task.backend)
            if name not in tracked:
                # One lease probe per backend and recheck period; meanwhile it counts as tracked.
                probe = self._rechecks.allows(f"lease {name}", clock)
                tracked[name] = not probe or await self._leases.tracked(name)
            if tracked[name]:
                continue
            logger.warning(
                "task %s is on backend %s, which no running replica tracks: queueing it again",
                task.id,
                name,
            )
            await self._outcomes.lost(task, f"No running replica tracks the backend {name}")
