from __future__ import annotations

import asyncio
import base64
from typing import Any

from tests.support.graphql import GraphQLClient
from tests.support.images import encoded

GENERATE = """mutation($input: GenerateImageInput!) {
  generateImage(input: $input) { task { id status } tasks { id } } }"""
TASK = """query($id: ID!) { task(id: $id) { id status step totalSteps progress
  result { imageUrl width height format } error { code message nodeId nodeType exceptionType } } }"""


def edit_request(**parameters: object) -> dict[str, object]:
    image = base64.b64encode(encoded(96, 64)).decode()
    return {
        "referenceImage": {"base64": image},
        "description": "make it red",
        "parameters": parameters,
    }


async def submit(api: GraphQLClient, **parameters: object) -> str:
    payload = (await api.execute(GENERATE, input=edit_request(**parameters))).ok()
    return str(payload["generateImage"]["task"]["id"])


async def wait_terminal(api: GraphQLClient, task_id: str, timeout: float = 20) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while True:
            task: dict[str, Any] = (await api.execute(TASK, id=task_id)).ok()["task"]
            if task["status"] in ("COMPLETED", "FAILED", "CANCELLED"):
                return task
            await asyncio.sleep(0.05)


async def test_task_runs_on_the_emulator_and_completes_with_its_image(live: GraphQLClient) -> None:
    task_id = await submit(live, steps=4)
    task = await wait_terminal(live, task_id)
    assert task["status"] == "COMPLETED", task
    assert (task["step"], task["totalSteps"], task["progress"]) == (4, 4, 100.0)
    image = await live.http.get(task["result"]["imageUrl"])
    assert image.status_code == 200
    assert image.content.startswith(b"\x89PNG")
    assert task["result"]["format"] == "PNG"
