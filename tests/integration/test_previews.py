"""What `task(id)` says of a running task's preview is there to fetch, and a finished task leaves
only the preview its row names."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from graphql_api.settings import Settings
from tests.integration.test_runs_on_comfyui import submit
from tests.support.graphql import GraphQLClient

PREVIEW = "query($id: ID!) { task(id: $id) { status previewUrl } }"


async def read(live: GraphQLClient, task_id: str) -> dict[str, Any]:
    task: dict[str, Any] = (await live.execute(PREVIEW, id=task_id)).ok()["task"]
    return task


async def test_a_running_tasks_preview_link_is_there_until_a_newer_one_replaces_it(
    live: GraphQLClient, settings: Settings
) -> None:
    task_id = await submit(live, steps=150)  # 20 ms a step, a preview every 0.5 s: five or more
    seen: set[str] = set()
    async with asyncio.timeout(30):
        while (task := await read(live, task_id))["status"] in ("PENDING", "PROCESSING"):
            url = task["previewUrl"]
            if url is not None:
                seen.add(url)
                if (await live.http.get(url)).status_code != 200:
                    # Only a newer preview may have taken its place since it was read.
                    assert (await read(live, task_id))["previewUrl"] != url, "a missing file"
            await asyncio.sleep(0.02)
    assert task["status"] == "COMPLETED", task
    assert len(seen) >= 3, seen
    folder = Path(settings.storage_dir) / "previews" / task_id
    left = [path.name for path in folder.iterdir()]
    assert task["previewUrl"] is not None and len(left) == 1, left
    assert left[0] in task["previewUrl"]
