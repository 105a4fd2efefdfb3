"""HTTP routes, headers and bodies compared with the recordings (mostly a_success and c)."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import httpx
import pytest
from PIL import Image

from comfy.emulator import RunningEmulator
from tests.comfy.emulator import recorded
from tests.comfy.emulator.prompts import inverter, kontext, png, submit, upload
from tests.comfy.emulator.shapes import assert_same_shape
from tests.comfy.emulator.wsclient import Recorder

GRAPH_NODES = {node["class_type"] for node in recorded.graph(full=True).values()}
TEST_GRAPH_NODES = {"LoadImage", "ImageInvert", "SaveImage", "ImageScale", "ImageScaleBy"}


def _recorded_body(path: str) -> object:
    return next(r["body"] for r in recorded.records("a_success") if r.get("path") == path)


async def test_info_routes_answer_like_the_recording(http: httpx.AsyncClient) -> None:
    stats = (await http.get("/system_stats")).json()
    # The one addition to ComfyUI's answer: the emulator says what it is (backends' `kind`).
    assert stats.pop("emulator") == {"emulates": "ComfyUI 0.8.0", "images": "synthetic"}
    assert_same_shape(stats, _recorded_body("/system_stats"))
    assert stats["system"]["comfyui_version"] == "0.8.0"
    assert (await http.get("/features")).json() == _recorded_body("/features")
    assert (await http.get("/object_info/KSampler")).json() == _recorded_body(
        "/object_info/KSampler"
    )
    assert (await http.get("/object_info/NoSuchNode")).json() == {}


async def test_object_info_describes_every_node_of_the_graphs(http: httpx.AsyncClient) -> None:
    await upload(http, "rig_ref.png", png())
    info = (await http.get("/object_info")).json()
    keys = list(_recorded_body("/object_info/KSampler")["KSampler"])  # type: ignore[index]
    for node_type in GRAPH_NODES | TEST_GRAPH_NODES:
        assert [k for k in keys if k in info[node_type]] == list(info[node_type]), node_type
        assert set(keys) - set(info[node_type]) <= {"output_tooltips"}
    assert info["LoadImage"]["input"]["required"]["image"][0] == ["rig_ref.png"]
    assert info["SaveImage"]["output_node"] is True


@pytest.mark.parametrize(
    "path",
    ["/prompt", "/queue", "/history", "/system_stats", "/features", "/object_info/VAELoader"],
)
async def test_every_route_also_answers_under_api(http: httpx.AsyncClient, path: str) -> None:
    plain, prefixed = await http.get(path), await http.get("/api" + path)
    assert (plain.status_code, without_free_memory(plain.json())) == (
        prefixed.status_code,
        without_free_memory(prefixed.json()),
    )
    assert prefixed.headers["content-type"] == "application/json; charset=utf-8"
    assert prefixed.headers["server"] == "Python/3.11 aiohttp/3.14.5"


def without_free_memory(body: Any) -> Any:
    """The machine's free memory (system_stats' `*_free` figures) may change between two calls."""
    if isinstance(body, dict):
        return {k: without_free_memory(v) for k, v in body.items() if not k.endswith("_free")}
    if isinstance(body, list):
        return [without_free_memory(item) for item in body]
    return body


async def test_websocket_also_answers_under_api(emulator: RunningEmulator) -> None:
    api_url = emulator.ws_url.replace("/ws", "/api/ws")
    async with Recorder(api_url, "api-client") as ws:
        pass
    assert ws.tokens() == ["status(0,sid)"]


async def test_unknown_paths_answer_like_the_static_route(http: httpx.AsyncClient) -> None:
    missing = await http.get("/history/a/b")
    wrong_method = await http.post("/api/jobs/some-id/cancel", json={})
    want = recorded.http("n_c_validation_errors", "POST", "/api/jobs/")[0]
    assert (missing.status_code, missing.content) == (404, b"")
    assert missing.headers["content-type"] == "application/octet-stream"
    assert wrong_method.status_code == 405
    assert wrong_method.text == want["body"]
    assert wrong_method.headers["allow"] == want["headers"]["allow"]


async def test_upload_reuses_names_only_for_identical_bytes(
    emulator: RunningEmulator, http: httpx.AsyncClient
) -> None:
    first = await upload(http, "ref.png", png((1, 1, 1)), overwrite=False)
    same = await upload(http, "ref.png", png((1, 1, 1)), overwrite=False)
    other = await upload(http, "ref.png", png((9, 9, 9)), overwrite=False)
    replaced = await upload(http, "ref.png", png((5, 5, 5)), overwrite=True)
    no_file = await http.post("/upload/image", data={"overwrite": "true"})
    escape = await http.post(
        "/upload/image", files={"image": ("x.png", png(), "image/png")}, data={"subfolder": "../.."}
    )
    names = [r.json()["name"] for r in (first, same, other, replaced)]
    assert names == ["ref.png", "ref.png", "ref (1).png", "ref.png"]
    assert first.json() == {"name": "ref.png", "subfolder": "", "type": "input"}
    assert (no_file.status_code, no_file.content, escape.status_code) == (400, b"", 400)
    stored = emulator.state.files.folder("input") / "ref.png"
    assert stored.read_bytes() == png((5, 5, 5))


async def test_view_serves_outputs_with_the_recorded_headers(
    emulator: RunningEmulator, http: httpx.AsyncClient, client_id: str
) -> None:
    async with Recorder(emulator.ws_url, client_id) as ws:
        await upload(http, "rig_ref.png", png())
        await ws.finished(await submit(http, kontext("rig_ref.png"), client_id))
    query = {"filename": "rig_a_00001_.png", "subfolder": "", "type": "output"}
    image = await http.get("/view", params=query)
    cached = await http.get("/view", params=query, headers={"if-none-match": image.headers["etag"]})
    preview = await http.get("/view", params={**query, "preview": "webp;50"})
    missing = await http.get("/view", params={"filename": "does_not_exist.png", "type": "output"})
    escape = await http.get("/view", params={"filename": "../secret.png"})
    want = [r for r in recorded.http("a_success", "GET", "/view") if r["status"] == 200]
    assert set(want[0]["headers"]) <= set(image.headers)
    assert image.headers["content-type"] == "image/png"
    assert image.headers["accept-ranges"] == "bytes"
    assert image.headers["content-disposition"] == 'filename="rig_a_00001_.png"'
    assert Image.open(io.BytesIO(image.content)).size == (64, 64)
    assert cached.status_code == 304
    assert preview.headers["content-type"] == "image/webp"
    assert Image.open(io.BytesIO(preview.content)).format == "WEBP"
    assert (missing.status_code, missing.content, escape.status_code) == (404, b"", 400)


async def test_jobs_filters_sorting_and_paging(http: httpx.AsyncClient) -> None:
    await upload(http, "rig_nm.png", png())
    ids = [await submit(http, inverter("rig_nm.png", f"p{n}"), None) for n in range(3)]
    await asyncio.sleep(0.3)
    newest_first = (await http.get("/api/jobs")).json()
    oldest_first = (await http.get("/api/jobs", params={"sort_order": "asc", "limit": 2})).json()
    paged = (await http.get("/api/jobs", params={"offset": 2, "status": "completed,failed"})).json()
    bogus = await http.get("/api/jobs", params={"status": "bogus"})
    zero = await http.get("/api/jobs", params={"limit": 0})
    newest_history = (await http.get("/history", params={"max_items": 1})).json()
    assert [job["id"] for job in newest_first["jobs"]] == ids[::-1]
    assert [job["id"] for job in oldest_first["jobs"]] == ids[:2]
    assert oldest_first["pagination"] == {"offset": 0, "limit": 2, "total": 3, "has_more": True}
    assert [job["id"] for job in paged["jobs"]] == ids[:1]
    assert (bogus.status_code, bogus.json()) == (
        400,
        recorded.http("c_validation_errors", "GET", "/api/jobs?status=bogus")[0]["body"],
    )
    assert zero.json() == {"error": "limit must be a positive integer"}
    assert list(newest_history) == ids[-1:]
