"""The HTTP client against a loopback server that answers exactly what ComfyUI 0.8.0 answered."""

from __future__ import annotations

import asyncio
import hashlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from comfy.client import ComfyClient
from comfy.errors import (
    ComfyNotFound,
    ComfyProtocolError,
    ComfyServerError,
    ComfyUnavailable,
    PromptRejected,
)
from comfy.models import OutputImage, QueuedPrompt, UploadedImage
from tests.comfy.recorded import exchange, exchanges, saved
from tests.comfy.replay import Replay, serve_replay
from tests.support.server import serve_asgi

__all__ = ["Replay"]  # tests of other packages build their ComfyUI stand-in from it

REJECTIONS = exchanges("c_validation_errors", "POST", "/prompt", 400) + exchanges(
    "n_c_validation_errors", "POST", "/prompt", 400
)
RESULT = OutputImage(filename="rig_a_00002_.png", subfolder="", type="output", node_id="136")


@pytest.fixture
async def replay() -> AsyncIterator[tuple[Replay, ComfyClient]]:
    server = Replay()
    async with serve_replay(server) as url, ComfyClient(url, client_id="test-client") as client:
        yield server, client


def history_of(scenario: str, index: int = 0) -> dict[str, Any]:
    return [r for r in exchanges(scenario, "GET", "/history/") if r["body"]][index]


async def test_queue_prompt_sends_our_ids_and_returns_the_number(replay) -> None:
    server, client = replay
    server.play(exchange("a_success", "POST", "/prompt"))
    queued = await client.queue_prompt(
        {"31": {"class_type": "KSampler"}}, prompt_id="p-1", extra_data={"preview_method": "auto"}
    )
    assert queued == QueuedPrompt(prompt_id="a2401f32-a2c6-4a31-81da-ef0977513511", number=0)
    assert server.received[-1].json() == {
        "prompt": {"31": {"class_type": "KSampler"}},
        "client_id": "test-client",
        "prompt_id": "p-1",
        "extra_data": {"preview_method": "auto"},
    }


@pytest.mark.parametrize("record", REJECTIONS, ids=lambda r: r["body"]["error"]["type"])
async def test_every_recorded_400_becomes_prompt_rejected_with_its_node_errors(
    replay, record: dict[str, Any]
) -> None:
    server, client = replay
    server.play(record)
    with pytest.raises(PromptRejected) as caught:
        await client.queue_prompt({}, prompt_id="p")
    assert caught.value.error == record["body"]["error"]
    assert caught.value.node_errors == record["body"]["node_errors"]
    assert caught.value.error_type == record["body"]["error"]["type"]
    summary = str(caught.value)
    assert record["body"]["error"]["message"] in summary
    for node_id, node in record["body"]["node_errors"].items():
        assert f"node {node_id} ({node['class_type']})" in summary


def test_a_rejection_summary_names_the_node_and_what_is_wrong() -> None:
    body = REJECTIONS[0]["body"]
    assert str(PromptRejected(body["error"], body["node_errors"])) == (
        "Prompt outputs failed validation; "
        "node 31 (KSampler): Value -1 smaller than min of 1 (steps)"
    )


async def test_the_plain_text_500_is_a_server_error_and_so_unavailable(replay) -> None:
    server, client = replay
    record = exchange("c_validation_errors", "POST", "/prompt", 500)
    server.play(record)
    with pytest.raises(ComfyServerError) as caught:
        await client.queue_prompt({}, prompt_id="p")
    assert isinstance(caught.value, ComfyUnavailable)
    assert caught.value.status_code == 500
    assert caught.value.body == record["body"]


@pytest.mark.parametrize(
    ("scenario", "index", "outcome", "outputs"),
    [
        ("a_success", 0, "success", [RESULT]),
        ("b_cached_twice", 0, "success", [OutputImage("rig_b_00002_.png", "", "output", "136")]),
        ("d_execution_errors", 0, "error", []),
        ("d_execution_errors", 1, "error", []),
        ("e_interrupt", 0, "interrupted", []),
        ("e_interrupt", 1, "interrupted", []),
        ("n_e_interrupt", 0, "interrupted", []),
    ],
)
async def test_history_tells_success_error_and_interrupt_apart(
    replay, scenario: str, index: int, outcome: str, outputs: list[OutputImage]
) -> None:
    server, client = replay
    record = history_of(scenario, index)
    server.play(record)
    prompt_id = next(iter(record["body"]))
    entry = await client.history(prompt_id)
    assert entry is not None
    assert (entry.prompt_id, entry.outcome, entry.outputs) == (prompt_id, outcome, outputs)
    assert entry.completed is (outcome == "success")
    assert entry.status_str == ("success" if outcome == "success" else "error")
    assert [kind for kind, _ in entry.messages][:2] == ["execution_start", "execution_cached"]


