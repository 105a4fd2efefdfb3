"""Crashes and restarts compared with g_server_restart, plus the other injected faults."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from comfy.emulator import RunningEmulator
from comfy.emulator.process import EmulatorProcess
from tests.comfy.emulator import recorded
from tests.comfy.emulator.conftest import StartEmulator
from tests.comfy.emulator.prompts import inverter, kontext, png, submit, upload
from tests.comfy.emulator.wsclient import Recorder

CLIENT = "b4803f5b-6837-4acc-9337-ca3f45dd4320"


async def _forgotten(http: httpx.AsyncClient, prompt_ids: list[str]) -> list[object]:
    return [
        [(await http.get(f"/history/{p}")).json() for p in prompt_ids],
        (await http.get("/history")).json(),
        (await http.get("/queue")).json(),
        (await http.get(f"/api/jobs/{prompt_ids[0]}")).status_code,
        (await http.get("/api/jobs")).json()["pagination"]["total"],
    ]


FORGOTTEN = [[{}, {}], {}, {"queue_running": [], "queue_pending": []}, 404, 0]


async def test_crash_forgets_everything_and_cuts_sockets_with_1006(
    start_emulator: StartEmulator,
) -> None:
    async with (
        start_emulator(step_seconds=0.05) as emulator,
        httpx.AsyncClient(base_url=emulator.url) as http,
    ):
        await upload(http, "rig_ref.png", png())
        async with Recorder(emulator.ws_url, CLIENT) as ws:
            prompt = kontext("rig_ref.png", steps=200, prefix="rig_g")
            running = await submit(http, prompt, CLIENT)
            pending = await submit(http, prompt, CLIENT)
            await ws.wait_for(lambda f: f.type == "progress", count=2)
            assert (await http.post("/_emulator/crash")).json() == {"crashed": True}
            assert await ws.closed() == 1006
        forgotten = await _forgotten(http, [running, pending])
        async with Recorder(emulator.ws_url, CLIENT) as again:
            await asyncio.sleep(0.1)
        number = (await http.post("/prompt", json={"prompt": {}})).json()
    assert forgotten == FORGOTTEN
    assert again.tokens() == recorded.client_tokens("g_server_restart", "G2")[:1]
    assert "number" not in number
    assert emulator.state.session.number == 1


async def test_crash_with_downtime_refuses_connections_then_serves_again(
    emulator: RunningEmulator,
) -> None:
    crash = asyncio.create_task(emulator.crash(downtime_seconds=0.5))
    await asyncio.sleep(0.2)
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient(base_url=emulator.url) as http:
            await http.get("/queue")
    await crash
    async with httpx.AsyncClient(base_url=emulator.url) as http:
        assert (await http.get("/prompt")).json() == {"exec_info": {"queue_remaining": 0}}


async def test_dropped_websockets_see_1006_and_can_reconnect(emulator: RunningEmulator) -> None:
    async with Recorder(emulator.ws_url, "a") as first, Recorder(emulator.ws_url, "b") as second:
        async with httpx.AsyncClient(base_url=emulator.url) as http:
            dropped = (
                await http.post("/_emulator/drop-websockets", json={"client_id": "a"})
            ).json()
        assert await first.closed() == 1006
        assert second.close_code is None
    async with Recorder(emulator.ws_url, "a") as back:
        pass
    assert dropped == {"dropped": 1}
    assert back.tokens() == ["status(0,sid)"]


async def test_injected_validation_rejection_applies_to_the_next_prompts(
    http: httpx.AsyncClient,
) -> None:
    await upload(http, "rig_nm.png", png())
    await http.post("/_emulator/faults", json={"reject_prompts": 2})
    answers = [
        await http.post("/prompt", json={"prompt": inverter("rig_nm.png")}) for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [400, 400, 200]
    body = answers[0].json()
    assert body["error"]["type"] == "prompt_outputs_failed_validation"
    assert body["node_errors"]["3"]["dependent_outputs"] == ["3"]
    assert answers[2].json()["number"] == 2


async def test_injected_delay_slows_comfy_routes_but_not_control_routes(
    http: httpx.AsyncClient,
) -> None:
    await http.post("/_emulator/faults", json={"http_delay_seconds": 0.3})
    started = time.monotonic()
    await http.get("/_emulator/faults")
    control = time.monotonic() - started
    await http.get("/queue")
    slowed = time.monotonic() - started - control
    await http.delete("/_emulator/faults")
    assert control < 0.2 <= 0.3 <= slowed


async def test_bad_fault_description_is_refused(http: httpx.AsyncClient) -> None:
    response = await http.post("/_emulator/faults", json={"execution_error": {"times": 2}})
    assert response.status_code == 400
    assert (await http.get("/_emulator/faults")).json()["execution_error"] is None


async def test_sigkilled_process_loses_everything_and_restarts_on_its_port(tmp_path: Path) -> None:
    async with (
        EmulatorProcess(tmp_path, "--step-seconds", "0.05") as process,
        httpx.AsyncClient(base_url=process.url, timeout=10) as http,
    ):
        await upload(http, "rig_ref.png", png())
        async with Recorder(process.ws_url, CLIENT) as ws:
            prompt = kontext("rig_ref.png", steps=200, prefix="rig_g")
            ids = [await submit(http, prompt, CLIENT), await submit(http, prompt, CLIENT)]
            await ws.wait_for(lambda f: f.type == "progress", count=2)
            await process.kill()
            assert await ws.closed() == 1006
        with pytest.raises(httpx.ConnectError):
            await http.get("/queue")
        port = process.port
        await process.start()
        forgotten = await _forgotten(http, ids)
        first = (await http.post("/prompt", json={"prompt": inverter("rig_ref.png")})).json()
    assert process.port == port
    assert forgotten == FORGOTTEN
    assert first["number"] == 0
    assert (tmp_path / "input" / "rig_ref.png").is_file()


async def test_sigterm_also_ends_websockets_without_a_close_frame(tmp_path: Path) -> None:
    async with EmulatorProcess(tmp_path) as process, Recorder(process.ws_url, CLIENT) as ws:
        await process.terminate()
        assert await ws.closed() == 1006
    assert any("stopped" in line for line in process.output)


async def test_sigkill_route_kills_only_a_subprocess_emulator(
    http: httpx.AsyncClient, tmp_path: Path
) -> None:
    refused = await http.post("/_emulator/sigkill")
    async with EmulatorProcess(tmp_path) as process, Recorder(process.ws_url, CLIENT) as ws:
        async with httpx.AsyncClient(base_url=process.url) as remote:
            with pytest.raises(httpx.RemoteProtocolError):
                await remote.post("/_emulator/sigkill")
        assert await ws.closed() == 1006
    assert refused.status_code == 403
