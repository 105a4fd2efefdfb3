"""Keeping the GPU busy: the same prompts queued straight into emulated ComfyUI servers (the
baseline) and run through the service, on 1 backend and on 4. Each emulator is its own process
(`python -m comfy.emulator`), like a GPU host; its /api/jobs timestamps give every prompt's
execution start and end, hence the makespan and the idle gaps between prompts.

Its emulators run with `--sleep-steps` (each step sleeps for its time, the preview made within
it from images shrunk once), so their stand-in pixel work does not take the CPU the service
needs, as a GPU would not; `--burn-steps` runs them the old way (previews blended at full size
after each step's sleep). The CPU each side used is reported per prompt.

Right after the service's run on 1 backend, the same prompts go through the task floor
(bench/task_floor.py: a minimal service doing only what any service doing this job must do, on
the same server stack and libraries), submitted the same way, on the same emulator: the service's
CPU per task is shown beside the floor's (`--no-floor` skips it).

    python -m bench.gpu_busy [--prompts 100] [--steps 5] [--step-seconds 0.02] [--burn-steps]
                             [--no-floor] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import io
import json
import os
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import websockets
from PIL import Image

from bench import stats
from bench.database import bench_database_url, database_name, fresh_database
from bench.emulation import DirectPrompts, upload_name
from bench.pictures import photo_png
from bench.processes import (
    api_server,
    cpu_seconds,
    database_cpu_since,
    database_sessions_cpu,
    log_tail,
)
from bench.profiling import Profiler
from bench.runner import run, save_report, workspace
from bench.service import Service
from bench.task_floor import task_floor_server
from bench.timeline import Timeline
from bench.waiting import poll_until_async
from comfy.client import ComfyClient
from comfy.emulator.process import EmulatorProcess

SUBMIT_CONCURRENCY = 8
SERVICE_CPU_TARGET_MS = 15.0
RUN_TIMEOUT = 600.0
JOBS_POLL_SECONDS = 0.2


@dataclass(frozen=True)
class BusyConfig:
    prompts: int = 100
    steps: int = 5
    step_seconds: float = 0.02
    backends: int = 4
    rounds: int = 1
    image: str = "flat"
    profile: bool = False
    sleep_steps: bool = True
    floor: bool = True


def reference_png(kind: str) -> bytes:
    """flat: the emulator's Pillow work per prompt stays small (it shares this machine's CPU with
    the service, unlike a GPU); photo: outputs as large as real ones (~1.7 MB PNG)."""
    if kind == "photo":
        return photo_png(1024, 1024)
    buffer = io.BytesIO()
    Image.new("RGB", (1024, 1024), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


async def finished_jobs(url: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        body = (await http.get("/api/jobs", params={"status": "completed,failed"})).json()
    jobs: list[dict[str, Any]] = body["jobs"]
    return jobs


async def wait_jobs(urls: Sequence[str], expected: int, since_ms: float) -> list[list[Any]]:
    """Each backend's jobs queued after `since_ms`, once `expected` of them have ended."""
    async with asyncio.timeout(RUN_TIMEOUT):
        for _ in range(int(RUN_TIMEOUT / JOBS_POLL_SECONDS)):
            per_backend = [
                [job for job in await finished_jobs(url) if job["create_time"] >= since_ms]
                for url in urls
            ]
            if sum(map(len, per_backend)) >= expected:
                return per_backend
            await asyncio.sleep(JOBS_POLL_SECONDS)
    raise TimeoutError(f"{expected} prompts did not end within {RUN_TIMEOUT}s")


def timeline_of(urls: Sequence[str], jobs: list[list[Any]], submitted_at: float) -> Timeline:
    runs = {
        url: [(j["execution_start_time"] / 1000, j["execution_end_time"] / 1000) for j in found]
        for url, found in zip(urls, jobs, strict=True)
    }
    failed = [j for found in jobs for j in found if j["status"] != "completed"]
    if failed:
        raise RuntimeError(f"{len(failed)} prompt(s) failed on the emulator: {failed[:1]}")
    return Timeline(submitted_at=submitted_at, runs=runs)


@contextlib.asynccontextmanager
async def emulators(
    folder: Path, count: int, config: BusyConfig
) -> AsyncIterator[list[EmulatorProcess]]:
    options = ["--step-seconds", str(config.step_seconds), "--node-seconds", "0"]
    options += ["--log-level", "WARNING", *(["--sleep-steps"] if config.sleep_steps else [])]
    async with contextlib.AsyncExitStack() as stack:
        yield [
            await stack.enter_async_context(EmulatorProcess(folder / f"emulator-{i}", *options))
            for i in range(count)
        ]


