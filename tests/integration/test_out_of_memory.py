"""ComfyUI running out of GPU memory for a prompt: POST /free (unload models, free memory),
then the task runs once more before it fails as OUT_OF_MEMORY."""

from __future__ import annotations

from comfy.emulator.server import RunningEmulator
from tasks.store.models import Task
from tests.integration.test_comfyui_outcomes import fault
from tests.integration.test_runs_on_comfyui import submit, wait_terminal
from tests.support.graphql import GraphQLClient

FREED = {"unload_models": True, "free_memory": True}


async def test_an_oom_frees_memory_and_the_retry_completes(
    live: GraphQLClient, emulator: RunningEmulator
) -> None:
    await fault(emulator, execution_error={"node_id": "31", "out_of_memory": True, "times": 1})
    task_id = await submit(live, steps=3)
    task = await wait_terminal(live, task_id)
    assert task["status"] == "COMPLETED", task
    assert emulator.state.memory_frees == [FREED]
    row = await Task.get(id=task_id)
    assert (row.attempts, row.memory_retries) == (2, 1)
    assert "ran out of memory" in (row.requeue_reason or "")


async def test_a_second_oom_fails_the_task_as_out_of_memory(
    live: GraphQLClient, emulator: RunningEmulator
) -> None:
    await fault(emulator, execution_error={"node_id": "31", "out_of_memory": True, "times": None})
    task = await wait_terminal(live, await submit(live, steps=3))
    assert task["status"] == "FAILED", task
    assert task["error"]["code"] == "OUT_OF_MEMORY"
    assert task["error"]["message"].startswith("KSampler ran out of GPU memory: Allocation on")
    assert task["error"]["exceptionType"] == "torch.OutOfMemoryError"
    assert emulator.state.memory_frees == [FREED, FREED]


async def test_another_execution_error_is_not_retried(
    live: GraphQLClient, emulator: RunningEmulator
) -> None:
    await fault(emulator, execution_error={"node_id": "31", "times": 1})
    task = await wait_terminal(live, await submit(live, steps=3))
    assert task["error"]["code"] == "EXECUTION_FAILED"
    assert emulator.state.memory_frees == []
