"""A long history in the migrated schema, written with COPY: finished tasks of one owner, most
with a result image, spread over months, as a busy account would have."""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

LOCAL_OWNER = "local"  # the owner of every request when keys are off (loopback)
TASK_COLUMNS = (
    "id", "owner", "status", "workflow", "description", "parameters", "seed", "batch_index",
    "request_hash", "step", "total_steps", "progress", "sequence", "backend", "prompt_id",
    "attempts", "node_count", "dispatched_at", "queued_at", "error_code", "error_message",
    "created_at", "updated_at", "started_at", "finished_at", "reference_image_id",
    "result_image_id", "memory_retries",
)  # fmt: skip
IMAGE_COLUMNS = (
    "id", "owner", "kind", "sha256", "blob_key", "thumbnail_key", "content_type", "width",
    "height", "size", "created_at",
)  # fmt: skip
PARAMETERS = {
    "steps": 20,
    "cfg": 1.0,
    "guidance": 2.5,
    "sampler": "euler",
    "scheduler": "simple",
    "denoise": 1.0,
}
DESCRIPTIONS = (
    "change the car to red, keep the background",
    "make it night time with street lights",
    "turn the photo into a watercolour painting",
    "remove the people in the background",
)


@dataclass(frozen=True)
class History:
    task_ids: list[uuid.UUID]


def image_row(image_id: uuid.UUID, kind: str, when: datetime) -> tuple[Any, ...]:
    key = f"{kind}s/{image_id}.png"
    digest = uuid.uuid4().hex * 2
    thumbnail = key + ".thumb.webp"
    return (
        image_id,
        LOCAL_OWNER,
        kind,
        digest,
        key,
        thumbnail,
        "image/png",
        1024,
        1024,
        1_500_000,
        when,
    )


def task_row(
    index: int, reference: uuid.UUID, start: datetime, rng: random.Random
) -> tuple[tuple[Any, ...], tuple[Any, ...] | None]:
    created = start + timedelta(seconds=60 * index + rng.random())
    roll = rng.random()
    status = "COMPLETED" if roll < 0.94 else ("FAILED" if roll < 0.98 else "CANCELLED")
    task_id = uuid.uuid4()
    image = image_row(uuid.uuid4(), "output", created) if status == "COMPLETED" else None
    error = None if status == "COMPLETED" else ("EXECUTION_FAILED" if roll < 0.98 else "CANCELLED")
    finished = created + timedelta(seconds=30)
    row = (
        task_id, LOCAL_OWNER, status, "flux_kontext_dev_basic", DESCRIPTIONS[index % 4],
        json.dumps(PARAMETERS), str(rng.getrandbits(63)), 0, uuid.uuid4().hex * 2, 20, 20,
        100.0 if image else 40.0, 30, "http://127.0.0.1:8188", str(uuid.uuid4()), 1, 15,
        created, created, error, "The sampler failed." if error else None,
        created, finished, created + timedelta(seconds=2), finished, reference,
        image[0] if image else None, 0,
    )  # fmt: skip
    return row, image


async def write_history(database_url: str, count: int, seed: int = 7) -> History:
    """`count` finished tasks of the local owner (and their images), then VACUUM ANALYZE."""
    rng = random.Random(seed)
    start = datetime.now(UTC) - timedelta(minutes=count + 10)
    reference = uuid.uuid4()
    images = [image_row(reference, "input", start)]
    tasks = []
    for index in range(count):
        row, image = task_row(index, reference, start, rng)
        tasks.append(row)
        if image is not None:
            images.append(image)
    connection = await asyncpg.connect(database_url, timeout=30)
    try:
        await connection.copy_records_to_table(
            "stored_image", records=images, columns=IMAGE_COLUMNS
        )
        await connection.copy_records_to_table("task", records=tasks, columns=TASK_COLUMNS)
        await connection.execute("VACUUM ANALYZE task")
        await connection.execute("VACUUM ANALYZE stored_image")
    finally:
        await connection.close()
    return History(task_ids=[row[0] for row in tasks])