async def test_a_failed_history_entry_carries_the_execution_error(replay) -> None:
    server, client = replay
    record = history_of("d_execution_errors", 1)
    server.play(record)
    entry = await client.history(next(iter(record["body"])))
    assert entry is not None and entry.error is not None
    assert entry.error["node_type"] == "LoadImage"
    assert entry.error["exception_type"] == "PIL.UnidentifiedImageError"


@pytest.mark.parametrize("scenario", ["c_validation_errors", "g_server_restart", "a_success"])
async def test_an_empty_history_answer_is_none(replay, scenario: str) -> None:
    server, client = replay
    record = next(r for r in exchanges(scenario, "GET", "/history/") if r["body"] == {})
    server.play(record)
    assert await client.history(record["path"].removeprefix("/history/")) is None


async def test_queue_lists_running_and_pending_prompt_ids(replay) -> None:
    server, client = replay
    record = exchanges("f_queue_delete_clear", "GET", "/queue")[0]
    server.play(record)
    snapshot = await client.queue()
    assert snapshot.running == ["424f5b1f-b1d3-4a51-947a-c3699f283cff"]
    assert snapshot.pending == [item[1] for item in record["body"]["queue_pending"]]
    assert snapshot.pending_position(snapshot.pending[1]) == 1
    assert snapshot.running[0] in snapshot
    assert snapshot.pending_position(snapshot.running[0]) is None


async def test_pending_prompts_come_in_run_order_whatever_order_comfyui_lists_them(replay) -> None:
    server, client = replay
    body = exchanges("f_queue_delete_clear", "GET", "/queue")[0]["body"]
    in_run_order = [item[1] for item in body["queue_pending"]]
    assert [item[0] for item in body["queue_pending"]] == [24, 25, 26]
    body["queue_pending"].reverse()
    server.answer("GET", "/queue", 200, body)
    assert (await client.queue()).pending == in_run_order


@pytest.mark.parametrize(
    ("scenario", "index", "status", "outcome"),
    [
        ("a_success", 0, "in_progress", None),
        ("a_success", 1, "completed", "success"),
        ("e_interrupt", 0, "failed", "interrupted"),
        ("d_execution_errors", 0, "failed", "error"),
    ],
)
async def test_a_job_reports_its_status_and_outcome(
    replay, scenario: str, index: int, status: str, outcome: str | None
) -> None:
    server, client = replay
    record = exchanges(scenario, "GET", "/api/jobs/", 200)[index]
    server.play(record)
    job = await client.job(record["path"].removeprefix("/api/jobs/"))
    assert job is not None
    assert (job.id, job.status, job.outcome) == (record["body"]["id"], status, outcome)
    assert client.supports_jobs_api is True


async def test_an_unknown_job_is_none_and_the_route_stays_in_use(replay) -> None:
    server, client = replay
    record = exchange("c_validation_errors", "GET", "/api/jobs/", 404)
    server.play(record)
    job_id = record["path"].removeprefix("/api/jobs/")
    assert await client.job(job_id) is None
    assert await client.job(job_id) is None
    assert client.supports_jobs_api is True
    assert server.requests.count(("GET", record["path"])) == 2


@pytest.mark.parametrize(
    ("status", "body"), [(404, b"404: Not Found"), (405, b"405: Method Not Allowed")]
)
async def test_a_server_without_the_jobs_route_is_asked_once(
    replay, status: int, body: bytes
) -> None:
    server, client = replay
    server.answer("GET", "/api/jobs/p", status, body, {"content-type": "text/plain; charset=utf-8"})
    assert await client.job("p") is None
    assert await client.job("p") is None
    assert client.supports_jobs_api is False
    assert server.requests == [("GET", "/api/jobs/p")]
    client.forget_server()
    assert client.supports_jobs_api is None


async def test_the_same_bytes_are_uploaded_once_under_their_hash(replay) -> None:
    server, client = replay
    server.play(exchange("a_success", "POST", "/upload/image"))
    first = await client.upload_image(b"png bytes", filename="Photo.PNG")
    again = await client.upload_image(b"png bytes", filename="other.png")
    assert first == again == UploadedImage(name="rig_ref.png", subfolder="", type="input")
    assert server.requests.count(("POST", "/upload/image")) == 1
    form = server.received[0].body
    digest = hashlib.sha256(b"png bytes").hexdigest()
    assert f'filename="{digest}.png"'.encode() in form
    assert b'name="overwrite"\r\n\r\ntrue' in form
    assert b'name="type"\r\n\r\ninput' in form
    await client.upload_image(b"other bytes", filename="x.png")
    client.forget_uploads()
    await client.upload_image(b"png bytes", filename="Photo.PNG")
    assert server.requests.count(("POST", "/upload/image")) == 3


async def test_an_upload_named_by_the_callers_digest_is_found_by_it(replay) -> None:
    server, client = replay
    server.play(exchange("a_success", "POST", "/upload/image"))
    digest = "c" * 64  # the caller's: the bytes are not hashed again
    assert client.uploaded(digest) is None
    sent = await client.upload_image(b"png bytes", filename="a.png", digest=digest)
    assert client.uploaded(digest) == sent
    assert f'filename="{digest}.png"'.encode() in server.received[0].body
    client.forget_uploads()
    assert client.uploaded(digest) is None