def emulators_cpu(processes: Sequence[EmulatorProcess]) -> float:
    return sum(cpu_seconds(process.pid) for process in processes if process.pid is not None)


def with_emulator_cpu(timeline: Timeline, seconds: float) -> Timeline:
    return dataclasses.replace(timeline, emulator_cpu_seconds=seconds)


async def direct_run(
    processes: Sequence[EmulatorProcess], png: bytes, config: BusyConfig
) -> Timeline:
    """The baseline: prompts queued straight in, round robin, each backend watched by a raw
    client that, like any client that wants its images, fetches each prompt's outputs once it
    hears `execution_success` (GET /history/{id}, GET /view), as the service does. Its socket
    announces preview metadata as the service's does, so the emulator renders the same
    previews."""
    urls = [process.url for process in processes]
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(ComfyClient(url, client_id="bench-direct"))
            for url in urls
        ]
        collectors = [
            await stack.enter_async_context(OutputCollector.connected(client)) for client in clients
        ]
        senders = [DirectPrompts(client) for client in clients]
        for sender in senders:
            await sender.upload(png)
        submitted_at = time.time()
        emulator_cpu = emulators_cpu(processes)
        for index in range(config.prompts):
            await senders[index % len(senders)].queue(steps=config.steps)
        jobs = await wait_jobs(urls, config.prompts, submitted_at * 1000 - 1)
        emulator_cpu = emulators_cpu(processes) - emulator_cpu
        await asyncio.wait_for(
            asyncio.gather(
                *(c.collected(len(c_jobs)) for c, c_jobs in zip(collectors, jobs, strict=True))
            ),
            timeout=RUN_TIMEOUT,
        )
    return with_emulator_cpu(timeline_of(urls, jobs, submitted_at), emulator_cpu)


class OutputCollector:
    """A raw ComfyUI client socket that downloads every output of the prompts it hears end."""

    def __init__(self, client: ComfyClient, socket: websockets.ClientConnection) -> None:
        self._client = client
        self._socket = socket
        self._done = 0
        self._changed = asyncio.Event()

    @classmethod
    @contextlib.asynccontextmanager
    async def connected(cls, client: ComfyClient) -> AsyncIterator[OutputCollector]:
        url = client.base_url.replace("http", "ws", 1) + f"/ws?clientId={client.client_id}"
        async with websockets.connect(url, max_size=None) as socket:
            hello = {"type": "feature_flags", "data": {"supports_preview_metadata": True}}
            await socket.send(json.dumps(hello))
            collector = cls(client, socket)
            reading = asyncio.create_task(collector._read())
            try:
                yield collector
            finally:
                reading.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reading

    async def collected(self, count: int) -> None:
        while self._done < count:
            self._changed.clear()
            await self._changed.wait()

    async def _read(self) -> None:
        async for message in self._socket:
            if isinstance(message, bytes):
                continue
            frame = json.loads(message)
            if frame.get("type") == "execution_success":
                await self._fetch(str(frame["data"]["prompt_id"]))

    async def _fetch(self, prompt_id: str) -> None:
        entry = await self._client.history(prompt_id)
        for image in entry.outputs if entry is not None else []:
            async with self._client.download(image) as chunks:
                async for _ in chunks:
                    pass
        self._done += 1
        self._changed.set()


async def submit_all(generate: Callable[[], Awaitable[object]], config: BusyConfig) -> None:
    """`config.prompts` submissions, SUBMIT_CONCURRENCY at a time."""
    gate = asyncio.Semaphore(SUBMIT_CONCURRENCY)

    async def one() -> None:
        async with gate:
            await generate()

    await asyncio.gather(*(one() for _ in range(config.prompts)))


async def service_run(
    work: Path, processes: Sequence[EmulatorProcess], png: bytes, config: BusyConfig
) -> Timeline:
    urls = [process.url for process in processes]
    database_url = bench_database_url()
    await fresh_database(database_url)
    async with (
        api_server(
            work,
            database_url=database_url,
            ready_path="/readyz",
            name=f"api-{len(urls)}",
            comfyui_urls=",".join(urls),
        ) as api,
        httpx.AsyncClient(base_url=api.url, timeout=60) as http,
    ):
        service = Service(http)
        image_id = await service.upload_image(png)
        profiling = config.profile and len(urls) == config.backends
        timeline = await measured_run(
            api.pid,
            processes,
            database_url,
            lambda: service.generate(image_id, steps=config.steps),
            lambda count: service.wait_finished(count, within=RUN_TIMEOUT),
            config,
            f"gpu-busy-{len(urls)}" if profiling else None,
        )
        failures = await service.failures()
        if failures:
            raise RuntimeError(f"{len(failures)} task(s) did not complete: {failures[:1]}")
    return timeline


