"""When a task should finish (`estimatedFinishAt`), from measured times only; None when unknown.

PROCESSING: the steps left times this run's measured seconds per step, plus the recent cost of
the nodes after sampling on this backend for this workflow and resolution. Before the step rate
is known, the start of the run plus the backend's recent run length.

PENDING: the work ahead shared by the ready backends: what the running tasks have left (their
own estimates) plus one recent run length for each task ahead and for this one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tasks.runtime.backends import BackendPool
from tasks.runtime.progress import PromptRun
from tasks.runtime.run_times import RunTimes
from tasks.store.clock import utc_now
from tasks.store.task_rows import processing_finish_estimates


def running_finish(
    run: PromptRun,
    *,
    tail_seconds: float | None,
    run_seconds: float | None,
    now: float,
) -> datetime | None:
    """The finish of a running prompt; `now` is on the monotonic clock the run was timed with."""
    clock = run.sampling
    left: float | None = None
    if clock.done_at is not None or run.sampler_done:
        if tail_seconds is not None:
            left = (clock.done_at if clock.done_at is not None else now) + tail_seconds - now
    elif (rate := clock.seconds_per_step()) is not None and clock.last_at is not None:
        steps_left = max(run.total_steps - run.step, 0)
        left = clock.last_at + steps_left * rate + (tail_seconds or 0.0) - now
    elif run.began_at is not None and run_seconds is not None:
        left = run.began_at + run_seconds - now
    if left is None:
        return None
    return utc_now() + timedelta(seconds=max(left, 0.0))


async def waiting_finish(position: int, run_times: RunTimes, pool: BackendPool) -> datetime | None:
    """The finish of a PENDING task with `position` tasks ahead of it."""
    ready = [backend for backend in pool.all if backend.ready]
    run_seconds = run_times.run_seconds()
    if not ready or run_seconds is None:
        return None
    now = utc_now()
    running = await processing_finish_estimates()
    running_left = sum(
        max((finish - now).total_seconds(), 0.0) if finish is not None else run_seconds / 2
        for finish in running
    )
    seconds = (running_left + (position + 1) * run_seconds) / len(ready)
    return now + timedelta(seconds=seconds)
