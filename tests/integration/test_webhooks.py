"""Webhooks end to end: tasks run on the emulator and their endings are posted to a receiver on
loopback (allowed by KONTEXT_URL_ALLOWED_NETWORKS), signed and checked by the test's own verifier."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import ipaddress
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from comfy.emulator.server import RunningEmulator
from graphql_api.app import create_app
from graphql_api.settings import Settings
from tasks.store.database import Database
from tests.support.graphql import GraphQLClient
from tests.support.images import encoded
from tests.support.server import serve_asgi
from tests.support.webhooks import TEST_SECRET, Receiver, running_receiver

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)
IMAGE = base64.b64encode(encoded(96, 64)).decode()
GENERATE = """mutation($input: GenerateImageInput!) {
  generateImage(input: $input) { task { id status } } }"""
DELIVERIES = """query($id: ID!) { task(id: $id) { id status
  webhookDeliveries { id type url status attempts statusCodes lastError nextAttemptAt
    createdAt deliveredAt } } }"""


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with running_receiver() as running:
        yield running


@pytest.fixture
async def hooked(
    settings: Settings, emulator: RunningEmulator, database: Database
) -> AsyncIterator[GraphQLClient]:
    live = dataclasses.replace(
        settings,
        dispatch=True,
        comfyui_urls=(emulator.url,),
        url_allowed_networks=LOOPBACK,
        webhook_secret=TEST_SECRET,
        webhook_backoff_seconds=0.05,
    )
    async with serve_asgi(create_app(live)) as url, httpx.AsyncClient(base_url=url) as http:
        yield GraphQLClient(http)


async def submit(api: GraphQLClient, webhook: dict[str, Any] | None, **extra: Any) -> str:
    data: dict[str, Any] = {
        "referenceImage": {"base64": IMAGE},
        "description": "make it red",
        "parameters": {"steps": 3},
        **extra,
    }
    if webhook is not None:
        data["webhook"] = webhook
    payload = (await api.execute(GENERATE, input=data)).ok()
    return str(payload["generateImage"]["task"]["id"])


async def settled_deliveries(
    api: GraphQLClient, task_id: str, timeout: float = 20
) -> list[dict[str, Any]]:
    """The task's deliveries once it has ended and none is PENDING any more."""
    async with asyncio.timeout(timeout):
        while True:
            task = (await api.execute(DELIVERIES, id=task_id)).ok()["task"]
            deliveries: list[dict[str, Any]] = task["webhookDeliveries"]
            ended = task["status"] in ("COMPLETED", "FAILED", "CANCELLED")
            if ended and deliveries and all(d["status"] != "PENDING" for d in deliveries):
                return deliveries
            await asyncio.sleep(0.05)


async def test_a_completed_task_is_delivered_once_signed(
    hooked: GraphQLClient, receiver: Receiver
) -> None:
    task_id = await submit(hooked, {"url": receiver.url})
    [delivery] = await settled_deliveries(hooked, task_id)
    assert delivery["status"] == "DELIVERED"
    assert (delivery["attempts"], delivery["statusCodes"]) == (1, [200])
    assert delivery["type"] == "task.completed"
    assert delivery["nextAttemptAt"] is None and delivery["lastError"] is None
    [received] = receiver.received
    message = received.verified()
    assert received.id == delivery["id"]
    assert received.headers["content-type"] == "application/json"
    assert message["type"] == "task.completed"
    assert message["timestamp"].endswith("Z")
    data = message["data"]
    assert (data["id"], data["status"], data["progress"]) == (task_id, "COMPLETED", 100.0)
    assert data["error"] is None
    assert "webhookDeliveries" not in data
    # Links point at KONTEXT_PUBLIC_URL, else the configured host and port (here: not the
    # test server's own port), so the image is fetched by its path.
    picture = await hooked.http.get(httpx.URL(data["result"]["imageUrl"]).path)
    assert picture.status_code == 200
    assert picture.content.startswith(b"\x89PNG")


async def test_a_receiver_answering_500_twice_gets_the_third_attempt_with_the_same_id(
    hooked: GraphQLClient, receiver: Receiver
) -> None:
    receiver.answer([500, 500])
    task_id = await submit(hooked, {"url": receiver.url, "events": ["COMPLETED"]})
    [delivery] = await settled_deliveries(hooked, task_id)
    assert delivery["status"] == "DELIVERED"
    assert (delivery["attempts"], delivery["statusCodes"]) == (3, [500, 500, 200])
    assert len(receiver.received) == 3
    assert {r.id for r in receiver.received} == {delivery["id"]}
    assert len({r.body for r in receiver.received}) == 1  # the same message each time
    for received in receiver.received:
        assert received.verified()["data"]["id"] == task_id


async def test_a_failed_task_is_announced_as_task_failed(
    hooked: GraphQLClient, receiver: Receiver, emulator: RunningEmulator
) -> None:
    async with httpx.AsyncClient() as http:
        await http.post(f"{emulator.url}/_emulator/faults", json={"reject_prompts": 1})
    task_id = await submit(hooked, {"url": receiver.url})
    [delivery] = await settled_deliveries(hooked, task_id)
    message = receiver.received[0].verified()
    assert delivery["type"] == message["type"] == "task.failed"
    assert message["data"]["error"]["code"] == "WORKFLOW_INVALID"
    assert message["data"]["result"] is None


async def test_an_ending_left_out_of_events_is_not_delivered(
    hooked: GraphQLClient, receiver: Receiver, emulator: RunningEmulator
) -> None:
    async with httpx.AsyncClient() as http:
        await http.post(f"{emulator.url}/_emulator/faults", json={"reject_prompts": 1})
    task_id = await submit(hooked, {"url": receiver.url, "events": ["COMPLETED", "CANCELLED"]})
    async with asyncio.timeout(20):
        while True:
            task = (await hooked.execute(DELIVERIES, id=task_id)).ok()["task"]
            if task["status"] == "FAILED":
                break
            await asyncio.sleep(0.05)
    assert task["webhookDeliveries"] == []
