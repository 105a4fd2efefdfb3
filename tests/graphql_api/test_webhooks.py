"""Webhook targets through the API: refused at submission when the address guard refuses them,
the owner's default (setWebhook) and its secret, cancellations delivered, and the metrics."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import ipaddress
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
import pytest

from graphql_api.app import create_app
from graphql_api.cli import set_webhook
from graphql_api.settings import Settings, SettingsError
from tasks.store.database import Database
from tasks.store.models import Task
from tasks.store.webhook_models import OwnerWebhook
from tests.support.graphql import GraphQLClient
from tests.support.images import encoded
from tests.support.server import serve_asgi
from tests.support.webhooks import TEST_SECRET, Receiver, running_receiver

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)
IMAGE = base64.b64encode(encoded(64, 48)).decode()
GENERATE = """mutation($input: GenerateImageInput!) {
  generateImage(input: $input) { task { id status } } }"""
CANCEL = "mutation($id: ID!) { cancelTask(id: $id) { id status } }"
SET_WEBHOOK = """mutation($webhook: WebhookInput, $rotate: Boolean! = false) {
  setWebhook(webhook: $webhook, rotateSecret: $rotate) {
    default { url events } signingSecret } }"""
SETTINGS = "{ webhookSettings { default { url events } signingSecret } }"
DELIVERIES = """query($id: ID!) { task(id: $id) {
  webhookDeliveries { id type status attempts statusCodes } } }"""

Api = Callable[..., AbstractAsyncContextManager[GraphQLClient]]


@pytest.fixture
def serving(settings: Settings, database: Database) -> Api:
    """The API (no dispatch) with the given settings changed."""

    def serve(**changes: Any) -> AbstractAsyncContextManager[GraphQLClient]:
        return _serve(dataclasses.replace(settings, **changes))

    return serve


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with running_receiver() as running:
        yield running


@contextlib.asynccontextmanager
async def _serve(settings: Settings) -> AsyncIterator[GraphQLClient]:
    async with (
        serve_asgi(create_app(settings)) as url,
        httpx.AsyncClient(base_url=url, timeout=30) as http,
    ):
        yield GraphQLClient(http)


def generate(webhook: dict[str, Any] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"referenceImage": {"base64": IMAGE}, "description": "make it blue"}
    if webhook is not None:
        data["webhook"] = webhook
    return data


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://localhost:9/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10:8080/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data",
    ],
)
async def test_a_private_or_loopback_url_is_refused_at_submission(serving: Api, url: str) -> None:
    async with serving(webhook_secret=TEST_SECRET) as api:
        response = await api.execute(GENERATE, input=generate({"url": url}))
    assert response.data is None
    [error] = response.errors
    extensions = error["extensions"]
    assert extensions["code"] == "BAD_USER_INPUT"
    assert (extensions["field"], extensions["reason"]) == ("input.webhook.url", "URL_FORBIDDEN")
    assert "public internet" in error["message"]
    assert await Task.all().count() == 0


@pytest.mark.parametrize(
    ("webhook", "field", "reason"),
    [
        ({"url": "ftp://example.com/hook"}, "input.webhook.url", "URL_FORBIDDEN"),
        ({"url": "not a url"}, "input.webhook.url", "URL_FORBIDDEN"),
        ({"url": "http://127.0.0.1/hook", "events": []}, "input.webhook.events", "EMPTY"),
    ],
)
async def test_an_unusable_webhook_is_refused_at_submission(
    serving: Api, webhook: dict[str, Any], field: str, reason: str
) -> None:
    async with serving(webhook_secret=TEST_SECRET, url_allowed_networks=LOOPBACK) as api:
        response = await api.execute(GENERATE, input=generate(webhook))
    extensions = response.errors[0]["extensions"]
    assert (extensions["code"], extensions["field"], extensions["reason"]) == (
        "BAD_USER_INPUT",
        field,
        reason,
    )


async def test_without_any_signing_secret_a_webhook_is_refused(
    serving: Api, receiver: Receiver
) -> None:
    async with serving(url_allowed_networks=LOOPBACK) as api:
        response = await api.execute(GENERATE, input=generate({"url": receiver.url}))
    assert response.errors[0]["extensions"]["reason"] == "NO_SIGNING_SECRET"


async def test_a_cancelled_task_is_delivered_signed_with_the_owners_secret(
    serving: Api, receiver: Receiver
) -> None:
    async with serving(url_allowed_networks=LOOPBACK) as api:
        refused = await api.execute(SET_WEBHOOK, webhook={"url": "http://10.0.0.1/hook"})
        assert refused.errors[0]["extensions"]["field"] == "webhook.url"
        owner = (await api.execute(SET_WEBHOOK, webhook={"url": receiver.url})).ok()
        secret = owner["setWebhook"]["signingSecret"]
        assert secret.startswith("whsec_")
        assert owner["setWebhook"]["default"] == {
            "url": receiver.url,
            "events": ["COMPLETED", "FAILED", "CANCELLED"],
        }
        assert (await api.execute(SETTINGS)).ok()["webhookSettings"] == owner["setWebhook"]
        # No webhook given: the owner's default is fixed on the task.
        task_id = (await api.execute(GENERATE, input=generate())).ok()["generateImage"]["task"][
            "id"
        ]
        (await api.execute(CANCEL, id=task_id)).ok()
        [received] = await receiver.wait_for(1)
        message = received.verified(secret)
        assert (message["type"], message["data"]["id"]) == ("task.cancelled", task_id)
        assert message["data"]["error"]["code"] == "CANCELLED"
        delivery = await delivered(api, task_id)
        assert delivery["id"] == received.id
        metrics = (await api.http.get("/metrics")).text
    assert 'kontext_webhook_attempts_total{result="sent"} 1.0' in metrics
    assert "kontext_webhook_oldest_pending_seconds 0.0" in metrics


async def test_rotating_the_secret_and_removing_the_default(
    serving: Api, receiver: Receiver
) -> None:
    async with serving(url_allowed_networks=LOOPBACK) as api:
        first = (await api.execute(SET_WEBHOOK, webhook={"url": receiver.url})).ok()["setWebhook"]
        same = (await api.execute(SET_WEBHOOK, webhook={"url": receiver.url})).ok()["setWebhook"]
        rotated = (await api.execute(SET_WEBHOOK, webhook=None, rotate=True)).ok()["setWebhook"]
        task_id = (await api.execute(GENERATE, input=generate())).ok()["generateImage"]["task"][
            "id"
        ]
        (await api.execute(CANCEL, id=task_id)).ok()
        deliveries = (await api.execute(DELIVERIES, id=task_id)).ok()["task"]["webhookDeliveries"]
    assert first["signingSecret"] == same["signingSecret"] != rotated["signingSecret"]
    assert rotated["default"] is None
    assert deliveries == []


async def delivered(api: GraphQLClient, task_id: str) -> dict[str, Any]:
    async with asyncio.timeout(10):
        while True:
            task = (await api.execute(DELIVERIES, id=task_id)).ok()["task"]
            found: list[dict[str, Any]] = task["webhookDeliveries"]
            if found and found[0]["status"] == "DELIVERED":
                return found[0]
            await asyncio.sleep(0.05)


async def test_the_command_line_sets_an_owners_default_and_prints_its_secret(
    settings: Settings, database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    allowed = dataclasses.replace(settings, url_allowed_networks=LOOPBACK)
    url = "http://127.0.0.1:9/hook"
    assert await set_webhook(allowed, "bob", url, "completed,FAILED", rotate=False) == 0
    shown = capsys.readouterr().out
    row = await OwnerWebhook.get(owner="bob")
    assert (row.url, row.events) == (url, ["COMPLETED", "FAILED"])
    assert row.secret is not None and row.secret in shown
    assert await set_webhook(settings, "bob", url, None, rotate=False) == 2  # loopback refused
    assert "public internet" in capsys.readouterr().err
    assert await set_webhook(allowed, "bob", url, "DONE", rotate=False) == 2
    assert await set_webhook(allowed, "bob", None, None, rotate=True) == 0
    cleared = await OwnerWebhook.get(owner="bob")
    assert cleared.url is None and cleared.secret not in (None, row.secret)


def test_the_server_secret_must_be_a_standard_webhooks_secret_and_is_never_shown() -> None:
    assert Settings.from_env({"KONTEXT_WEBHOOK_SECRET": TEST_SECRET}).webhook_secret == TEST_SECRET
    for wrong in ("hunter2", "whsec_not*base64", "whsec_" + base64.b64encode(b"short").decode()):
        with pytest.raises(SettingsError) as refused:
            Settings.from_env({"KONTEXT_WEBHOOK_SECRET": wrong})
        assert wrong not in str(refused.value)
        assert "<hidden>" in str(refused.value)
    assert TEST_SECRET not in repr(Settings(webhook_secret=TEST_SECRET))
    with pytest.raises(SettingsError):
        Settings.from_env({"KONTEXT_WEBHOOK_BACKOFF_SECONDS": "0"})
