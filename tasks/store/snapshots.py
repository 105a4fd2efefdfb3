"""A task as subscribers are shown it: a frozen snapshot of its row, with its sequence.

`snapshot_of` is the one place a snapshot is built from a row. Progress moves a snapshot on
without the database (`advanced`): the same attribute names as the `Task` model, so readers of
a row read a snapshot alike.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from tasks.status import TaskStatus
from tasks.store.models import Task

PROGRESS_FIELDS = (
    "step",
    "total_steps",
    "progress",
    "current_node",
    "estimated_finish_at",
    "preview_key",
    "updated_at",
)
"""What a progress frame or a new preview changes: kept in memory while the task runs, written
with the next transition or by the timer, and carried in the NOTIFY payload to the other
replicas."""


@dataclasses.dataclass(frozen=True, slots=True)
class TaskSnapshot:
    """A task right after one of its changes; `sequence` orders the changes of one task."""

    id: UUID
    owner: str
    sequence: int
    status: TaskStatus
    workflow: str
    description: str
    parameters: dict[str, Any]
    seed: str
    reference_image_id: UUID
    second_image_id: UUID | None
    result_image_id: UUID | None
    rerun_of_id: UUID | None
    batch_id: UUID | None
    batch_index: int
    step: int
    total_steps: int
    progress: float
    current_node: str | None
    preview_key: str | None
    estimated_finish_at: datetime | None
    backend: str | None
    prompt_id: str | None
    attempts: int
    requeue_reason: str | None
    error_code: str | None
    error_message: str | None
    error_details: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    deadline_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None


def snapshot_of(row: Task) -> TaskSnapshot:
    """The row as a snapshot (the only place one is made from a row)."""
    return TaskSnapshot(
        **{field.name: getattr(row, field.name) for field in dataclasses.fields(TaskSnapshot)}
    )


def progress_of(snapshot: TaskSnapshot) -> dict[str, Any]:
    return {name: getattr(snapshot, name) for name in PROGRESS_FIELDS}


def advanced(snapshot: TaskSnapshot, sequence: int, progress: Mapping[str, Any]) -> TaskSnapshot:
    """The snapshot with newer progress, as change `sequence` of its task."""
    unknown = set(progress) - set(PROGRESS_FIELDS)
    if unknown:
        raise ValueError(f"not progress fields: {sorted(unknown)}")
    return dataclasses.replace(snapshot, sequence=sequence, **progress)


async def read_snapshot(task_id: UUID, owner: str | None = None) -> TaskSnapshot | None:
    """The task as its row is now (of `owner` only, when given); None when there is none."""
    query = Task.filter(id=task_id) if owner is None else Task.filter(id=task_id, owner=owner)
    row = await query.first()
    return None if row is None else snapshot_of(row)


# Task events: what subscribers are told when a task changes.


class EventKind(StrEnum):
    SNAPSHOT = "SNAPSHOT"
    CREATED = "CREATED"
    STATUS = "STATUS"
    PROGRESS = "PROGRESS"
    PREVIEW = "PREVIEW"
    DELETED = "DELETED"


@dataclass(frozen=True)
class TaskEvent:
    """A change of one task. `sequence` is strictly increasing per task."""

    task_id: UUID
    owner: str
    sequence: int
    kind: EventKind
    status: TaskStatus
    task: TaskSnapshot | None = field(default=None, compare=False, repr=False)
    """The task right after the change (None only for a task deleted before it was read)."""
    local: bool = field(default=True, compare=False)
    """False for a change made by another replica (relayed through the database)."""
    webhook_due: bool = field(default=False, compare=False)
    """A webhook delivery of this change was committed with it (the sender has work)."""

    @property
    def is_transition(self) -> bool:
        """Events a subscriber must never miss (progress and previews may be conflated)."""
        return self.kind not in (EventKind.PROGRESS, EventKind.PREVIEW)

    @property
    def is_terminal(self) -> bool:
        return self.status.is_terminal or self.kind is EventKind.DELETED
