"""The webhook sender: posts due deliveries of the outbox, signed (Standard Webhooks), through the
address guard of image fetches, and settles each by its answer. Runs on every replica; woken by
tasks ending, and polling the outbox for retries and for what other replicas left."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

import httpx

from storage.netguard import IPNetwork
from storage.posting import PostFailed, post_json
from storage.resolver import Resolver
from tasks.background import BackgroundTasks
from tasks.events.broker import Broker, Subscription
from tasks.store.clock import utc_now
from tasks.store.snapshots import TaskEvent
from tasks.store.webhooks import Outbox, WebhookDelivery, owner_webhook
from tasks.webhooks.retries import RetryPolicy
from tasks.webhooks.signing import signed_headers

logger = logging.getLogger(__name__)

CLAIM_MARGIN_SECONDS = 10.0  # beyond the send's timeout, for recording how it went


class TaskPresenter(Protocol):
    """The task as the API shows it to its owner (JSON-ready), or None when it is gone."""

    async def present(self, task_id: UUID, owner: str) -> dict[str, Any] | None: ...


class DeliveryResult:
    SENT = "sent"
    RETRIED = "retried"
    FAILED = "failed"


@dataclass(frozen=True)
class SenderSettings:
    server_secret: str | None = None
    timeout_seconds: float = 10.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    poll_seconds: float = 1.0
    batch: int = 16
    allowed_networks: Sequence[IPNetwork] = ()
    skip_locked: bool = False


class WebhookSender:
    def __init__(
        self,
        settings: SenderSettings,
        *,
        presenter: TaskPresenter,
        observe: Callable[[str], None] = lambda result: None,
        resolver: Resolver | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._settings = settings
        self._presenter = presenter
        self._observe = observe
        self._resolver = resolver
        self._transport = transport
        # A claim outlives the longest send, so no other replica takes it meanwhile.
        self._outbox = Outbox(
            skip_locked=settings.skip_locked,
            claim_seconds=settings.timeout_seconds + CLAIM_MARGIN_SECONDS,
        )
        self._rng = random.Random()
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self, broker: Broker, background: BackgroundTasks) -> None:
        """Send until cancelled: at once when an ending of a task of this or another replica
        enqueued a delivery, and every `poll_seconds` for retries that came due."""
        async with broker.subscribe(enqueued_a_delivery) as events:
            await background.first_of(
                {"webhook wake-ups": self._wake_on(events), "webhook sends": self._send_forever()}
            )

    async def _send_forever(self) -> None:
        while True:
            try:
                while await self.send_due() >= self._settings.batch:
                    pass
            except Exception:
                logger.exception("sending webhooks failed; retrying later")
            await self._sleep()

    async def _wake_on(self, events: Subscription) -> None:
        while True:
            await events.next()
            self.wake()

    async def _sleep(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self._settings.poll_seconds)
        self._wake.clear()

    async def send_due(self) -> int:
        """Post every delivery due now (one batch); returns how many were claimed."""
        due = await self._outbox.claim_due(self._settings.batch)
        outcomes = await asyncio.gather(
            *(self._deliver(delivery) for delivery in due), return_exceptions=True
        )
        for delivery, outcome in zip(due, outcomes, strict=True):
            if isinstance(outcome, Exception):
                # Left claimed: due again once the claim lapses.
                logger.error("could not send webhook %s", message_id(delivery.id), exc_info=outcome)
            elif isinstance(outcome, BaseException):
                raise outcome
        return len(due)

    async def _deliver(self, delivery: WebhookDelivery) -> None:
        body = await self._body(delivery)
        if body is None:
            return  # the task was deleted meanwhile, and its deliveries with it
        secret = await self._secret(delivery.owner)
        code: int | None = None
        if secret is None:
            error = "No signing secret: set KONTEXT_WEBHOOK_SECRET or call setWebhook."
        else:
            headers = signed_headers(secret, message_id(delivery.id), now_seconds(), body)
            try:
                code = await post_json(
                    delivery.url,
                    body,
                    headers=headers,
                    timeout=self._settings.timeout_seconds,
                    allowed_networks=self._settings.allowed_networks,
                    resolver=self._resolver,
                    transport=self._transport,
                )
            except PostFailed as exc:
                error = exc.message
            else:
                if 200 <= code < 300:
                    await self._outbox.delivered(delivery, code)
                    self._observe(DeliveryResult.SENT)
                    return
                error = f"The receiver answered HTTP {code}."
        next_at = self._settings.retry.next_attempt(delivery, utc_now(), self._rng)
        await self._outbox.missed(delivery, code, error, next_at)
        self._observe(DeliveryResult.RETRIED if next_at else DeliveryResult.FAILED)
        if next_at is None:
            logger.warning(
                "gave up the webhook %s of task %s after %d attempts: %s",
                message_id(delivery.id),
                delivery.task_id,  # type: ignore[attr-defined]
                delivery.attempts + 1,
                error,
            )

    async def _body(self, delivery: WebhookDelivery) -> bytes | None:
        if delivery.payload is None:
            task_id: UUID = delivery.task_id
            data = await self._presenter.present(task_id, delivery.owner)
            if data is None:
                return None
            message = {
                "type": delivery.event,
                "timestamp": delivery.created_at.isoformat().replace("+00:00", "Z"),
                "data": data,
            }
            await self._outbox.save_payload(delivery, json.dumps(message, separators=(",", ":")))
        assert delivery.payload is not None
        return delivery.payload.encode()

    async def _secret(self, owner: str) -> str | None:
        row = await owner_webhook(owner)
        own = row.secret if row is not None else None
        return own or self._settings.server_secret


def message_id(delivery_id: UUID) -> str:
    """The `webhook-id`: the same for every attempt of one event."""
    return f"msg_{delivery_id.hex}"


def now_seconds() -> int:
    return int(utc_now().timestamp())


def enqueued_a_delivery(event: TaskEvent) -> bool:
    return event.webhook_due
