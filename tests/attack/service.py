"""The service under attack, on an event loop in a thread of its own.

Hypothesis drives plain synchronous tests; everything asynchronous (the uvicorn server, the
HTTP and websocket clients, the database checks) lives on this loop for the whole test, and
each example hands it coroutines through `run()`, which waits with a timeout. The server keeps
running between examples, and nothing depends on how pytest-asyncio treats `@given`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import threading
from collections.abc import Awaitable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import httpx

from comfy.emulator.config import EmulatorConfig
from comfy.emulator.server import running_emulator
from graphql_api.app import create_app
from graphql_api.settings import Settings
from tasks.store.database import Database
from tests.attack.footprint import Footprint, footprint
from tests.attack.wire import Reply, WireClient
from tests.support.server import serve_asgi

T = TypeVar("T")
CALL_TIMEOUT = 60.0


class ServiceThread:
    """`with ServiceThread(settings) as service:` serves the app until the block ends."""

    def __init__(self, settings: Settings, emulator: EmulatorConfig | None = None) -> None:
        """With `emulator`, tasks run on an emulated ComfyUI served on the same loop."""
        self.settings = settings
        self._emulator = emulator
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="attack-service")
        self._stack = contextlib.AsyncExitStack()
        self._database: Database | None = None
        self._wire: WireClient | None = None

    def __enter__(self) -> ServiceThread:
        self._thread.start()
        try:
            self.url = self._submit(self._open(), CALL_TIMEOUT)
        except BaseException:
            self._stop_loop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self._submit(self._stack.aclose(), CALL_TIMEOUT)
        finally:
            self._stop_loop()

    async def _open(self) -> str:
        if self._emulator is not None:
            running = await self._stack.enter_async_context(running_emulator(self._emulator))
            self.settings = dataclasses.replace(
                self.settings, dispatch=True, comfyui_urls=(running.url,)
            )
        self._database = await self._stack.enter_async_context(Database(self.settings.database_url))
        url = await self._stack.enter_async_context(serve_asgi(create_app(self.settings)))
        http = await self._stack.enter_async_context(httpx.AsyncClient(base_url=url, timeout=30))
        self._wire = WireClient(http)
        return url

    def _submit(self, coroutine: Awaitable[T], timeout: float) -> T:
        async def bound() -> T:
            if self._database is None:
                return await coroutine
            with self._database.bound():
                return await coroutine

        future = asyncio.run_coroutine_threadsafe(bound(), self._loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()

    def run(self, coroutine: Awaitable[T], timeout: float = CALL_TIMEOUT) -> T:
        """Run a coroutine on the service's loop (with the database bound) and return its result."""
        return self._submit(coroutine, timeout)

    def enter(self, manager: AbstractAsyncContextManager[T]) -> T:
        """Enter an async context manager on the service's loop; it is left when the service stops."""
        return self.run(self._stack.enter_async_context(manager))

    @property
    def wire(self) -> WireClient:
        assert self._wire is not None, "the service is not running"
        return self._wire

    def graphql(self, query: str, variables: Any) -> Reply:
        """POST one GraphQL request as JSON (no key) and return the reply as it came."""
        return self.run(self.wire.post_json({"query": query, "variables": variables}))

    def footprint(self) -> Footprint:
        return self.run(footprint(Path(self.settings.storage_dir)))
