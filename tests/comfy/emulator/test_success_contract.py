"""A successful run, cold and cached, compared with the recordings a_success, b_cached_twice,
n_a_success and n_b_cached."""

from __future__ import annotations

import asyncio
import io
import uuid

import httpx
from PIL import Image

from comfy.emulator import RunningEmulator
from tests.comfy.emulator import recorded
from tests.comfy.emulator.conftest import StartEmulator
from tests.comfy.emulator.prompts import inverter, kontext, png, submit, upload
from tests.comfy.emulator.shapes import assert_same_shape, progress_nodes
from tests.comfy.emulator.wsclient import Recorder


async def test_cold_run_sends_every_message_in_the_recorded_order(
    emulator: RunningEmulator, http: httpx.AsyncClient, client_id: str
) -> None:
    async with Recorder(emulator.ws_url, client_id) as ws:
        await upload(http, "rig_ref.png", png())
        prompt_id = await submit(http, kontext("rig_ref.png"), client_id)
        await ws.finished(prompt_id)
    assert ws.tokens() == recorded.client_tokens("a_success", "A")
    recorded_states = [r["nodes"] for r in recorded.frames("a_success", "A", "progress_state")]
    assert [progress_nodes(f.data) for f in ws.of_type("progress_state")] == recorded_states


async def test_messages_have_the_recorded_fields_in_the_recorded_order(
    emulator: RunningEmulator, http: httpx.AsyncClient, client_id: str
) -> None:
    async with Recorder(emulator.ws_url, client_id) as ws:
        await upload(http, "rig_ref.png", png())
        prompt_id = await submit(http, kontext("rig_ref.png"), client_id)
        await ws.finished(prompt_id)
    seen = {_kind(f.type, f.data): f.data for f in ws.frames if f.type != "progress_state"}
    for record in recorded.records("a_success"):
        if record["kind"] == "ws_text" and "data" in record:
            assert_same_shape(seen[_kind(record["type"], record["data"])], record["data"])


async def test_finished_run_is_in_history_and_jobs_with_the_recorded_shapes(
    emulator: RunningEmulator, http: httpx.AsyncClient, client_id: str
) -> None:
    async with Recorder(emulator.ws_url, client_id) as ws:
        await upload(http, "rig_ref.png", png())
        prompt_id = await submit(http, kontext("rig_ref.png"), client_id)
        await ws.finished(prompt_id)
    history = (await http.get(f"/history/{prompt_id}")).json()
    jobs = (await http.get("/api/jobs")).json()
    job = (await http.get(f"/api/jobs/{prompt_id}")).json()
    want_history = recorded.http("a_success", "GET", "/history/")[-1]["body"]
    assert_same_shape(history[prompt_id], next(iter(want_history.values())))
    listed = [r for r in recorded.http("a_success", "GET", "/api/jobs") if r["path"] == "/api/jobs"]
    assert_same_shape(jobs, listed[-1]["body"])
    assert_same_shape(job, recorded.http("a_success", "GET", "/api/jobs/")[-1]["body"])
    assert history[prompt_id]["prompt"][4] == ["136"]
    assert history[prompt_id]["prompt"][2]["31"]["inputs"]["cfg"] == 1.0


async def test_running_prompt_shows_in_queue_and_jobs_but_not_in_history(
    start_emulator: StartEmulator, client_id: str
) -> None:
    async with (
        start_emulator(step_seconds=0.2) as emulator,
        Recorder(emulator.ws_url, client_id) as ws,
        httpx.AsyncClient(base_url=emulator.url) as http,
    ):
        await upload(http, "rig_ref.png", png())
        prompt_id = await submit(http, kontext("rig_ref.png"), client_id)
        await ws.wait_for(lambda f: f.type == "progress")
        queue = (await http.get("/queue")).json()
        history = (await http.get(f"/history/{prompt_id}")).json()
        running = (await http.get("/api/jobs", params={"status": "in_progress"})).json()
        job = (await http.get(f"/api/jobs/{prompt_id}")).json()
        await http.post("/interrupt")
    assert queue["queue_running"][0][:2] == [0, prompt_id]
    assert list(queue["queue_running"][0][3]) == ["client_id", "create_time"]
    assert history == {}
    assert_same_shape(
        running, recorded.http("a_success", "GET", "/api/jobs?status=in_progress")[0]["body"]
    )
    assert job["status"] == "in_progress"
    assert list(job) == ["id", "status", "priority", "create_time", "outputs_count"]


