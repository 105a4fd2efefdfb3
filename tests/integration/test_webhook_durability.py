"""A delivery survives the API being killed: the receiver is down while `kontext serve` ends a task
and is killed with SIGKILL; once both are back, the receiver gets the message with the id the
outbox gave it."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

import httpx

from tests.chaos.processes import ApiProcess, free_port
from tests.support.graphql import GraphQLClient
from tests.support.images import encoded
from tests.support.webhooks import TEST_SECRET, running_receiver

GENERATE = """mutation($input: GenerateImageInput!) {
  generateImage(input: $input) { task { id } } }"""
DELIVERIES = """query($id: ID!) { task(id: $id) { status
  webhookDeliveries { id status attempts statusCodes lastError } } }"""


def serve_settings(database_url: str, storage: Path) -> dict[str, str]:
    return {
        "KONTEXT_DATABASE_URL": database_url,
        "KONTEXT_STORAGE_DIR": str(storage),
        "KONTEXT_EMULATOR_STEP_SECONDS": "0.02",
        "KONTEXT_MIGRATE_ON_START": "true",
        "KONTEXT_AUTH": "off",
        "KONTEXT_URL_ALLOWED_NETWORKS": "127.0.0.0/8",
        "KONTEXT_WEBHOOK_SECRET": TEST_SECRET,
        # The retry after the first miss comes seconds later, well after the kill; a send cut
        # by the kill would be due again after its claim (timeout + 10 s).
        "KONTEXT_WEBHOOK_BACKOFF_SECONDS": "3",
        "KONTEXT_WEBHOOK_TIMEOUT_SECONDS": "2",
    }


async def first_failed_attempt(api: GraphQLClient, task_id: str) -> dict[str, Any]:
    async with asyncio.timeout(30):
        while True:
            task = (await api.execute(DELIVERIES, id=task_id)).ok()["task"]
            for delivery in task["webhookDeliveries"]:
                if delivery["attempts"] >= 1:
                    return dict(delivery)
            await asyncio.sleep(0.05)


async def settled(api: GraphQLClient, task_id: str) -> dict[str, Any]:
    """The task's only delivery, once its answer is recorded (just after the receiver saw it)."""
    async with asyncio.timeout(30):
        while True:
            task = (await api.execute(DELIVERIES, id=task_id)).ok()["task"]
            [delivery] = task["webhookDeliveries"]
            if delivery["status"] != "PENDING":
                return dict(delivery)
            await asyncio.sleep(0.05)


async def test_a_delivery_pending_when_the_api_is_killed_arrives_after_the_restart(
    database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    image = base64.b64encode(encoded(64, 48)).decode()
    process = ApiProcess(serve_settings(database_url, tmp_path / "files"), tmp_path / "api.log")
    async with process, httpx.AsyncClient(base_url=process.url, timeout=30) as http:
        api = GraphQLClient(http)
        data = {"referenceImage": {"base64": image}, "description": "x", "webhook": {"url": url}}
        task_id = (await api.execute(GENERATE, input=data)).ok()["generateImage"]["task"]["id"]
        missed = await first_failed_attempt(api, task_id)  # nobody listens on the port yet
        assert missed["status"] == "PENDING"
        assert missed["statusCodes"][0] is None and missed["lastError"]
        await process.kill()
        async with running_receiver(port) as receiver:
            await process.start()
            [received] = await receiver.wait_for(1, timeout=30)
            message = received.verified()
            assert received.id == missed["id"]
            assert (message["type"], message["data"]["id"]) == ("task.completed", task_id)
            delivery = await settled(api, task_id)
    assert delivery["id"] == missed["id"]
    assert delivery["status"] == "DELIVERED"
    assert delivery["statusCodes"][-1] == 200
