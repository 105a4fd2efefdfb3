"""Latent previews compared with h_latent_previews (h1 legacy, h2 feature flags, h3 none,
h4 per-prompt latent2rgb on a default server)."""

from __future__ import annotations

import io
import json
import struct

import httpx
import pytest
from PIL import Image

from comfy.emulator import imaging
from tests.comfy.emulator import recorded
from tests.comfy.emulator.conftest import StartEmulator
from tests.comfy.emulator.prompts import kontext, png, submit, upload
from tests.comfy.emulator.wsclient import Frame, Recorder


def _jpeg_of(frame: Frame) -> Image.Image:
    raw = frame.raw
    assert isinstance(raw, bytes)
    event, second = struct.unpack(">II", raw[:8])
    offset = 8 if event == 1 else 8 + second
    return Image.open(io.BytesIO(raw[offset:]))


async def test_previews_on_a_latent2rgb_server(start_emulator: StartEmulator) -> None:
    async with (
        start_emulator(preview_method="latent2rgb") as emulator,
        httpx.AsyncClient(base_url=emulator.url) as http,
    ):
        await upload(http, "rig_ref.png", png())
        async with Recorder(emulator.ws_url, "429c01dd-947e-4b86-a6b8-b5980e31c8cf") as legacy:
            prompt_id = await submit(
                http, kontext("rig_ref.png", 1, prefix="rig_h"), legacy.client_id
            )
            await legacy.finished(prompt_id)
        flagged_id = "55b6c74c-c24b-4dc2-b11e-d1f4631e5125"
        async with Recorder(emulator.ws_url, flagged_id, feature_flags=True) as flagged:
            with_metadata = await submit(
                http, kontext("rig_ref.png", 2, prefix="rig_h"), flagged_id
            )
            await flagged.finished(with_metadata)
            extra = {"extra_data": {"preview_method": "none"}}
            silent = await submit(
                http, kontext("rig_ref.png", 3, prefix="rig_h"), flagged_id, **extra
            )
            await flagged.finished(silent)
    assert legacy.tokens() == recorded.client_tokens("h_latent_previews", "H1")
    assert flagged.tokens() == recorded.client_tokens("h_latent_previews", "H2")
    assert (
        flagged.of_type("feature_flags")[0].data
        == recorded.frames("h_latent_previews", "H2", "feature_flags")[0]["data"]
    )
    first = next(f for f in legacy.frames if f.type == "binary")
    assert isinstance(first.raw, bytes)
    assert first.raw[:8].hex() == "0000000100000001"
    assert _jpeg_of(first).format == "JPEG"
    assert _jpeg_of(first).size == (512, 512)
    framed = next(f for f in flagged.frames if f.type == "binary")
    assert isinstance(framed.raw, bytes)
    event, length = struct.unpack(">II", framed.raw[:8])
    metadata = json.loads(framed.raw[8 : 8 + length])
    assert (event, length) == (4, 169)
    assert metadata == {
        "node_id": "31",
        "prompt_id": with_metadata,
        "display_node_id": "31",
        "parent_node_id": None,
        "real_node_id": "31",
        "image_type": "image/jpeg",
    }
    assert _jpeg_of(framed).size == (512, 512)


async def test_previews_asked_per_prompt_on_a_default_server(start_emulator: StartEmulator) -> None:
    async with start_emulator() as emulator, httpx.AsyncClient(base_url=emulator.url) as http:
        await upload(http, "rig_ref.png", png())
        async with Recorder(emulator.ws_url, "ac9a7b8b-f5c6-4dd8-ac35-f13e7cc4758a") as ws:
            extra = {"extra_data": {"preview_method": "latent2rgb"}}
            await ws.finished(
                await submit(http, kontext("rig_ref.png", prefix="rig_h"), ws.client_id, **extra)
            )
            await ws.finished(
                await submit(http, kontext("rig_ref.png", 5, prefix="rig_h"), ws.client_id)
            )
    tokens = ws.tokens()
    first_run = tokens[: tokens.index("executing(None)") + 1]
    assert first_run == recorded.client_tokens("h_latent_previews", "H4")
    assert tokens.count("BINARY[1]") == 4


async def test_sleeping_steps_keep_the_protocol_and_blend_previews_at_preview_size(
    start_emulator: StartEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    blended: list[tuple[tuple[int, int], tuple[int, int]]] = []
    render = imaging.preview_jpeg

    def recording_render(start: Image.Image, end: Image.Image, fraction: float, size: int) -> bytes:
        blended.append((start.size, end.size))
        return render(start, end, fraction, size)

    monkeypatch.setattr(imaging, "preview_jpeg", recording_render)
    settings = {"preview_method": "latent2rgb", "sleep_steps": True, "preview_size": 256}
    async with (
        start_emulator(**settings) as emulator,
        httpx.AsyncClient(base_url=emulator.url) as http,
    ):
        await upload(http, "rig_ref.png", png(size=(1024, 768)))
        async with Recorder(emulator.ws_url, "429c01dd-947e-4b86-a6b8-b5980e31c8cf") as legacy:
            prompt_id = await submit(
                http, kontext("rig_ref.png", 1, prefix="rig_h"), legacy.client_id
            )
            await legacy.finished(prompt_id)
    # The same frames, in the same order, as ComfyUI sends with its steps running on a GPU.
    assert legacy.tokens() == recorded.client_tokens("h_latent_previews", "H1")
    previews = [_jpeg_of(frame) for frame in legacy.frames if frame.type == "binary"]
    assert len(previews) == len(blended) == 4
    assert {preview.size for preview in previews} == {(256, 192)}
    # Each step blends images already shrunk to the preview's size, not the full-size ones.
    assert set(blended) == {((256, 192), (256, 192))}
