"""The HTTP client against a loopback server that answers exactly what ComfyUI 0.8.0 answered."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from comfy.client import ComfyClient
from comfy.errors import ComfyUnavailable, PromptRejected
from comfy.models import OutputImage
from tests.comfy.emulator.recorded import http
from tests.support.server import serve_asgi

RECORDINGS = Path(__file__).parent / "recordings"
JSON = "application/json; charset=utf-8"


def recorded(scenario: str, method: str, path: str, status: int = 200) -> dict[str, Any]:
    return next(r for r in http(scenario, method, path) if r["status"] == status and r["body"])


class Replay:
    """Answers each (method, path) with a recorded exchange; counts the requests."""

    def __init__(self) -> None:
        self.answers: dict[tuple[str, str], tuple[int, bytes]] = {}
        self.requests: list[tuple[str, str]] = []

    def answer(self, method: str, path: str, status: int, body: Any) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.answers[(method, path)] = (status, raw)

    async def handle(self, request: Request) -> Response:
        key = (request.method, request.url.path)
        self.requests.append(key)
        status, body = self.answers.get(key, (404, b""))
        media = "image/png" if body.startswith(b"\x89PNG") else JSON
        return Response(body, status_code=status, media_type=media if body else None)


@pytest.fixture
async def replay() -> AsyncIterator[tuple[Replay, ComfyClient]]:
    server = Replay()
    app = Starlette(routes=[Route("/{path:path}", server.handle, methods=["GET", "POST"])])
    async with serve_asgi(app) as url, ComfyClient(url, client_id="test") as client:
        yield server, client


async def test_validation_400_becomes_prompt_rejected_with_node_errors(replay) -> None:
    server, client = replay
    exchange = recorded("c_validation_errors", "POST", "/prompt", 400)
    server.answer("POST", "/prompt", 400, exchange["body"])
    with pytest.raises(PromptRejected) as caught:
        await client.queue_prompt({"31": {}}, prompt_id="p")
    assert caught.value.node_errors == exchange["body"]["node_errors"]
    assert caught.value.error["type"] == exchange["body"]["error"]["type"]
    assert "node" in str(caught.value)


@pytest.mark.parametrize(
    ("scenario", "outcome"),
    [("a_success", "success"), ("d_execution_errors", "error"), ("e_interrupt", "interrupted")],
)
async def test_history_entries_tell_success_error_and_interrupt_apart(
    replay, scenario: str, outcome: str
) -> None:
    server, client = replay
    body = recorded(scenario, "GET", "/history/")["body"]
    prompt_id = next(iter(body))
    server.answer("GET", f"/history/{prompt_id}", 200, body)
    entry = await client.history(prompt_id)
    assert entry is not None
    assert entry.outcome == outcome
    if outcome == "success":
        assert [o.node_id for o in entry.outputs] == ["136"]
    if outcome == "error":
        assert entry.error is not None
        assert entry.error["node_type"] == "VAELoader"


async def test_unknown_history_is_none_and_unknown_job_is_none(replay) -> None:
    server, client = replay
    server.answer("GET", "/history/gone", 200, {})
    server.answer("GET", "/api/jobs/gone", 404, {"error": "Job not found"})
    assert await client.history("gone") is None
    assert await client.job("gone") is None


async def test_queue_lists_running_and_pending_prompt_ids(replay) -> None:
    server, client = replay
    body = next(r["body"] for r in http("a_success", "GET", "/queue") if r["body"]["queue_running"])
    server.answer("GET", "/queue", 200, body)
    snapshot = await client.queue()
    assert snapshot.running == [body["queue_running"][0][1]]
    assert snapshot.pending == []


async def test_upload_is_sent_once_per_content(replay) -> None:
    server, client = replay
    server.answer(
        "POST", "/upload/image", 200, recorded("a_success", "POST", "/upload/image")["body"]
    )
    first = await client.upload_image(b"png bytes", filename="a.png")
    again = await client.upload_image(b"png bytes", filename="a.png")
    assert first == again
    assert first.name == "rig_ref.png"
    assert server.requests.count(("POST", "/upload/image")) == 1


async def test_download_streams_the_recorded_output(replay) -> None:
    server, client = replay
    png = (RECORDINGS / "view_rig_a_00002_.png").read_bytes()
    server.answer("GET", "/view", 200, png)
    image = OutputImage(filename="rig_a_00002_.png", subfolder="", type="output", node_id="136")
    async with client.download(image) as chunks:
        data = b"".join([chunk async for chunk in chunks])
    assert data == png


async def test_system_stats_reports_the_version(replay) -> None:
    server, client = replay
    server.answer(
        "GET", "/system_stats", 200, recorded("a_success", "GET", "/system_stats")["body"]
    )
    assert (await client.system_stats()).comfyui_version == "0.8.0"


async def test_refused_connection_is_comfy_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with ComfyClient(f"http://127.0.0.1:{port}", client_id="t", timeout=2) as client:
        with pytest.raises(ComfyUnavailable):
            await client.queue()
