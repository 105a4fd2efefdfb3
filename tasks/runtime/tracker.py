"""The tracker: turns one backend's websocket events into task state."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

from comfy.errors import ComfyError
from comfy.messages import (
    ExecutingData,
    ExecutionCachedData,
    ExecutionErrorData,
    ExecutionInterruptedData,
    ExecutionStartData,
    ExecutionSuccessData,
    MessageType,
    ProgressData,
    ProgressStateData,
    StatusData,
    node_step,
)
from comfy.protocol import PreviewFrame, ServerMessage
from tasks.background import BackgroundTasks
from tasks.runtime.backends import Backend
from tasks.runtime.estimates import running_finish
from tasks.runtime.finisher import PromptFinisher
from tasks.runtime.outcomes import TaskOutcomes
from tasks.runtime.previews import LatestPreviews
from tasks.runtime.progress import PromptRun
from tasks.runtime.reconciler import Reconciler
from tasks.runtime.run_times import RunKind, RunTimes
from tasks.runtime.spaced_calls import SpacedCalls
from tasks.store.clock import utc_now
from tasks.store.task_rows import Task, active_task_of_prompt, reference_resolution, task_by_id
from tasks.store.transitions import TaskChanges
from workflows.registry import TemplateRegistry

logger = logging.getLogger(__name__)

PREVIEW_INTERVAL = 0.5
QUEUE_CHECK_SECONDS = 1.0
"""The least time between two reads of a backend's /queue prompted by `status` frames."""

IGNORED_MESSAGES: frozenset[MessageType] = frozenset({"feature_flags", "executed"})
"""Messages that say nothing a task needs (a node's output is read from the history at the end)."""


