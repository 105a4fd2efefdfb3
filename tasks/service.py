"""TaskService: submit, look up, cancel and delete tasks; and `Services`, the domain services an
application hands to its API layer, built once per application."""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

from storage.blobs import BlobStore
from tasks.errors import (
    IdempotencyConflict,
    InvalidRequest,
    InvalidTaskState,
    NoBackend,
    Problem,
    TaskNotFound,
)
from tasks.events.broker import Broker
from tasks.intake import AcquiredImage, ImageIntake
from tasks.limits import Admission, SubmissionLimits
from tasks.presets import PresetBook
from tasks.requests import (
    GenerationRequest,
    ImageSource,
    StoredImageSource,
    WebhookTarget,
    refused_parameters,
    text_problem,
)
from tasks.runtime.backends import BackendPool
from tasks.runtime.outcomes import TaskOutcomes
from tasks.runtime.run_times import RunTimes
from tasks.status import TaskStatus
from tasks.store.atomic import DuplicateRow, atomic
from tasks.store.history import batch_of, owned_task, tasks_of_idempotency_key
from tasks.store.snapshots import EventKind
from tasks.store.submissions import StoredImage, Task, delete_task, insert_task
from tasks.store.transitions import TaskChanges
from tasks.webhooks.targets import WebhookTargets
from workflows.errors import ProblemReason
from workflows.manifest import SEED_BITS, SEED_MAX
from workflows.parameters import InvalidParameters, ResolvedParameters, resolve_parameters
from workflows.registry import TemplateRegistry, UnknownWorkflow

MAX_BATCH = 8
MAX_IDEMPOTENCY_KEY = 128
DEFAULT_TIMEOUT = 1800
TIMEOUT_RANGE = (1, 86_400)


@dataclass(frozen=True)
class SubmitResult:
    tasks: list[Task]
    replayed: bool


class TaskCanceller(Protocol):
    """Stops a task's prompt on its backend (the ComfyUI runtime provides one)."""

    async def cancel_remote(self, task: Task) -> None: ...


class NoRemote:
    async def cancel_remote(self, task: Task) -> None:
        return None


