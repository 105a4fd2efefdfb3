"""The dispatcher: moves pending tasks onto backends with room, every free slot in one round."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from comfy.errors import ComfyUnavailable, PromptRejected
from comfy.models import QueuedPrompt
from storage.blobs import BlobStore
from storage.errors import StorageError
from tasks.background import BackgroundTasks
from tasks.runtime.backends import Backend, BackendPool
from tasks.runtime.outcomes import TaskOutcomes
from tasks.runtime.routing import WINDOW, choose
from tasks.status import TaskStatus
from tasks.store.claims import TaskClaimer, backend_loads
from tasks.store.clock import utc_now
from tasks.store.task_rows import Task, image_file
from tasks.store.transitions import note
from workflows.binder import bind
from workflows.parameters import ResolvedParameters
from workflows.registry import TemplateRegistry
from workflows.template import WorkflowTemplate

logger = logging.getLogger(__name__)

# The same for every task, so that an identical request is an identical prompt (fully cached).
OUTPUT_PREFIX = "kontext"


@dataclass(frozen=True)
class DispatchSettings:
    models: Mapping[str, str] = field(default_factory=dict)
    poll_seconds: float = 1.0
    preview_method: str = "auto"
    prefer_warm: bool = True
    """Send a task where its model files were loaded last; False: least-loaded only."""
    post_on_stop_seconds: float = 5.0
    """How long a shutdown waits for a POST /prompt already on its way to be answered."""


class Dispatcher:
    def __init__(
        self,
        *,
        pool: BackendPool,
        templates: TemplateRegistry,
        blobs: BlobStore,
        claimer: TaskClaimer,
        outcomes: TaskOutcomes,
        settings: DispatchSettings,
        background: BackgroundTasks,
    ) -> None:
        self._pool = pool
        self._templates = templates
        self._blobs = blobs
        self._claimer = claimer
        self._outcomes = outcomes
        self._settings = settings
        self._wake = asyncio.Event()
        # The newest send per backend: sends to different backends overlap, while each backend
        # still receives its prompts in claim order.
        self._sending: dict[str, asyncio.Task[bool]] = {}
        self._sends = background.scope()
        self._passes: Counter[UUID] = Counter()
        # The last look found no task waiting, and nothing said since may have added one: a
        # freed slot alone then needs no look (the end of a task frees its slot up to 3 times).
        self._nothing_waiting = False
        self._news = 0  # wake-ups that may mean a new waiting task, counted

    def wake(self) -> None:
        """Look again: a task may be waiting now (created, released, a backend ready)."""
        self._news += 1
        self._nothing_waiting = False
        self._wake.set()

    def slot_freed(self) -> None:
        """A backend's slot is free: look again if a task may be waiting."""
        self._wake.set()

    async def run(self) -> None:
        try:
            await self._rounds()
        finally:
            await self._sends.aclose()

    async def _rounds(self) -> None:
        while True:
            # Cleared before the round, not after: a wake-up arriving during the round (a slot
            # freed, a task created) then starts another round instead of being lost.
            self._wake.clear()
            try:
                while await self.dispatch_round():
                    pass
            except Exception:  # the loop must outlive any one round; the next round retries
                logger.exception("dispatch round failed; retrying")
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self._settings.poll_seconds)
            except TimeoutError:  # a task re-queued by the watchdog wakes nothing: look anyway
                self._nothing_waiting = False

    def _models_of(self, workflow: str) -> frozenset[str]:
        return frozenset(
            model.file_name
            for model in self._templates.get(workflow).required_models(self._settings.models)
        )

    async def dispatch_round(self) -> bool:
        """Fill every ready backend's free slots from the oldest waiting tasks: one query for
        the loads and one for the candidates, then a claim per task, so each backend has its
        next prompt queued in ComfyUI while it runs one. True when another round should look
        again (a claim was lost to another replica, or slots are left after claiming from a
        list of candidates cut at its limit); False when nothing was claimed (nothing to send,
        or nowhere to send it), every slot was filled or every waiting task was seen (a slot
        freed or a task created later wakes the dispatcher)."""
        if self._nothing_waiting or not self._pool.all:
            return False  # nothing new waits, or nowhere to send (a replica serving the API only)
        news = self._news
        loads = await backend_loads(self._pool.finishing_prompts())
        free = self._pool.free_slots(loads)
        if not free:
            return False
        # Enough candidates that the window `choose` looks at stays full as tasks are claimed.
        limit = WINDOW + free
        waiting = await self._claimer.waiting(limit)
        # A wake-up during the queries may stand for a task they did not see yet.
        self._nothing_waiting = not waiting and news == self._news
        more_may_wait = len(waiting) == limit
        self._passes = Counter({w.id: self._passes[w.id] for w in waiting if w.id in self._passes})
        ready = [b for b in self._pool.all if b.ready]
        look_again = False
        while room := self._pool.with_room(loads):
            route = choose(
                waiting,
                room,
                loads,
                self._models_of,
                self._passes,
                ready=ready,
                prefer_warm=self._settings.prefer_warm,
            )
            if route is None:
                break
            waiting.remove(route.task)
            task = await self._claimer.claim(route.backend.name, route.task.id)
            if task is None:  # another replica took it: the candidates may be stale
                look_again = True
                continue
            look_again = look_again or more_may_wait
            if route.passed_over is not None:
                self._passes[route.passed_over.id] += 1
            self._passes.pop(route.task.id, None)
            loads[route.backend.name] += 1
            self._start_send(task, route.backend)
        return look_again and bool(self._pool.with_room(loads))

    def _start_send(self, task: Task, backend: Backend) -> None:
        """Claimed, so already counted in the backend's load: the round need not wait for this
        send (upload, POST /prompt, confirmation) before feeding another backend."""
        backend.mark_assigned(self._models_of(task.workflow))
        previous = self._sending.get(backend.name)
        send = self._sends.start(
            self._send_after(previous, task, backend), f"sending task {task.id} to {backend.url}"
        )
        self._sending[backend.name] = send
        send.add_done_callback(lambda done: self._sent(backend.name, done))

    async def _send_after(
        self, previous: asyncio.Task[bool] | None, task: Task, backend: Backend
    ) -> bool:
        if previous is not None:
            await asyncio.gather(previous, return_exceptions=True)
        return await self._send(task, backend)

    def _sent(self, backend: str, send: asyncio.Task[bool]) -> None:
        """A send ended; one that crashed is logged by the background owner, and its task stays
        claimed: the watchdog's reconciliation takes it from there. A prompt confirmed as queued
        still holds its slot, so only another ending (a slot freed) calls for a new round."""
        if self._sending.get(backend) is send:
            del self._sending[backend]
        confirmed = not send.cancelled() and send.exception() is None and send.result()
        if not confirmed:
            self.wake()

    async def _send(self, task: Task, backend: Backend) -> bool:
        """True when the prompt is queued in the backend for the task (it keeps its slot)."""
        assert task.prompt_id is not None
        template = self._templates.get(task.workflow)  # the task's own, once per send
        try:
            prompt = await self._prepare(task, template, backend)
            await self._post(task, prompt, backend)
        except PromptRejected as exc:
            node_id, node_type = exc.only_node
            details = {"node_errors": exc.node_errors, "node_id": node_id, "node_type": node_type}
            await self._outcomes.failed(task.id, "WORKFLOW_INVALID", str(exc), details)
            return False
        except StorageError as exc:
            await self._outcomes.failed(
                task.id, "INPUT_MISSING", f"The reference image cannot be read: {exc}"
            )
            return False
        except ComfyUnavailable as exc:
            logger.warning(
                "backend %s unavailable, task %s stays pending: %s", backend.url, task.id, exc
            )
            await self._outcomes.released(task.id, task.prompt_id)
            return False
        return await self._confirm_queued(task, backend)

    async def _post(self, task: Task, prompt: dict[str, object], backend: Backend) -> None:
        """POST /prompt. Stopped meanwhile (a shutdown), the request still gets
        `post_on_stop_seconds` to be answered, so that the claim ends known: a prompt the
        backend took is marked queued (the replica taking the backend over finds it there), one
        that failed is given back at once. Only a request unanswered by then is left to
        reconciliation's in-flight grace."""
        assert task.prompt_id is not None
        posting = asyncio.ensure_future(
            backend.queue_prompt(
                prompt,
                prompt_id=task.prompt_id,
                extra_data={"preview_method": self._settings.preview_method},
            )
        )
        try:
            await asyncio.shield(posting)
        except asyncio.CancelledError:
            await self._end_post_on_stop(task, backend, posting)
            raise

    async def _end_post_on_stop(
        self, task: Task, backend: Backend, posting: asyncio.Future[QueuedPrompt]
    ) -> None:
        assert task.prompt_id is not None
        await asyncio.wait([posting], timeout=self._settings.post_on_stop_seconds)
        if not posting.done():
            posting.cancel()  # unanswered: whether the backend got it is unknown
        elif posting.cancelled():
            return  # the request itself was cancelled: unknown too
        elif posting.exception() is None:
            await self._confirm_queued(task, backend)
        else:  # refused or unreachable: a running replica sends it again (a refusal fails it)
            await self._outcomes.released(task.id, task.prompt_id)

    async def _prepare(
        self, task: Task, template: WorkflowTemplate, backend: Backend
    ) -> dict[str, object]:
        """The prompt to send, its images uploaded and its progress planned. Stopped meanwhile (a
        shutdown), the claim is undone at once: nothing has reached the backend's queue, so the
        task need not wait out the in-flight grace before a replica sends it again (stopped
        during POST /prompt: see `_post`)."""
        assert task.prompt_id is not None
        try:
            prompt = await self._prompt_for(task, template, backend)
            await self._plan_progress(task, template, prompt)
        except asyncio.CancelledError:
            await self._outcomes.released(task.id, task.prompt_id)
            raise
        return prompt

    async def _plan_progress(
        self, task: Task, template: WorkflowTemplate, prompt: Mapping[str, Any]
    ) -> None:
        """What the progress bar counts, from the prompt as sent (before any of its events can
        arrive): its nodes (an optional node left out is not counted) and its sampler's steps."""
        sampler = prompt.get(template.sampler_node, {})
        steps = sampler.get("inputs", {}).get("steps")
        await note(
            task.id,
            where={"prompt_id": task.prompt_id, "status": TaskStatus.PENDING},
            node_count=len(prompt),
            total_steps=steps if isinstance(steps, int) else 0,
        )

    async def _confirm_queued(self, task: Task, backend: Backend) -> bool:
        """One conditional UPDATE: the prompt is still the task's and the task not cancelled."""
        queued = await note(
            task.id,
            where={"prompt_id": task.prompt_id, "status__not": TaskStatus.CANCELLED},
            queued_at=utc_now(),
        )
        if not queued:
            # Cancelled (or deleted, or re-queued) while we were sending: take it back out.
            assert task.prompt_id is not None
            await backend.client.delete_from_queue([task.prompt_id])
            await backend.client.interrupt(task.prompt_id)
        return queued

    async def _prompt_for(
        self, task: Task, template: WorkflowTemplate, backend: Backend
    ) -> dict[str, object]:
        images = {"image": await self._upload(task.reference_image_id, backend)}  # type: ignore[attr-defined]
        if task.second_image_id is not None:  # type: ignore[attr-defined]
            images["image2"] = await self._upload(task.second_image_id, backend)  # type: ignore[attr-defined]
        params = ResolvedParameters(
            values={**task.parameters, "description": task.description}, seed=int(task.seed)
        )
        return bind(
            template,
            params,
            images=images,
            models=self._settings.models,
            filename_prefix=OUTPUT_PREFIX,
        )

    async def _upload(self, image_id: UUID, backend: Backend) -> str:
        """The image's name on the backend: uploaded once, found by the sha256 stored with it
        (its blob is neither read nor hashed again for every task that uses it)."""
        image = await image_file(image_id)
        known = backend.uploaded_name(image.sha256)
        if known is not None:
            return known
        async with await self._blobs.open(image.blob_key) as blob:
            data = await blob.read()
        extension = image.content_type.removeprefix("image/").replace("jpeg", "jpg")
        return await backend.upload_image(
            data, filename=f"{image.sha256}.{extension}", digest=image.sha256
        )
