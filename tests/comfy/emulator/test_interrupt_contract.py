"""POST /interrupt compared with e_interrupt (e1a, e1b, e2, e3) and n_e_interrupt."""

from __future__ import annotations

import uuid

import httpx

from tests.comfy.emulator import recorded
from tests.comfy.emulator.conftest import StartEmulator
from tests.comfy.emulator.prompts import inverter, kontext, png, submit, upload
from tests.comfy.emulator.wsclient import Frame, Recorder


def _progress_of(prompt_id: str) -> object:
    return lambda frame: frame.type == "progress" and frame.data["prompt_id"] == prompt_id


async def test_interrupts_follow_the_recorded_order(start_emulator: StartEmulator) -> None:
    client_id = "0c53609f-8587-48f3-ad43-9263be54a644"
    async with (
        start_emulator(step_seconds=0.25) as emulator,
        httpx.AsyncClient(base_url=emulator.url) as http,
    ):
        await upload(http, "other.png", png((1, 2, 3)))
        async with Recorder(emulator.ws_url, "primer") as primer:
            await primer.finished(await submit(http, kontext("other.png", steps=1), "primer"))
        await upload(http, "rig_ref.png", png())
        async with Recorder(emulator.ws_url, client_id) as ws:
            first = await submit(
                http, kontext("rig_ref.png", 20, steps=200, prefix="rig_e"), client_id
            )
            await ws.wait_for(_progress_of(first), count=2)  # type: ignore[arg-type]
            elsewhere = await http.post("/interrupt", json={"prompt_id": str(uuid.uuid4())})
            await ws.wait_for(_progress_of(first), count=3)  # type: ignore[arg-type]
            targeted = await http.post("/interrupt", json={"prompt_id": first})
            await ws.finished(first)
            second = await submit(
                http, kontext("rig_ref.png", 21, steps=200, prefix="rig_e"), client_id
            )
            await ws.wait_for(_progress_of(second), count=2)  # type: ignore[arg-type]
            await http.post("/interrupt")
            await ws.finished(second)
            idle = await http.post("/interrupt")
            third = await submit(
                http, kontext("rig_ref.png", 22, steps=2, prefix="rig_e"), client_id
            )
            await ws.finished(third)
        job = (await http.get(f"/api/jobs/{first}")).json()
        history = (await http.get(f"/history/{second}")).json()[second]
    assert ws.tokens() == recorded.client_tokens("e_interrupt", "E")
    assert [(r.status_code, r.content) for r in (elsewhere, targeted, idle)] == [(200, b"")] * 3
    interrupted = [frame.data for frame in ws.of_type("execution_interrupted")]
    assert [list(data) for data in interrupted] == [
        ["prompt_id", "node_id", "node_type", "executed", "timestamp"]
    ] * 2
    assert sorted(interrupted[0]["executed"]) == sorted(["35", "124", "142", "177", "146"])
    assert interrupted[1]["executed"] == []
    assert job["status"] == "failed"
    assert "execution_error" not in job
    assert history["status"]["messages"][-1][0] == "execution_interrupted"


async def test_interrupt_waits_for_the_running_node_to_finish(
    start_emulator: StartEmulator,
) -> None:
    client_id = "5eae0ea2-3da8-45e2-9d0c-0b63aeee963c"
    blocker = {
        "class_type": "ImageScale",
        "inputs": {
            "image": ["1", 0],
            "upscale_method": "bilinear",
            "width": 512,
            "height": 512,
            "crop": "disabled",
        },
    }
    async with (
        start_emulator(node_seconds=0.3) as emulator,
        httpx.AsyncClient(base_url=emulator.url) as http,
    ):
        await upload(http, "rig_nm.png", png())
        async with Recorder(emulator.ws_url, client_id) as ws:
            prompt_id = await submit(http, inverter("rig_nm.png", "rig_nm_e", blocker), client_id)
            await ws.wait_for(lambda f: f.type == "executing" and f.data.get("node") == "4")
            await http.post("/interrupt", json={"prompt_id": prompt_id})
            await ws.finished(prompt_id)
    assert ws.tokens() == recorded.client_tokens("n_e_interrupt", "E")
    interrupted: Frame = ws.of_type("execution_interrupted")[0]
    assert (interrupted.data["node_id"], sorted(interrupted.data["executed"])) == ("2", ["1", "4"])
