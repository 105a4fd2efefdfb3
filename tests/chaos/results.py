"""Every COMPLETED task's result, fetched as a client would: the task through GraphQL, then its
image and preview over HTTP, each decoded with Pillow."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterable
from typing import Any

import httpx
from PIL import Image

from tests.chaos.report import Summary

TASK = """query($id: ID!) { task(id: $id) { id status
  result { imageUrl previewUrl width height format bytes } } }"""
PARALLEL = 8
HTTP_TIMEOUT = 20.0


def decoded_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as picture:
        picture.load()
        return picture.size


async def fetch_image(http: httpx.AsyncClient, url: str) -> tuple[int, int]:
    response = await http.get(url)
    response.raise_for_status()
    return await asyncio.to_thread(decoded_size, response.content)


async def result_problem(http: httpx.AsyncClient, task_id: str) -> str | None:
    """Why this completed task's result cannot be had, or None when it can."""
    response = await http.post("/graphql", json={"query": TASK, "variables": {"id": task_id}})
    body: dict[str, Any] = response.json()
    task = (body.get("data") or {}).get("task")
    if task is None or task["status"] != "COMPLETED" or task["result"] is None:
        return f"the API shows {task and task['status']} without a result ({body.get('errors')})"
    result = task["result"]
    try:
        size = await fetch_image(http, result["imageUrl"])
        if result["previewUrl"]:
            await fetch_image(http, result["previewUrl"])
    except (httpx.HTTPError, OSError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"
    if size != (result["width"], result["height"]):
        return f"decoded {size}, the API says {result['width']}x{result['height']}"
    return None


async def check_results(summary: Summary, api_url: str, task_ids: Iterable[str]) -> None:
    gate = asyncio.Semaphore(PARALLEL)
    async with httpx.AsyncClient(base_url=api_url, timeout=HTTP_TIMEOUT) as http:

        async def check(task_id: str) -> tuple[str, str | None]:
            async with gate:
                return task_id, await result_problem(http, task_id)

        found = await asyncio.gather(*(check(task_id) for task_id in task_ids))
    problems = [(task_id, why) for task_id, why in found if why is not None]
    summary.unreadable += len(problems)
    for task_id, why in problems[:10]:
        summary.problem(f"unreadable result of task {task_id}: {why}")
