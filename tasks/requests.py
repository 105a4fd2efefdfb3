"""What a caller asks the domain for, free of any transport (GraphQL, HTTP) types."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol
from uuid import UUID

from tasks.errors import InvalidRequest, Problem
from tasks.status import TaskStatus
from workflows.parameters import InvalidParameters

DEFAULT_WORKFLOW = "flux_kontext_dev_basic"


class AsyncReadable(Protocol):
    """An uploaded file as the web framework hands it over."""

    async def read(self, size: int = -1) -> bytes: ...


@dataclass(frozen=True)
class UploadSource:
    file: AsyncReadable


@dataclass(frozen=True)
class Base64Source:
    text: str


@dataclass(frozen=True)
class UrlSource:
    url: str


@dataclass(frozen=True)
class StoredImageSource:
    image_id: UUID


ImageSource = UploadSource | Base64Source | UrlSource | StoredImageSource


@dataclass(frozen=True)
class GenerationRequest:
    owner: str
    description: str
    reference_image: ImageSource
    workflow: str = DEFAULT_WORKFLOW
    second_image: ImageSource | None = None
    parameters: Mapping[str, object] = field(default_factory=dict)
    options: Mapping[str, object] = field(default_factory=dict)
    """The template's own parameters by name (those the common `parameters` do not type)."""
    count: int = 1
    idempotency_key: str | None = None
    timeout_seconds: int | None = None
    rerun_of: UUID | None = None  # the finished task this one runs again
    webhook: WebhookTarget | None = None


@dataclass(frozen=True)
class HistoryQuery:
    owner: str
    first: int = 20
    after: str | None = None
    statuses: frozenset[TaskStatus] = frozenset()
    search: str | None = None


# Where a task's end is announced: the events a webhook can ask for, and the target a
# request names.


class WebhookEvent(StrEnum):
    """The task endings a webhook can be told about (named as the task status)."""

    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def type(self) -> str:
        """The `type` of the delivered message: task.completed, task.failed, task.cancelled."""
        return f"task.{self.value.lower()}"


ALL_EVENTS = tuple(WebhookEvent)


def event_for(status: TaskStatus) -> WebhookEvent | None:
    return WebhookEvent(status.value) if status.is_terminal else None


@dataclass(frozen=True)
class WebhookTarget:
    url: str
    events: tuple[WebhookEvent, ...] = ALL_EVENTS

    @classmethod
    def of(cls, url: str, events: Iterable[WebhookEvent] | None) -> WebhookTarget:
        """`events` None means all of them; the order is fixed, duplicates dropped."""
        chosen = ALL_EVENTS if events is None else tuple(e for e in ALL_EVENTS if e in set(events))
        return cls(url=url.strip(), events=chosen)


# Text a request may carry into the database: no NUL characters (PostgreSQL text cannot hold
# them) and no unpaired surrogates (they have no UTF-8 encoding).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def text_problem(value: str | None, field: str) -> Problem | None:
    """A BAD_TEXT problem naming the first unstorable character, or None when the text is fine."""
    if value is None:
        return None
    found = UNSTORABLE.search(value)
    if found is None:
        return None
    character = f"U+{ord(found.group()):04X}"
    return Problem(
        field,
        f"The text contains {character} at position {found.start()}, which cannot be stored "
        "(NUL characters and unpaired UTF-16 surrogates are not text).",
        "BAD_TEXT",
    )


def check_text(value: str | None, field: str) -> None:
    problem = text_problem(value, field)
    if problem is not None:
        raise InvalidRequest([problem])


# Where a request's parameters stand, and a workflow's refusal of them as the caller's error.


def field_path(parameter: str, typed: Collection[str] | None = None) -> str:
    """Where the request holds a parameter: its own field, `parameters` (the common, typed
    ones given there) or `options` (the rest). `typed` None: every parameter is typed."""
    if parameter == "description":
        return "input.description"
    if typed is None or parameter in typed:
        return f"input.parameters.{parameter}"
    return f"input.options.{parameter}"


def refused_parameters(
    exc: InvalidParameters, typed: Collection[str] | None = None
) -> InvalidRequest:
    """The workflow's refusal as the caller's BAD_USER_INPUT, one problem per parameter."""
    return InvalidRequest(
        [
            Problem(field=field_path(p.name, typed), message=p.message, reason=p.reason)
            for p in exc.problems
        ]
    )
