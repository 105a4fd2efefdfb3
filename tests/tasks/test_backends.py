from __future__ import annotations

from collections import Counter

from starlette.applications import Starlette
from starlette.routing import Route

from comfy.client import ComfyClient
from tasks.runtime.backends import Backend, BackendPool, Requirements
from tests.comfy.emulator.recorded import http
from tests.comfy.test_client import Replay
from tests.support.server import serve_asgi
from workflows.registry import load_templates


async def test_a_backend_missing_a_node_type_is_not_ready_and_says_which() -> None:
    required = load_templates().required_node_types()
    server = Replay()
    server.answer("GET", "/object_info", 200, {name: {} for name in required - {"ImageStitch"}})
    stats = next(r["body"] for r in http("a_success", "GET", "/system_stats"))
    server.answer("GET", "/system_stats", 200, stats)
    app = Starlette(routes=[Route("/{path:path}", server.handle, methods=["GET", "POST"])])
    async with serve_asgi(app) as url, ComfyClient(url, client_id="t") as client:
        requirements = Requirements(node_types=required)
        backend = Backend(url=url, client=client, connected=True, requirements=requirements)
        await backend.check()
    assert not backend.ready
    assert backend.not_ready_reason == "missing node types: ImageStitch"
    assert backend.version == "0.8.0"


def test_pool_lists_the_ready_backends_with_room() -> None:
    def backend(url: str, ready: bool = True) -> Backend:
        return Backend(url=url, client=None, connected=ready, problem=None)  # type: ignore[arg-type]

    pool = BackendPool([backend("a"), backend("b"), backend("c", ready=False)])
    assert [b.name for b in pool.with_room(Counter({"a": 1, "b": 0}))] == ["a", "b"]
    assert [b.name for b in pool.with_room(Counter({"a": 2, "b": 1}))] == ["b"]
    assert pool.with_room(Counter({"a": 2, "b": 2})) == []


def test_the_pool_refuses_a_workflow_only_once_every_backend_has_told_what_it_offers() -> None:
    def backend(url: str, cannot: dict[str, str], checked: bool = True) -> Backend:
        return Backend(
            url=url,
            client=None,  # type: ignore[arg-type]
            connected=True,
            problem=None,
            cannot_run=cannot,
            checked=checked,
        )

    lacking = {"other": "missing model file 'x.safetensors'"}
    assert BackendPool([]).refusal("other") is None  # an API-only replica does not know
    assert (
        BackendPool([backend("a", lacking), backend("b", {}, checked=False)]).refusal("other")
        is None
    )
    refusal = BackendPool([backend("a", lacking), backend("b", lacking)]).refusal("other")
    assert refusal == "a: missing model file 'x.safetensors'; b: missing model file 'x.safetensors'"
    assert BackendPool([backend("a", lacking), backend("b", {})]).refusal("other") is None
