"""Task events: what subscribers are told when a task changes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from uuid import UUID

from tasks.status import TaskStatus


class EventKind(str, Enum):
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

    @property
    def is_transition(self) -> bool:
        """Events a subscriber must never miss (progress and previews may be conflated)."""
        return self.kind not in (EventKind.PROGRESS, EventKind.PREVIEW)

    @property
    def is_terminal(self) -> bool:
        return self.status.is_terminal or self.kind is EventKind.DELETED
