"""GraphQL output types. They describe the API and read from domain objects; they never expose them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Annotated, Any, TypeVar, cast
from uuid import UUID

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from comfy.urls import shown_url
from graphql_api.context import RequestContext
from graphql_api.readings import noting
from graphql_api.scalars import Seed
from graphql_api.webhooks import WebhookDelivery, deliveries
from tasks import (
    BackendKind,
    HistoryQuery,
    ImageRecord,
    PresetEntry,
    StoredImage,
    TaskSnapshot,
    TaskStatus,
    history_count,
    queue_position,
    waiting_finish,
)
from tasks import Task as TaskRow
from workflows.manifest import ParameterType

strawberry.enum(TaskStatus, description="Where a task is in its life.")
strawberry.enum(
    BackendKind,
    description="ComfyUI itself, the emulator this service started (KONTEXT_COMFYUI_URLS "
    "empty), or an emulator started by hand (`kontext emulator`), which says so in /system_stats.",
)

FINISH_ESTIMATE = (
    "When the task should finish, from measured times (README: Progress and estimates); null "
    "when unknown and once the task has ended."
)
T = TypeVar("T")


@strawberry.interface(description="An object with a globally unique id.")
class Node:
    id: strawberry.ID


def deferred(awaitable: Awaitable[T]) -> T:
    """An awaitable handed back by a plain resolver as its value: graphql-core awaits what a
    resolver returns when it is awaitable. Fields read from a prepared page return at once;
    only those whose data is not at hand cost the executor an awaitable."""
    return cast(T, awaitable)


@dataclass(frozen=True)
class ReadTogether:
    """What was read with a page of tasks (or one task): the images its fields show, by id, and
    their links, signed for this read (a presigned link is signed anew on every read)."""

    images: Mapping[UUID, ImageRecord]
    links: Mapping[str, str]


def link(blob_key: str, links: Mapping[str, str] | None, context: RequestContext) -> str:
    """The blob's link signed for this read, or one signed now."""
    signed = links.get(blob_key) if links is not None else None
    if signed is None:
        signed = context.file_url_now(blob_key)
    return deferred(context.file_url(blob_key)) if signed is None else signed


# Image links are made when the field is read (or with its page): a presigned URL is signed anew
# on every read.
def image_url(root: Image, info: Info[RequestContext, None]) -> str:
    return link(root.blob_key, root.links, info.context)


def thumbnail_url(root: Image, info: Info[RequestContext, None]) -> str | None:
    if not root.thumbnail_key:
        return None
    return link(root.thumbnail_key, root.links, info.context)


@strawberry.type(description="An image in storage: an uploaded reference or a generated result.")
class Image(Node):
    url: str = strawberry.field(resolver=image_url, description="Where to download the full image.")
    thumbnail_url: str | None = strawberry.field(
        resolver=thumbnail_url, description="A small WebP thumbnail."
    )
    width: int
    height: int
    content_type: str
    size: int = strawberry.field(description="Size of the file in bytes.")
    sha256: str
    blob_key: strawberry.Private[str]
    thumbnail_key: strawberry.Private[str | None]
    links: strawberry.Private[Mapping[str, str] | None] = None
    """Links signed for this read (blob key → URL), when it was read with its page."""

    @classmethod
    def from_row(
        cls, row: StoredImage | ImageRecord, links: Mapping[str, str] | None = None
    ) -> Image:
        return cls(
            id=strawberry.ID(str(row.id)),
            blob_key=row.blob_key,
            thumbnail_key=row.thumbnail_key,
            width=row.width,
            height=row.height,
            content_type=row.content_type,
            size=row.size,
            sha256=row.sha256,
            links=links,
        )


def result_url(root: TaskResult, info: Info[RequestContext, None]) -> str:
    return image_url(root.image, info)


def result_preview_url(root: TaskResult, info: Info[RequestContext, None]) -> str | None:
    return thumbnail_url(root.image, info)


