"""Webhook rows: the outbox and the targets. A delivery row is written in the transaction of a task's final change (so a
crash never loses it), claimed by a sender on any replica, and settled once answered or given up.

A claim moves the row's next attempt past the time a send can take: a replica killed mid-send
leaves it due again a little later, and the receiver gets the same `webhook-id` twice at most.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from uuid import UUID

from tortoise.expressions import F

from tasks.requests import event_for
from tasks.status import TaskStatus
from tasks.store.atomic import atomic
from tasks.store.clock import utc_now
from tasks.store.models import Task
from tasks.store.webhook_models import (
    DeliveryStatus,
    OwnerWebhook,
    TaskWebhook,
    WebhookDelivery,
)

__all__ = [
    "DeliveryStatus",
    "Outbox",
    "WebhookDelivery",
    "attach_target",
    "deliveries_of",
    "enqueue_delivery",
    "oldest_pending_age",
    "owner_webhook",
    "save_owner_webhook",
]


async def enqueue_delivery(task_id: UUID, status: TaskStatus) -> WebhookDelivery | None:
    """The delivery of the task's ending, when its webhook asks for it. Call inside the
    transaction that writes the final status."""
    event = event_for(status)
    if event is None:
        return None
    target = await TaskWebhook.get_or_none(task_id=task_id)
    if target is None or event.value not in target.events:
        return None
    now = utc_now()
    return await WebhookDelivery.create(
        id=uuid.uuid4(),
        task_id=task_id,
        owner=target.owner,
        event=event.type,
        url=target.url,
        created_at=now,
        next_attempt_at=now,
    )


class Outbox:
    """Claims and settles deliveries. On PostgreSQL `FOR UPDATE SKIP LOCKED` lets replicas claim
    side by side; SQLite has one writer and this process's lock is enough."""

    def __init__(self, *, skip_locked: bool, claim_seconds: float) -> None:
        self._skip_locked = skip_locked
        self._claim = timedelta(seconds=claim_seconds)
        self._lock = asyncio.Lock()

    async def claim_due(self, limit: int) -> list[WebhookDelivery]:
        now = utc_now()
        async with self._lock, atomic():
            query = WebhookDelivery.filter(
                status=DeliveryStatus.PENDING, next_attempt_at__lte=now
            ).order_by("next_attempt_at", "id")
            if self._skip_locked:
                query = query.select_for_update(skip_locked=True)
            due = await query.limit(limit)
            if due:
                await WebhookDelivery.filter(id__in=[d.id for d in due]).update(
                    next_attempt_at=now + self._claim
                )
        return list(due)

    async def save_payload(self, delivery: WebhookDelivery, payload: str) -> None:
        """Keep the body made at the first attempt, so every retry sends the same message."""
        await WebhookDelivery.filter(id=delivery.id, payload=None).update(payload=payload)
        delivery.payload = payload

    async def delivered(self, delivery: WebhookDelivery, status_code: int) -> None:
        await WebhookDelivery.filter(id=delivery.id, status=DeliveryStatus.PENDING).update(
            status=DeliveryStatus.DELIVERED,
            attempts=F("attempts") + 1,
            status_codes=[*delivery.status_codes, status_code],
            last_error=None,
            delivered_at=utc_now(),
        )

    async def missed(
        self,
        delivery: WebhookDelivery,
        status_code: int | None,
        error: str,
        next_at: datetime | None,
    ) -> None:
        """Record a failed attempt: due again at `next_at`, or given up (None)."""
        await WebhookDelivery.filter(id=delivery.id, status=DeliveryStatus.PENDING).update(
            status=DeliveryStatus.PENDING if next_at else DeliveryStatus.FAILED,
            attempts=F("attempts") + 1,
            status_codes=[*delivery.status_codes, status_code],
            last_error=error,
            next_attempt_at=next_at or utc_now(),
        )


async def deliveries_of(task_id: UUID) -> list[WebhookDelivery]:
    return list(await WebhookDelivery.filter(task_id=task_id).order_by("created_at", "id"))


async def oldest_pending_age(now: datetime | None = None) -> float:
    """Seconds since the oldest undelivered event happened (0 when none waits)."""
    oldest = (
        await WebhookDelivery.filter(status=DeliveryStatus.PENDING).order_by("created_at").first()
    )
    if oldest is None:
        return 0.0
    return max(0.0, ((now or utc_now()) - oldest.created_at).total_seconds())


async def owner_webhook(owner: str) -> OwnerWebhook | None:
    return await OwnerWebhook.get_or_none(owner=owner)


async def attach_target(tasks: Iterable[Task], url: str, events: list[str]) -> None:
    """Fix a target on newly created tasks; call inside the transaction that creates them."""
    for task in tasks:
        await TaskWebhook.create(task=task, owner=task.owner, url=url, events=events)


async def save_owner_webhook(
    owner: str, url: str | None, events: list[str], new_secret: str | None
) -> OwnerWebhook:
    """Write the owner's default target; `new_secret` replaces the signing secret when given
    (and is required the first time)."""
    row = await OwnerWebhook.get_or_none(owner=owner)
    if row is None:
        row = OwnerWebhook(owner=owner, events=[])
    row.url = url  # type: ignore[assignment]
    row.events = events
    if new_secret is not None:
        row.secret = new_secret
    row.updated_at = utc_now()
    await row.save()
    return row