async def measured_run(
    pid: int,
    processes: Sequence[EmulatorProcess],
    database_url: str,
    generate: Callable[[], Awaitable[object]],
    finished: Callable[[int], Awaitable[None]],
    config: BusyConfig,
    profile: str | None,
) -> Timeline:
    """The prompts of `config` submitted through the server `pid` with `generate`, measured:
    warmed up first like the emulators (a server's first prompts pay its cold start:
    connections, prepared statements, the reference image's first upload, once per process,
    not per burst of work), then the timeline of its backends' jobs, with the server's CPU, its
    PostgreSQL sessions' and the emulators' over the same span. `finished(n)` waits until the
    server has ended `n` tasks; `profile` names a py-spy recording of the span."""
    urls = [process.url for process in processes]
    warm_up = len(urls)
    await asyncio.gather(*(generate() for _ in urls))
    await finished(warm_up)
    cpu_before, emulator_cpu = cpu_seconds(pid), emulators_cpu(processes)
    database = database_name(database_url)
    database_before = database_sessions_cpu(database)
    async with (
        Profiler().recording(pid, profile) if profile is not None else contextlib.nullcontext()
    ):
        submitted_at = time.time()
        await submit_all(generate, config)
        jobs = await wait_jobs(urls, config.prompts, submitted_at * 1000 - 1)
    cpu = cpu_seconds(pid) - cpu_before
    emulator_cpu = emulators_cpu(processes) - emulator_cpu
    database_cpu = database_cpu_since(database_before, database)
    await finished(warm_up + config.prompts)
    return dataclasses.replace(
        timeline_of(urls, jobs, submitted_at),
        service_cpu_seconds=cpu,
        emulator_cpu_seconds=emulator_cpu,
        database_cpu_seconds=database_cpu,
    )


async def floor_finished(http: httpx.AsyncClient, expected: int, log: Path) -> None:
    """Until the task floor has ended `expected` tasks (none of them failed)."""

    async def enough() -> bool:
        counts = (await http.get("/finished")).json()
        if counts["failed"] or counts["errors"]:
            raise RuntimeError(f"the task floor went wrong ({counts}):\n{log_tail(log)}")
        return int(counts["completed"]) >= expected

    await poll_until_async(enough, within=RUN_TIMEOUT)


async def floor_run(
    work: Path, processes: Sequence[EmulatorProcess], png: bytes, config: BusyConfig
) -> Timeline:
    """The same prompts through the task floor (bench/task_floor.py), measured as service_run
    measures the service: warmed up alike, the same submissions, its CPU and its PostgreSQL
    sessions' from /proc over the same span."""
    urls = [process.url for process in processes]
    database_url = bench_database_url()
    await fresh_database(database_url)
    name = upload_name(png)
    async with (
        task_floor_server(
            work, urls, database_url=database_url, name=f"task-floor-{len(urls)}"
        ) as (floor, storage),
        httpx.AsyncClient(base_url=floor.url, timeout=60) as http,
    ):
        (storage / "inputs" / name).write_bytes(png)

        async def generate() -> None:
            (
                await http.post("/tasks", json={"image": name, "steps": config.steps})
            ).raise_for_status()

        return await measured_run(
            floor.pid,
            processes,
            database_url,
            generate,
            lambda count: floor_finished(http, count, floor.log_path),
            config,
            f"task-floor-{len(urls)}" if config.profile else None,
        )


def show(name: str, timeline: Timeline) -> None:
    report = timeline.report()
    gaps = report["gaps"]
    cpu, per_task = report["service_cpu_s"], report["service_cpu_ms_per_task"]
    print(
        f"  {name:<26} makespan {report['makespan_s']:7.2f}s"
        f"  {report['throughput_per_s']:6.2f} prompts/s  busy {report['busy_fraction']:.3f}"
        f"  gaps p50 {stats.ms(gaps['p50'])} p99 {stats.ms(gaps['p99'])}"
        f" max {stats.ms(gaps['max'])}"
        f"  first start {stats.ms(report['first_start_s'])}"
        f"  execution mean {stats.ms(report['execution_mean_s'])}"
        f"  emulator CPU {report['emulator_cpu_ms_per_prompt']:.0f} ms/prompt"
        + (
            ""
            if cpu is None
            else f"  service CPU {cpu:.1f}s ({cpu / report['makespan_s']:.0%},"
            f" {per_task:.0f} ms/task)"
            f"  its PostgreSQL sessions {report['database_cpu_ms_per_task']:.0f} ms/task"
        )
    )