@strawberry.type(description="The edited image of a completed task.")
class TaskResult:
    image: Image
    image_url: str = strawberry.field(resolver=result_url)
    preview_url: str | None = strawberry.field(
        resolver=result_preview_url, description="A small WebP of the result."
    )
    width: int
    height: int
    format: str
    bytes: int


@strawberry.type(description="Why a task failed or was cancelled.")
class TaskError:
    code: str = strawberry.field(
        description="WORKFLOW_INVALID, EXECUTION_FAILED, CANCELLED, LOST, TIMED_OUT, …"
    )
    message: str
    node_id: str | None = None
    node_type: str | None = None
    exception_type: str | None = None


@strawberry.type(
    description=(
        "The common generation parameters a task runs with (defaults applied); each is null "
        "when the task's workflow has no such parameter (its `options` list them all)."
    )
)
class GenerationParameters:
    steps: int | None
    cfg: float | None
    guidance: float | None
    seed: Seed
    sampler: str | None
    scheduler: str | None
    denoise: float | None


@strawberry.type(description="One parameter value a task runs with, whatever its workflow.")
class WorkflowOption:
    name: str
    value: JSON


async def _image(context: RequestContext, image_id: UUID | None) -> Image | None:
    if image_id is None:
        return None
    row = await context.images.load(image_id)
    return Image.from_row(row) if row is not None else None


# Fields made only when selected (a page reads many tasks, and shows few of their fields).
def task_options(root: Task) -> list[WorkflowOption]:
    return [WorkflowOption(name=k, value=v) for k, v in sorted(root.parameter_values.items())]


def task_backend(root: Task) -> str | None:
    return shown_url(root.backend_url) if root.backend_url else None


