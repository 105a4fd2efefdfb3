"""GET /system_stats, /features, /object_info and /object_info/{node_class}."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from comfy.emulator.http_util import json_response
from comfy.emulator.messenger import server_features
from comfy.emulator.routes_prompt import emulator_of

COMFYUI_VERSION = "0.8.0"
FRONTEND_VERSION = "1.35.9"
TEMPLATES_VERSION = "0.7.67"
PYTORCH_VERSION = "2.14.1+cu130"


async def system_stats(request: Request) -> Response:
    config = emulator_of(request).config
    total, free = _memory()
    stats: dict[str, Any] = {
        "system": {
            "os": sys.platform,
            "ram_total": total,
            "ram_free": free,
            "comfyui_version": COMFYUI_VERSION,
            "required_frontend_version": FRONTEND_VERSION,
            "installed_templates_version": TEMPLATES_VERSION,
            "required_templates_version": TEMPLATES_VERSION,
            "python_version": sys.version,
            "pytorch_version": PYTORCH_VERSION,
            "embedded_python": False,
            "argv": list(config.argv),
        },
        "devices": [_cpu_device(total, free)],
        # Not in ComfyUI's answer: tells a client it talks to this emulator, not to ComfyUI.
        "emulator": {"emulates": f"ComfyUI {COMFYUI_VERSION}", "images": "synthetic"},
    }
    return json_response(stats)


async def features(request: Request) -> Response:
    return json_response(server_features(emulator_of(request).config.max_upload_size))


async def object_info(request: Request) -> Response:
    emulator = emulator_of(request)
    info = await asyncio.to_thread(emulator.catalogue.object_info, emulator.environment)
    return json_response(info)


async def object_info_node(request: Request) -> Response:
    emulator = emulator_of(request)
    spec = emulator.catalogue.get(request.path_params["node_class"])
    if spec is None:
        return json_response({})
    info = await asyncio.to_thread(spec.object_info, emulator.environment)
    return json_response({spec.name: info})


def _memory() -> tuple[int, int]:
    try:
        page = os.sysconf("SC_PAGE_SIZE")
        return page * os.sysconf("SC_PHYS_PAGES"), page * os.sysconf("SC_AVPHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return 0, 0


def _cpu_device(total: int, free: int) -> dict[str, Any]:
    return {
        "name": "cpu",
        "type": "cpu",
        "index": None,
        "vram_total": total,
        "vram_free": free,
        "torch_vram_total": total,
        "torch_vram_free": free,
    }
