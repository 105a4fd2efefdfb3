"""The task queries the runtime makes when a prompt's first event arrives."""

from __future__ import annotations

import uuid

from tasks.status import TaskStatus
from tasks.store.clock import utc_now
from tasks.store.database import Database
from tasks.store.models import ImageKind, StoredImage, Task
from tasks.store.task_rows import active_task_of_prompt, reference_resolution, task_by_id


async def stored_image(width: int, height: int) -> StoredImage:
    return await StoredImage.create(
        owner="o", kind=ImageKind.INPUT, sha256=uuid.uuid4().hex * 2, blob_key="k", thumbnail_key="t",
        content_type="image/png", width=width, height=height, size=1, created_at=utc_now(),
    )  # fmt: skip


async def task_of_prompt(prompt_id: str, status: TaskStatus, *, second: bool = False) -> Task:
    return await Task.create(
        id=uuid.uuid4(), owner="o", status=status, workflow="w", description="d",
        parameters={}, seed="1", reference_image=await stored_image(640, 480),
        second_image=await stored_image(8, 8) if second else None, request_hash="h",
        prompt_id=prompt_id, created_at=utc_now(), updated_at=utc_now(),
    )  # fmt: skip


async def test_the_active_task_of_a_prompt_comes_with_its_resolution(database: Database) -> None:
    running = await task_of_prompt("p-running", TaskStatus.PROCESSING)
    await task_of_prompt("p-done", TaskStatus.COMPLETED)
    found = await active_task_of_prompt("p-running")
    assert found is not None and found.id == running.id
    assert await reference_resolution(found) == "640x480"
    assert await active_task_of_prompt("p-done") is None
    assert await active_task_of_prompt("p-unknown") is None


async def test_resolution_of_a_task_read_alone_and_of_one_with_a_second_image(
    database: Database,
) -> None:
    two = await task_of_prompt("p-two", TaskStatus.PENDING, second=True)
    alone = await task_by_id(two.id)
    assert alone is not None
    assert await reference_resolution(alone) == "640x480+second image"
    joined = await active_task_of_prompt("p-two")
    assert joined is not None
    assert await reference_resolution(joined) == "640x480+second image"
