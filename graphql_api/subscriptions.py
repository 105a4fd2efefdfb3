"""Subscriptions: live task progress for progress bars and live history lists."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry
from strawberry.types import Info

from graphql_api.context import RequestContext
from graphql_api.inputs import parse_uuid
from graphql_api.types import (
    FINISH_ESTIMATE,
    Task,
    TaskError,
    TaskResult,
    finish_estimate,
    preview_link,
    result_of,
    shown_progress,
    waiting_position,
)
from tasks import DirectDelivery, EventKind, TaskEvent, TaskStatus, watch_owner, watch_task

Ctx = Info[RequestContext, None]

strawberry.enum(EventKind, name="TaskEventKind", description="What changed.")


@strawberry.type(description="A change of a task, with its state right after the change.")
class TaskUpdate:
    """The task's own values are plain fields, copied from the event's snapshot: each answers as
    a value (`graphql_api.executing`'s plain leaves), not through a resolver of its own, in the
    execution every subscriber of a running task waits for."""

    sequence: int = strawberry.field(description="Strictly increasing per task.")
    kind: EventKind
    event: strawberry.Private[TaskEvent]
    shared_source: strawberry.Private[TaskEvent | None] = None
    """The broker's event, the same object for every subscriber: results are shared on it."""
    view: strawberry.Private[Task | None] = None
    direct: strawberry.Private[DirectDelivery | None] = None
    """On a stream's first update: lets the relay write the stream's later events itself."""

    @staticmethod
    def later(event: TaskEvent) -> TaskUpdate | None:
        """What the relay executes in the publisher's loop for a later event of the stream
        (`graphql_api.fanout`): a running task's (its start, progress and previews), whose
        fields answer without a read; None for any other (a waiting task's place in the queue
        is read), left to a subscriber's task."""
        return update_of(event) if event.status is TaskStatus.PROCESSING else None

    @strawberry.field(name="task")
    def task_field(self) -> Task:
        return self.task

    @property
    def task(self) -> Task:
        """The task as the API shows it, made when the update is executed (once for all the
        subscribers it is shared with), not when each subscriber receives the event."""
        if self.view is None:
            assert self.event.task is not None
            self.view = Task.from_row(self.event.task)
        return self.view

    status: TaskStatus
    step: int
    total_steps: int
    progress: float = strawberry.field(description="0 to 100.")
    current_node: str | None

    @strawberry.field
    def queue_position(self) -> int | None:
        return waiting_position(self.task)

    @strawberry.field(description=FINISH_ESTIMATE)
    def estimated_finish_at(self, info: Ctx) -> datetime | None:
        return finish_estimate(self.task, info.context)

    requeue_reason: str | None = strawberry.field(
        description="Why the task was last re-queued; else null."
    )

    @strawberry.field(description="The newest preview image, if any.")
    def preview_url(self, info: Ctx) -> str | None:
        return preview_link(self.task, info.context)

    @strawberry.field(description="Set on the COMPLETED event.")
    def result(self, info: Ctx) -> TaskResult | None:
        return result_of(self.task, info.context)

    @strawberry.field(description="Set on the FAILED and CANCELLED events.")
    def error(self) -> TaskError | None:
        return self.task.error


class counted:
    """Keeps the active-subscriptions gauge right, however the stream ends. A slotted object
    rather than a generator-based context manager: every idle subscription holds one."""

    __slots__ = ("gauge",)

    def __init__(self, context: RequestContext) -> None:
        self.gauge = context.metrics.subscriptions if context.metrics else None

    def __enter__(self) -> None:
        if self.gauge is not None:
            self.gauge.inc()

    def __exit__(self, *exc_info: object) -> None:
        if self.gauge is not None:
            self.gauge.dec()


def update_of(event: TaskEvent, direct: DirectDelivery | None = None) -> TaskUpdate:
    """An event with its snapshot, as its subscribers are shown it."""
    task = event.task
    assert task is not None
    return TaskUpdate(
        sequence=event.sequence,
        kind=event.kind,
        status=task.status,
        step=task.step,
        total_steps=task.total_steps,
        progress=shown_progress(task.progress),
        current_node=task.current_node,
        requeue_reason=task.requeue_reason,
        event=event,
        # A snapshot is read for its one subscriber; every other event is the broker's own
        # (the relay writes those it holds with the payload shared on this very object).
        shared_source=None if event.kind is EventKind.SNAPSHOT else event,
        direct=direct,
    )


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description=(
            "A task's current state at once, then every change until it ends (the stream "
            "completes after the COMPLETED, FAILED or CANCELLED event)."
        )
    )
    async def task_progress(self, info: Ctx, id: strawberry.ID) -> AsyncGenerator[TaskUpdate, None]:
        context = info.context
        del info  # an idle subscription keeps its context and its queue, not the resolve info
        task_id = parse_uuid(id, "id")
        direct: DirectDelivery | None = DirectDelivery()
        with counted(context):
            broker = context.services.broker
            async for event in watch_task(broker, task_id, context.owner, direct):
                if event.task is not None:
                    yield update_of(event, direct)
                    direct = None  # offered once, with the snapshot
                del event  # nothing of the last event is kept while waiting for the next

    @strawberry.subscription(description="Every change of the caller's tasks (for live lists).")
    async def task_updates(
        self, info: Ctx, status: list[TaskStatus] | None = None
    ) -> AsyncGenerator[TaskUpdate, None]:
        context = info.context
        del info  # as in task_progress
        statuses = frozenset(status or ())
        with counted(context):
            async for event in watch_owner(context.services.broker, context.owner, statuses):
                if event.task is not None:
                    yield update_of(event)
