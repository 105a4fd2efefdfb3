"""The floor of the service's CPU per task (bench/gpu_busy.py): a minimal service for the same job,
in a child process on the same server stack as `kontext serve` (uvicorn, uvloop, httptools),
with the libraries the service uses, doing for each task only what any service doing this job
must do:

- one HTTP POST per task (`{"image": <name>, "steps": n}`, no GraphQL): one row INSERTed and
  committed (asyncpg, PostgreSQL, a table of its own), then the answer;
- the service's workflow bound as bench/gpu_busy.py's direct baseline binds it
  (`workflows.binder.bind` of the service's template) and POSTed to /prompt with httpx, at most
  2 prompts in flight per backend (the service's PROMPTS_PER_BACKEND), so the next is always
  queued; the reference image uploaded once per backend (the service's ComfyClient remembers
  uploads by digest);
- each backend's websocket followed (`websockets`, a client id of its own, preview metadata
  announced as the service announces it): the row UPDATEd to running on `execution_start`;
- on `execution_success`: GET /history/{id}, GET /view of the output, the file written and
  fsynced, its thumbnail made by the storage functions the service's output collector uses
  (storage/incremental.py: `thumbnail_of_file`), written and fsynced, the row UPDATEd to
  completed with both keys, committed.

Nothing else: no GraphQL, no NOTIFY, no progress rows, no previews stored, no webhooks.

    python -m bench.task_floor --port 8124 --comfyui http://127.0.0.1:8188 \
        --database postgres://postgres@127.0.0.1:5432/bench --storage /tmp/floor
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, MutableMapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import asyncpg
import httpx
from websockets.asyncio.client import connect

from bench.emulation import PREVIEWS, bound_prompt
from bench.processes import ChildServer, child_server, free_port
from storage.formats import sniff_format
from storage.incremental import thumbnail_of_file
from storage.limits import ImageLimits
from tasks.background import BackgroundTasks
from workflows.manifest import WorkflowTemplate
from workflows.registry import load_templates

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

FLOOR_CLIENT_ID = "bench-task-floor"
PROMPTS_PER_BACKEND = 2  # tasks/runtime/backends.py
DESCRIPTION = "make it red"  # what the bench's generateImage sends
POOL_SIZE = 4
ENDS = ("execution_error", "execution_interrupted")

CREATE_TABLE = """
DROP TABLE IF EXISTS floor_task;
CREATE TABLE floor_task (
    id uuid PRIMARY KEY,
    image text NOT NULL,
    steps integer NOT NULL,
    status text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz,
    output_key text,
    thumbnail_key text
)"""
INSERT = "INSERT INTO floor_task (id, image, steps, status) VALUES ($1, $2, $3, 'pending')"
RUNNING = (
    "UPDATE floor_task SET status = 'running', started_at = now()"
    " WHERE id = $1 AND status = 'pending'"
)
COMPLETED = (
    "UPDATE floor_task SET status = 'completed', finished_at = now(), output_key = $2,"
    " thumbnail_key = $3 WHERE id = $1"
)
FAILED = "UPDATE floor_task SET status = 'failed', finished_at = now() WHERE id = $1"


@dataclass(frozen=True)
class Pending:
    task_id: uuid.UUID
    image: str
    steps: int


@dataclass
class Backend:
    url: str
    http: httpx.AsyncClient
    uploaded: dict[str, str] = field(default_factory=dict)
    """The server's name of each reference image uploaded to it, by the image's name here."""
    in_flight: int = 0


def thumbnail_of(file: IO[bytes], head: bytes) -> bytes:
    """The thumbnail of the image in `file`, made by the function the service's output
    collector makes it with (storage/incremental.py: `thumbnail_of_file`)."""
    fmt = sniff_format(head)
    if fmt is None:
        raise ValueError("the output is not a PNG, JPEG or WebP")
    thumbnail, _size = thumbnail_of_file(file, fmt, ImageLimits())
    return thumbnail


def write_durably(path: Path, data: bytes) -> IO[bytes]:
    """`data` written to `path` and fsynced; the file is left open (read it, then close it)."""
    handle = path.open("w+b")
    try:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    except BaseException:
        handle.close()
        raise
    return handle


def store_output(folder: Path, data: bytes) -> tuple[str, str]:
    """Blocking (a worker thread): the output and its thumbnail, each fsynced; their keys."""
    folder.mkdir(parents=True, exist_ok=True)
    with write_durably(folder / "output.png", data) as output:
        thumbnail = thumbnail_of(output, data[:64])
    write_durably(folder / "thumbnail.webp", thumbnail).close()
    prefix = f"outputs/{folder.name}"
    return f"{prefix}/output.png", f"{prefix}/thumbnail.webp"


def first_output(entry: dict[str, Any]) -> dict[str, str]:
    """GET /view's query for the first image of a prompt's history entry."""
    for node in (entry.get("outputs") or {}).values():
        for image in node.get("images") or []:
            return {key: str(image.get(key, "")) for key in ("filename", "subfolder", "type")}
    raise ValueError("the prompt has no output image")


class TaskFloor:
    def __init__(
        self, comfyui: Sequence[str], database_url: str, storage: Path, client_id: str
    ) -> None:
        self.comfyui = list(comfyui)
        self.database_url = database_url
        self.storage = storage
        self.client_id = client_id
        self.template: WorkflowTemplate = load_templates().get_default()
        self.backends: list[Backend] = []
        self.pending: deque[Pending] = deque()
        self.wake = asyncio.Event()
        self.listening = 0
        self.completed = 0
        self.failed = 0
        self.errors = 0
        """Work that raised (a request refused, a file not written): the run is not valid."""
        self._pool: asyncpg.Pool | None = None
        self._running: set[asyncio.Task[None]] = set()
        self._next_backend = 0

    @property
    def pool(self) -> asyncpg.Pool:
        assert self._pool is not None, "the floor has not started"
        return self._pool

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._running.add(task)
        task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.errors += 1
            print(f"task floor: {task.exception()!r}", file=sys.stderr)

    # --- the work, in the order a task meets it ---

    async def submit(self, image: str, steps: int) -> uuid.UUID:
        task_id = uuid.uuid4()
        await self.pool.execute(INSERT, task_id, image, steps)
        self.pending.append(Pending(task_id, image, steps))
        self.wake.set()
        return task_id

    async def dispatch(self) -> None:
        """Keeps every backend's next prompt queued: up to PROMPTS_PER_BACKEND in flight each."""
        while True:
            await self.wake.wait()
            self.wake.clear()
            while self.pending and (backend := self.with_room()) is not None:
                backend.in_flight += 1
                self.spawn(self.send(backend, self.pending.popleft()))

    def with_room(self) -> Backend | None:
        for offset in range(len(self.backends)):
            backend = self.backends[(self._next_backend + offset) % len(self.backends)]
            if backend.in_flight < PROMPTS_PER_BACKEND:
                self._next_backend = (self._next_backend + offset + 1) % len(self.backends)
                return backend
        return None

    async def send(self, backend: Backend, task: Pending) -> None:
        name = await self.uploaded(backend, task.image)
        seed = uuid.uuid4().int % 2**63
        graph = bound_prompt(
            self.template, name, steps=task.steps, seed=seed, description=DESCRIPTION
        )
        payload = {
            "prompt": graph,
            "client_id": self.client_id,
            "prompt_id": str(task.task_id),
            "extra_data": dict(PREVIEWS),
        }
        (await backend.http.post("/prompt", json=payload)).raise_for_status()

    async def uploaded(self, backend: Backend, image: str) -> str:
        known = backend.uploaded.get(image)
        if known is None:
            data = await asyncio.to_thread((self.storage / "inputs" / image).read_bytes)
            response = await backend.http.post(
                "/upload/image",
                files={"image": (image, data, "image/png")},
                data={"overwrite": "true", "type": "input"},
            )
            response.raise_for_status()
            known = backend.uploaded[image] = str(response.json()["name"])
        return known

    async def follow(self, backend: Backend) -> None:
        """The backend's events for this client id: what the user sees change, committed."""
        ws_url = backend.url.replace("http", "ws", 1) + f"/ws?clientId={self.client_id}"
        async with connect(ws_url, max_size=2**26, ping_interval=None) as socket:
            hello = {"type": "feature_flags", "data": {"supports_preview_metadata": True}}
            await socket.send(json.dumps(hello))
            self.listening += 1
            async for raw in socket:
                if isinstance(raw, bytes):
                    continue  # a latent preview: not stored here
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "execution_start":
                    self.spawn(self.running(frame["data"]["prompt_id"]))
                elif kind == "execution_success":
                    self.freed(backend)
                    self.spawn(self.finish(backend, str(frame["data"]["prompt_id"])))
                elif kind in ENDS:
                    self.freed(backend)
                    self.spawn(self.fail(str(frame["data"]["prompt_id"])))

    def freed(self, backend: Backend) -> None:
        backend.in_flight -= 1
        self.wake.set()

    async def running(self, prompt_id: str) -> None:
        await self.pool.execute(RUNNING, uuid.UUID(prompt_id))

    async def finish(self, backend: Backend, prompt_id: str) -> None:
        history = (await backend.http.get(f"/history/{prompt_id}")).raise_for_status().json()
        view = await backend.http.get("/view", params=first_output(history[prompt_id]))
        data = view.raise_for_status().content
        folder = self.storage / "outputs" / prompt_id
        output_key, thumbnail_key = await asyncio.to_thread(store_output, folder, data)
        await self.pool.execute(COMPLETED, uuid.UUID(prompt_id), output_key, thumbnail_key)
        self.completed += 1

    async def fail(self, prompt_id: str) -> None:
        await self.pool.execute(FAILED, uuid.UUID(prompt_id))
        self.failed += 1

    # --- ASGI ---

    async def http(self, scope: Message, receive: Receive, send: Send) -> None:
        path, method = scope["path"], scope["method"]
        if method == "POST" and path == "/tasks":
            body = b""
            while True:
                message = await receive()
                body += message.get("body", b"")
                if not message.get("more_body"):
                    break
            request = json.loads(body)
            task_id = await self.submit(str(request["image"]), int(request["steps"]))
            await answer(send, 200, json.dumps({"id": str(task_id)}).encode())
        elif path == "/healthz":
            ready = self._pool is not None and self.listening == len(self.comfyui)
            await answer(send, 200 if ready else 503, b"ok" if ready else b"")
        elif path == "/finished":
            counts = {"completed": self.completed, "failed": self.failed, "errors": self.errors}
            await answer(send, 200, json.dumps(counts).encode())
        else:
            await answer(send, 404, b"")

    async def lifespan(self, receive: Receive, send: Send) -> None:
        await receive()  # lifespan.startup
        background = BackgroundTasks()
        async with contextlib.AsyncExitStack() as stack:
            pool = await asyncpg.create_pool(
                self.database_url, min_size=POOL_SIZE, max_size=POOL_SIZE
            )
            stack.push_async_callback(pool.close)
            await pool.execute(CREATE_TABLE)
            self._pool = pool
            for url in self.comfyui:
                http = await stack.enter_async_context(httpx.AsyncClient(base_url=url, timeout=30))
                self.backends.append(Backend(url, http))
            await send({"type": "lifespan.startup.complete"})

            async def shutdown() -> None:
                await receive()  # lifespan.shutdown

            work = {f"follow-{b.url}": self.follow(b) for b in self.backends}
            try:
                await background.first_of(
                    {**work, "dispatch": self.dispatch(), "shutdown": shutdown()}
                )
            finally:
                await background.aclose()
                for task in list(self._running):
                    task.cancel()
                await asyncio.gather(*self._running, return_exceptions=True)
        await send({"type": "lifespan.shutdown.complete"})

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.http(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self.lifespan(receive, send)


async def answer(send: Send, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json")] if body else []
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@contextlib.asynccontextmanager
async def task_floor_server(
    workdir: Path,
    comfyui: Sequence[str],
    *,
    database_url: str,
    name: str = "task-floor",
    client_id: str = FLOOR_CLIENT_ID,
) -> AsyncIterator[tuple[ChildServer, Path]]:
    """The minimal service in a child process, ready once its backends' sockets are open; with
    its storage folder (put reference images under its `inputs/`)."""
    port = free_port()
    storage = workdir / f"{name}-files"
    (storage / "inputs").mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "bench.task_floor", "--port", str(port)]
    command += [part for url in comfyui for part in ("--comfyui", url)]
    command += ["--database", database_url, "--storage", str(storage), "--client-id", client_id]
    async with child_server(command, port=port, env={}, log_path=workdir / f"{name}.log") as server:
        yield server, storage


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--comfyui", action="append", required=True, help="a backend's http URL")
    parser.add_argument("--database", required=True, help="a PostgreSQL URL (asyncpg)")
    parser.add_argument("--storage", type=Path, required=True)
    parser.add_argument("--client-id", default=FLOOR_CLIENT_ID)
    args = parser.parse_args(argv)
    floor = TaskFloor(args.comfyui, args.database, args.storage, args.client_id)
    # As graphql_api/cli.py `serve` runs the service (loop and http: uvloop and httptools).
    uvicorn.run(floor, host="127.0.0.1", port=args.port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
