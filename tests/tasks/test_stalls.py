"""The stall watch's two signs of a socket ComfyUI no longer routes to, and what it does then."""

from __future__ import annotations

import asyncio
import logging

import pytest

from comfy.client import ComfyClient
from comfy.emulator.config import EmulatorConfig
from comfy.emulator.server import running_emulator
from tasks.runtime.backends import Backend
from tasks.runtime.stalls import StallSettings, StallWatch
from tasks.store.clock import utc_now

SETTINGS = StallSettings(seconds=0.2, check_seconds=0.05)


def watch_of(backend: Backend, reconnects: Reconnects) -> StallWatch:
    """A stall watch that records stalls on the backend as its tracker does."""
    return StallWatch(
        backend,
        SETTINGS,
        on_stall=lambda reason: backend.mark_stalled(reason, utc_now()),
        reconnect=reconnects,
    )


class Reconnects:
    def __init__(self) -> None:
        self.reasons: list[str] = []

    async def __call__(self, reason: str) -> None:
        self.reasons.append(reason)


async def test_a_prompt_sent_with_no_status_heard_is_a_stall_shown_until_the_next_greeting(
    caplog: pytest.LogCaptureFixture,
) -> None:
    backend = Backend(
        url="http://comfy",
        client=ComfyClient("http://comfy", client_id="me-1"),
        connected=True,
        problem=None,
    )
    reconnects = Reconnects()
    watch = watch_of(backend, reconnects)
    backend.socket.prompt_sent(backend.socket.statuses, 0.0)
    with caplog.at_level(logging.WARNING, logger="tasks.runtime.stalls"):
        for _ in range(3):
            await watch.check()
    assert not backend.ready
    assert backend.not_ready_reason is not None
    assert "client id me-1" in backend.not_ready_reason
    assert "no status broadcast" in backend.not_ready_reason
    assert backend.socket.stalled_since is not None and backend.socket.stalls == 1
    assert len(reconnects.reasons) == 3
    assert len([r for r in caplog.records if "no longer routes" in r.message]) == 1
    backend.mark_connected()
    assert backend.ready and backend.socket.stalled_since is None


async def test_a_status_heard_after_the_prompt_is_no_stall() -> None:
    backend = Backend(
        url="http://comfy",
        client=ComfyClient("http://comfy", client_id="me-1"),
        connected=True,
        problem=None,
    )
    reconnects = Reconnects()
    before = backend.socket.statuses
    backend.mark_status_heard()  # the broadcast may arrive before POST /prompt answers
    backend.socket.prompt_sent(before, 0.0)
    await watch_of(backend, reconnects).check()
    assert backend.ready and reconnects.reasons == []


async def test_comfyuis_queue_moving_while_the_socket_hears_nothing_is_a_stall() -> None:
    async with (
        running_emulator(EmulatorConfig(step_seconds=0.01)) as emulator,
        ComfyClient(emulator.url, client_id="me-2") as client,
    ):
        backend = Backend(
            url=emulator.url,
            client=client,
            connected=True,
            problem=None,
            running=["a-prompt-that-finished-unheard"],
        )
        reconnects = Reconnects()
        watch = watch_of(backend, reconnects)
        async with asyncio.timeout(5):
            while not reconnects.reasons:
                await watch.check()
                await asyncio.sleep(SETTINGS.check_seconds)
    assert "queue moved" in reconnects.reasons[0]
    assert backend.socket.stalls == 1 and not backend.ready
