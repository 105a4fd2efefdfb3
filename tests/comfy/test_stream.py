"""The event stream against a loopback websocket server that replays recorded ComfyUI frames."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from comfy.protocol import (
    PreviewFrame,
    ServerMessage,
    encode_message,
    encode_preview,
    feature_flags_hello,
)
from comfy.stream import ComfyEventStream
from tests.comfy.recorded import client_frames, saved, ws_records

Event = tuple[Any, ...]
HELLO = encode_message(feature_flags_hello())


def wire_frame(record: dict[str, Any]) -> str | bytes:
    """A recorded frame as ComfyUI put it on the wire."""
    if record["kind"] == "ws_text":
        return str(record["raw"])
    metadata = record.get("metadata")
    return encode_preview(
        PreviewFrame(
            event=record["u32_be"][0],
            mime="image/jpeg",
            image=saved(record["saved"]),
            metadata=metadata,
        )
    )


def expected_events(records: list[dict[str, Any]]) -> list[Event]:
    return [
        ("message", r["raw"])
        if r["kind"] == "ws_text"
        else ("preview", (r.get("metadata") or {}).get("prompt_id"), saved(r["saved"]))
        for r in records
    ]


class Recorder:
    """A StreamHandler that writes down everything it is told."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.events: list[Event] = []
        self.fail_on = fail_on

    async def on_connected(self) -> None:
        self.events.append(("connected",))

    async def on_message(self, message: ServerMessage) -> None:
        self.events.append(("message", encode_message(message)))
        if message["type"] == self.fail_on:
            raise RuntimeError(f"handler broke on {self.fail_on}")

    async def on_preview(self, frame: PreviewFrame) -> None:
        self.events.append(("preview", frame.prompt_id, frame.image))

    async def on_disconnected(self, reason: str) -> None:
        self.events.append(("disconnected", reason))

    def count(self, kind: str) -> int:
        return sum(1 for event in self.events if event[0] == kind)

    async def until(self, condition: Callable[[], bool]) -> None:
        async with asyncio.timeout(5):
            while not condition():
                await asyncio.sleep(0.005)


def fast_stream(
    url: str, handler: Recorder, client_id: str = "c", **options: Any
) -> ComfyEventStream:
    """A stream whose reconnects take milliseconds."""
    return ComfyEventStream(
        url, client_id, handler, base_delay=0.01, max_delay=0.05, close_timeout=0.1, **options
    )


Session = Callable[[ServerConnection, int], Awaitable[None]]


@contextlib.asynccontextmanager
async def ws_server(session: Session, port: int = 0) -> AsyncIterator[str]:
    """A websocket server on loopback; `session(websocket, n)` runs the n-th connection."""
    connections = 0

    async def handler(websocket: ServerConnection) -> None:
        nonlocal connections
        connections += 1
        await session(websocket, connections)

    async with serve(handler, "127.0.0.1", port, close_timeout=0.1) as server:
        bound = server.sockets[0].getsockname()[1]
        yield f"ws://127.0.0.1:{bound}/ws"


@contextlib.asynccontextmanager
async def following(stream: ComfyEventStream) -> AsyncIterator[asyncio.Task[None]]:
    running = asyncio.create_task(stream.run())
    try:
        yield running
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)


async def test_stream_says_hello_dispatches_in_order_and_reconnects_after_a_1006() -> None:
    first = client_frames("a_success", "A")
    second = client_frames("h_latent_previews", "H2")
    assert any(r["kind"] == "ws_binary" for r in second)
    recorder = Recorder()
    hellos: list[str | bytes] = []

    async def session(websocket: ServerConnection, number: int) -> None:
        hellos.append(await websocket.recv())
        frames = first if number == 1 else second
        for record in frames:
            await websocket.send(wire_frame(record))
        if number == 1:
            await recorder.until(lambda: recorder.count("message") == len(first))
            websocket.transport.abort()  # no close frame: the client sees 1006
        else:
            await websocket.wait_closed()

    async with ws_server(session) as url:
        stream = fast_stream(url, recorder, "client-1")
        assert stream.url == f"{url}?clientId=client-1"
        async with following(stream):
            await recorder.until(lambda: len(recorder.events) == len(first) + len(second) + 3)
            assert stream.connected
            assert stream.last_message_at is not None
        assert not stream.connected

    [sent] = ws_records("ws_send", "h_latent_previews")
    assert hellos == [sent["raw"]] * 2 == [HELLO] * 2
    events = recorder.events
    disconnected = events[len(first) + 1]
    assert disconnected[0] == "disconnected"
    assert "1006" in disconnected[1]
    assert events == [
        ("connected",),
        *expected_events(first),
        disconnected,
        ("connected",),
        *expected_events(second),
    ]
    assert recorder.count("preview") == 4
    assert recorder.count("connected") == 2
    assert recorder.count("disconnected") == 1


