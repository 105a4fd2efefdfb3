"""The README's client examples (kept in examples/ and quoted verbatim by the README) run against
a started service with the sample image. The Apollo example runs in scripts/test-clients, where
Node and its packages are."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from graphql_api.app import create_app
from graphql_api.settings import Settings
from tasks.api_keys import create_key
from tasks.store.database import Database
from tests.support.server import serve_asgi

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()
QUOTED = re.findall(r"<!-- example: (\S+) -->\n```\w+\n(.*?)```\n", README, re.S)


@dataclasses.dataclass
class Run:
    status: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        assert self.status == 0, self.stderr
        return json.loads(self.stdout)


async def run(*command: str, url: str, key: str = "") -> Run:
    """Run an example as the README says: from the repository's folder, KONTEXT_URL set."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("KONTEXT_")}
    environment["KONTEXT_URL"] = url
    if key:
        environment["KONTEXT_API_KEY"] = key
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=ROOT,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return Run(process.returncode, stdout.decode(), stderr.decode())


@pytest.fixture
async def service(settings: Settings, database: Database) -> AsyncIterator[str]:
    """The service with the bundled emulator, keys optional (loopback), as ./scripts/serve."""
    served = dataclasses.replace(
        settings, dispatch=True, comfyui_urls=(), emulator_step_seconds=0.01
    )
    async with serve_asgi(create_app(served)) as url:
        yield url


@pytest.fixture
async def secured(settings: Settings, database: Database) -> AsyncIterator[str]:
    served = dataclasses.replace(
        settings, dispatch=True, comfyui_urls=(), emulator_step_seconds=0.01, auth="on"
    )
    async with serve_asgi(create_app(served)) as url:
        yield url


def test_the_readme_quotes_every_example_verbatim() -> None:
    quoted = dict(QUOTED)
    assert sorted(quoted) == sorted(
        str(path.relative_to(ROOT))
        for path in (ROOT / "examples").rglob("*")
        if path.suffix in (".sh", ".py", ".mjs")
        and "node_modules" not in path.parts
        and path.name != "make_sample_image.py"
    )
    for path, text in quoted.items():
        assert (ROOT / path).read_text() == text, path


def test_the_first_request_comes_before_base64_and_url() -> None:
    first = README.split("## A first request", 1)[1].split("\n## ", 1)[0]
    positions = [first.index(marker) for marker in ('"upload"', '"base64"', '"url"')]
    assert positions == sorted(positions)
    assert "https://example.com/car.jpg" not in README


def test_the_sample_image_is_a_small_jpeg_the_service_accepts() -> None:
    sample = ROOT / "examples" / "car.jpg"
    with Image.open(sample) as image:
        assert image.format == "JPEG" and image.size == (640, 400)
    assert sample.stat().st_size < 64 * 1024


async def wait_completed(url: str, task_id: str) -> dict[str, Any]:
    for _ in range(600):
        task = (await run("examples/curl/task.sh", task_id, url=url)).json()["data"]["task"]
        if task["status"] in ("COMPLETED", "FAILED", "CANCELLED"):
            return dict(task)
        await asyncio.sleep(0.1)
    raise AssertionError(f"task {task_id} did not finish: {task}")


async def test_the_curl_examples_upload_send_base64_poll_and_page(service: str) -> None:
    uploaded = (await run("examples/curl/upload.sh", url=service)).json()["data"]["generateImage"]
    assert uploaded["task"]["status"] == "PENDING"
    assert uploaded["message"].startswith("task queued")
    inline = (await run("examples/curl/base64.sh", url=service)).json()["data"]["generateImage"]
    assert inline["task"]["status"] == "PENDING"
    for task_id in (uploaded["task"]["id"], inline["task"]["id"]):
        task = await wait_completed(service, task_id)
        assert task["status"] == "COMPLETED", task
        async with httpx.AsyncClient() as http:
            assert (await http.get(task["result"]["imageUrl"])).status_code == 200
    await run("examples/curl/upload.sh", url=service)
    first = (await run("examples/curl/history.sh", url=service)).json()["data"]["history"]
    assert first["totalCount"] == 3 and len(first["edges"]) == 2
    assert first["pageInfo"]["hasNextPage"] is True
    cursor = first["pageInfo"]["endCursor"]
    second = (await run("examples/curl/history.sh", cursor, url=service)).json()["data"]["history"]
    assert [e["node"]["id"] for e in second["edges"]] == [uploaded["task"]["id"]]
    assert second["pageInfo"]["hasNextPage"] is False


async def test_the_curl_history_example_sends_the_key(secured: str) -> None:
    key = await create_key("alice")
    refused = await run("examples/curl/history.sh", url=secured)
    assert json.loads(refused.stdout)["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    page = (await run("examples/curl/history.sh", url=secured, key=key.token)).json()
    assert page["data"]["history"]["totalCount"] == 0


async def test_the_python_example_uploads_follows_and_pages(service: str) -> None:
    result = await run(sys.executable, "examples/python/edit.py", url=service)
    assert result.status == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("task queued ")
    assert "SNAPSHOT" in lines[1]
    assert any(line.split()[:2] == ["STATUS", "COMPLETED"] for line in lines)
    assert any(line.startswith("result: http") for line in lines)
    assert any(line.startswith("history: ") for line in lines)
    # Each event's line ends with the task's progress, which only moves forward, to 100 %.
    shown = [float(line.split()[-2]) for line in lines if line.endswith(" %")]
    assert shown == sorted(shown) and shown[-1] == 100.0 and len(set(shown)) > 2


async def test_the_python_example_sends_the_key_on_http_and_websocket(secured: str) -> None:
    key = await create_key("alice")
    result = await run(sys.executable, "examples/python/edit.py", url=secured, key=key.token)
    assert result.status == 0, result.stdout + result.stderr
    assert "COMPLETED" in result.stdout
