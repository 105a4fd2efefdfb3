"""The Starlette application of an emulated ComfyUI 0.8.0 server."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Route, WebSocketRoute

from comfy.emulator import routes_control as control
from comfy.emulator import routes_files as files
from comfy.emulator import routes_info as info
from comfy.emulator import routes_jobs as jobs
from comfy.emulator import routes_prompt as prompt
from comfy.emulator import routes_queue as queue
from comfy.emulator.config import EmulatorConfig
from comfy.emulator.http_util import (
    CONTROL_PREFIX,
    ServerHeader,
    ServerTrouble,
    SlowResponses,
    on_method_not_allowed,
    on_not_found,
    on_trouble,
)
from comfy.emulator.routes_ws import websocket_endpoint
from comfy.emulator.state import Emulator

Endpoint = Callable[..., Any]

COMFY_ROUTES: tuple[tuple[str, Endpoint, tuple[str, ...]], ...] = (
    ("/prompt", prompt.get_prompt, ("GET",)),
    ("/prompt", prompt.post_prompt, ("POST",)),
    ("/interrupt", prompt.post_interrupt, ("POST",)),
    ("/free", prompt.post_free, ("POST",)),
    ("/queue", queue.get_queue, ("GET",)),
    ("/queue", queue.post_queue, ("POST",)),
    ("/history", queue.get_history, ("GET",)),
    ("/history", queue.post_history, ("POST",)),
    ("/history/{prompt_id}", queue.get_history_entry, ("GET",)),
    ("/upload/image", files.upload_image, ("POST",)),
    ("/view", files.view, ("GET",)),
    ("/system_stats", info.system_stats, ("GET",)),
    ("/features", info.features, ("GET",)),
    ("/object_info", info.object_info, ("GET",)),
    ("/object_info/{node_class}", info.object_info_node, ("GET",)),
)
JOB_ROUTES: tuple[tuple[str, Endpoint, tuple[str, ...]], ...] = (
    ("/api/jobs", jobs.get_jobs, ("GET",)),
    ("/api/jobs/{job_id}", jobs.get_job, ("GET",)),
)
CONTROL_ROUTES: tuple[tuple[str, Endpoint, tuple[str, ...]], ...] = (
    ("/faults", control.get_faults, ("GET",)),
    ("/faults", control.post_faults, ("POST",)),
    ("/faults", control.delete_faults, ("DELETE",)),
    ("/drop-websockets", control.drop_websockets, ("POST",)),
    ("/crash", control.crash, ("POST",)),
    ("/sigkill", control.sigkill, ("POST",)),
    ("/state", control.get_state, ("GET",)),
)


def create_emulator_app(config: EmulatorConfig | None = None) -> Starlette:
    """Build the app; its state (`app.state.emulator`) exists only in this object."""
    emulator = Emulator(config or EmulatorConfig())
    app = Starlette(
        routes=_routes(),
        middleware=[
            Middleware(ServerHeader),
            Middleware(SlowResponses, delay=lambda: emulator.faults.http_delay_seconds),
        ],
        exception_handlers={
            404: on_not_found,
            405: on_method_not_allowed,
            ServerTrouble: on_trouble,
            Exception: on_trouble,
        },
        lifespan=_lifespan(emulator),
    )
    app.state.emulator = emulator
    return app


def emulator_of(app: Starlette) -> Emulator:
    emulator: Emulator = app.state.emulator
    return emulator


def _routes() -> list[BaseRoute]:
    routes: list[BaseRoute] = []
    for prefix in ("", "/api"):
        routes.append(WebSocketRoute(prefix + "/ws", websocket_endpoint))
        routes.extend(Route(prefix + path, f, methods=list(m)) for path, f, m in COMFY_ROUTES)
    routes.extend(Route(path, f, methods=list(m)) for path, f, m in JOB_ROUTES)
    routes.extend(Route(CONTROL_PREFIX + p, f, methods=list(m)) for p, f, m in CONTROL_ROUTES)
    return routes


def _lifespan(
    emulator: Emulator,
) -> Callable[[Starlette], contextlib.AbstractAsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with emulator.running():
            yield

    return lifespan
