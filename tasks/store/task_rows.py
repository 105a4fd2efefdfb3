"""The queries on tasks that the ComfyUI side needs: a task by id or prompt, the active tasks of a
backend, the silent and the expired ones, the images a prompt is built from, and the output row
written with a task's completion. Rows come back as `Task` models or plain values."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from tortoise.expressions import Q

from tasks.status import ACTIVE_STATUSES, TaskStatus
from tasks.store.atomic import atomic
from tasks.store.clock import utc_now
from tasks.store.models import ImageKind, StoredImage, Task
from tasks.store.transitions import TaskChanges, Written

__all__ = [
    "ImageFile",
    "NewOutputImage",
    "Task",
    "active_task_of_prompt",
    "active_tasks_of_backend",
    "complete_with_output",
    "expired_tasks",
    "image_file",
    "processing_finish_estimates",
    "reference_resolution",
    "silent_tasks",
    "stranded_tasks",
    "task_by_id",
    "unsent_tasks",
]


async def task_by_id(task_id: UUID) -> Task | None:
    return await Task.get_or_none(id=task_id)


async def active_task_of_prompt(prompt_id: str) -> Task | None:
    """The unfinished task that runs this prompt, if any, with its reference image's row
    joined (what `reference_resolution` reads next, when a run begins)."""
    task = await Task.filter(prompt_id=prompt_id).select_related("reference_image").first()
    if task is None or task.status.is_terminal:
        return None
    return task


async def active_tasks_of_backend(
    backend: str, prompt_ids: Iterable[str] | None = None
) -> list[Task]:
    """The unfinished tasks sent to `backend` (only those of `prompt_ids`, when given)."""
    query = Task.filter(backend=backend, status__in=list(ACTIVE_STATUSES), prompt_id__isnull=False)
    if prompt_ids is not None:
        query = query.filter(prompt_id__in=list(prompt_ids))
    return await query


async def expired_tasks() -> list[Task]:
    """Unfinished tasks past their deadline."""
    return await Task.filter(status__in=list(ACTIVE_STATUSES), deadline_at__lt=utc_now())


async def silent_tasks(quiet_since: datetime) -> list[Task]:
    """Sent tasks running, or waiting in ComfyUI's queue, with no word since `quiet_since`."""
    return await Task.filter(
        Q(status=TaskStatus.PROCESSING) | Q(queued_at__isnull=False),
        status__in=list(ACTIVE_STATUSES),
        prompt_id__isnull=False,
        updated_at__lt=quiet_since,
    )


async def unsent_tasks(claimed_before: datetime) -> list[Task]:
    """Tasks claimed before `claimed_before` whose POST /prompt was never confirmed."""
    return await Task.filter(
        status=TaskStatus.PENDING,
        prompt_id__isnull=False,
        queued_at__isnull=True,
        dispatched_at__lt=claimed_before,
    )


async def stranded_tasks(quiet_since: datetime, tracked_here: Collection[str]) -> list[Task]:
    """Unfinished tasks quiet since `quiet_since` on a backend not in `tracked_here`."""
    return await Task.filter(
        status__in=list(ACTIVE_STATUSES), backend__isnull=False, updated_at__lt=quiet_since
    ).exclude(backend__in=list(tracked_here))


async def processing_finish_estimates() -> list[datetime | None]:
    """The estimated finish of every running task (None where there is none yet)."""
    finishes: list[datetime | None] = await Task.filter(  # type: ignore[assignment]
        status=TaskStatus.PROCESSING
    ).values_list("estimated_finish_at", flat=True)
    return finishes


@dataclass(frozen=True)
class ImageFile:
    """What uploading a stored image to ComfyUI needs: where its bytes are and what they are."""

    blob_key: str
    sha256: str
    content_type: str


async def image_file(image_id: UUID) -> ImageFile:
    image = await StoredImage.get(id=image_id)
    return ImageFile(blob_key=image.blob_key, sha256=image.sha256, content_type=image.content_type)


async def reference_resolution(task: Task) -> str:
    """The size of the task's input as `WxH` (`+second image` when it has one): what the cost
    of the nodes after sampling depends on. The image's row is read unless the task came with
    it joined."""
    joined: object = task.reference_image  # the row when joined, a query for it otherwise
    image = (
        joined
        if isinstance(joined, StoredImage)
        else await StoredImage.get_or_none(id=task.reference_image_id)  # type: ignore[attr-defined]
    )
    resolution = f"{image.width}x{image.height}" if image is not None else "unknown"
    if task.second_image_id is not None:  # type: ignore[attr-defined]
        resolution += "+second image"
    return resolution


@dataclass(frozen=True)
class NewOutputImage:
    """An output image stored as blobs, its row not yet inserted."""

    owner: str
    blob_key: str
    thumbnail_key: str
    sha256: str
    content_type: str
    width: int
    height: int
    size: int


class _NotActive(Exception):
    """The task had already ended: roll the transaction back."""


async def complete_with_output(
    changes: TaskChanges, task_id: UUID, output: NewOutputImage
) -> Written | None:
    """Insert the output's row and complete the task in one transaction: either both are
    committed or neither (then None). The completed task is returned, not yet announced."""
    try:
        async with atomic():
            image = StoredImage(
                owner=output.owner,
                kind=ImageKind.OUTPUT,
                sha256=output.sha256,
                blob_key=output.blob_key,
                thumbnail_key=output.thumbnail_key,
                content_type=output.content_type,
                width=output.width,
                height=output.height,
                size=output.size,
                created_at=utc_now(),
            )
            await image.save()
            done = await changes.update(
                task_id,
                expect=ACTIVE_STATUSES,
                status=TaskStatus.COMPLETED,
                result_image_id=image.id,
                progress=100.0,
                current_node=None,
                finished_at=utc_now(),
            )
            if done is None:
                raise _NotActive
    except _NotActive:
        return None
    return done
