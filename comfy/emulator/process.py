"""The emulator as a separate process, for tests that kill it for real (SIGKILL / SIGTERM)."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path
from types import TracebackType

from comfy.emulator.cli import LISTENING
from comfy.urls import websocket_url

START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0


class EmulatorProcessError(Exception):
    """The emulator process did not start listening."""


class EmulatorProcess:
    """`python -m comfy.emulator` on loopback; the first start picks a free port, restarts keep it.

    Files live in `base_directory`, so outputs and uploads survive a kill like a real disk.
    """

    def __init__(self, base_directory: Path, *options: str) -> None:
        self.base_directory = base_directory
        self.options = options
        self.port = 0
        self.output: list[str] = []
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return websocket_url(self.url)

    @property
    def pid(self) -> int | None:
        """The running process's id (None before the start)."""
        return self._process.pid if self._process is not None else None

    async def __aenter__(self) -> EmulatorProcess:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop(signal.SIGKILL)

    async def start(self) -> None:
        arguments = ["--port", str(self.port), "--base-directory", str(self.base_directory)]
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "comfy.emulator",
            *arguments,
            *self.options,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        listening: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._reader = asyncio.create_task(self._read(self._process, listening))
        try:
            url = await asyncio.wait_for(listening, START_TIMEOUT)
        except (TimeoutError, EmulatorProcessError):
            await self.stop(signal.SIGKILL)
            raise
        self.port = int(url.rsplit(":", 1)[1])

    async def kill(self) -> None:
        """SIGKILL: no cleanup at all; websockets end without a close frame."""
        await self.stop(signal.SIGKILL)

    async def terminate(self) -> None:
        await self.stop(signal.SIGTERM)

    async def stop(self, how: signal.Signals) -> None:
        process, self._process = self._process, None
        if process is not None and process.returncode is None:
            process.send_signal(how)
            await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
        if self._reader is not None:
            await asyncio.wait({self._reader}, timeout=STOP_TIMEOUT)
            self._reader.cancel()
            await asyncio.wait({self._reader})
            self._reader = None

    async def _read(
        self, process: asyncio.subprocess.Process, listening: asyncio.Future[str]
    ) -> None:
        assert process.stdout is not None
        async for raw in process.stdout:
            line = raw.decode(errors="replace").rstrip()
            self.output.append(line)
            if LISTENING in line and not listening.done():
                listening.set_result(line.split(LISTENING, 1)[1].split()[0])
        if not listening.done():
            listening.set_exception(EmulatorProcessError("\n".join(self.output[-20:])))
