"""Serving the emulator with uvicorn, in-process (tests) or as the CLI's server."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from types import TracebackType

import uvicorn
from starlette.applications import Starlette

from comfy.emulator.app import create_emulator_app, emulator_of
from comfy.emulator.config import EmulatorConfig
from comfy.emulator.state import Emulator
from comfy.urls import websocket_url

START_TIMEOUT = 10.0
SOCKET_DRAIN_TIMEOUT = 2.0


class EmulatorStartError(Exception):
    """uvicorn could not start serving the emulator."""


class _Uvicorn(uvicorn.Server):
    """A uvicorn server that cuts websockets without a close frame before shutting down, the
    way ComfyUI's sockets end when its process stops (clients see 1006)."""

    def __init__(self, config: uvicorn.Config, before_shutdown: Callable[[], Awaitable[None]]):
        super().__init__(config)
        self._before_shutdown = before_shutdown

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await self._before_shutdown()
        await super().shutdown(sockets)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Signals belong to whoever hosts the emulator (the CLI, or a test runner)."""
        yield


class EmulatorServer:
    """Owns the emulator's lifetime and its uvicorn server; can stop listening for a while."""

    def __init__(self, app: Starlette, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.log_level = "warning"
        self._stack = contextlib.AsyncExitStack()
        self._server: _Uvicorn | None = None
        self._serving: asyncio.Task[None] | None = None
        self._outage: asyncio.Task[None] | None = None

    @property
    def emulator(self) -> Emulator:
        return emulator_of(self.app)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def __aenter__(self) -> EmulatorServer:
        await self._stack.enter_async_context(self.emulator.running())
        try:
            await self._listen()
        except BaseException:
            await self._stack.aclose()
            raise
        self.emulator.outage = self.request_outage
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.emulator.outage = None
        if self._outage is not None:
            self._outage.cancel()
            await asyncio.wait({self._outage})
        await self._stop_listening()
        await self._stack.aclose()

    def request_outage(self, seconds: float) -> None:
        if self._outage is None or self._outage.done():
            self._outage = asyncio.create_task(self._go_down(seconds))

    async def outage_over(self) -> None:
        if self._outage is not None:
            await asyncio.wait({self._outage})

    async def _go_down(self, seconds: float) -> None:
        await self._stop_listening()
        await asyncio.sleep(seconds)
        await self._listen()

    async def _listen(self) -> None:
        config = uvicorn.Config(
            self.app,
            host=self.host,
            port=self.port,
            lifespan="off",
            log_level=self.log_level,
            server_header=False,
            ws="websockets-sansio",
            ws_max_size=64 * 1024 * 1024,
        )
        self._server = _Uvicorn(config, self._cut_websockets)
        self._serving = asyncio.create_task(self._server.serve())
        await self._wait_started(self._server, self._serving)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]

    async def _wait_started(self, server: _Uvicorn, serving: asyncio.Task[None]) -> None:
        async with asyncio.timeout(START_TIMEOUT):
            while not server.started:
                if serving.done():
                    serving.result()
                    raise EmulatorStartError(f"uvicorn stopped before listening on {self.port}")
                await asyncio.sleep(0.01)

    async def _stop_listening(self) -> None:
        if self._server is None or self._serving is None:
            return
        self._server.should_exit = True
        await asyncio.wait({self._serving})
        self._server = self._serving = None

    async def _cut_websockets(self) -> None:
        hub = self.emulator.hub
        hub.drop()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(hub.idle.wait(), SOCKET_DRAIN_TIMEOUT)


@dataclass
class RunningEmulator:
    """An emulator serving on loopback; `state` is its live in-memory server state."""

    server: EmulatorServer

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def ws_url(self) -> str:
        return websocket_url(self.url)

    @property
    def state(self) -> Emulator:
        return self.server.emulator

    async def crash(self, downtime_seconds: float = 0.0) -> None:
        """Forget everything and cut sockets; with downtime, refuse connections meanwhile."""
        await self.state.crash(downtime_seconds)
        await self.server.outage_over()

    def drop_websockets(self, client_id: str | None = None) -> int:
        return self.state.hub.drop(client_id)


@contextlib.asynccontextmanager
async def running_emulator(
    config: EmulatorConfig | None = None, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[RunningEmulator]:
    """Serve a fresh emulator in this event loop on a free port (or `port`)."""
    async with EmulatorServer(create_emulator_app(config), host, port) as server:
        yield RunningEmulator(server)
