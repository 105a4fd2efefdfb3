"""POST /prompt validation replayed from c_validation_errors and n_c_validation_errors: the
same requests must get the same status and the same body (apart from `number`)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from comfy.emulator import RunningEmulator
from tests.comfy.emulator import recorded
from tests.comfy.emulator.prompts import inverter, png, upload


async def _replay(http: httpx.AsyncClient, record: dict[str, Any]) -> httpx.Response:
    request = record["request"] or {}
    if record["path"] == "/upload/image":
        files = {
            field: (spec["filename"], png(), spec["content_type"])
            for field, spec in request.get("multipart_files", {}).items()
        }
        return await http.post(
            "/upload/image", files=files or None, data=request.get("multipart_fields")
        )
    if "content" in request:
        return await http.post(record["path"], content=request["content"].encode())
    return await http.request(record["method"], record["path"], json=request.get("json"))


def _without_number(body: Any) -> Any:
    return {k: v for k, v in body.items() if k != "number"} if isinstance(body, dict) else body


@pytest.mark.parametrize("scenario", ["c_validation_errors", "n_c_validation_errors"])
async def test_rejected_prompts_get_the_recorded_status_and_body(
    http: httpx.AsyncClient, scenario: str
) -> None:
    checked = 0
    for record in recorded.records(scenario):
        if record["kind"] != "http" or record["method"] != "POST":
            continue
        if record["path"] == "/prompt" and record["status"] == 200:
            continue
        response = await _replay(http, record)
        assert response.status_code == record["status"], record["path"]
        body = (
            response.json() if "json" in response.headers.get("content-type", "") else response.text
        )
        assert _without_number(body) == _without_number(record["body"])
        checked += 1
    assert checked >= 14


async def test_plain_text_500_has_the_recorded_headers(http: httpx.AsyncClient) -> None:
    recorded_posts = recorded.http("c_validation_errors", "POST", "/prompt")
    want = next(r for r in recorded_posts if r["status"] == 500)
    response = await http.post("/prompt", content=b"{not json")
    assert response.text == want["body"]
    for header in ("content-type", "content-length", "connection"):
        assert response.headers[header] == want["headers"][header]


async def test_number_counts_rejected_prompts_but_not_unparsable_bodies(
    http: httpx.AsyncClient,
) -> None:
    await upload(http, "rig_nm.png", png())
    await http.post("/prompt", json={"prompt": {}})
    await http.post("/prompt", json={"client_id": "x"})
    await http.post("/prompt", content=b"{not json")
    await http.post("/prompt", json={"prompt": [1, 2]})
    accepted = await http.post("/prompt", json={"prompt": inverter("rig_nm.png")})
    assert accepted.json()["number"] == 3


async def test_reusing_a_prompt_id_overwrites_its_history_entry(
    emulator: RunningEmulator, http: httpx.AsyncClient
) -> None:
    await upload(http, "rig_nm.png", png())
    for prefix in ("first", "second"):
        body = {"prompt": inverter("rig_nm.png", prefix), "prompt_id": "same-id"}
        assert (await http.post("/prompt", json=body)).status_code == 200
        await asyncio.sleep(0.2)
    entry = (await http.get("/history/same-id")).json()["same-id"]
    assert entry["outputs"]["3"]["images"][0]["filename"] == "second_00001_.png"
    assert list((await http.get("/history")).json()) == ["same-id"]


async def test_validation_converts_values_in_the_stored_prompt(http: httpx.AsyncClient) -> None:
    await upload(http, "rig_nm.png", png())
    prompt = inverter(
        "rig_nm.png",
        blocker={
            "class_type": "ImageScaleBy",
            "inputs": {"image": ["1", 0], "upscale_method": "bilinear", "scale_by": "2"},
        },
    )
    await http.post("/prompt", json={"prompt": prompt, "prompt_id": "converted"})
    await asyncio.sleep(0.3)
    stored = (await http.get("/history/converted")).json()["converted"]["prompt"][2]
    assert stored["4"]["inputs"]["scale_by"] == 2.0


async def test_one_failing_output_does_not_reject_the_good_one(http: httpx.AsyncClient) -> None:
    await upload(http, "rig_nm.png", png())
    prompt = inverter("rig_nm.png")
    prompt["5"] = {"class_type": "SaveImage", "inputs": {"images": ["2", 0]}}
    response = await http.post("/prompt", json={"prompt": prompt})
    body = response.json()
    assert response.status_code == 200
    assert body["node_errors"]["5"]["errors"][0]["type"] == "required_input_missing"
    assert body["node_errors"]["5"]["dependent_outputs"] == ["5"]
