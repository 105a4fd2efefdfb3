"""Task events: what subscribers are told when a task changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING
from uuid import UUID

from tasks.status import TaskStatus

if TYPE_CHECKING:
    from tasks.store.snapshots import TaskSnapshot


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

    @property
    def is_transition(self) -> bool:
        """Events a subscriber must never miss (progress and previews may be conflated)."""
        return self.kind not in (EventKind.PROGRESS, EventKind.PREVIEW)

    @property
    def is_terminal(self) -> bool:
        return self.status.is_terminal or self.kind is EventKind.DELETED
