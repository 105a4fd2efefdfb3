from __future__ import annotations

import base64
from typing import Any

from tasks.store.models import Task as TaskRow
from tests.support.graphql import GraphQLClient
from tests.support.images import encoded

GENERATE = """mutation($input: GenerateImageInput!) {
  generateImage(input: $input) { tasks { id batchId batchIndex backend } } }"""
BATCH = """query($id: ID!) { task(id: $id) { id backend batch { id batchIndex parameters { seed } } } }"""
DELETE = "mutation($id: ID!) { deleteTask(id: $id) }"
CANCEL = "mutation($id: ID!) { cancelTask(id: $id) { status } }"


async def generate(api: GraphQLClient, count: int) -> list[dict[str, Any]]:
    data = {
        "referenceImage": {"base64": base64.b64encode(encoded(8, 8)).decode()},
        "description": "make the sky green",
        "parameters": {"seed": "40"},
        "count": count,
    }
    tasks: list[dict[str, Any]] = (await api.execute(GENERATE, input=data)).ok()["generateImage"][
        "tasks"
    ]
    return tasks


async def test_a_task_of_a_batch_lists_its_siblings_in_batch_order(api: GraphQLClient) -> None:
    tasks = await generate(api, 3)
    ids = [task["id"] for task in tasks]
    for task in tasks:
        batch = (await api.execute(BATCH, id=task["id"])).ok()["task"]["batch"]
        assert [sibling["id"] for sibling in batch] == ids
        assert [sibling["batchIndex"] for sibling in batch] == [0, 1, 2]
        assert [sibling["parameters"]["seed"] for sibling in batch] == ["40", "41", "42"]
    # A deleted sibling is left out; the others keep their order.
    (await api.execute(CANCEL, id=ids[1])).ok()
    assert (await api.execute(DELETE, id=ids[1])).ok()["deleteTask"] == ids[1]
    batch = (await api.execute(BATCH, id=ids[2])).ok()["task"]["batch"]
    assert [sibling["id"] for sibling in batch] == [ids[0], ids[2]]


async def test_a_task_alone_is_its_own_batch(api: GraphQLClient) -> None:
    [task] = await generate(api, 1)
    assert task["batchId"] is None
    batch = (await api.execute(BATCH, id=task["id"])).ok()["task"]["batch"]
    assert [sibling["id"] for sibling in batch] == [task["id"]]


async def test_a_task_names_no_backend_before_it_is_sent(api: GraphQLClient) -> None:
    [task] = await generate(api, 1)
    assert task["backend"] is None
    await TaskRow.filter(id=task["id"]).update(backend="https://render:hunter2@gpu-1:8188/comfy")
    shown = (await api.execute(BATCH, id=task["id"])).ok()["task"]["backend"]
    assert shown == "https://gpu-1:8188/comfy"
