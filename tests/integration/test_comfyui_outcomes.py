from __future__ import annotations

import asyncio
import base64
from typing import Any

import httpx

from comfy.emulator.server import RunningEmulator
from tasks.store.models import Task
from tests.integration.test_runs_on_comfyui import GENERATE, submit, wait_terminal
from tests.support.graphql import GraphQLClient
from tests.support.images import encoded

IMAGE = base64.b64encode(encoded(96, 64)).decode()
CANCEL = "mutation($id: ID!) { cancelTask(id: $id) { id status error { code } } }"


async def fault(emulator: RunningEmulator, **faults: object) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{emulator.url}/_emulator/faults", json=faults)
        response.raise_for_status()


async def comfy_get(emulator: RunningEmulator, path: str) -> Any:
    async with httpx.AsyncClient() as http:
        return (await http.get(f"{emulator.url}{path}")).json()


async def wait_status(task_id: str, *statuses: str, timeout: float = 10) -> Task:
    async with asyncio.timeout(timeout):
        while True:
            task = await Task.get(id=task_id)
            if task.status.value in statuses and (task.queued_at or task.status.is_terminal):
                return task
            await asyncio.sleep(0.02)


async def test_identical_resubmission_completes_from_the_cache(live: GraphQLClient) -> None:
    first = await wait_terminal(live, await submit(live, steps=3, seed="42"))
    second = await wait_terminal(live, await submit(live, steps=3, seed="42"))
    assert first["status"] == second["status"] == "COMPLETED"
    assert second["progress"] == 100.0
    a = await live.http.get(first["result"]["imageUrl"])
    b = await live.http.get(second["result"]["imageUrl"])
    assert a.content == b.content


async def test_validation_error_fails_the_task_with_node_errors(
    live: GraphQLClient, emulator: RunningEmulator
) -> None:
    await fault(emulator, reject_prompts=1)
    task = await wait_terminal(live, await submit(live, steps=3))
    assert task["status"] == "FAILED"
    assert task["error"]["code"] == "WORKFLOW_INVALID"
    row = await Task.get(id=task["id"])
    assert row.error_details and row.error_details["node_errors"]


async def test_execution_error_fails_the_task_naming_the_node(
    live: GraphQLClient, emulator: RunningEmulator
) -> None:
    await fault(
        emulator,
        execution_error={
            "node_id": "8",
            "exception_type": "RuntimeError",
            "exception_message": "mat1 and mat2 shapes cannot be multiplied",
        },
    )
    task = await wait_terminal(live, await submit(live, steps=3))
    assert task["status"] == "FAILED"
    assert task["error"]["code"] == "EXECUTION_FAILED"
    assert (task["error"]["nodeId"], task["error"]["nodeType"]) == ("8", "VAEDecode")
    assert task["error"]["exceptionType"] == "RuntimeError"
    assert "mat1 and mat2 shapes cannot be multiplied" in task["error"]["message"]


async def test_cancel_in_each_state(live: GraphQLClient, emulator: RunningEmulator) -> None:
    running_id = await submit(live, steps=150)
    queued_id = await submit(live, steps=150)
    waiting_id = await submit(live, steps=150)
    running = await wait_status(running_id, "PROCESSING")
    queued = await wait_status(queued_id, "PENDING")
    assert running.prompt_id and queued.prompt_id
    waiting = await Task.get(id=waiting_id)
    assert waiting.prompt_id is None, "a backend holds at most one prompt behind the running one"
    positions = "query($id: ID!) { task(id: $id) { queuePosition } }"
    lines = [
        (await live.execute(positions, id=i)).ok()["task"]["queuePosition"]
        for i in (running_id, queued_id, waiting_id)
    ]
    assert lines == [None, 0, 1]

    cancelled = (await live.execute(CANCEL, id=waiting_id)).ok()["cancelTask"]
    assert cancelled["status"] == "CANCELLED"

    (await live.execute(CANCEL, id=queued_id)).ok()
    queue = await comfy_get(emulator, "/queue")
    assert queued.prompt_id not in str(queue["queue_pending"])

    (await live.execute(CANCEL, id=running_id)).ok()
    async with asyncio.timeout(10):
        while True:
            history = await comfy_get(emulator, f"/history/{running.prompt_id}")
            if history:
                break
            await asyncio.sleep(0.05)
    messages = history[running.prompt_id]["status"]["messages"]
    assert messages[-1][0] == "execution_interrupted"
    statuses = {
        t.status.value for t in await Task.filter(id__in=[running_id, queued_id, waiting_id])
    }
    assert statuses == {"CANCELLED"}


async def test_cancelling_a_finished_task_is_a_clear_error(live: GraphQLClient) -> None:
    task = await wait_terminal(live, await submit(live, steps=2))
    response = await live.execute(CANCEL, id=task["id"])
    assert response.codes == ["INVALID_STATE"]


async def test_a_task_past_its_deadline_is_stopped_and_fails_as_timed_out(
    live: GraphQLClient, emulator: RunningEmulator
) -> None:
    data = {
        "referenceImage": {"base64": IMAGE},
        "description": "slow",
        "parameters": {"steps": 150},
        "timeoutSeconds": 1,
    }
    task_id = (await live.execute(GENERATE, input=data)).ok()["generateImage"]["task"]["id"]
    task = await wait_terminal(live, task_id, timeout=10)
    assert task["status"] == "FAILED"
    assert task["error"]["code"] == "TIMED_OUT"
    row = await Task.get(id=task_id)
    async with asyncio.timeout(10):
        while not (history := await comfy_get(emulator, f"/history/{row.prompt_id}")):
            await asyncio.sleep(0.05)
    assert history[row.prompt_id]["status"]["messages"][-1][0] == "execution_interrupted"


async def test_a_running_task_cancelled_on_request_ends_like_any_other(live: GraphQLClient) -> None:
    """Cancelled through the API, a running task keeps no node as running (as a task ending any
    other way): the cancellation is the same transition wherever it comes from."""
    task_id = await submit(live, steps=150)
    node = "query($id: ID!) { task(id: $id) { status currentNode } }"
    async with asyncio.timeout(10):
        while (await live.execute(node, id=task_id)).ok()["task"]["currentNode"] is None:
            await asyncio.sleep(0.02)

    cancelled = (await live.execute(CANCEL, id=task_id)).ok()["cancelTask"]

    assert (cancelled["status"], cancelled["error"]["code"]) == ("CANCELLED", "CANCELLED")
    assert (await live.execute(node, id=task_id)).ok()["task"] == {
        "status": "CANCELLED",
        "currentNode": None,
    }
    assert (await Task.get(id=task_id)).current_node is None
