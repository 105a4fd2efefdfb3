"""Reconnecting with the same clientId mid-run, a second client, and a prompt without
client_id, compared with i_reconnect_and_broadcast."""

from __future__ import annotations

import httpx

from tests.comfy.emulator import recorded
from tests.comfy.emulator.conftest import StartEmulator
from tests.comfy.emulator.prompts import kontext, png, submit, upload
from tests.comfy.emulator.wsclient import Recorder

CLIENT = "d1c543c0-f45d-4a9f-ab21-3fc5d3e75949"


async def test_reconnect_replays_the_node_and_broadcasts_reach_everyone(
    start_emulator: StartEmulator,
) -> None:
    async with (
        start_emulator(step_seconds=0.1) as emulator,
        httpx.AsyncClient(base_url=emulator.url) as http,
    ):
        await upload(http, "rig_ref.png", png())
        async with Recorder(emulator.ws_url, "primer") as primer:
            await primer.finished(await submit(http, kontext("rig_ref.png", steps=1), "primer"))
        async with (
            Recorder(emulator.ws_url, CLIENT) as first,
            Recorder(emulator.ws_url, "other") as other,
        ):
            running = await submit(
                http, kontext("rig_ref.png", 50, steps=8, prefix="rig_i"), CLIENT
            )
            await first.wait_for(lambda f: f.type == "progress", count=2)
            async with Recorder(emulator.ws_url, CLIENT) as second:
                await second.finished(running)
                await submit(http, kontext("rig_ref.png", 51, steps=2, prefix="rig_i"), None)
                idle = lambda f: f.token == "status(0)"  # noqa: E731
                await other.wait_for(idle, count=2)
                await second.wait_for(idle, count=2)
    assert first.tokens() == recorded.client_tokens("i_reconnect_and_broadcast", "I1")
    assert second.tokens() == recorded.client_tokens("i_reconnect_and_broadcast", "I1bis")
    assert other.tokens() == recorded.client_tokens("i_reconnect_and_broadcast", "OTHER")
    assert second.frames[1].data == {"node": "31"}


async def test_events_for_a_client_without_socket_are_dropped(
    start_emulator: StartEmulator,
) -> None:
    async with start_emulator() as emulator, httpx.AsyncClient(base_url=emulator.url) as http:
        await upload(http, "rig_ref.png", png())
        async with Recorder(emulator.ws_url, "watcher") as watcher:
            prompt_id = await submit(http, kontext("rig_ref.png"), "absent-client")
            await watcher.wait_for(lambda f: f.token == "status(0)")
        history = (await http.get(f"/history/{prompt_id}")).json()
        async with Recorder(emulator.ws_url, "absent-client") as late:
            pass
    assert {frame.type for frame in watcher.frames} == {"status"}
    assert history[prompt_id]["status"]["status_str"] == "success"
    assert late.tokens() == ["status(0,sid)"]
