"""Drive a running service with the ariadne-codegen client generated from schema.graphql.

Run by the codegen environment's python (pydantic, httpx, websockets), with the generated
`kontext_client` package on PYTHONPATH: `python python_client_check.py http://127.0.0.1:8000`.
It uploads a PNG, follows the task's progress to the end, and reads the task back.
"""

from __future__ import annotations

import asyncio
import io
import struct
import sys
import uuid
import zlib
from typing import Any

import kontext_client  # type: ignore[import-not-found]

STEPS = 8
LARGEST_SEED = "18446744073709551615"
TIMEOUT_SECONDS = 30


def png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data)
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def make_png(width: int, height: int, shift: int) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    row = b"\x00" + bytes((x * 4 + shift) % 256 for x in range(width * 3))
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            png_chunk(b"IHDR", header),
            png_chunk(b"IDAT", zlib.compress(row * height)),
            png_chunk(b"IEND", b""),
        )
    )


def client_for(base_url: str) -> kontext_client.Client:
    http_url = base_url.rstrip("/") + "/graphql"
    ws_url = "ws" + http_url.removeprefix("http")
    return kontext_client.Client(
        url=http_url, headers={"Apollo-Require-Preflight": "true"}, ws_url=ws_url
    )


def generate_input() -> kontext_client.GenerateImageInput:
    # A prompt ComfyUI has run before completes from its cache with no steps: make this one new.
    run = uuid.uuid4()
    image = make_png(32, 24, shift=run.int % 256)
    upload = kontext_client.Upload(
        filename="reference.png", content=io.BytesIO(image), content_type="image/png"
    )
    return kontext_client.GenerateImageInput(
        referenceImage=kontext_client.ImageInput(upload=upload),
        description=f"make it look like an oil painting (run {run.hex[:8]})",
        parameters=kontext_client.GenerationParametersInput(steps=STEPS, seed=LARGEST_SEED),
    )


async def follow(client: kontext_client.Client, task_id: str) -> list[Any]:
    updates: list[Any] = []
    async with asyncio.timeout(TIMEOUT_SECONDS):
        async for update in client.task_progress(id=task_id):
            updates.append(update.task_progress)
    return updates


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SystemExit(f"python client check failed: {message}")


async def main(base_url: str) -> None:
    async with client_for(base_url) as client:
        created = (await client.generate_image(input=generate_input())).generate_image
        check(created.task.parameters.seed == LARGEST_SEED, f"seed {created.task.parameters.seed}")
        updates = await follow(client, created.task.id)
        check(bool(updates), "no progress update arrived")
        last = updates[-1]
        check(last.status == kontext_client.TaskStatus.COMPLETED, f"ended {last.status}")
        check(last.result is not None and last.result.image_url != "", "no result image")
        check([u.step for u in updates] == sorted(u.step for u in updates), "steps went back")
        task = (await client.task(id=created.task.id)).task
        check(task is not None and task.step == STEPS, f"task read back as {task}")
    print(f"python client: task {created.task.id} completed in {len(updates)} updates")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