def show_cpu_budget(runs: dict[str, Timeline], backends: int) -> None:
    """What running at the direct pace of `backends` emulators would take of this machine's
    cores: the emulators' own CPU per prompt, plus the service's and its database's per task."""
    pace = runs[f"direct-{backends}"].throughput
    service = runs[f"service-{backends}"].report()
    per_task = {
        "emulators": service["emulator_cpu_ms_per_prompt"],
        "service": service["service_cpu_ms_per_task"],
        "PostgreSQL": service["database_cpu_ms_per_task"],
    }
    if any(value is None for value in per_task.values()):
        return
    cores = {name: pace * ms / 1000 for name, ms in per_task.items()}
    parts = ", ".join(f"{name} {used:.2f}" for name, used in cores.items())
    print(
        f"  CPU at the direct pace of {backends} backend(s) ({pace:.1f} prompts/s): {parts}"
        f" = {sum(cores.values()):.2f} of this machine's {os.cpu_count()} cores"
        f" (the service's event loop alone: {cores['service']:.2f} of one core)"
    )


def ratios(runs: dict[str, Timeline], backends: int) -> dict[str, float]:
    base1 = runs["direct-1"]
    many, direct_many = runs[f"service-{backends}"], runs[f"direct-{backends}"]
    return {
        "throughput_1": stats.ratio(runs["service-1"].throughput, base1.throughput),
        "throughput_n_vs_n_x_direct_1": stats.ratio(many.throughput, backends * base1.throughput),
        "throughput_n_vs_direct_n": stats.ratio(many.throughput, direct_many.throughput),
        "busy_1": stats.ratio(
            runs["service-1"].report()["busy_fraction"], base1.report()["busy_fraction"]
        ),
        "busy_n": stats.ratio(
            many.report()["busy_fraction"], direct_many.report()["busy_fraction"]
        ),
    }


def median_ratios(rounds: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(found[key] for found in rounds) for key in rounds[0]}


def show_ratios(found: dict[str, float], backends: int) -> None:
    one, many = found["throughput_1"], found["throughput_n_vs_n_x_direct_1"]
    print(
        f"  throughput, service on 1 / direct on 1: {one:.3f}"
        f" (target >= 0.98: {stats.verdict(one >= 0.98)});"
        f" busy-fraction ratio {found['busy_1']:.3f}"
    )
    print(
        f"  throughput, service on {backends} / ({backends} x direct on 1): {many:.3f}"
        f" (target >= 0.95: {stats.verdict(many >= 0.95)});"
        f" service on {backends} / direct on {backends}: {found['throughput_n_vs_direct_n']:.3f};"
        f" busy-fraction ratio {found['busy_n']:.3f}"
    )


async def one_round(
    work: Path,
    processes: Sequence[EmulatorProcess],
    png: bytes,
    config: BusyConfig,
    floor_first: bool = False,
) -> dict[str, Timeline]:
    """Direct, then the service and (on 1 backend) the task floor, the floor first when
    `floor_first` (rounds alternate, so a drift of the machine's load favours neither)."""
    runs: dict[str, Timeline] = {}
    for count in sorted({1, config.backends}):  # once when --backends is 1
        chosen = processes[:count]
        runs[f"direct-{count}"] = await direct_run(chosen, png, config)
        show(f"direct, {count} backend(s)", runs[f"direct-{count}"])
        with_floor = count == 1 and config.floor
        if with_floor and floor_first:
            await run_floor(work, chosen, png, config, runs)
        runs[f"service-{count}"] = await service_run(work, chosen, png, config)
        show(f"through the service, {count}", runs[f"service-{count}"])
        if with_floor and not floor_first:
            await run_floor(work, chosen, png, config, runs)
        if with_floor:
            show_floor(floor_figures(runs))
    return runs


async def run_floor(
    work: Path,
    processes: Sequence[EmulatorProcess],
    png: bytes,
    config: BusyConfig,
    runs: dict[str, Timeline],
) -> None:
    runs["floor-1"] = await floor_run(work, processes, png, config)
    show("task floor (minimal service, same stack), 1", runs["floor-1"])


