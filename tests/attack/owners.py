"""Two owners on one secured service that runs tasks on the emulator, and what the first owner
made (every kind of thing the second must never see)."""

from __future__ import annotations

import asyncio
import base64
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.attack.pictures import picture
from tests.attack.wire import Reply, WireClient

ALICE_PICTURE_SIZE = (24, 16)
DESCRIPTION = "alice's secret zebra"
SHARED_KEY = "shared-idempotency-key"
TASK = """query($id: ID!) { task(id: $id) { id status batchId previewUrl
  referenceImage { id url thumbnailUrl sha256 } result { imageUrl previewUrl image { id url } } } }"""
GENERATE = """mutation($input: GenerateImageInput!) { generateImage(input: $input) {
  replayed task { id } tasks { id batchId } } }"""
UPLOAD = (
    "mutation($image: ImageInput!) { uploadImage(image: $image) { id url thumbnailUrl sha256 } }"
)
CANCEL = "mutation($id: ID!) { cancelTask(id: $id) { id status } }"
HISTORY = (
    "query($after: String) { history(first: 100, after: $after) { edges { cursor node { id } } } }"
)
TERMINAL = ("COMPLETED", "FAILED", "CANCELLED")


@dataclass
class Owner:
    name: str
    token: str
    client: WireClient

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def call(self, query: str, **variables: Any) -> Reply:
        return await self.client.post_json({"query": query, "variables": variables})


@dataclass
class AliceWorld:
    """Everything alice made: tasks in every state, images, URLs, a cursor."""

    picture: bytes
    image_id: str = ""
    batch: list[str] = field(default_factory=list)
    batch_id: str = ""
    running: str = ""
    cancelled: str = ""
    result_image_ids: list[str] = field(default_factory=list)
    urls: dict[str, str] = field(default_factory=dict)
    cursor: str = ""

    @property
    def task_ids(self) -> list[str]:
        return [*self.batch, self.running, self.cancelled]

    @property
    def image_ids(self) -> list[str]:
        return [self.image_id, *self.result_image_ids]


def alice_picture() -> bytes:
    return picture(*ALICE_PICTURE_SIZE, "PNG")


def batch_request(source: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "referenceImage": source,
        "description": DESCRIPTION,
        "parameters": {"steps": 2, "seed": "42"},
        "count": 3,
        "idempotencyKey": SHARED_KEY,
        **extra,
    }


async def wait_until_finished(owner: Owner, task_id: str, timeout: float = 30) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while True:
            task: dict[str, Any] = (await owner.call(TASK, id=task_id)).ok()["task"]
            if task["status"] in TERMINAL:
                return task
            await asyncio.sleep(0.05)


async def make_alice_world(alice: Owner) -> AliceWorld:
    world = AliceWorld(picture=alice_picture())
    uploaded = (
        await alice.call(UPLOAD, image={"base64": base64.b64encode(world.picture).decode()})
    ).ok()
    world.image_id = uploaded["uploadImage"]["id"]
    world.urls["input"] = uploaded["uploadImage"]["url"]
    world.urls["input thumbnail"] = uploaded["uploadImage"]["thumbnailUrl"]
    batch = (await alice.call(GENERATE, input=batch_request({"imageId": world.image_id}))).ok()
    world.batch = [task["id"] for task in batch["generateImage"]["tasks"]]
    world.batch_id = batch["generateImage"]["tasks"][0]["batchId"]
    for index, task_id in enumerate(world.batch):
        finished = await wait_until_finished(alice, task_id)
        assert finished["status"] == "COMPLETED", finished
        world.result_image_ids.append(finished["result"]["image"]["id"])
        world.urls[f"result {index}"] = finished["result"]["imageUrl"]
        world.urls[f"result {index} preview"] = finished["result"]["previewUrl"]
        if finished["previewUrl"]:
            world.urls[f"live preview {index}"] = finished["previewUrl"]
    world.running = await submit(alice, steps=150)
    world.cancelled = await submit(alice, steps=150)
    (await alice.call(CANCEL, id=world.cancelled)).ok()
    page = (await alice.call(HISTORY, after=None)).ok()["history"]["edges"]
    world.cursor = page[0]["cursor"]
    return world


async def submit(owner: Owner, **parameters: Any) -> str:
    source = {"base64": base64.b64encode(alice_picture()).decode()}
    data = {"referenceImage": source, "description": DESCRIPTION, "parameters": parameters}
    reply = (await owner.call(GENERATE, input=data)).ok()
    return str(reply["generateImage"]["task"]["id"])


def owner_client(url: str, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def random_id() -> str:
    return str(uuid.uuid4())
