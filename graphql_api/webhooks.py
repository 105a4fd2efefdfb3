"""The GraphQL face of webhooks: the `webhook` input of generateImage and setWebhook, the owner's
webhook settings, and the deliveries of a task."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import strawberry

from tasks import (
    DeliveryStatus,
    OwnerSettings,
    WebhookEvent,
    WebhookTarget,
    deliveries_of,
    message_id,
)
from tasks import WebhookDelivery as DeliveryRow

strawberry.enum(WebhookEvent, description="A task ending a webhook is told about.")
strawberry.enum(
    DeliveryStatus,
    name="WebhookDeliveryStatus",
    description="PENDING: not answered with 2xx yet (retried); DELIVERED; FAILED: given up.",
)


@strawberry.input(description="Where to POST a signed notification when the task ends.")
class WebhookInput:
    url: str = strawberry.field(
        description="An http(s) URL on the public internet; redirects are not followed."
    )
    events: list[WebhookEvent] | None = strawberry.field(
        default=None, description="Which endings to announce; null or omitted: all three."
    )


def webhook_target(data: WebhookInput) -> WebhookTarget:
    return WebhookTarget.of(data.url, data.events)


@strawberry.type(description="A webhook target: where, and which task endings.")
class Webhook:
    url: str
    events: list[WebhookEvent]


@strawberry.type(
    description="The caller's default webhook and the secret deliveries are signed with."
)
class WebhookSettings:
    default: Webhook | None = strawberry.field(
        description="Used by tasks submitted without a webhook of their own; null: none."
    )
    signing_secret: str | None = strawberry.field(
        description=(
            "`whsec_…`: verify `webhook-signature` with it (README: Webhooks). null: deliveries "
            "are signed with the server's KONTEXT_WEBHOOK_SECRET."
        )
    )

    @classmethod
    def of(cls, settings: OwnerSettings) -> WebhookSettings:
        target = settings.default
        return cls(
            default=Webhook(url=target.url, events=list(target.events)) if target else None,
            signing_secret=settings.signing_secret,
        )


@strawberry.type(description="One notification of a task's ending, and how sending it went.")
class WebhookDelivery:
    id: str = strawberry.field(description="The `webhook-id` header: the same on every attempt.")
    type: str = strawberry.field(description="task.completed, task.failed or task.cancelled.")
    url: str
    status: DeliveryStatus
    attempts: int
    status_codes: list[int | None] = strawberry.field(
        description="The HTTP status of each attempt; null where there was no answer."
    )
    last_error: str | None = strawberry.field(description="Why the last attempt failed.")
    created_at: datetime = strawberry.field(description="When the task ended.")
    next_attempt_at: datetime | None = strawberry.field(description="While PENDING: the next try.")
    delivered_at: datetime | None

    @classmethod
    def from_row(cls, row: DeliveryRow) -> WebhookDelivery:
        pending = row.status is DeliveryStatus.PENDING
        return cls(
            id=message_id(row.id),
            type=row.event,
            url=row.url,
            status=row.status,
            attempts=row.attempts,
            status_codes=list(row.status_codes),
            last_error=row.last_error,
            created_at=row.created_at,
            next_attempt_at=row.next_attempt_at if pending else None,
            delivered_at=row.delivered_at,
        )


async def deliveries(task_id: UUID) -> list[WebhookDelivery]:
    return [WebhookDelivery.from_row(row) for row in await deliveries_of(task_id)]