@strawberry.type(description="One Kontext edit of a reference image.")
class Task(Node):
    status: TaskStatus
    description: str
    workflow: str
    parameters: GenerationParameters
    options: list[WorkflowOption] = strawberry.field(
        resolver=task_options,
        description=(
            "Every value of the workflow's parameters the task runs with (defaults applied), "
            "by name, besides its description, images and seed: the common ones and the "
            "workflow's own."
        ),
    )
    progress: float = strawberry.field(description="0 to 100.")
    step: int = strawberry.field(description="Sampling steps done so far.")
    total_steps: int = strawberry.field(description="Sampling steps in this run.")
    current_node: str | None = strawberry.field(description="The ComfyUI node running now.")
    attempts: int = strawberry.field(
        description=(
            "The attempt the task is on: 1 once it is first sent to a backend, one more each "
            "time it is re-queued."
        )
    )
    requeue_reason: str | None = strawberry.field(
        description="Why the task was last re-queued (a backend forgot its prompt); else null."
    )
    batch_id: strawberry.ID | None
    batch_index: int
    backend: str | None = strawberry.field(
        resolver=task_backend,
        description="The ComfyUI server the task was sent to, as the `backends` query names it "
        "(its address without credentials); null before it is sent.",
    )
    error: TaskError | None
    created_at: datetime
    updated_at: datetime
    deadline_at: datetime | None = strawberry.field(
        description="When the task is stopped if it has not finished (TIMED_OUT)."
    )
    started_at: datetime | None
    finished_at: datetime | None
    sent: strawberry.Private[bool]
    parameter_values: strawberry.Private[dict[str, Any]]
    backend_url: strawberry.Private[str | None]
    running_estimate: strawberry.Private[datetime | None]
    preview_path: strawberry.Private[str | None]
    reference_image_id: strawberry.Private[UUID]
    second_image_id: strawberry.Private[UUID | None]
    result_image_id: strawberry.Private[UUID | None]
    rerun_of_id: strawberry.Private[UUID | None]
    read_with: strawberry.Private[ReadTogether | None] = None
    """The images (and their links) read with this task, when it was read with its page."""

    @strawberry.field(
        description="While PENDING: how many tasks start before this one (0: next); else null."
    )
    def queue_position(self) -> int | None:
        return waiting_position(self)

    @strawberry.field(
        description=(
            "While PENDING and not sent: why no backend takes it now (none that can run its "
            "workflow is ready, and why); null when a backend can take it, or once sent."
        )
    )
    def waiting_reason(self, info: Info[RequestContext, None]) -> str | None:
        if self.status is not TaskStatus.PENDING or self.sent:
            return None
        return info.context.services.backends.waiting_reason(self.workflow)

    @strawberry.field(description=FINISH_ESTIMATE)
    def estimated_finish_at(self, info: Info[RequestContext, None]) -> datetime | None:
        return finish_estimate(self, info.context)

    @strawberry.field(description="The newest latent preview while the task runs.")
    def preview_url(self, info: Info[RequestContext, None]) -> str | None:
        return preview_link(self, info.context)

    @strawberry.field
    def reference_image(self, info: Info[RequestContext, None]) -> Image | None:
        return self._image(self.reference_image_id, info.context)

    @strawberry.field
    def second_image(self, info: Info[RequestContext, None]) -> Image | None:
        return self._image(self.second_image_id, info.context)

    @strawberry.field(description="The edited image, once the task is COMPLETED.")
    def result(self, info: Info[RequestContext, None]) -> TaskResult | None:
        return result_of(self, info.context)

    def _image(self, image_id: UUID | None, context: RequestContext) -> Image | None:
        if image_id is None:
            return None
        image = self.read_image(image_id)
        return deferred(_image(context, image_id)) if image is None else image

    def read_image(self, image_id: UUID) -> Image | None:
        """The image as read with this task's page, with its links; None if it was not."""
        if self.read_with is None:
            return None
        row = self.read_with.images.get(image_id)
        return None if row is None else Image.from_row(row, self.read_with.links)

    @strawberry.field(
        description="The task this one re-runs (rerunTask); null for a new edit or once the "
        "original is deleted."
    )
    def rerun_of(self, info: Info[RequestContext, None]) -> Task | None:
        if self.rerun_of_id is None:
            return None
        return deferred(rerun_original(self.rerun_of_id, info.context))

    @strawberry.field(description="Notifications of the task's ending to its webhook, if any.")
    async def webhook_deliveries(self) -> list[WebhookDelivery]:
        return await deliveries(UUID(self.id))

    @strawberry.field(
        description="The tasks of this task's batch (this one included) in batch order; just "
        "this task when it is not part of a batch. Deleted siblings are left out."
    )
    def batch(self, info: Info[RequestContext, None]) -> list[Task]:
        if self.batch_id is None:
            return [self]
        return deferred(batch_of(UUID(self.batch_id), info.context))

    @classmethod
    def from_row(cls, row: TaskRow | TaskSnapshot, read_with: ReadTogether | None = None) -> Task:
        return cls(
            id=strawberry.ID(str(row.id)),
            status=row.status,
            description=row.description,
            workflow=row.workflow,
            parameters=parameters_of(row),
            parameter_values=row.parameters,
            progress=shown_progress(row.progress),
            step=row.step,
            total_steps=row.total_steps,
            current_node=row.current_node,
            sent=row.prompt_id is not None,
            running_estimate=row.estimated_finish_at,
            attempts=row.attempts,
            requeue_reason=row.requeue_reason,
            batch_id=strawberry.ID(str(row.batch_id)) if row.batch_id else None,
            batch_index=row.batch_index,
            backend_url=row.backend,
            error=error_of(row),
            created_at=row.created_at,
            updated_at=row.updated_at,
            deadline_at=row.deadline_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
            preview_path=row.preview_key,
            reference_image_id=row.reference_image_id,  # type: ignore[union-attr]
            second_image_id=row.second_image_id,  # type: ignore[union-attr]
            result_image_id=row.result_image_id,  # type: ignore[union-attr]
            rerun_of_id=row.rerun_of_id,  # type: ignore[union-attr]
            read_with=read_with,
        )


def shown_progress(percent: float) -> float:
    """A task's progress as the API shows it (`Task.progress`, `TaskUpdate.progress`)."""
    return round(percent, 2)


