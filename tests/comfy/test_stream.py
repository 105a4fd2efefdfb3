"""The event stream against a loopback websocket server that replays recorded ComfyUI frames."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from websockets.asyncio.server import ServerConnection, serve

from comfy.protocol import PreviewFrame, ServerMessage, encode_preview
from comfy.stream import ComfyEventStream

RECORDINGS = Path(__file__).parent / "recordings"


def scenario_frames(scenario: str) -> list[str]:
    lines = (RECORDINGS / "ws_frames.jsonl").read_text().splitlines()
    return [
        r["raw"]
        for r in map(json.loads, lines)
        if r["scenario"] == scenario and r["kind"] == "text"
    ]


class Recorder:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.messages: list[ServerMessage] = []
        self.previews: list[PreviewFrame] = []
        self.reconnected = asyncio.Event()

    async def on_connected(self) -> None:
        self.calls.append("connected")
        if self.calls.count("connected") == 2:
            self.reconnected.set()

    async def on_message(self, message: ServerMessage) -> None:
        self.messages.append(message)

    async def on_preview(self, frame: PreviewFrame) -> None:
        self.previews.append(frame)

    async def on_disconnected(self, reason: str) -> None:
        self.calls.append(f"disconnected: {reason}")


async def test_stream_says_hello_dispatches_in_order_and_reconnects_after_a_1006() -> None:
    frames = scenario_frames("a_success")
    image = (RECORDINGS / "0085_H2_ev4.jpg").read_bytes()
    preview = encode_preview(
        PreviewFrame(
            event=4,
            mime="image/jpeg",
            image=image,
            prompt_id="p",
            node_id="31",
            metadata={"node_id": "31", "prompt_id": "p", "image_type": "image/jpeg"},
        )
    )
    hellos: list[Any] = []
    connections = 0

    async def handler(websocket: ServerConnection) -> None:
        nonlocal connections
        connections += 1
        hellos.append(json.loads(await websocket.recv()))
        if connections == 1:
            for frame in frames:
                await websocket.send(frame)
            await websocket.send(preview)
            await asyncio.sleep(0.05)
            websocket.transport.abort()  # no close frame: the client sees 1006
            return
        await websocket.send(frames[0])
        await websocket.wait_closed()

    recorder = Recorder()
    async with serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        stream = ComfyEventStream(
            f"ws://127.0.0.1:{port}/ws", "client", recorder, base_delay=0.01, max_delay=0.05
        )
        running = asyncio.create_task(stream.run())
        await asyncio.wait_for(recorder.reconnected.wait(), 5)
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)

    assert hellos == [{"type": "feature_flags", "data": {"supports_preview_metadata": True}}] * 2
    assert recorder.calls[0] == "connected"
    assert recorder.calls[1].startswith("disconnected: connection lost (code 1006")
    assert recorder.calls[2] == "connected"
    assert [json.dumps(m) for m in recorder.messages[: len(frames)]] == frames
    assert recorder.previews[0].prompt_id == "p"
    assert recorder.previews[0].image == image


async def test_stream_keeps_trying_while_the_server_is_down() -> None:
    recorder = Recorder()
    stream = ComfyEventStream("ws://127.0.0.1:9/ws", "c", recorder, base_delay=0.01, max_delay=0.02)
    running = asyncio.create_task(stream.run())
    await asyncio.sleep(0.3)
    assert not running.done()
    assert recorder.calls == []
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
