"""Where a task's end is announced: a webhook given with the request or the owner's default,
vetted at submission by the guard of image URLs, and fixed on the task when it is created."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from storage.errors import ImageRejected
from storage.netguard import IPNetwork
from storage.posting import check_destination
from storage.resolver import Resolver
from tasks.errors import InvalidRequest
from tasks.requests import WebhookEvent, WebhookTarget
from tasks.store.webhooks import attach_target, owner_webhook, save_owner_webhook
from tasks.webhooks.signing import new_secret

if TYPE_CHECKING:
    from tasks.store.models import Task
    from tasks.store.webhook_models import OwnerWebhook

MAX_URL_LENGTH = 2048


@dataclass(frozen=True)
class OwnerSettings:
    """An owner's default webhook (None: none) and the secret its deliveries are signed with."""

    default: WebhookTarget | None
    signing_secret: str | None


class WebhookTargets:
    def __init__(
        self,
        *,
        allowed_networks: Sequence[IPNetwork] = (),
        server_secret: bool = False,
        resolver: Resolver | None = None,
    ) -> None:
        self._allowed = allowed_networks
        self._server_secret = server_secret
        self._resolver = resolver

    async def check(self, target: WebhookTarget, field: str) -> None:
        """Refuse, with the field named, a target that could never be delivered to."""
        if not target.events:
            raise InvalidRequest.single(
                f"{field}.events", "Name at least one event, or leave events out for all.", "EMPTY"
            )
        if len(target.url) > MAX_URL_LENGTH:
            raise InvalidRequest.single(
                f"{field}.url", f"The URL is longer than {MAX_URL_LENGTH} characters.", "TOO_LONG"
            )
        try:
            await check_destination(
                target.url, allowed_networks=self._allowed, resolver=self._resolver
            )
        except ImageRejected as exc:
            raise InvalidRequest.single(f"{field}.url", exc.message, exc.code) from exc

    async def for_submission(
        self, owner: str, requested: WebhookTarget | None
    ) -> WebhookTarget | None:
        """The target of tasks being submitted: the requested one (checked), else the owner's
        default (checked when it was set)."""
        row = await owner_webhook(owner)
        if requested is None:
            return settings_of(row).default
        await self.check(requested, "input.webhook")
        if not self._server_secret and (row is None or row.secret is None):
            raise InvalidRequest.single(
                "input.webhook",
                "There is no secret to sign deliveries with: call setWebhook once to get one "
                "(or the server sets KONTEXT_WEBHOOK_SECRET).",
                "NO_SIGNING_SECRET",
            )
        return requested

    async def attach(self, tasks: Iterable[Task], target: WebhookTarget | None) -> None:
        """Fix the target on newly created tasks; call inside the transaction that creates them."""
        if target is None:
            return
        await attach_target(tasks, target.url, [event.value for event in target.events])

    async def settings(self, owner: str) -> OwnerSettings:
        return settings_of(await owner_webhook(owner))

    async def set_default(
        self, owner: str, target: WebhookTarget | None, *, rotate_secret: bool = False
    ) -> OwnerSettings:
        """Set (or, with None, remove) the owner's default webhook. The owner's signing secret
        is made the first time, and made anew when `rotate_secret`."""
        if target is not None:
            await self.check(target, "webhook")
        row = await owner_webhook(owner)
        secret = new_secret() if row is None or row.secret is None or rotate_secret else None
        url = target.url if target else None
        events = [event.value for event in target.events] if target else []
        return settings_of(await save_owner_webhook(owner, url, events, secret))


def settings_of(row: OwnerWebhook | None) -> OwnerSettings:
    if row is None:
        return OwnerSettings(default=None, signing_secret=None)
    default = None
    if row.url:
        default = WebhookTarget.of(row.url, [WebhookEvent(name) for name in row.events])
    return OwnerSettings(default=default, signing_secret=row.secret)