# A task's fields that may need a read, shared by `Task` and `TaskUpdate`: each answers at once
# where it can (a running task's progress needs no read), and is deferred only where it cannot.
def waiting_position(task: Task) -> int | None:
    if task.status is not TaskStatus.PENDING:
        return None
    return deferred(queue_position(UUID(task.id), task.created_at, task.sent))


def finish_estimate(task: Task, context: RequestContext) -> datetime | None:
    if task.status is TaskStatus.PROCESSING:
        return task.running_estimate
    if task.status is TaskStatus.PENDING:
        return deferred(waiting_estimate(task, context))
    return None


async def waiting_estimate(task: Task, context: RequestContext) -> datetime | None:
    position = await queue_position(UUID(task.id), task.created_at, task.sent)
    services = context.services
    return await waiting_finish(position, services.run_times, services.backends)


def preview_link(task: Task, context: RequestContext) -> str | None:
    if not task.preview_path:
        return None
    links = task.read_with.links if task.read_with is not None else None
    return link(task.preview_path, links, context)


def result_of(task: Task, context: RequestContext) -> TaskResult | None:
    if task.result_image_id is None:
        return None
    image = task.read_image(task.result_image_id)
    return deferred(_read_result(task, context)) if image is None else task_result(image)


async def rerun_original(task_id: UUID, context: RequestContext) -> Task | None:
    row = await context.tasks.load(task_id)
    return Task.from_row(row) if row is not None else None


async def batch_of(batch_id: UUID, context: RequestContext) -> list[Task]:
    rows = await context.services.tasks.batch(batch_id, owner=context.owner)
    return [Task.from_row(row) for row in rows]


async def _read_result(task: Task, context: RequestContext) -> TaskResult | None:
    image = await _image(context, task.result_image_id)
    if image is None:
        return None
    return task_result(image)


def task_result(image: Image) -> TaskResult:
    """The result showing `image`; its links are the image's (signed when read with its page)."""
    return TaskResult(
        image=image,
        width=image.width,
        height=image.height,
        format=image.content_type.removeprefix("image/").upper(),
        bytes=image.size,
    )


def _given(values: dict[str, Any], name: str, kind: Callable[[Any], T]) -> T | None:
    value = values.get(name)
    return None if value is None else kind(value)


def parameters_of(row: TaskRow | TaskSnapshot) -> GenerationParameters:
    values = row.parameters
    return GenerationParameters(
        steps=_given(values, "steps", int),
        cfg=_given(values, "cfg", float),
        guidance=_given(values, "guidance", float),
        seed=int(row.seed),  # type: ignore[arg-type]
        sampler=_given(values, "sampler", str),
        scheduler=_given(values, "scheduler", str),
        denoise=_given(values, "denoise", float),
    )


def error_of(row: TaskRow | TaskSnapshot) -> TaskError | None:
    if row.error_code is None:
        return None
    details = row.error_details or {}
    return TaskError(
        code=row.error_code,
        message=row.error_message or "",
        node_id=details.get("node_id"),
        node_type=details.get("node_type"),
        exception_type=details.get("exception_type"),
    )


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class TaskEdge:
    cursor: str
    node: Task


@strawberry.type(description="A page of history, newest first (Relay connection).")
class TaskConnection:
    edges: list[TaskEdge]
    page_info: PageInfo
    query: strawberry.Private[HistoryQuery]

    @strawberry.field(description="Tasks matching the filters, all pages.")
    async def total_count(self) -> int:
        # Read only when selected: without filters one kept row, with them a COUNT.
        count = await history_count(self.query)
        readings = noting()
        if readings is not None:
            readings.note(partial(history_count, self.query), count)
        return count


@strawberry.type
class ImageEdge:
    cursor: str
    node: Image


@strawberry.type(description="A page of images, newest first (Relay connection).")
class ImageConnection:
    edges: list[ImageEdge]
    page_info: PageInfo


