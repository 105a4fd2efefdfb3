"""Prompts and images like the ones the recordings were made with."""

from __future__ import annotations

import io
import uuid
from typing import Any

import httpx
from PIL import Image

from tests.comfy.emulator.recorded import graph


def png(colour: tuple[int, int, int] = (200, 120, 40), size: tuple[int, int] = (64, 64)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def kontext(
    image: str, seed: int = 42, steps: int = 4, prefix: str = "rig_a", full: bool = False
) -> dict[str, Any]:
    """The Kontext template (without node 42 unless `full`) as the recordings sent it."""
    prompt = graph(full)
    for node in prompt.values():
        node.pop("_meta", None)
    prompt["142"]["inputs"]["image"] = image
    prompt["31"]["inputs"].update(seed=seed, steps=steps)
    prompt["136"]["inputs"]["filename_prefix"] = prefix
    return prompt


def inverter(
    image: str, prefix: str = "rig_nm", blocker: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The model-free graph: LoadImage -> ImageInvert -> SaveImage (optionally via node 4)."""
    prompt: dict[str, Any] = {
        "1": {"class_type": "LoadImage", "inputs": {"image": image}},
        "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
        "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": prefix}},
    }
    if blocker is not None:
        prompt["2"]["inputs"]["image"] = ["4", 0]
        prompt["4"] = blocker
    return prompt


async def upload(
    http: httpx.AsyncClient, name: str, content: bytes, overwrite: bool = True
) -> httpx.Response:
    fields = {"type": "input", "subfolder": ""}
    if overwrite:
        fields["overwrite"] = "true"
    return await http.post(
        "/upload/image", files={"image": (name, content, "image/png")}, data=fields
    )


async def submit(
    http: httpx.AsyncClient, prompt: dict[str, Any], client_id: str | None, **extra: Any
) -> str:
    body: dict[str, Any] = {"prompt": prompt, **extra}
    if client_id is not None:
        body["client_id"] = client_id
    body.setdefault("prompt_id", str(uuid.uuid4()))
    response = await http.post("/prompt", json=body)
    assert response.status_code == 200, response.text
    prompt_id: str = response.json()["prompt_id"]
    return prompt_id
