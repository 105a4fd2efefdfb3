"""GET/POST /prompt and POST /interrupt."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from comfy.emulator import validation_errors as errors
from comfy.emulator.http_util import ServerTrouble, empty_response, json_response, read_json
from comfy.emulator.prompt_queue import QueueItem
from comfy.emulator.session import Session
from comfy.emulator.state import Emulator
from comfy.emulator.validation import MalformedPrompt, Verdict

SENSITIVE_EXTRA_DATA = ("auth_token_comfy_org", "api_key_comfy_org")


def emulator_of(request: Request) -> Emulator:
    emulator: Emulator = request.app.state.emulator
    return emulator


async def get_prompt(request: Request) -> Response:
    remaining = emulator_of(request).session.queue.remaining()
    return json_response({"exec_info": {"queue_remaining": remaining}})


async def post_prompt(request: Request) -> Response:
    emulator = emulator_of(request)
    body = _as_object(await read_json(request))
    session = emulator.session
    number = _number(body, session)
    if "prompt" not in body:
        return json_response({"error": errors.no_prompt(), "node_errors": {}}, status=400)
    prompt = body["prompt"]
    prompt_id = str(body.get("prompt_id", uuid.uuid4()))
    verdict = await _validate(emulator, prompt, body.get("partial_execution_targets"))
    if verdict.ok and emulator.faults.take_rejection():
        verdict = _injected_rejection(prompt, verdict)
    extra_data = _extra_data(body)
    if not verdict.ok:
        return json_response({"error": verdict.error, "node_errors": verdict.node_errors}, 400)
    sensitive = {key: extra_data.pop(key) for key in SENSITIVE_EXTRA_DATA if key in extra_data}
    extra_data["create_time"] = int(time.time() * 1000)
    item = QueueItem(number, prompt_id, prompt, extra_data, verdict.outputs, sensitive)
    session.queue.put(item)
    reply = {"prompt_id": prompt_id, "number": number, "node_errors": verdict.node_errors}
    return json_response(reply)


async def post_interrupt(request: Request) -> Response:
    session = emulator_of(request).session
    try:
        body = json.loads(await request.body())
    except json.JSONDecodeError:
        body = {}
    if not isinstance(body, dict):
        raise ServerTrouble("interrupt body is not an object")
    prompt_id = body.get("prompt_id")
    if prompt_id and not session.queue.is_running(prompt_id):
        return empty_response()
    session.interrupt.set()
    return empty_response()


async def post_free(request: Request) -> Response:
    """ComfyUI's POST /free: flags to unload models and free memory before the next prompt."""
    try:
        body = json.loads(await request.body())
    except json.JSONDecodeError:
        body = {}
    if not isinstance(body, dict):
        raise ServerTrouble("free body is not an object")
    flags = {name: bool(body.get(name, False)) for name in ("unload_models", "free_memory")}
    emulator_of(request).memory_frees.append(flags)
    return empty_response()


def _as_object(body: Any) -> dict[str, Any]:
    if isinstance(body, dict):
        return body
    if isinstance(body, (list, str)) and "number" not in body and "prompt" not in body:
        return {}
    raise ServerTrouble("prompt body is not an object")


def _number(body: dict[str, Any], session: Session) -> float:
    if "number" in body:
        try:
            return float(body["number"])
        except (TypeError, ValueError) as exc:
            raise ServerTrouble("number is not a number") from exc
    number = session.take_number()
    return -number if body.get("front") else number


async def _validate(emulator: Emulator, prompt: Any, targets: Any) -> Verdict:
    try:
        return await asyncio.to_thread(emulator.validator.validate, prompt, targets)
    except MalformedPrompt as exc:
        raise ServerTrouble(str(exc)) from exc


def _extra_data(body: dict[str, Any]) -> dict[str, Any]:
    extra_data = body.get("extra_data", {})
    if not isinstance(extra_data, dict):
        raise ServerTrouble("extra_data is not an object")
    if "client_id" in body:
        extra_data["client_id"] = body["client_id"]
    return extra_data


def _injected_rejection(prompt: dict[str, Any], verdict: Verdict) -> Verdict:
    output = verdict.outputs[0]
    reason = errors.custom_failed("emulator", "rejected by an injected validation fault")
    node_errors = {
        output: {
            "errors": [reason],
            "dependent_outputs": [output],
            "class_type": prompt[output]["class_type"],
        }
    }
    return Verdict(False, errors.outputs_failed([reason]), [], node_errors)
