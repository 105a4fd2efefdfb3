"""Liveness and readiness: /healthz says the process answers, /readyz says it can do its job."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from storage.errors import StorageError
from storage.opening import StorageProbe
from tasks import Database

logger = logging.getLogger(__name__)

STORAGE_CHECK_SECONDS = 5.0


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def database_problems(database: Database) -> list[str]:
    try:
        await database.ping()
        pending = await database.pending_migrations()
    except Exception as exc:  # each driver has its own errors; any failure means "not ready"
        logger.exception("readiness check of the database failed")
        return [f"database unreachable: {type(exc).__name__}: {exc}"]
    return [f"migrations not applied: {', '.join(pending)}"] if pending else []


async def storage_problems(probe: StorageProbe) -> list[str]:
    try:
        async with asyncio.timeout(STORAGE_CHECK_SECONDS):
            await probe.check()
    except StorageError as exc:
        logger.warning("readiness check of the storage failed: %s", exc)
        return [f"storage unreachable: {exc}"]
    except TimeoutError:
        logger.warning("readiness check of the storage: no answer in %s s", STORAGE_CHECK_SECONDS)
        return [f"storage unreachable: no answer within {STORAGE_CHECK_SECONDS:g} s"]
    return []


def backend_problems(state: Any) -> list[str]:
    if not state.settings.dispatch:
        return []
    backends = state.services.backends.all
    if any(backend.ready for backend in backends):
        return []
    if not backends:
        return ["no ComfyUI backend configured"]
    return [f"backend {b.url} not ready: {b.not_ready_reason}" for b in backends]


async def readyz(request: Request) -> JSONResponse:
    state = request.state
    problems = (
        await database_problems(state.database)
        + await storage_problems(state.storage.probe)
        + backend_problems(state)
    )
    body = {"status": "ready" if not problems else "not ready", "problems": problems}
    return JSONResponse(body, status_code=200 if not problems else 503)
