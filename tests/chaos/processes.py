"""The service as a real `kontext serve` process that can be killed with SIGKILL and started again
on the same port, with its log kept across restarts."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

import httpx

PROJECT_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0


class ApiStartError(RuntimeError):
    """`kontext serve` exited or did not answer /healthz in time."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def kontext_command() -> list[str]:
    script = Path(sys.executable).with_name("kontext")
    if script.exists():
        return [str(script), "serve"]
    return [sys.executable, "-m", "graphql_api.cli", "serve"]


def child_environment(settings: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without KONTEXT_* variables, plus `settings`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("KONTEXT_")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(settings)
    return env


class ApiProcess:
    """`kontext serve` on 127.0.0.1; `start()` after `kill()` comes back on the same port."""

    def __init__(self, settings: Mapping[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.settings = {**settings, "KONTEXT_HOST": "127.0.0.1", "KONTEXT_PORT": str(self.port)}
        self.log_path = log_path
        self.starts = 0
        self._process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> ApiProcess:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.kill()

    async def start(self) -> None:
        with self.log_path.open("ab") as log:
            self._process = await asyncio.create_subprocess_exec(
                *kontext_command(),
                cwd=PROJECT_ROOT,
                env=child_environment(self.settings),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )
        self.starts += 1
        try:
            await self._wait_healthy(self._process)
        except BaseException:
            await self.kill()
            raise

    async def kill(self) -> None:
        """SIGKILL: no shutdown at all, as when the machine or the container dies."""
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        process.send_signal(signal.SIGKILL)
        await asyncio.wait_for(process.wait(), STOP_TIMEOUT)

    async def _wait_healthy(self, process: asyncio.subprocess.Process) -> None:
        async with httpx.AsyncClient(base_url=self.url, timeout=2.0) as http:
            for _ in range(int(START_TIMEOUT / 0.1)):
                if process.returncode is not None:
                    raise ApiStartError(f"kontext serve exited with {process.returncode}")
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get("/healthz")).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise ApiStartError(f"{self.url}/healthz did not answer within {START_TIMEOUT}s")


def api_settings(
    *,
    database_url: str,
    storage_dir: Path,
    comfyui_urls: list[str],
    max_attempts: int,
    silence_seconds: float,
) -> dict[str, str]:
    """KONTEXT_* for the chaos run: admission limits out of the way, real defaults otherwise."""
    return {
        "KONTEXT_DATABASE_URL": database_url,
        "KONTEXT_STORAGE_DIR": str(storage_dir),
        "KONTEXT_COMFYUI_URLS": ",".join(comfyui_urls),
        "KONTEXT_MIGRATE_ON_START": "true",
        "KONTEXT_MAX_ATTEMPTS": str(max_attempts),
        "KONTEXT_SILENCE_SECONDS": str(silence_seconds),
        "KONTEXT_SUBMIT_RATE_PER_MINUTE": "1000000",
        "KONTEXT_SUBMIT_BURST": "100000",
        "KONTEXT_MAX_UNFINISHED_PER_OWNER": "100000",
        "KONTEXT_GRAPHIQL": "false",
        "KONTEXT_AUTH": "off",
    }
