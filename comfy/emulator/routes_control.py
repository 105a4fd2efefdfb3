"""Routes under /_emulator (a prefix ComfyUI never uses) to inject faults at run time."""

from __future__ import annotations

import json
import logging
import os
import signal
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from comfy.emulator.faults import BadFaultRequest
from comfy.emulator.http_util import json_response
from comfy.emulator.routes_prompt import emulator_of

logger = logging.getLogger(__name__)


async def get_faults(request: Request) -> Response:
    return json_response(emulator_of(request).faults.snapshot())


async def post_faults(request: Request) -> Response:
    faults = emulator_of(request).faults
    try:
        faults.update(await _body(request))
    except BadFaultRequest as exc:
        return json_response({"error": str(exc)}, status=400)
    return json_response(faults.snapshot())


async def delete_faults(request: Request) -> Response:
    faults = emulator_of(request).faults
    faults.clear()
    return json_response(faults.snapshot())


async def drop_websockets(request: Request) -> Response:
    body = await _body(request)
    client_id = body.get("client_id") if isinstance(body, dict) else None
    dropped = emulator_of(request).hub.drop(client_id if isinstance(client_id, str) else None)
    return json_response({"dropped": dropped})


async def crash(request: Request) -> Response:
    body = await _body(request)
    downtime = body.get("downtime_seconds", 0) if isinstance(body, dict) else 0
    if not isinstance(downtime, (int, float)) or downtime < 0:
        return json_response({"error": "downtime_seconds must be a non-negative number"}, 400)
    await emulator_of(request).crash(float(downtime))
    return json_response({"crashed": True})


async def sigkill(request: Request) -> Response:
    if not emulator_of(request).config.allow_self_kill:
        return json_response({"error": "self-kill is only allowed in a subprocess emulator"}, 403)
    logger.warning("killing the emulator process with SIGKILL, as asked")
    os.kill(os.getpid(), signal.SIGKILL)
    return json_response({"killed": True})


async def get_state(request: Request) -> Response:
    emulator = emulator_of(request)
    session = emulator.session
    state = {
        "number": session.number,
        "queue_remaining": session.queue.remaining(),
        "cached_outputs": len(session.cache),
        "websockets": emulator.hub.sids(),
        "root_dir": str(emulator.files.root),
        "faults": emulator.faults.snapshot(),
    }
    return json_response(state)


async def _body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return {}
