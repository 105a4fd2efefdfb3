from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, cast

from comfy.client import ComfyClient
from tasks.runtime.backends import Backend, BackendPool
from tasks.runtime.estimates import running_finish, waiting_finish
from tasks.runtime.progress import PromptRun
from tasks.runtime.run_times import RunKind, RunTimes
from tasks.status import TaskStatus
from tasks.store.clock import utc_now
from tasks.store.database import Database
from tasks.store.models import Task
from tests.tasks.test_transitions import running_task

KIND = RunKind(backend="http://gpu-1", workflow="flux_kontext_dev_basic", resolution="96x64")


def run(steps: int = 20) -> PromptRun:
    return PromptRun(
        prompt_id="p", task_id=uuid.uuid4(), node_count=14, sampler_node="31", total_steps=steps
    )


def seconds_until(moment: datetime | None) -> float:
    assert moment is not None
    return (moment - utc_now()).total_seconds()


def test_steps_left_at_the_measured_rate_plus_the_measured_tail() -> None:
    prompt = run()
    for step, at in ((1, 100.0), (2, 100.5), (3, 101.0)):
        prompt.sampled("31", step, 20, now=at)
    finish = running_finish(prompt, tail_seconds=2.0, run_seconds=None, now=101.0)
    assert abs(seconds_until(finish) - (17 * 0.5 + 2.0)) < 0.5


def test_time_since_the_last_step_is_already_spent() -> None:
    prompt = run()
    for step, at in ((1, 100.0), (3, 101.0)):
        prompt.sampled("31", step, 20, now=at)
    finish = running_finish(prompt, tail_seconds=None, run_seconds=None, now=102.0)
    assert abs(seconds_until(finish) - (17 * 0.5 - 1.0)) < 0.5


def test_before_the_rate_is_known_the_recent_run_length_counts_from_the_start() -> None:
    prompt = run()
    assert running_finish(prompt, tail_seconds=None, run_seconds=30.0, now=5.0) is None
    prompt.began_at = 0.0
    finish = running_finish(prompt, tail_seconds=None, run_seconds=30.0, now=5.0)
    assert abs(seconds_until(finish) - 25.0) < 0.5


def test_after_sampling_only_the_tail_is_left_and_unknown_without_one() -> None:
    prompt = run(2)
    prompt.sampled("31", 1, 2, now=1.0)
    prompt.sampled("31", 2, 2, now=2.0)
    assert running_finish(prompt, tail_seconds=None, run_seconds=None, now=2.5) is None
    finish = running_finish(prompt, tail_seconds=3.0, run_seconds=None, now=2.5)
    assert abs(seconds_until(finish) - 2.5) < 0.5


def test_run_times_keep_the_recent_runs_per_kind_and_backend() -> None:
    times = RunTimes(keep=2)
    assert times.tail_seconds(KIND) is None and times.run_seconds() is None
    for tail in (9.0, 1.0, 3.0):
        times.record(KIND, run_seconds=10.0 + tail, tail_seconds=tail)
    assert times.tail_seconds(KIND) == 2.0  # the oldest run was let go
    other_resolution = RunKind(KIND.backend, KIND.workflow, "1024x1024")
    assert times.tail_seconds(other_resolution) == 2.0  # the backend's runs, until measured
    assert times.tail_seconds(RunKind("http://gpu-2", KIND.workflow, "96x64")) is None
    times.record(other_resolution, run_seconds=None, tail_seconds=8.0)
    assert times.tail_seconds(other_resolution) == 8.0
    assert times.run_seconds(KIND.backend) == 12.0
    assert times.run_seconds("http://gpu-2") is None


def ready_pool(*urls: str) -> BackendPool:
    client: Any = object()
    return BackendPool(
        [Backend(url=url, client=cast(ComfyClient, client), connected=True, problem=None)
         for url in urls]
    )  # fmt: skip


async def test_a_waiting_task_shares_the_work_ahead_among_the_ready_backends(
    database: Database,
) -> None:
    times = RunTimes()
    pool = ready_pool("http://gpu-1", "http://gpu-2")
    assert await waiting_finish(3, times, pool) is None  # no run measured yet
    times.record(KIND, run_seconds=10.0, tail_seconds=1.0)
    # Nothing running: this task and the three ahead, ten seconds each, on two backends.
    assert abs(seconds_until(await waiting_finish(3, times, pool)) - 20.0) < 0.5
    running = await running_task()
    await Task.filter(id=running.id).update(
        status=TaskStatus.PROCESSING, estimated_finish_at=utc_now() + timedelta(seconds=6)
    )
    assert abs(seconds_until(await waiting_finish(3, times, pool)) - 23.0) < 0.5
    assert await waiting_finish(3, times, BackendPool([])) is None  # no backend to run it