class TaskService:
    def __init__(
        self,
        *,
        templates: TemplateRegistry,
        intake: ImageIntake,
        changes: TaskChanges,
        outcomes: TaskOutcomes,
        canceller: TaskCanceller | None = None,
        admission: Admission | None = None,
        default_timeout: int = DEFAULT_TIMEOUT,
        webhooks: WebhookTargets | None = None,
        backends: BackendPool | None = None,
    ) -> None:
        self._templates = templates
        self._backends = backends or BackendPool([])
        self._intake = intake
        self._changes = changes
        self._outcomes = outcomes
        self._canceller: TaskCanceller = canceller or NoRemote()
        self._admission = admission or Admission(SubmissionLimits())
        self._default_timeout = default_timeout
        self._webhooks = webhooks or WebhookTargets()

    async def get(self, task_id: UUID, *, owner: str) -> Task:
        task = await owned_task(task_id, owner)
        if task is None:
            raise TaskNotFound(task_id)
        return task

    async def batch(self, batch_id: UUID, *, owner: str) -> list[Task]:
        """The owner's tasks of one batch (those not deleted), in batch order."""
        return await batch_of(batch_id, owner)

    async def submit(self, request: GenerationRequest) -> SubmitResult:
        check_batch(request)
        # A cheap look at the rate first: refused callers cost no image decoding.
        self._admission.check_rate(request.owner, request.count)
        params = self._resolve(request)
        if (reason := self._backends.refusal(request.workflow)) is not None:
            raise NoBackend(request.workflow, reason)
        webhook = await self._webhooks.for_submission(request.owner, request.webhook)
        images = [
            await self._intake.acquire(
                request.reference_image, owner=request.owner, field="input.referenceImage"
            )
        ]
        if request.second_image is not None:
            images.append(
                await self._intake.acquire(
                    request.second_image, owner=request.owner, field="input.secondImage"
                )
            )
        request_hash = fingerprint(request, params, images)
        replay = await self._replay(request, request_hash)
        if replay is not None:
            return SubmitResult(tasks=replay, replayed=True)
        await self._admission.admit(request.owner, request.count)
        try:
            tasks = await self._create(request, params, images, request_hash, webhook)
        except DuplicateRow:
            # A concurrent request with the same idempotency key won the race.
            replay = await self._replay(request, request_hash)
            if replay is None:
                raise
            return SubmitResult(tasks=replay, replayed=True)
        for task in tasks:
            await self._changes.announce(task, EventKind.CREATED)
        return SubmitResult(tasks=tasks, replayed=False)

    def _resolve(self, request: GenerationRequest) -> ResolvedParameters:
        try:
            template = self._templates.get(request.workflow)
        except UnknownWorkflow as exc:
            raise InvalidRequest.single("input.workflow", str(exc), "UNKNOWN_WORKFLOW") from exc
        check_options(request)
        raw: dict[str, object] = {
            **request.parameters,
            **request.options,
            "description": request.description,
        }
        try:
            return resolve_parameters(template, raw)
        except InvalidParameters as exc:
            raise refused_parameters(exc, typed=request.parameters.keys()) from exc

    async def _replay(self, request: GenerationRequest, request_hash: str) -> list[Task] | None:
        if request.idempotency_key is None:
            return None
        existing = await tasks_of_idempotency_key(request.owner, request.idempotency_key)
        if not existing:
            return None
        if existing[0].request_hash != request_hash:
            raise IdempotencyConflict(request.idempotency_key)
        return list(existing)

    async def _create(
        self,
        request: GenerationRequest,
        params: ResolvedParameters,
        images: Sequence[AcquiredImage],
        request_hash: str,
        webhook: WebhookTarget | None,
    ) -> list[Task]:
        written: list[str] = []
        created: list[AcquiredImage] = []
        try:
            async with atomic():
                stored: list[StoredImage] = []
                for image in images:
                    result = await self._intake.persist(image, owner=request.owner)
                    written.extend(result.written_keys)
                    stored.append(result.image)
                    if result.created:
                        created.append(image)
                timeout = request.timeout_seconds or self._default_timeout
                tasks = await create_tasks(request, params, stored, request_hash, timeout)
                await self._webhooks.attach(tasks, webhook)
        except BaseException:
            await self._intake.discard(written)
            raise
        for image in created:
            await self._intake.ensure_blobs(image)
        return tasks

    async def rerun(self, task_id: UUID, *, owner: str, seed: int | None) -> SubmitResult:
        """A new task with the finished task's images, description, workflow, parameters and
        timeout, run with `seed` (None: the original's seed), linked to it by `rerun_of`."""
        original = await self.get(task_id, owner=owner)
        if not original.status.is_terminal:
            raise InvalidTaskState(
                f"Task {task_id} is {original.status.value}; only finished tasks can be re-run."
            )
        second_id: UUID | None = original.second_image_id  # type: ignore[attr-defined]
        return await self.submit(
            GenerationRequest(
                owner=owner,
                description=original.description,
                reference_image=StoredImageSource(original.reference_image_id),  # type: ignore[attr-defined]
                second_image=StoredImageSource(second_id) if second_id else None,
                workflow=original.workflow,
                parameters={
                    **original.parameters,
                    "seed": int(original.seed) if seed is None else seed,
                },
                timeout_seconds=timeout_of(original),
                rerun_of=original.id,
            )
        )

    async def store_image(self, source: ImageSource, *, owner: str) -> StoredImage:
        image = await self._intake.acquire(source, owner=owner, field="image")
        written: list[str] = []
        try:
            async with atomic():
                result = await self._intake.persist(image, owner=owner)
                written.extend(result.written_keys)
        except BaseException:
            await self._intake.discard(written)
            raise
        if result.created:
            await self._intake.ensure_blobs(image)
        return result.image

    async def cancel(self, task_id: UUID, *, owner: str) -> Task:
        task = await self.get(task_id, owner=owner)
        if task.status.is_terminal:
            raise InvalidTaskState(
                f"Task {task_id} is already {task.status.value}; only pending or processing "
                "tasks can be cancelled."
            )
        if task.status is TaskStatus.PROCESSING or task.prompt_id is not None:
            await self._canceller.cancel_remote(task)
        cancelled = await self._outcomes.cancelled(task.id)
        if cancelled is None:
            return await self.get(task_id, owner=owner)
        return cancelled

    async def delete(self, task_id: UUID, *, owner: str) -> UUID:
        task = await self.get(task_id, owner=owner)
        if not task.status.is_terminal:
            raise InvalidTaskState(
                f"Task {task_id} is {task.status.value}; cancel it before deleting it."
            )
        await delete_task(task)
        await self._changes.announce(task, EventKind.DELETED)
        return task.id