@strawberry.type(
    description="The generation parameters a preset sets; null ones are left as they are."
)
class PresetParameters:
    steps: int | None = None
    cfg: float | None = None
    guidance: float | None = None
    seed: Seed | None = None
    sampler: str | None = None
    scheduler: str | None = None
    denoise: float | None = None


@strawberry.type(description="A named set of generation parameters: built-in or the caller's own.")
class Preset:
    id: strawberry.ID
    name: str
    built_in: bool = strawberry.field(description="Built-in presets cannot be deleted.")
    parameters: PresetParameters

    @classmethod
    def from_entry(cls, entry: PresetEntry) -> Preset:
        values = entry.parameters
        return cls(
            id=strawberry.ID(entry.id),
            name=entry.name,
            built_in=entry.built_in,
            parameters=PresetParameters(
                steps=_optional(int, values.get("steps")),
                cfg=_optional(float, values.get("cfg")),
                guidance=_optional(float, values.get("guidance")),
                seed=_optional(Seed, values.get("seed")),
                sampler=_optional(str, values.get("sampler")),
                scheduler=_optional(str, values.get("scheduler")),
                denoise=_optional(float, values.get("denoise")),
            ),
        )


def _optional(kind: Callable[[Any], T], value: object) -> T | None:
    return None if value is None else kind(value)


@strawberry.type(description="What generateImage accepted.")
class GenerateImagePayload:
    task: Task = strawberry.field(description="The first (or only) task created.")
    tasks: list[Task] = strawberry.field(description="Every task of the batch, in seed order.")
    message: str
    replayed: bool = strawberry.field(
        description="True when an idempotency key returned tasks created by an earlier call."
    )


strawberry.enum(ParameterType, description="The kind of value a parameter takes.")


@strawberry.type(description="One public parameter of a workflow template.")
class WorkflowParameter:
    name: str
    type: ParameterType
    description: str
    required: bool
    default: Annotated[str | None, strawberry.field(description="The default, as JSON text.")]
    minimum: float | None
    maximum: float | None
    choices: list[str] | None
    input_field: str = strawberry.field(
        description=(
            "Where generateImage sets it: description, referenceImage, secondImage, "
            "parameters.<name> (typed) or options (by name, in `options`)."
        )
    )


@strawberry.type(description="A workflow template the service can run.")
class Workflow:
    name: str
    title: str
    description: str
    parameters: list[WorkflowParameter]


@strawberry.type(description="Why a backend cannot run a workflow template.")
class WorkflowProblem:
    workflow: str
    reason: str


@strawberry.type(description="A ComfyUI server this service runs tasks on.")
class BackendInfo:
    url: str
    emulated: bool = strawberry.field(
        description="True for an emulator, bundled or started by hand: its images are "
        "synthetic, not Flux output."
    )
    kind: BackendKind
    connected: bool
    ready: bool
    not_ready_reason: str | None
    comfyui_version: str | None
    running_prompt_ids: list[str]
    queued_prompt_ids: list[str]
    reconnects: int
    client_id: str = strawberry.field(
        description="The client id this process uses on this server: the configured prefix "
        "(KONTEXT_COMFYUI_CLIENT_ID) plus host, pid and a random part, unique per process."
    )
    stalled_since: datetime | None = strawberry.field(
        description="While ComfyUI does not route events to our socket (another socket with "
        "our client id replaced it or closed): since when. Null when events flow."
    )
    stalls: int = strawberry.field(
        description="How often events stopped reaching our socket since start-up (each time "
        "the service reconnected and reconciled)."
    )
    workflows: list[str] = strawberry.field(
        description="The workflow templates this server can run: its /object_info offers all "
        "their node types and model files."
    )
    unrunnable_workflows: list[WorkflowProblem] = strawberry.field(
        description="The templates it cannot run, and what it lacks for each."
    )
    loaded_models: list[str] = strawberry.field(
        description="The model files of the prompt sent here last (what it holds loaded): "
        "tasks needing the same go here first."
    )
