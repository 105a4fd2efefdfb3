"""POST /queue delete/clear and POST /history, compared with f_queue_delete_clear."""

from __future__ import annotations

import httpx

from tests.comfy.emulator import recorded
from tests.comfy.emulator.conftest import StartEmulator
from tests.comfy.emulator.prompts import kontext, png, submit, upload
from tests.comfy.emulator.shapes import assert_same_shape
from tests.comfy.emulator.wsclient import Recorder


def _split(tokens: list[str]) -> tuple[list[str], list[str]]:
    statuses = [token for token in tokens if token.startswith("status")]
    return statuses, [token for token in tokens if not token.startswith("status")]


async def test_pending_prompts_can_be_deleted_and_cleared_but_not_the_running_one(
    start_emulator: StartEmulator,
) -> None:
    client_id = "4e630856-fc80-4caf-81ce-90a71e204461"
    async with (
        start_emulator(step_seconds=0.1) as emulator,
        httpx.AsyncClient(base_url=emulator.url) as http,
    ):
        await upload(http, "rig_ref.png", png())
        async with Recorder(emulator.ws_url, "primer") as primer:
            await primer.finished(await submit(http, kontext("rig_ref.png", steps=1), "primer"))
        async with Recorder(emulator.ws_url, client_id) as ws:
            prompt = kontext("rig_ref.png", seed=30, steps=12, prefix="rig_f")
            running = await submit(http, prompt, client_id)
            await ws.wait_for(lambda f: f.type == "executing" and f.data.get("node") == "31")
            pending = [await submit(http, prompt, client_id) for _ in range(3)]
            queued = (await http.get("/queue")).json()
            pending_jobs = (await http.get("/api/jobs", params={"status": "pending"})).json()
            deleted = await http.post("/queue", json={"delete": [pending[0]]})
            after_delete = (await http.get("/queue")).json()
            await http.post("/queue", json={"delete": [running]})
            after_running_delete = (await http.get("/queue")).json()
            cleared = await http.post("/queue", json={"clear": True})
            after_clear = (await http.get("/queue")).json()
            await ws.finished(running, seconds=20)
        lost = [(await http.get(f"/history/{p}")).json() for p in pending]
        lost_jobs = [(await http.get(f"/api/jobs/{p}")).status_code for p in pending]
        kept = (await http.get(f"/history/{running}")).json()
        forgot = await http.post("/history", json={"delete": [running]})
        forgotten = (await http.get(f"/history/{running}")).json()

    statuses, events = _split(ws.tokens())
    want_statuses, want_events = _split(recorded.client_tokens("f_queue_delete_clear", "F"))
    assert (statuses, events) == (want_statuses, want_events)
    assert [item[1] for item in queued["queue_running"]] == [running]
    assert [item[1] for item in queued["queue_pending"]] == pending
    assert_same_shape(queued, recorded.http("f_queue_delete_clear", "GET", "/queue")[0]["body"])
    assert [job["id"] for job in pending_jobs["jobs"]] == pending[::-1]
    assert [item[1] for item in after_delete["queue_pending"]] == pending[1:]
    assert after_running_delete == after_delete
    assert after_clear["queue_pending"] == []
    assert len(after_clear["queue_running"]) == 1
    assert [r.status_code for r in (deleted, cleared, forgot)] == [200, 200, 200]
    assert lost == [{}, {}, {}]
    assert lost_jobs == [404, 404, 404]
    assert running in kept
    assert forgotten == {}
