"""GET/POST /queue and GET/POST /history."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from comfy.emulator.http_util import ServerTrouble, empty_response, json_response, read_json
from comfy.emulator.routes_prompt import emulator_of


async def get_queue(request: Request) -> Response:
    queue = emulator_of(request).session.queue
    return json_response(
        {
            "queue_running": [item.public() for item in queue.running()],
            "queue_pending": [item.public() for item in queue.pending()],
        }
    )


async def post_queue(request: Request) -> Response:
    queue = emulator_of(request).session.queue
    body = _commands(await read_json(request))
    if body.get("clear"):
        queue.wipe()
    for prompt_id in _ids(body):
        queue.delete(prompt_id)
    return empty_response()


async def get_history(request: Request) -> Response:
    queue = emulator_of(request).session.queue
    max_items = _optional_int(request.query_params.get("max_items"))
    offset = _optional_int(request.query_params.get("offset"))
    return json_response(queue.history(max_items, -1 if offset is None else offset))


async def get_history_entry(request: Request) -> Response:
    queue = emulator_of(request).session.queue
    return json_response(queue.history_entry(request.path_params["prompt_id"]))


async def post_history(request: Request) -> Response:
    queue = emulator_of(request).session.queue
    body = _commands(await read_json(request))
    if body.get("clear"):
        queue.wipe_history()
    for prompt_id in _ids(body):
        queue.delete_history(prompt_id)
    return empty_response()


def _commands(body: Any) -> dict[str, Any]:
    if isinstance(body, dict):
        return body
    if isinstance(body, (list, str)) and "clear" not in body and "delete" not in body:
        return {}
    raise ServerTrouble("body is not an object")


def _ids(body: dict[str, Any]) -> list[Any]:
    if "delete" not in body:
        return []
    ids = body["delete"]
    if not isinstance(ids, (list, tuple, str)):
        raise ServerTrouble("delete is not a list")
    return list(ids)


def _optional_int(raw: str | None) -> int | None:
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise ServerTrouble("not an integer") from exc