async def test_output_is_a_png_derived_from_the_input_and_the_seed(
    emulator: RunningEmulator, http: httpx.AsyncClient, client_id: str
) -> None:
    async with Recorder(emulator.ws_url, client_id) as ws:
        await upload(http, "rig_ref.png", png(size=(96, 64)))
        first = await submit(http, kontext("rig_ref.png", seed=1, prefix="one"), client_id)
        second = await submit(http, kontext("rig_ref.png", seed=2, prefix="two"), client_id)
        await ws.finished(second)
    one, two = (await _output(http, first)), (await _output(http, second))
    assert one.size == two.size == (96, 64)
    assert one.tobytes() != two.tobytes()
    assert await _output(http, first) == one


async def test_identical_prompt_is_served_from_cache_with_the_same_file(
    emulator: RunningEmulator, http: httpx.AsyncClient
) -> None:
    await upload(http, "rig_ref.png", png())
    async with Recorder(emulator.ws_url, "primer") as primer:
        await primer.finished(await submit(http, kontext("rig_ref.png"), "primer"))
    client_id = "ecdd8f32-0afd-4df8-949b-20d608047527"
    async with Recorder(emulator.ws_url, client_id) as ws:
        prompt = kontext("rig_ref.png", seed=7, prefix="rig_b")
        await ws.finished(await submit(http, prompt, client_id))
        await ws.finished(await submit(http, prompt, client_id))
        fixed = await submit(http, prompt, client_id, prompt_id="rig-fixed-99c91baf")
        await ws.finished(fixed)
    assert fixed == "rig-fixed-99c91baf"
    assert ws.tokens() == recorded.client_tokens("b_cached_twice", "B")
    cached = [frame.data["nodes"] for frame in ws.of_type("execution_cached")]
    assert cached == [
        r["data"]["nodes"] for r in recorded.frames("b_cached_twice", "B", "execution_cached")
    ]
    names = {f.data["output"]["images"][0]["filename"] for f in ws.of_type("executed")}
    assert names == {"rig_b_00001_.png"}
    saved = sorted(p.name for p in emulator.state.files.folder("output").glob("rig_b_*"))
    assert saved == ["rig_b_00001_.png"]


async def test_model_free_graph_runs_and_caches_like_the_recording(
    emulator: RunningEmulator, http: httpx.AsyncClient
) -> None:
    await upload(http, "rig_nm.png", png())
    async with Recorder(emulator.ws_url, "n-a") as first:
        await first.finished(await submit(http, inverter("rig_nm.png", "rig_nm_a"), "n-a"))
    async with Recorder(emulator.ws_url, "n-b") as second:
        prompt = inverter("rig_nm.png", "rig_nm_b")
        await second.finished(await submit(http, prompt, "n-b"))
        await second.finished(await submit(http, prompt, "n-b"))
    assert first.tokens() == recorded.client_tokens("n_a_success", "A")
    assert second.tokens() == recorded.client_tokens("n_b_cached", "B")
    cached_state = second.of_type("progress_state")[-1].data
    assert (
        progress_nodes(cached_state)
        == recorded.frames("n_b_cached", "B", "progress_state")[-1]["nodes"]
    )


async def test_number_grows_per_post_and_prompt_id_is_honoured(http: httpx.AsyncClient) -> None:
    await upload(http, "rig_nm.png", png())
    answers = []
    for prompt_id in ("not-a-uuid", 12345, str(uuid.uuid4())):
        body = {"prompt": inverter("rig_nm.png", "n"), "prompt_id": prompt_id}
        answers.append((await http.post("/prompt", json=body)).json())
    assert [a["number"] for a in answers] == [0, 1, 2]
    assert answers[1]["prompt_id"] == "12345"
    await asyncio.sleep(0.3)
    assert "12345" in (await http.get("/history/12345")).json()


def _kind(kind: str, data: dict[str, object]) -> str:
    if kind == "executing":
        return "executing-done" if data.get("node") is None else "executing"
    return "status-sid" if kind == "status" and "sid" in data else kind


async def _output(http: httpx.AsyncClient, prompt_id: str) -> Image.Image:
    history = (await http.get(f"/history/{prompt_id}")).json()[prompt_id]
    saved = history["outputs"]["136"]["images"][0]
    response = await http.get("/view", params={**saved})
    return Image.open(io.BytesIO(response.content)).convert("RGB")


async def test_exact_template_runs_like_the_recording(
    start_emulator: StartEmulator, client_id: str
) -> None:
    async with (
        start_emulator(step_seconds=0.001) as emulator,
        httpx.AsyncClient(base_url=emulator.url) as http,
        Recorder(emulator.ws_url, client_id) as ws,
    ):
        await upload(http, "ref.png", png(size=(1184, 880)))
        prompt = kontext("ref.png", steps=20, prefix="rig_x", full=True)
        await ws.finished(await submit(http, prompt, client_id))
        output = await _output(http, ws.of_type("executed")[0].data["prompt_id"])
    assert ws.tokens() == recorded.client_tokens("x_full_template_20steps", "X")
    assert output.size == (1184, 880)
