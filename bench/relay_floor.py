"""The floor under the relay: the least any relaying service on this stack adds.

A minimal relay, run in a child process on the same server stack as `kontext serve` (uvicorn
with the same websocket implementation and settings, uvloop, httptools) but with no GraphQL
and no database: it listens to ComfyUI as a client of its own (its own clientId) and, for every
sampler step, from the first frame that carries it (the step's `progress_state`, else its
`progress`), writes one relay-sized `next` frame to each of its websocket subscribers, one
after the other from one loop, through uvicorn's ASGI `send`. Subscribers speak
graphql-transport-ws as they do to the service (`connection_init`, `subscribe`; a first frame
answers the subscription as the service's SNAPSHOT does); an `execution_success` ends every
subscription with `complete`.

    python -m bench.relay_floor --port 8123 --comfyui ws://127.0.0.1:8188/ws --client-id bench-floor
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

from bench.processes import ChildServer, child_server, free_port
from bench.relay_analysis import SAMPLER_NODE, step_in
from tasks.background import BackgroundTasks

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

FLOOR_CLIENT_ID = "bench-floor"
FRAME_BYTES = 420  # a `taskProgress` PROGRESS frame of the service is about this size
ENDS = ("execution_success", "execution_error", "execution_interrupted")


def progress_payload(data: dict[str, Any], sequence: int, frame_bytes: int) -> str:
    """A `next` payload shaped like the service's PROGRESS update, padded to `frame_bytes` with
    the operation id's prefix counted (a 32-character id, as the bench's subscribers send)."""
    step, total = int(data.get("value", 0)), int(data.get("max", 1)) or 1
    update = {
        "sequence": sequence,
        "kind": "PROGRESS",
        "status": "RUNNING",
        "step": step,
        "totalSteps": total,
        "progress": round(100 * step / total, 2),
        "currentNode": str(data.get("node")),
        "queuePosition": None,
        "previewUrl": "",
        "result": None,
        "error": None,
    }
    bare = json.dumps({"data": {"taskProgress": update}}, separators=(",", ":"))
    prefix_bytes = len('{"id":"","type":"next","payload":}') + 32
    update["previewUrl"] = "p" * max(0, frame_bytes - prefix_bytes - len(bare))
    return json.dumps({"data": {"taskProgress": update}}, separators=(",", ":"))


def framed(operation_id: str, message_type: str, payload: str | None = None) -> str:
    head = f'{{"id":{json.dumps(operation_id)},"type":"{message_type}"'
    return f"{head}}}" if payload is None else f'{head},"payload":{payload}}}'


@dataclass
class FloorRelay:
    comfyui_ws: str
    client_id: str
    frame_bytes: int
    sampler_node: str
    subscribers: dict[int, tuple[Send, str]] = field(default_factory=dict)
    listening: bool = False
    sequence: int = 0
    last_step: tuple[str, int] | None = None

    async def listen(self) -> None:
        """ComfyUI's frames for this client id, relayed to every subscriber."""
        url = f"{self.comfyui_ws}?clientId={self.client_id}"
        async with connect(url, max_size=2**26, ping_interval=None) as comfyui:
            hello = {"type": "feature_flags", "data": {"supports_preview_metadata": True}}
            await comfyui.send(json.dumps(hello))
            self.listening = True
            async for raw in comfyui:
                if isinstance(raw, str):
                    await self.relay(json.loads(raw))

    async def relay(self, message: dict[str, Any]) -> None:
        kind, data = message.get("type"), message.get("data") or {}
        step = step_in(str(kind), data, self.sampler_node)
        if step is not None and (str(data.get("prompt_id")), step[0]) != self.last_step:
            self.last_step = (str(data.get("prompt_id")), step[0])
            self.sequence += 1
            heard = {"value": step[0], "max": step[1], "node": self.sampler_node}
            payload = progress_payload(heard, self.sequence, self.frame_bytes)
            for send, operation_id in list(self.subscribers.values()):
                await send(
                    {"type": "websocket.send", "text": framed(operation_id, "next", payload)}
                )
        elif kind in ENDS:
            ended, self.subscribers = self.subscribers, {}
            for send, operation_id in ended.values():
                await send({"type": "websocket.send", "text": framed(operation_id, "complete")})

    async def websocket(self, receive: Receive, send: Send) -> None:
        await receive()  # websocket.connect
        await send({"type": "websocket.accept", "subprotocol": "graphql-transport-ws"})
        key = id(send)
        try:
            while (message := await receive())["type"] == "websocket.receive":
                request = json.loads(message.get("text") or "{}")
                if request.get("type") == "connection_init":
                    reply = json.dumps({"type": "connection_ack"})
                    await send({"type": "websocket.send", "text": reply})
                elif request.get("type") == "subscribe":
                    operation_id = str(request["id"])
                    snapshot = '{"data":{"taskProgress":{"kind":"SNAPSHOT"}}}'
                    text = framed(operation_id, "next", snapshot)
                    await send({"type": "websocket.send", "text": text})
                    self.subscribers[key] = (send, operation_id)
        finally:
            self.subscribers.pop(key, None)

    async def http(self, scope: Message, send: Send) -> None:
        ready = scope["path"] == "/healthz" and self.listening
        status = 200 if ready else 503
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"ok" if ready else b""})

    async def lifespan(self, receive: Receive, send: Send) -> None:
        await receive()  # lifespan.startup
        background = BackgroundTasks()
        await send({"type": "lifespan.startup.complete"})

        async def shutdown() -> None:
            await receive()  # lifespan.shutdown

        try:
            await background.first_of({"comfyui": self.listen(), "shutdown": shutdown()})
        finally:
            await background.aclose()
        await send({"type": "lifespan.shutdown.complete"})

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self.websocket(receive, send)
        elif scope["type"] == "http":
            await self.http(scope, send)
        else:
            await self.lifespan(receive, send)


@contextlib.asynccontextmanager
async def floor_server(
    workdir: Path, comfyui_ws: str, client_id: str = FLOOR_CLIENT_ID, frame_bytes: int = FRAME_BYTES
) -> AsyncIterator[ChildServer]:
    """The minimal relay in a child process, ready once its ComfyUI socket is open."""
    port = free_port()
    command = [sys.executable, "-m", "bench.relay_floor", "--port", str(port)]
    command += ["--comfyui", comfyui_ws, "--client-id", client_id]
    command += ["--frame-bytes", str(frame_bytes)]
    async with child_server(
        command, port=port, env={}, log_path=workdir / "relay-floor.log"
    ) as server:
        yield server


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--comfyui", required=True, help="the emulator's ws://…/ws URL")
    parser.add_argument("--client-id", default=FLOOR_CLIENT_ID)
    parser.add_argument("--frame-bytes", type=int, default=FRAME_BYTES)
    parser.add_argument("--sampler-node", default=SAMPLER_NODE, help="the node whose steps count")
    args = parser.parse_args(argv)
    relay = FloorRelay(args.comfyui, args.client_id, args.frame_bytes, args.sampler_node)
    # As graphql_api/cli.py `serve` runs the service (loop and http: uvloop and httptools).
    uvicorn.run(
        relay,
        host="127.0.0.1",
        port=args.port,
        log_config=None,
        access_log=False,
        ws_max_size=16 * 1024 * 1024,
        ws_ping_interval=15.0,
        ws_per_message_deflate=False,
    )


if __name__ == "__main__":
    main()
