"""Execution errors compared with d_execution_errors and n_d_runtime_error, and the injected
execution fault."""

from __future__ import annotations

from typing import Any

import httpx

from comfy.emulator import ModelFiles, RunningEmulator
from tests.comfy.emulator import recorded
from tests.comfy.emulator.conftest import StartEmulator
from tests.comfy.emulator.prompts import inverter, kontext, png, submit, upload
from tests.comfy.emulator.shapes import assert_same_shape
from tests.comfy.emulator.wsclient import Recorder

NOT_AN_IMAGE = b"this is not an image, whatever its name says" * 2
COMPARED = ("node_id", "node_type", "executed", "exception_message", "exception_type", "traceback")


def _comparable(error: dict[str, Any]) -> dict[str, Any]:
    kept = {key: error[key] for key in COMPARED}
    kept["current_inputs"] = error["current_inputs"]
    kept["current_outputs"] = sorted(error["current_outputs"])
    kept["keys"] = list(error)
    return kept


async def test_load_failures_are_reported_like_the_recording(start_emulator: StartEmulator) -> None:
    models = ModelFiles(
        vae=("ae.safetensors", "rig_corrupt.safetensors"),
        corrupt=frozenset({"rig_corrupt.safetensors"}),
    )
    client_id = "29f7da01-36b8-4243-ab0b-e873e41a5152"
    async with (
        start_emulator(models=models) as emulator,
        httpx.AsyncClient(base_url=emulator.url) as http,
    ):
        await upload(http, "rig_ref.png", png())
        async with Recorder(emulator.ws_url, "primer") as primer:
            await primer.finished(
                await submit(http, kontext("rig_ref.png", 7, prefix="rig_b"), "primer")
            )
        async with Recorder(emulator.ws_url, client_id) as ws:
            corrupt_vae = kontext("rig_ref.png", 11, prefix="rig_d")
            corrupt_vae["39"]["inputs"]["vae_name"] = "rig_corrupt.safetensors"
            first = await submit(http, corrupt_vae, client_id)
            await ws.finished(first)
            await upload(http, "rig_corrupt.png", NOT_AN_IMAGE)
            second = await submit(http, kontext("rig_corrupt.png", 12, prefix="rig_d"), client_id)
            await ws.finished(second)
        failed_job = (await http.get(f"/api/jobs/{second}")).json()
        failed_list = (await http.get("/api/jobs", params={"status": "failed"})).json()
        history = (await http.get(f"/history/{first}")).json()[first]
    assert ws.tokens() == recorded.client_tokens("d_execution_errors", "D")
    errors = [_comparable(frame.data) for frame in ws.of_type("execution_error")]
    want = [
        _comparable(r["data"])
        for r in recorded.frames("d_execution_errors", "D", "execution_error")
    ]
    assert errors == want
    assert_same_shape(
        failed_job, recorded.http("d_execution_errors", "GET", "/api/jobs/")[-1]["body"]
    )
    assert_same_shape(
        failed_list,
        recorded.http("d_execution_errors", "GET", "/api/jobs?status=failed")[0]["body"],
    )
    assert (history["outputs"], history["meta"], history["status"]["status_str"]) == (
        {},
        {},
        "error",
    )
    assert history["status"]["completed"] is False


async def test_non_image_upload_fails_in_load_image(
    emulator: RunningEmulator, http: httpx.AsyncClient, client_id: str
) -> None:
    async with Recorder(emulator.ws_url, client_id) as ws:
        await upload(http, "rig_notimage.png", NOT_AN_IMAGE)
        prompt_id = await submit(http, inverter("rig_notimage.png", "rig_nm_d"), client_id)
        await ws.finished(prompt_id)
    assert ws.tokens() == recorded.client_tokens("n_d_runtime_error", "D")
    error = ws.of_type("execution_error")[0].data
    assert (
        error["exception_message"]
        == "cannot identify image file '<comfyui>/input/rig_notimage.png'\n"
    )
    job = (await http.get(f"/api/jobs/{prompt_id}")).json()
    assert job["status"] == "failed"
    assert job["execution_error"]["node_id"] == "1"


async def test_injected_execution_error_fails_the_node_once(
    emulator: RunningEmulator, http: httpx.AsyncClient, client_id: str
) -> None:
    fault = {"execution_error": {"node_id": "31", "exception_type": "torch.OutOfMemoryError"}}
    assert (await http.post("/_emulator/faults", json=fault)).status_code == 200
    async with Recorder(emulator.ws_url, client_id) as ws:
        await upload(http, "rig_ref.png", png())
        failed = await submit(http, kontext("rig_ref.png"), client_id)
        await ws.finished(failed)
        passed = await submit(http, kontext("rig_ref.png"), client_id)
        await ws.finished(passed)
    error = ws.of_type("execution_error")[0].data
    assert (error["node_id"], error["node_type"]) == ("31", "KSampler")
    assert error["exception_type"] == "torch.OutOfMemoryError"
    assert list(error) == list(
        recorded.frames("d_execution_errors", "D", "execution_error")[0]["data"]
    )
    assert error["executed"] == ["39", "142", "146", "124", "38", "6", "135", "177", "35", "37"]
    assert len(ws.of_type("execution_success")) == 1
    assert (await http.get("/_emulator/faults")).json()["execution_error"] is None
