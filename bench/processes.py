"""Servers in child processes (so their CPU and memory are their own) and what /proc says of them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

PROJECT_ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 60.0
# Names another module whose `serve` command to measure (a candidate change, on PYTHONPATH).
API_MODULE_VARIABLE = "KONTEXT_BENCH_API_MODULE"
STOP_TIMEOUT = 20.0


class ServerFailed(RuntimeError):
    """A child server exited or never answered; its log tail is in the message."""


@dataclass(frozen=True)
class ChildServer:
    pid: int
    url: str
    log_path: Path

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1)

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def child_environment(extra: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without any KONTEXT_* setting, plus `extra`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("KONTEXT_")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


async def _wait_answering(
    process: asyncio.subprocess.Process, url: str, path: str, log_path: Path
) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=2.0) as http:
        for _ in range(int(START_TIMEOUT / 0.1)):
            if process.returncode is not None:
                raise ServerFailed(f"server exited ({process.returncode}):\n{log_tail(log_path)}")
            with contextlib.suppress(httpx.TransportError):
                if (await http.get(path)).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise ServerFailed(f"{url}{path} did not answer 200 in {START_TIMEOUT}s:\n{log_tail(log_path)}")


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
    except TimeoutError:
        process.kill()
        await asyncio.wait_for(process.wait(), STOP_TIMEOUT)


@contextlib.asynccontextmanager
async def child_server(
    command: Sequence[str],
    *,
    port: int,
    env: Mapping[str, str],
    log_path: Path,
    ready_path: str = "/healthz",
) -> AsyncIterator[ChildServer]:
    """Start `command` (it must listen on 127.0.0.1:`port`), wait for `ready_path`, stop it after."""
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=PROJECT_ROOT,
            env=child_environment(env),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        await _wait_answering(process, url, ready_path, log_path)
        yield ChildServer(pid=process.pid, url=url, log_path=log_path)
    finally:
        await _stop(process)


def api_environment(
    *, port: int, database_url: str, storage_dir: Path, **settings: str
) -> dict[str, str]:
    """KONTEXT_* for `kontext serve` on loopback; keyword names are settings in lower case."""
    env = {
        "KONTEXT_HOST": "127.0.0.1",
        "KONTEXT_PORT": str(port),
        "KONTEXT_DATABASE_URL": database_url,
        "KONTEXT_STORAGE_DIR": str(storage_dir),
        "KONTEXT_SUBMIT_RATE_PER_MINUTE": "10000000",
        "KONTEXT_SUBMIT_BURST": "1000000",
        "KONTEXT_MAX_UNFINISHED_PER_OWNER": "10000000",
        "KONTEXT_MAX_QUEUE_DEPTH": "10000000",
        "KONTEXT_GRAPHIQL": "false",
    }
    env.update({f"KONTEXT_{name.upper()}": value for name, value in settings.items()})
    return env


@contextlib.asynccontextmanager
async def api_server(
    workdir: Path,
    *,
    database_url: str,
    ready_path: str = "/healthz",
    name: str = "api",
    storage_dir: Path | None = None,
    **settings: str,
) -> AsyncIterator[ChildServer]:
    """The service exactly as `kontext serve` runs it (uvicorn, uvloop, httptools), in a child;
    its files under `workdir` unless `storage_dir` names a folder (replicas share one)."""
    port = free_port()
    storage = storage_dir or workdir / f"{name}-files"
    env = api_environment(port=port, database_url=database_url, storage_dir=storage, **settings)
    command = [
        sys.executable,
        "-m",
        os.environ.get(API_MODULE_VARIABLE, "graphql_api.cli"),
        "serve",
    ]
    async with child_server(
        command, port=port, env=env, log_path=workdir / f"{name}.log", ready_path=ready_path
    ) as server:
        yield server


def _status_field(pid: int, name: str) -> int:
    """A `kB` line of /proc/<pid>/status (VmRSS, VmHWM, …), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(name)


def rss_bytes(pid: int) -> int:
    return _status_field(pid, "VmRSS")


def peak_rss_bytes(pid: int) -> int:
    return _status_field(pid, "VmHWM")


def reset_peak_rss(pid: int) -> bool:
    """Make VmHWM start again from the current RSS (Linux clear_refs 5); False if refused."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


SESSION_TITLE = re.compile(r"postgres: (?:\S+: )?\S+ (\S+) ")


def database_sessions_cpu(database: str) -> dict[int, float]:
    """CPU used so far by each PostgreSQL session process on `database` (its process title is
    `postgres: [<cluster>: ]<user> <database> <client> <state>`), by pid. Sessions of other
    databases, and PostgreSQL's own background processes, are left out."""
    found: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            session = SESSION_TITLE.match(title)
            if session is not None and session[1] == database:
                found[int(entry.name)] = cpu_seconds(int(entry.name))
        except (FileNotFoundError, ProcessLookupError, PermissionError, IndexError):
            continue  # gone meanwhile, or not ours to read
    return found


def database_cpu_since(before: Mapping[int, float], database: str) -> float:
    """CPU the database's sessions used since `before` (sessions opened since count whole;
    one closed meanwhile is missed, so a pool that keeps its connections is measured right)."""
    now = database_sessions_cpu(database)
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in now.items())


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")
