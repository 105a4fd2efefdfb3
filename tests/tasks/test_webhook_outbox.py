"""The webhook outbox at the domain level: a delivery is committed with the final status or not at
all, once per ending; claims never hand one delivery to two senders; retries back off with jitter
and stop at the end of the window."""

from __future__ import annotations

import asyncio
import ipaddress
import random
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from tortoise.transactions import in_transaction

from storage.local import LocalBlobStore
from tasks.background import BackgroundTasks
from tasks.status import TaskStatus
from tasks.store.clock import utc_now
from tasks.store.models import Task
from tasks.store.snapshots import EventKind, TaskEvent
from tasks.store.transitions import TaskChanges
from tasks.store.webhook_models import DeliveryStatus, TaskWebhook, WebhookDelivery
from tasks.store.webhooks import Outbox
from tasks.webhooks.retries import RetryPolicy
from tasks.webhooks.sender import DeliveryResult, SenderSettings, WebhookSender
from tests.support.webhooks import TEST_SECRET, running_receiver
from tests.tasks.test_outputs import a_task, outcomes, written_output

pytestmark = pytest.mark.usefixtures("database")


class Rollback(Exception):
    pass


async def another_task() -> Task:
    """A task of alice's (a_task makes its reference image, which can be made once)."""
    first = await Task.first()
    if first is None:
        return await a_task()
    now = utc_now()
    return await Task.create(
        id=uuid.uuid4(), owner="alice", status=TaskStatus.PROCESSING, workflow="w",
        description="d", parameters={}, seed="1", reference_image_id=first.reference_image_id,  # type: ignore[attr-defined]
        request_hash="h", created_at=now, updated_at=now,
    )  # fmt: skip


async def hooked_task(events: list[str], url: str = "http://hooks.example/x") -> Task:
    task = await another_task()
    await TaskWebhook.create(task=task, owner=task.owner, url=url, events=events)
    return task


class Announced:
    def __init__(self) -> None:
        self.events: list[TaskEvent] = []

    async def publish(self, event: TaskEvent) -> None:
        self.events.append(event)


async def test_the_delivery_is_committed_with_the_final_status_or_not_at_all() -> None:
    announced = Announced()
    changes = TaskChanges(announced, BackgroundTasks())
    task = await hooked_task(["COMPLETED", "FAILED", "CANCELLED"])

    async def fail_then_roll_back() -> None:
        async with in_transaction():
            written = await changes.update(task.id, status=TaskStatus.FAILED, error_code="X")
            assert written is not None and written.webhook_due
            assert await WebhookDelivery.filter(task_id=task.id).count() == 1
            raise Rollback

    with pytest.raises(Rollback):
        await fail_then_roll_back()
    assert (await Task.get(id=task.id)).status is TaskStatus.PROCESSING
    assert await WebhookDelivery.filter(task_id=task.id).count() == 0
    # Nothing of the rolled-back ending is left to mark a later change as enqueuing a delivery.
    await changes.apply(task.id, EventKind.STATUS, status=TaskStatus.PENDING)
    assert [event.webhook_due for event in announced.events] == [False]


async def test_one_delivery_per_ending_and_only_for_the_chosen_events(tmp_path: Path) -> None:
    ends = outcomes(LocalBlobStore(tmp_path))
    completed = await hooked_task(["COMPLETED"])
    await Task.filter(id=completed.id).update(prompt_id="p")
    await ends._changes.progress(completed.id, "p", step=1, total_steps=2, progress=50.0)
    output = await written_output(LocalBlobStore(tmp_path), completed, "t")
    assert await ends.completed(completed.id, output) is not None
    assert await ends.failed(completed.id, "LATE", "too late") is None  # already ended
    cancelled = await hooked_task(["COMPLETED"])
    assert await ends.cancelled(cancelled.id) is not None
    unhooked = await another_task()
    assert await ends.failed(unhooked.id, "X", "x") is not None
    rows = await WebhookDelivery.all()
    assert [(row.task_id, row.event) for row in rows] == [(completed.id, "task.completed")]  # type: ignore[attr-defined]
    [row] = rows
    assert (row.status, row.attempts, row.owner) == (DeliveryStatus.PENDING, 0, "alice")


@pytest.mark.postgres_only
async def test_concurrent_claims_never_share_a_delivery() -> None:
    task = await hooked_task(["FAILED"])
    now = utc_now()
    for _ in range(12):
        await WebhookDelivery.create(
            id=uuid.uuid4(), task=task, owner="alice", event="task.failed",
            url="http://x", created_at=now, next_attempt_at=now,
        )  # fmt: skip
    senders = [Outbox(skip_locked=True, claim_seconds=60) for _ in range(4)]
    claims = await asyncio.gather(*(outbox.claim_due(5) for outbox in senders))
    claimed: list[UUID] = [row.id for claim in claims for row in claim]
    assert len(claimed) == len(set(claimed)) == 12
    assert await senders[0].claim_due(5) == []  # claimed ones wait for their claim to lapse


def test_backoff_doubles_with_jitter_up_to_its_ceiling_and_stops_after_the_window() -> None:
    policy = RetryPolicy(window_seconds=3600, base_seconds=5, max_seconds=600)
    rng = random.Random(7)
    for attempts, ceiling in [(1, 5), (2, 10), (3, 20), (8, 600), (40, 600)]:
        delays = [policy.delay(attempts, rng) for _ in range(50)]
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
        assert len(set(delays)) > 1  # jittered
    row = WebhookDelivery(created_at=utc_now(), attempts=0)
    assert policy.next_attempt(row, row.created_at, rng) is not None
    late = row.created_at + timedelta(seconds=3599)
    assert policy.next_attempt(row, late, rng) is None


class Presenter:
    async def present(self, task_id: UUID, owner: str) -> dict[str, Any] | None:
        return {"id": str(task_id)}


async def test_a_delivery_is_given_up_after_its_window(tmp_path: Path) -> None:
    seen: list[str] = []
    async with running_receiver() as receiver:
        receiver.answer([503])
        task = await hooked_task(["FAILED"], receiver.url)
        await outcomes(LocalBlobStore(tmp_path)).failed(task.id, "X", "x")
        sender = WebhookSender(
            SenderSettings(
                server_secret=TEST_SECRET,
                retry=RetryPolicy(window_seconds=0),
                allowed_networks=[ipaddress.ip_network("127.0.0.0/8")],
            ),
            presenter=Presenter(),
            observe=seen.append,
        )
        assert await sender.send_due() == 1
        assert await sender.send_due() == 0
    [row] = await WebhookDelivery.all()
    assert (row.status, row.attempts, row.status_codes) == (DeliveryStatus.FAILED, 1, [503])
    assert row.last_error == "The receiver answered HTTP 503."
    assert seen == [DeliveryResult.FAILED]
    assert len(receiver.received) == 1