async def test_an_upload_answered_400_with_an_empty_body_is_a_protocol_error(replay) -> None:
    server, client = replay
    server.play(exchange("c_validation_errors", "POST", "/upload/image", 400))
    with pytest.raises(ComfyProtocolError, match="400"):
        await client.upload_image(b"data", filename="a.png")


async def test_download_streams_the_recorded_output(replay) -> None:
    server, client = replay
    record = exchange("a_success", "GET", "/view")
    server.play(record)
    async with client.download(RESULT) as chunks:
        data = b"".join([chunk async for chunk in chunks])
    assert data == saved("a_success_frames/view_rig_a_00002_.png")
    assert server.received[-1].query == "filename=rig_a_00002_.png&subfolder=&type=output"


async def test_download_hands_over_a_large_file_in_several_chunks(replay) -> None:
    server, client = replay
    big = bytes(range(256)) * 8192  # 2 MiB
    server.answer("GET", "/view", 200, big, {"content-type": "image/png"})
    async with client.download(RESULT) as chunks:
        parts = [chunk async for chunk in chunks]
    assert len(parts) > 1
    assert b"".join(parts) == big


async def test_a_missing_output_is_not_found(replay) -> None:
    server, client = replay
    server.play(exchange("a_success", "GET", "/view", 404))
    with pytest.raises(ComfyNotFound):
        async with client.download(RESULT):
            pass


async def test_view_url_names_the_file_for_get_view(replay) -> None:
    _, client = replay
    image = OutputImage(filename="a b.png", subfolder="x/y", type="output", node_id="9")
    assert client.view_url(image) == (
        f"{client.base_url}/view?filename=a+b.png&subfolder=x%2Fy&type=output"
    )


async def test_delete_and_interrupt_send_what_comfyui_expects(replay) -> None:
    server, client = replay
    deleting = exchanges("f_queue_delete_clear", "POST", "/queue")[0]
    interrupting = exchanges("e_interrupt", "POST", "/interrupt")[1]
    server.play(deleting)
    server.play(interrupting)
    await client.delete_from_queue(deleting["request"]["json"]["delete"])
    await client.delete_from_queue([])
    await client.interrupt(interrupting["request"]["json"]["prompt_id"])
    await client.interrupt()
    assert [r.path for r in server.received] == ["/queue", "/interrupt", "/interrupt"]
    assert server.received[0].json() == deleting["request"]["json"]
    assert server.received[1].json() == interrupting["request"]["json"]
    assert server.received[2].body == b""


async def test_system_stats_reports_versions_and_devices(replay) -> None:
    server, client = replay
    server.play(exchange("a_success", "GET", "/system_stats"))
    stats = await client.system_stats()
    assert (stats.comfyui_version, stats.pytorch_version, stats.os) == (
        "0.8.0",
        "2.14.1+cu130",
        "linux",
    )
    assert [device.name for device in stats.devices] == ["cpu"]
    assert stats.devices[0].vram_total == 25276502016


async def test_object_info_of_one_node_type_and_of_all(replay) -> None:
    server, client = replay
    record = exchange("a_success", "GET", "/object_info/KSampler")
    server.play(record)
    server.answer("GET", "/object_info", 200, record["body"])
    assert await client.object_info("KSampler") == record["body"]
    assert set(await client.object_info()) == {"KSampler"}


@pytest.mark.parametrize(
    "body", [b"<html>", b"[]", b'{"prompt_id": 7}'], ids=["html", "list", "shape"]
)
async def test_a_200_of_the_wrong_shape_is_a_protocol_error(replay, body: bytes) -> None:
    server, client = replay
    server.answer("POST", "/prompt", 200, body, {"content-type": "application/json"})
    with pytest.raises(ComfyProtocolError):
        await client.queue_prompt({}, prompt_id="p")


async def test_a_refused_connection_is_comfy_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with ComfyClient(f"http://127.0.0.1:{port}", client_id="t", timeout=2) as client:
        with pytest.raises(ComfyUnavailable):
            await client.queue()


async def test_a_server_slower_than_the_timeout_is_comfy_unavailable() -> None:
    async def slow(request: Request) -> Response:
        await asyncio.sleep(0.6)
        return Response(b"{}")

    app = Starlette(routes=[Route("/queue", slow)])
    async with serve_asgi(app) as url, ComfyClient(url, client_id="t", timeout=0.1) as client:
        with pytest.raises(ComfyUnavailable, match="ReadTimeout"):
            await client.queue()


async def test_only_http_base_urls_are_accepted() -> None:
    with pytest.raises(ValueError, match="http"):
        ComfyClient("ftp://example/", client_id="t")
    async with ComfyClient("https://comfy.example/prefix/", client_id="c d") as client:
        assert client.base_url == "https://comfy.example/prefix"
        assert client.websocket_url == "wss://comfy.example/prefix/ws?clientId=c+d"