async def test_a_failing_handler_unknown_types_and_broken_frames_do_not_stop_the_stream(
    caplog: pytest.LogCaptureFixture,
) -> None:
    frames = [r["raw"] for r in ws_records("ws_text", "n_a_success", "A")]
    noise: list[str | bytes] = [
        '{"type": "crystools.monitor", "data": {"cpu_utilization": 3}}',
        "this is not json",
        '{"type": "progress", "data": {"value": 1}}',
        b"\x00\x00\x00\x03\x00\x00\x00\x02hi",  # event 3, progress text: not a preview
        b"\x00\x00\x00\x04\x00\x00\x00\xff{",
    ]
    recorder = Recorder(fail_on="execution_start")

    async def session(websocket: ServerConnection, number: int) -> None:
        await websocket.recv()
        await websocket.send(frames[0])
        for frame in noise:
            await websocket.send(frame)
        for frame in frames[1:]:
            await websocket.send(frame)
        await websocket.wait_closed()

    with caplog.at_level(logging.INFO, logger="comfy"):
        async with (
            ws_server(session) as url,
            following(fast_stream(url, recorder)),
        ):
            await recorder.until(lambda: recorder.count("message") == len(frames))

    assert recorder.events == [("connected",), *[("message", raw) for raw in frames]]
    failure = next(r for r in caplog.records if "on_message failed" in r.getMessage())
    assert "execution_start" in failure.getMessage()
    assert failure.exc_info is not None
    assert "malformed frame" in caplog.text
    assert "malformed binary frame" in caplog.text


async def test_a_silent_server_is_dropped_by_the_ping_watchdog_and_reconnected() -> None:
    status = ws_records("ws_text", "a_success", "A")[0]["raw"]
    recorder = Recorder()

    async def session(websocket: ServerConnection, number: int) -> None:
        await websocket.recv()
        await websocket.send(status)
        if number == 1:
            websocket.transport.pause_reading()  # pings go unanswered from now on
        await websocket.wait_closed()

    async with ws_server(session) as url:
        stream = fast_stream(url, recorder, ping_interval=0.05, ping_timeout=0.05)
        async with following(stream):
            await recorder.until(lambda: recorder.count("connected") == 2)

    assert [event[0] for event in recorder.events] == [
        "connected",
        "message",
        "disconnected",
        "connected",
        "message",
    ]
    assert "keepalive ping timeout" in recorder.events[2][1]


async def test_a_legacy_stream_sends_no_hello_and_gets_previews_without_a_prompt() -> None:
    frames = client_frames("h_latent_previews", "H1")
    recorder = Recorder()
    heard: list[str | bytes] = []

    async def session(websocket: ServerConnection, number: int) -> None:
        for record in frames:
            await websocket.send(wire_frame(record))
        with contextlib.suppress(TimeoutError):
            heard.append(await asyncio.wait_for(websocket.recv(), 0.1))
        await websocket.wait_closed()

    async with (
        ws_server(session) as url,
        following(fast_stream(url, recorder, preview_metadata=False)),
    ):
        await recorder.until(lambda: len(recorder.events) == len(frames) + 1)
        await asyncio.sleep(0.15)

    assert heard == []
    assert recorder.events == [("connected",), *expected_events(frames)]
    assert recorder.count("preview") == 4
    assert all(event[1] is None for event in recorder.events if event[0] == "preview")


async def test_the_stream_keeps_trying_until_the_server_comes_up() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    status = ws_records("ws_text", "a_success", "A")[0]["raw"]
    recorder = Recorder()

    async def session(websocket: ServerConnection, number: int) -> None:
        await websocket.recv()
        await websocket.send(status)
        await websocket.wait_closed()

    stream = fast_stream(f"ws://127.0.0.1:{port}/ws", recorder)
    async with following(stream) as running:
        await asyncio.sleep(0.2)
        assert not running.done()
        assert recorder.events == []
        async with ws_server(session, port):
            await recorder.until(lambda: recorder.count("connected") == 1)
    assert recorder.events[:2] == [("connected",), ("message", status)]


def test_backoff_grows_exponentially_with_jitter_up_to_the_cap() -> None:
    stream = ComfyEventStream("ws://127.0.0.1:1/ws", "c", Recorder(), base_delay=0.1, max_delay=1.0)
    for failures, ceiling in [(0, 0.1), (1, 0.2), (2, 0.4), (3, 0.8), (4, 1.0), (500, 1.0)]:
        delays = {stream.backoff(failures) for _ in range(50)}
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
        assert len(delays) > 1


@pytest.mark.parametrize(
    ("given", "url"),
    [
        ("ws://127.0.0.1:8188/ws", "ws://127.0.0.1:8188/ws?clientId=abc"),
        ("http://127.0.0.1:8188", "ws://127.0.0.1:8188/ws?clientId=abc"),
        ("https://gpu.example/comfy/", "wss://gpu.example/comfy/ws?clientId=abc"),
    ],
)
def test_the_stream_url_is_comfyuis_websocket_endpoint_with_our_client_id(
    given: str, url: str
) -> None:
    assert ComfyEventStream(given, "abc", Recorder()).url == url


def test_a_url_that_is_no_websocket_address_is_refused() -> None:
    with pytest.raises(ValueError, match="URL"):
        ComfyEventStream("ftp://127.0.0.1/ws", "abc", Recorder())


async def test_reconnect_closes_the_socket_and_opens_a_fresh_one_saying_why() -> None:
    status = {"status": {"exec_info": {"queue_remaining": 0}}, "sid": "c"}
    greeting = encode_message({"type": "status", "data": status})

    async def session(websocket: ServerConnection, number: int) -> None:
        await websocket.send(greeting)
        await websocket.wait_closed()

    recorder = Recorder()
    async with ws_server(session) as url:
        stream = fast_stream(url, recorder)
        async with following(stream):
            await recorder.until(lambda: recorder.count("connected") == 1)
            await stream.reconnect("stalled: no status")
            await recorder.until(lambda: recorder.count("connected") == 2)
    assert ("disconnected", "stalled: no status") in recorder.events