def check_batch(request: GenerationRequest) -> None:
    problems: list[Problem] = []
    if not 1 <= request.count <= MAX_BATCH:
        problems.append(
            Problem("input.count", f"must be between 1 and {MAX_BATCH}.", "OUT_OF_RANGE")
        )
    key = request.idempotency_key
    if key is not None and not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY:
        problems.append(
            Problem(
                "input.idempotencyKey",
                f"must be 1 to {MAX_IDEMPOTENCY_KEY} characters.",
                "OUT_OF_RANGE",
            )
        )
    for text, field_name in (
        (request.description, "input.description"),
        (request.idempotency_key, "input.idempotencyKey"),
    ):
        problem = text_problem(text, field_name)
        if problem is not None:
            problems.append(problem)
    low, high = TIMEOUT_RANGE
    if request.timeout_seconds is not None and not low <= request.timeout_seconds <= high:
        problems.append(
            Problem(
                "input.timeoutSeconds",
                f"must be between {low} and {high}.",
                "OUT_OF_RANGE",
            )
        )
    if problems:
        raise InvalidRequest(problems)


def check_options(request: GenerationRequest) -> None:
    """Options name template parameters that have no field of their own in the request."""
    problems = [
        Problem(
            field=f"input.options.{name}",
            message=message,
            reason=ProblemReason.UNKNOWN_PARAMETER,
        )
        for name in request.options
        if (message := _misplaced_option(name, request)) is not None
    ]
    if problems:
        raise InvalidRequest(problems)


def _misplaced_option(name: str, request: GenerationRequest) -> str | None:
    if name == "description":
        return "is given as input.description, not as an option."
    if name in request.parameters:
        return f"is also given as input.parameters.{name}; give it once."
    return None


def fingerprint(
    request: GenerationRequest, params: ResolvedParameters, images: Sequence[AcquiredImage]
) -> str:
    """A stable hash of everything that defines the request (for idempotency keys)."""
    canonical = {
        "workflow": request.workflow,
        "parameters": {k: str(v) for k, v in sorted(params.values.items())},
        "images": [image.sha256 for image in images],
        "count": request.count,
    }
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


def timeout_of(task: Task) -> int | None:
    """The timeout a task was accepted with, in seconds."""
    if task.deadline_at is None:
        return None
    return round((task.deadline_at - task.created_at).total_seconds())


def pick_seed(requested: int | None) -> int:
    return secrets.randbits(SEED_BITS) if requested is None else requested


async def create_tasks(
    request: GenerationRequest,
    params: ResolvedParameters,
    images: Sequence[StoredImage],
    request_hash: str,
    timeout_seconds: int,
) -> list[Task]:
    base_seed = pick_seed(params.seed)
    batch_id = uuid.uuid4() if request.count > 1 else None
    stored_parameters = public_parameters(params.values)
    tasks = []
    for index in range(request.count):
        tasks.append(
            await insert_task(
                owner=request.owner,
                workflow=request.workflow,
                description=str(params.values["description"]),
                parameters=stored_parameters,
                seed=str((base_seed + index) % (SEED_MAX + 1)),
                reference_image=images[0],
                second_image=images[1] if len(images) > 1 else None,
                batch_id=batch_id,
                batch_index=index,
                rerun_of_id=request.rerun_of,
                idempotency_key=request.idempotency_key,
                request_hash=request_hash,
                timeout_seconds=timeout_seconds,
            )
        )
    return tasks


def public_parameters(values: Mapping[str, Any]) -> dict[str, Any]:
    """The resolved parameters kept on the task (seed and description have columns of their own)."""
    return {k: v for k, v in values.items() if k not in ("seed", "description")}


@dataclass(frozen=True)
class Services:
    tasks: TaskService
    templates: TemplateRegistry
    blobs: BlobStore
    broker: Broker
    backends: BackendPool
    run_times: RunTimes
    presets: PresetBook
    webhooks: WebhookTargets = field(default_factory=WebhookTargets)
