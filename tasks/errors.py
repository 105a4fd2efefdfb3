"""Domain errors. Each carries a stable code; the API layer maps them to `extensions.code` in one place.

DomainError
 ├── InvalidRequest        BAD_USER_INPUT   (with one problem per offending field)
 ├── TaskNotFound          NOT_FOUND        (also for anything owned by someone else)
 ├── ImageNotFound         NOT_FOUND
 ├── PresetNotFound        NOT_FOUND
 ├── BuiltInPreset         BUILT_IN_PRESET  (built-in presets cannot be changed or deleted)
 ├── IdempotencyConflict   IDEMPOTENCY_CONFLICT
 └── InvalidTaskState      INVALID_STATE    (e.g. cancelling a finished task)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a request: where (a dotted input path), why (a reason code), and a sentence."""

    field: str
    message: str
    reason: str = "INVALID"

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "reason": self.reason, "message": self.message}


class DomainError(Exception):
    code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def extensions(self) -> dict[str, Any]:
        return {"code": self.code}


class InvalidRequest(DomainError):
    code = "BAD_USER_INPUT"

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems

    @classmethod
    def single(cls, field: str, message: str, reason: str = "INVALID") -> InvalidRequest:
        return cls([Problem(field=field, message=message, reason=reason)])

    @property
    def extensions(self) -> dict[str, Any]:
        first = self.problems[0]
        return {
            "code": self.code,
            "field": first.field,
            "reason": first.reason,
            "problems": [p.as_dict() for p in self.problems],
        }


class NoBackend(DomainError):
    """No configured backend offers what a workflow needs (node types, model files)."""

    code = "NO_BACKEND"

    def __init__(self, workflow: str, reason: str) -> None:
        super().__init__(f"No configured ComfyUI backend can run {workflow!r}: {reason}")
        self.reason = reason

    @property
    def extensions(self) -> dict[str, Any]:
        return {"code": self.code, "reason": self.reason}


class TaskNotFound(DomainError):
    code = "NOT_FOUND"

    def __init__(self, task_id: object) -> None:
        super().__init__(f"No task with id {task_id}.")


class ImageNotFound(DomainError):
    code = "NOT_FOUND"

    def __init__(self, image_id: object) -> None:
        super().__init__(f"No image with id {image_id}; upload it again.")


class PresetNotFound(DomainError):
    code = "NOT_FOUND"

    def __init__(self, preset_id: object) -> None:
        super().__init__(f"No preset with id {preset_id}.")


class BuiltInPreset(DomainError):
    code = "BUILT_IN_PRESET"

    def __init__(self, name: str) -> None:
        super().__init__(f"{name!r} is a built-in preset; built-in presets cannot be deleted.")


class IdempotencyConflict(DomainError):
    code = "IDEMPOTENCY_CONFLICT"

    def __init__(self, key: str) -> None:
        super().__init__(
            f"Idempotency key {key!r} was already used for a different request; "
            "use a new key for a new request."
        )


class InvalidTaskState(DomainError):
    code = "INVALID_STATE"
