"""New task rows, as a request creates them, and their removal."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any
from uuid import UUID

from tasks.status import TaskStatus
from tasks.store.clock import utc_now
from tasks.store.models import StoredImage, Task

__all__ = ["StoredImage", "Task", "delete_task", "insert_task"]


async def insert_task(
    *,
    owner: str,
    workflow: str,
    description: str,
    parameters: dict[str, Any],
    seed: str,
    reference_image: StoredImage,
    second_image: StoredImage | None,
    batch_id: UUID | None,
    batch_index: int,
    rerun_of_id: UUID | None,
    idempotency_key: str | None,
    request_hash: str,
    timeout_seconds: int,
) -> Task:
    """A PENDING task created now, due `timeout_seconds` from now."""
    now = utc_now()
    return await Task.create(
        id=uuid.uuid4(),
        owner=owner,
        status=TaskStatus.PENDING,
        workflow=workflow,
        description=description,
        parameters=parameters,
        seed=seed,
        reference_image=reference_image,
        second_image=second_image,
        batch_id=batch_id,
        batch_index=batch_index,
        rerun_of_id=rerun_of_id,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        created_at=now,
        updated_at=now,
        deadline_at=now + timedelta(seconds=timeout_seconds),
    )


async def delete_task(task: Task) -> None:
    await task.delete()