class BackendTracker:
    """Handles the event stream of one backend (comfy.stream.StreamHandler), and is the one
    that reports to the backend what its socket heard (connected, stalled, finishing, ...)."""

    def __init__(
        self,
        *,
        backend: Backend,
        templates: TemplateRegistry,
        changes: TaskChanges,
        outcomes: TaskOutcomes,
        finisher: PromptFinisher,
        previews: LatestPreviews,
        reconciler: Reconciler,
        run_times: RunTimes,
        on_idle: Callable[[], None],
        background: BackgroundTasks,
    ) -> None:
        self._backend = backend
        self._templates = templates
        self._changes = changes
        self._outcomes = outcomes
        self._finisher = finisher
        self._previews = previews
        self._reconciler = reconciler
        self._run_times = run_times
        self._on_idle = on_idle
        self._runs: dict[str, PromptRun] = {}
        self._running_prompt: str | None = None
        # Long work (finishing a prompt, checking prompts) off the reading task.
        self._jobs = background.scope()
        self._queue_check = SpacedCalls(self._jobs, QUEUE_CHECK_SECONDS, "reading the queue")

    async def on_connected(self) -> None:
        stalled_since = self._backend.mark_connected()
        if stalled_since is not None:
            logger.info(
                "backend %s: events reach client id %s again (stalled since %s)",
                self._backend.url,
                self._backend.client.client_id,
                stalled_since.isoformat(),
            )
        # A restarted server may have lost its input folder: upload images again from now on;
        # and it may have other node types or model files now.
        self._backend.client.forget_uploads()
        await self._backend.check()
        await self._reconciler.reconcile(self._backend)
        self._on_idle()

    async def on_disconnected(self, reason: str) -> None:
        self._backend.mark_disconnected()
        logger.warning("backend %s disconnected: %s", self._backend.url, reason)

    def on_untracked(self) -> None:
        """This replica stopped following the backend's events (it lost the lease)."""
        self._backend.mark_untracked()

    def on_stalled(self, reason: str) -> bool:
        """The stall watch found that ComfyUI no longer routes to our socket; True when it
        is a new stall (not the one already being handled)."""
        return self._backend.mark_stalled(reason, utc_now())

    async def on_preview(self, frame: PreviewFrame) -> None:
        prompt_id = frame.prompt_id or self._running_prompt
        run = await self._run(prompt_id) if prompt_id else None
        if run is not None and run.preview_due(time.monotonic(), PREVIEW_INTERVAL):
            self._previews.offer(run.task_id, run.prompt_id, frame.image)

    async def on_message(self, message: ServerMessage) -> None:
        """Each message type to its handler, with its typed data; a prompt's events only while
        the prompt is one of our unfinished tasks."""
        if message["type"] == "status":
            await self._on_status(message["data"])
            return
        if message["type"] in IGNORED_MESSAGES:
            return
        if message["type"] == "progress_state":
            await self._on_progress_state(message["data"])
            return
        run = await self._run_of(message["data"].get("prompt_id"))
        if run is None:
            return
        if message["type"] == "execution_start":
            await self._on_execution_start(run, message["data"])
        elif message["type"] == "execution_cached":
            await self._on_execution_cached(run, message["data"])
        elif message["type"] == "executing":
            await self._on_executing(run, message["data"])
        elif message["type"] == "progress":
            await self._on_progress(run, message["data"])
        elif message["type"] == "execution_success":
            await self._on_execution_success(run, message["data"])
        elif message["type"] == "execution_error":
            await self._on_execution_error(run, message["data"])
        elif message["type"] == "execution_interrupted":
            await self._on_execution_interrupted(run, message["data"])

    async def _run_of(self, prompt_id: object) -> PromptRun | None:
        return await self._run(prompt_id) if isinstance(prompt_id, str) and prompt_id else None

    async def _on_status(self, data: StatusData) -> None:
        self._backend.mark_status_heard()
        remaining = data["status"]["exec_info"]["queue_remaining"]
        if remaining == 0:
            self._running_prompt = None
            self._on_idle()
            # Nothing remains: whatever we knew queued left it, no need to read /queue.
            before = {*self._backend.running, *self._backend.queued}
            self._backend.mark_queue_empty()
            self._check_unheard(before - {*self._backend.queued})  # but prompts on their way
        elif remaining != self._backend.queue_size:
            # The queue holds other prompts than the events we heard account for: read it, at
            # most once per QUEUE_CHECK_SECONDS (a check asked for meanwhile runs at its end).
            self._queue_check.request(self._check_queue)

    async def _check_queue(self) -> None:
        before = {*self._backend.running, *self._backend.queued}
        with contextlib.suppress(ComfyError):
            await self._backend.refresh_queue()
        self._check_unheard(before - {*self._backend.running, *self._backend.queued})

    def _check_unheard(self, left: set[str]) -> None:
        """Prompts that left the queue without a word to us: sent under another client id (a
        replica that stopped, this process before a restart) or their events were lost."""
        unheard = left - set(self._runs)
        if unheard:
            logger.info(
                "backend %s: prompts %s left the queue unheard; checking them",
                self._backend.url,
                sorted(unheard),
            )
            self._start_job(
                self._reconciler.check_prompts(self._backend, unheard), "checking unheard prompts"
            )

    async def _on_execution_start(self, run: PromptRun, data: ExecutionStartData) -> None:
        self._running_prompt = run.prompt_id
        self._backend.mark_started(run.prompt_id)
        run.started = True
        run.began_at = time.monotonic()
        task = await self._outcomes.started(run.task_id, estimated_finish_at=self._estimate(run))
        if task is None:
            await self._stop_if_unwanted(run)

    async def _on_execution_cached(self, run: PromptRun, data: ExecutionCachedData) -> None:
        run.cached(list(data["nodes"]))
        await self._record_progress(run)

    async def _on_executing(self, run: PromptRun, data: ExecutingData) -> None:
        node = data["node"]
        run.executing(node)
        if node is None:
            self._runs.pop(run.prompt_id, None)
            self._backend.mark_left(run.prompt_id)
            return
        await self._record_progress(run)

    async def _on_progress_state(self, data: ProgressStateData) -> None:
        """A sampler step's first word. ComfyUI sends each step's `progress_state` before the
        step's preview and its `progress` frame, and encodes the preview between them (0.1 to
        9.7 ms in the recordings), so the step is recorded here and the `progress` frame that
        follows changes nothing. Only prompts already followed are looked at: `progress_state`
        comes for every node of every prompt (from some versions to every socket), and a
        prompt's first `progress` still finds its task when this one could not."""
        run = self._runs.get(data["prompt_id"])
        if run is None:
            return
        step = node_step(data, run.sampler_node)
        if step is not None:
            await self._on_step(run, run.sampler_node, *step)

    async def _on_progress(self, run: PromptRun, data: ProgressData) -> None:
        await self._on_step(run, str(data["node"]), int(data["value"]), int(data["max"]))

    async def _on_step(self, run: PromptRun, node: str, value: int, maximum: int) -> None:
        if run.sampled(node, value, maximum, time.monotonic()):
            await self._record_progress(run)

    async def _on_execution_success(self, run: PromptRun, data: ExecutionSuccessData) -> None:
        run.finishing = True
        self._backend.mark_left(run.prompt_id)
        # The GPU is free now: the backend's slot is released while the output is collected.
        self._backend.mark_finishing(run.prompt_id)
        self._start_job(self._finish(run), f"finishing prompt {run.prompt_id}")
        self._on_idle()

    async def _on_execution_error(self, run: PromptRun, data: ExecutionErrorData) -> None:
        self._runs.pop(run.prompt_id, None)
        self._backend.mark_left(run.prompt_id)
        await self._finisher.fail_from_error(run.task_id, run.prompt_id, dict(data), self._backend)
        self._on_idle()

    async def _on_execution_interrupted(
        self, run: PromptRun, data: ExecutionInterruptedData
    ) -> None:
        self._runs.pop(run.prompt_id, None)
        self._backend.mark_left(run.prompt_id)
        await self._outcomes.cancelled(run.task_id, "Interrupted on the ComfyUI server.")
        self._on_idle()

    async def _record_progress(self, run: PromptRun) -> None:
        percent = run.update_percent()
        estimate = self._estimate(run)
        await self._changes.progress(
            run.task_id,
            run.prompt_id,
            step=run.step,
            total_steps=run.total_steps,
            progress=percent,
            current_node=run.current_node,
            **({"estimated_finish_at": estimate} if estimate is not None else {}),
        )

    def _estimate(self, run: PromptRun) -> datetime | None:
        kind = run.kind
        if kind is None:
            return None
        return running_finish(
            run,
            tail_seconds=self._run_times.tail_seconds(kind),
            run_seconds=self._run_times.run_seconds(kind.backend),
            now=time.monotonic(),
        )

    def _measured(self, run: PromptRun) -> None:
        """A finished run's times, for the estimates of the runs after it."""
        kind = run.kind
        if kind is None:
            return
        now = time.monotonic()
        sampled = run.sampling.first_at is not None  # a fully cached run says nothing of the GPU
        done_sampling = run.sampling.done_at
        self._run_times.record(
            kind,
            run_seconds=now - run.began_at if run.began_at is not None and sampled else None,
            tail_seconds=now - done_sampling if done_sampling is not None else None,
        )

    async def _stop_if_unwanted(self, run: PromptRun) -> None:
        task = await task_by_id(run.task_id)
        if task is None or task.status.is_terminal:
            with contextlib.suppress(ComfyError):
                await self._backend.client.interrupt(run.prompt_id)

    def _start_job(self, work: Coroutine[Any, Any, None], name: str) -> None:
        """Long work (downloads) off the reading task, which must stay quick. A job that
        crashes is logged; its task stays active, and the watchdog's silence check
        reconciles it."""
        self._jobs.start(work, name)

    async def _finish(self, run: PromptRun) -> None:
        try:
            await self._finisher.complete(run.task_id, run.prompt_id, self._backend)
            self._measured(run)
        except ComfyError as exc:
            # Expected while ComfyUI restarts: the task stays active, and the reconciliation on
            # reconnect (or the watchdog's silence check) settles it or runs it again.
            logger.warning(
                "finishing prompt %s of task %s postponed: %s", run.prompt_id, run.task_id, exc
            )
        finally:
            self._runs.pop(run.prompt_id, None)
            self._backend.mark_finished(run.prompt_id)
            self._on_idle()

    async def _run(self, prompt_id: str) -> PromptRun | None:
        run = self._runs.get(prompt_id)
        if run is not None:
            return run
        task = await active_task_of_prompt(prompt_id)
        if task is None:
            return None
        template = self._templates.get(task.workflow)
        run = PromptRun(
            prompt_id=prompt_id,
            task_id=task.id,
            node_count=task.node_count,
            sampler_node=template.sampler_node,
            step=task.step,
            total_steps=task.total_steps,
            percent=task.progress,
            kind=await self._kind_of(task),
        )
        self._runs[prompt_id] = run
        return run

    async def _kind_of(self, task: Task) -> RunKind:
        resolution = await reference_resolution(task)
        return RunKind(backend=self._backend.name, workflow=task.workflow, resolution=resolution)

    async def close(self) -> None:
        await self._previews.close()
        await self._jobs.aclose()