def floor_figures(runs: dict[str, Timeline]) -> dict[str, float]:
    """The service's CPU per task on 1 backend beside the task floor's, from one round."""
    service = runs["service-1"].report()
    floor = runs["floor-1"].report()
    service_ms, floor_ms = service["service_cpu_ms_per_task"], floor["service_cpu_ms_per_task"]
    direct = runs["direct-1"].throughput
    return {
        "service_ms_per_task": service_ms,
        "floor_ms_per_task": floor_ms,
        "ratio": stats.ratio(service_ms, floor_ms),
        # GPU busy on 1 backend of the minimal service: the same figure's floor on this machine.
        "service_throughput_1": stats.ratio(runs["service-1"].throughput, direct),
        "floor_throughput_1": stats.ratio(runs["floor-1"].throughput, direct),
        "service_database_ms_per_task": service["database_cpu_ms_per_task"],
        "floor_database_ms_per_task": floor["database_cpu_ms_per_task"],
    }


def show_floor(found: dict[str, float], label: str = "service CPU per task") -> None:
    print(
        f"  {label}: {found['service_ms_per_task']:.1f} ms"
        f" vs floor {found['floor_ms_per_task']:.1f} ms (S/F = {found['ratio']:.2f});"
        f" PostgreSQL sessions {found['service_database_ms_per_task']:.1f}"
        f" vs {found['floor_database_ms_per_task']:.1f} ms"
        f" (target <= {SERVICE_CPU_TARGET_MS:.0f} ms:"
        f" {stats.verdict(found['service_ms_per_task'] <= SERVICE_CPU_TARGET_MS)});"
        f" throughput of direct on 1: service {found['service_throughput_1']:.3f},"
        f" floor {found['floor_throughput_1']:.3f}"
    )


async def gpu_busy(config: BusyConfig) -> dict[str, Any]:
    print(
        f"gpu busy: {config.prompts} prompts of {config.steps} steps x {config.step_seconds}s,"
        f" 1 and {config.backends} backends, {config.image} reference image,"
        f" {config.rounds} round(s), emulator steps {'sleep' if config.sleep_steps else 'burn'}"
    )
    png = reference_png(config.image)
    rounds: list[dict[str, Timeline]] = []
    with workspace("gpu") as work:
        async with emulators(work, config.backends, config) as processes:
            warm_up = BusyConfig(prompts=len(processes), steps=config.steps)
            await direct_run(processes, png, warm_up)  # first-prompt costs out of the way
            for number in range(config.rounds):
                rounds.append(await one_round(work, processes, png, config, number % 2 == 1))
    found = median_ratios([ratios(runs, config.backends) for runs in rounds])
    show_ratios(found, config.backends)
    show_cpu_budget(rounds[-1], config.backends)
    report: dict[str, Any] = {
        "rounds": [{name: t.report() for name, t in runs.items()} for runs in rounds],
        "ratios": found,
        "config": config.__dict__,
    }
    if config.floor:
        per_round = [floor_figures(runs) for runs in rounds]
        report["floor"] = {"rounds": per_round, "median": median_ratios(per_round)}
        if len(rounds) > 1:
            show_floor(report["floor"]["median"], "median of the rounds, service CPU per task")
    save_report("gpu_busy", report)
    return report


def parse_args(argv: list[str] | None = None) -> BusyConfig:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prompts", type=int, default=100)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--step-seconds", type=float, default=0.02)
    parser.add_argument("--backends", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2, help="alternating direct/service runs")
    parser.add_argument("--image", choices=["flat", "photo"], default="flat")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="py-spy the service runs on --backends backends, and the task floor's",
    )
    parser.add_argument(
        "--no-floor", action="store_true", help="skip the task floor (bench/task_floor.py)"
    )
    parser.add_argument(
        "--burn-steps",
        action="store_true",
        help="emulators without --sleep-steps (previews blended at full size after each step)",
    )
    args = parser.parse_args(argv)
    return BusyConfig(
        prompts=args.prompts,
        steps=args.steps,
        step_seconds=args.step_seconds,
        backends=args.backends,
        rounds=args.rounds,
        image=args.image,
        profile=args.profile,
        sleep_steps=not args.burn_steps,
        floor=not args.no_floor,
    )


def main(argv: list[str] | None = None) -> None:
    run(gpu_busy(parse_args(argv)))


if __name__ == "__main__":
    main()
