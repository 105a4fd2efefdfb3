"""Relay latency: from the emulator sending the first frame of a sampler step to a
`taskProgress` subscriber receiving that step, against a raw ComfyUI client receiving the same
frame. A step's first frame is its `progress_state`, which ComfyUI sends before the step's
preview and its `progress` frame (it encodes the preview between them). The emulator here
sleeps its steps and renders each preview halfway through one, as a GPU host's work stays off
this machine's cores, so it sends the three frames back to back; each run prints how far ahead
of `progress` the first one came.

The emulator runs in this process and its frames are stamped as it sends them; the service runs
in a child process (`kontext serve`) on PostgreSQL; subscribers (one websocket each, like browser
tabs) and the raw client live here. ComfyUI sends a prompt's events only to the socket of the
client id that queued it, so the baseline queues an identical prompt with the raw client's id.

At each level the **floor** runs as a phase alternating with the service (`bench/relay_floor.py`,
unless `--no-floor`): a minimal relay on the same server stack, no GraphQL, no database, its
own ComfyUI client id, writing one relay-sized frame to each of as many subscribers (connected
and stamped as the service's) for every step, from the step's first frame as the service does.
Its added latency over the same baseline is the least any relaying service on this stack adds;
the service's is printed beside it with their ratio.

`--replicas 2` starts a second `kontext serve` on the same database with dispatch off (no
backend: it only relays what the first publishes through PostgreSQL NOTIFY) and connects the
subscribers to it. `--client-processes N` spreads the subscriber sockets over N worker
processes (`bench/subscriber_pool.py`) when one process cannot receive every frame in time.

    python -m bench.relay_latency [--subscribers 1 100 1000] [--steps 20] [--step-seconds 0.25]
        [--replicas 1|2] [--client-processes 0] [--no-floor]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx

from bench import stats
from bench.database import bench_database_url, fresh_database
from bench.emulation import (
    SERVICE_CLIENT_ID,
    DirectPrompts,
    RecordingHub,
    SentFrame,
    progress_stamps,
    record_frames,
    step_stamps,
)
from bench.pictures import photo_png
from bench.processes import ChildServer, api_server, cpu_seconds, peak_rss_bytes
from bench.profiling import Profiler
from bench.relay_analysis import StepArrival, step_arrivals, step_in, subscriber_delays
from bench.relay_floor import FLOOR_CLIENT_ID, floor_server
from bench.runner import run, save_report, workspace
from bench.service import PROGRESS, Service
from bench.stamped_ws import (
    StampedConnection,
    collector_paused,
    open_comfyui,
    open_graphql,
    subscribe,
)
from bench.subscriber_pool import PoolResult, subscriber_pool
from bench.waiting import poll_until
from comfy.client import ComfyClient
from comfy.emulator import EmulatorConfig, RunningEmulator, running_emulator

BLOCKER_STEPS = 10_000
CONNECT_CONCURRENCY = 50


@dataclass(frozen=True)
class RelayConfig:
    subscribers: tuple[int, ...] = (1, 100, 1000)
    steps: int = 20
    step_seconds: float = 0.25
    tasks: int = 3
    baseline_prompts: int = 3
    profile: bool = False
    replicas: int = 1
    client_processes: int = 0
    floor: bool = True


@dataclass
class Rig:
    """Everything a measurement touches, opened once."""

    config: RelayConfig
    emulator: RunningEmulator
    recorder: RecordingHub
    api: ChildServer
    relay: ChildServer | None
    service: Service
    direct: DirectPrompts
    blocker: DirectPrompts
    floor: ChildServer | None = None
    floor_prompts: DirectPrompts | None = None
    image_id: str = ""
    profiler: Profiler = field(default_factory=Profiler)

    @property
    def queue(self) -> Any:
        return self.emulator.state.session.queue

    @property
    def subscriber_server(self) -> ChildServer:
        """Where subscribers connect: the relaying replica when there is one."""
        return self.relay or self.api

    def cpu_seconds(self) -> tuple[float, float]:
        """CPU used so far by the dispatching replica and by the relaying one (0 if none)."""
        relay = cpu_seconds(self.relay.pid) if self.relay else 0.0
        return cpu_seconds(self.api.pid), relay


@dataclass
class LevelResult:
    delays: list[float] = field(default_factory=list)
    after_preview: list[float] = field(default_factory=list)
    ahead_of_progress: list[float] = field(default_factory=list)
    """Per step: from its first frame's send to its `progress` frame's."""
    missing_steps: int = 0
    missing_by_step: Counter[int] = field(default_factory=Counter)
    by_step: dict[int, list[float]] = field(default_factory=dict)
    stuck_subscribers: int = 0
    api_cpu_seconds: float = 0.0
    relay_cpu_seconds: float = 0.0
    client_cpu_seconds: float = 0.0
    wall_seconds: float = 0.0
    subscriber_server_peak_rss: int = 0


def finished(connection: StampedConnection, prompt_id: str) -> bool:
    marker = prompt_id.encode()
    return any(b'"execution_success"' in raw and marker in raw for _, raw in connection.frames)


async def baseline_delays(rig: Rig, raw: StampedConnection) -> list[float]:
    """Per step: emulator send -> raw client arrival of the step's first frame, for one prompt
    queued with its id."""
    raw.frames.clear()
    rig.recorder.take()
    with collector_paused():
        prompt_id = await rig.direct.queue(steps=rig.config.steps)
        await poll_until(lambda: finished(raw, prompt_id), within=60 + 2 * rig.config.steps)
    sampler = rig.direct.template.sampler_node
    sent = step_stamps(rig.recorder.take(), rig.direct.client.client_id, sampler)
    arrived: dict[int, float] = {}
    for stamp, message in raw.decoded():
        data = message.get("data", {})
        step = step_in(str(message.get("type")), data, sampler)
        if step is not None and data.get("prompt_id") == prompt_id:
            arrived.setdefault(step[0], stamp)
    return [stamp - sent[(prompt_id, step)] for step, stamp in arrived.items()]


class SubscriberGroup(Protocol):
    async def results(self, within: float) -> PoolResult:
        """Each subscriber's step arrivals once `complete` reached it (or `within` seconds passed)."""
        ...


class InProcessSubscribers:
    """Subscriber sockets in this process (up to about a thousand receive in time)."""

    def __init__(self, connections: list[StampedConnection]) -> None:
        self.connections = connections

    async def results(self, within: float) -> PoolResult:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                await asyncio.gather(*(c.all_complete.wait() for c in self.connections))
        return PoolResult(
            arrivals=[step_arrivals(c.frames) for c in self.connections],
            complete=sum(1 for c in self.connections if c.all_complete.is_set()),
        )


@contextlib.asynccontextmanager
async def in_process_subscribers(
    url: str, task_id: str, count: int
) -> AsyncIterator[InProcessSubscribers]:
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    opened: list[StampedConnection] = []

    async def one() -> None:
        async with gate:
            connection = await open_graphql(url)
            opened.append(connection)
            connection.capture(expected_completes=1)
            await subscribe(connection, PROGRESS, id=task_id)

    try:
        await asyncio.gather(*(one() for _ in range(count)))
        await poll_until(lambda: all(c.frames for c in opened), within=120, every=0.05)
        yield InProcessSubscribers(opened)
    finally:
        await asyncio.gather(*(c.close() for c in opened), return_exceptions=True)


@contextlib.asynccontextmanager
async def subscribers(
    rig: Rig, task_id: str, count: int, within: float, server: ChildServer | None = None
) -> AsyncIterator[SubscriberGroup]:
    """`count` subscribers of `task_id`, each past its SNAPSHOT, here or in worker processes,
    on `server` (by default where the service's subscribers connect)."""
    url = (server or rig.subscriber_server).url
    if rig.config.client_processes:
        processes = rig.config.client_processes
        async with subscriber_pool(url, task_id, count, processes, within) as pool:
            yield pool
    else:
        async with in_process_subscribers(url, task_id, count) as here:
            yield here


async def held_task(rig: Rig) -> tuple[str, str]:
    """A service task queued inside the emulator behind a long blocker prompt (so subscribers
    can join before its first step); returns (task id, blocker prompt id)."""
    blocker = await rig.blocker.queue(steps=BLOCKER_STEPS)
    await poll_until(lambda: rig.queue.is_running(blocker), within=30)
    task_id = await rig.service.generate(rig.image_id, steps=rig.config.steps)
    await poll_until(lambda: len(rig.queue.pending()) >= 1, within=30)
    return task_id, blocker


def service_steps(
    frames: list[SentFrame], sampler_node: str, result: LevelResult
) -> dict[int, float]:
    """Step -> when the emulator sent the step's first frame to the service, whose client id is
    its prefix followed by this host, the process and a random part (comfy/client_ids.py); each
    step's lead over its `progress` frame goes to `result`."""
    sids = {f.sid for f in frames if f.sid and f.sid.startswith(f"{SERVICE_CLIENT_ID}-")}
    steps: dict[int, float] = {}
    for sid in sids:
        first = step_stamps(frames, sid, sampler_node)
        for key, stamp in progress_stamps(frames, sid).items():
            if key in first:
                result.ahead_of_progress.append(stamp - first[key])
        steps.update({step: stamp for (_, step), stamp in first.items()})
    return steps


async def measure_task(rig: Rig, count: int, result: LevelResult) -> None:
    task_id, blocker = await held_task(rig)
    timeout = 120 + rig.config.steps * rig.config.step_seconds * 4
    async with subscribers(rig, task_id, count, timeout) as group:
        rig.recorder.take()
        api_before, relay_before = rig.cpu_seconds()
        started = time.monotonic()
        with collector_paused():
            await rig.blocker.client.interrupt(blocker)
            received: PoolResult = await group.results(timeout + 60)
        result.wall_seconds += time.monotonic() - started
        api_after, relay_after = rig.cpu_seconds()
        result.api_cpu_seconds += api_after - api_before
        result.relay_cpu_seconds += relay_after - relay_before
        result.client_cpu_seconds += received.worker_cpu_seconds
        peak = peak_rss_bytes(rig.subscriber_server.pid)
        result.subscriber_server_peak_rss = max(result.subscriber_server_peak_rss, peak)
    by_step = service_steps(rig.recorder.take(), rig.direct.template.sampler_node, result)
    result.stuck_subscribers += count - received.complete
    for arrivals in received.arrivals:
        add_subscriber(result, arrivals, by_step)


async def measure_floor_task(rig: Rig, count: int, result: LevelResult) -> None:
    """As `measure_task`, with the minimal relay in place of the service: its prompt (queued
    with the relay's client id) held behind the blocker until every subscriber is in."""
    assert rig.floor is not None
    assert rig.floor_prompts is not None
    blocker = await rig.blocker.queue(steps=BLOCKER_STEPS)
    await poll_until(lambda: rig.queue.is_running(blocker), within=30)
    prompt_id = await rig.floor_prompts.queue(steps=rig.config.steps)
    await poll_until(lambda: len(rig.queue.pending()) >= 1, within=30)
    timeout = 120 + rig.config.steps * rig.config.step_seconds * 4
    async with subscribers(rig, prompt_id, count, timeout, server=rig.floor) as group:
        rig.recorder.take()
        floor_before = cpu_seconds(rig.floor.pid)
        started = time.monotonic()
        with collector_paused():
            await rig.blocker.client.interrupt(blocker)
            received: PoolResult = await group.results(timeout + 60)
        result.wall_seconds += time.monotonic() - started
        result.api_cpu_seconds += cpu_seconds(rig.floor.pid) - floor_before
        result.client_cpu_seconds += received.worker_cpu_seconds
        peak = peak_rss_bytes(rig.floor.pid)
        result.subscriber_server_peak_rss = max(result.subscriber_server_peak_rss, peak)
    sent = step_stamps(rig.recorder.take(), FLOOR_CLIENT_ID, rig.direct.template.sampler_node)
    by_step = {step: stamp for (prompt, step), stamp in sent.items() if prompt == prompt_id}
    result.stuck_subscribers += count - received.complete
    for arrivals in received.arrivals:
        add_subscriber(result, arrivals, by_step)


def add_subscriber(
    result: LevelResult, arrivals: list[StepArrival], by_step: dict[int, float]
) -> None:
    delays = subscriber_delays(arrivals, by_step)
    result.delays.extend(delays.plain + delays.after_preview)
    result.after_preview.extend(delays.after_preview)
    for arrival in arrivals:
        if arrival.step in by_step:
            result.by_step.setdefault(arrival.step, []).append(
                arrival.stamp - by_step[arrival.step]
            )
    missing = by_step.keys() - {arrival.step for arrival in arrivals}
    result.missing_steps += len(missing)
    result.missing_by_step.update(missing)


async def measure_level(rig: Rig, count: int) -> tuple[LevelResult, LevelResult | None]:
    """The service's figures at `count` subscribers, and the floor's, task by task in turn."""
    result = LevelResult()
    floor = LevelResult() if rig.floor is not None else None
    tasks = rig.config.tasks if count < 1000 else max(1, rig.config.tasks // 2)
    profiled = rig.config.profile and count == max(rig.config.subscribers)
    for _ in range(tasks):
        if floor is not None:
            assert rig.floor is not None
            async with sampled(rig, profiled, rig.floor.pid, f"relay-floor-{count}"):
                await measure_floor_task(rig, count, floor)
        async with sampled(rig, profiled, rig.api.pid, f"relay-{count}"):
            await measure_task(rig, count, result)
    return result, floor


def sampled(
    rig: Rig, profiled: bool, pid: int, name: str
) -> contextlib.AbstractAsyncContextManager[None]:
    """py-spy on `pid` while the block runs, at the profiled level (the floor's and the
    service's, so where each spends its time reads side by side)."""
    return rig.profiler.recording(pid, name) if profiled else contextlib.nullcontext()


def level_report(
    count: int, level: LevelResult, base: stats.Summary, replicas: int
) -> dict[str, Any]:
    summary = stats.summarize(level.delays)
    added_p50, added_p99 = summary.p50 - base.p50, summary.p99 - base.p99
    return {
        "subscribers": count,
        "replicas": replicas,
        "delay": summary.as_dict(),
        "added_p50_s": added_p50,
        "added_p99_s": added_p99,
        "p50_ratio": stats.ratio(summary.p50, base.p50),
        "p99_ratio": stats.ratio(summary.p99, base.p99),
        "after_preview": stats.summarize(level.after_preview).as_dict(),
        "ahead_of_progress": stats.summarize(level.ahead_of_progress).as_dict(),
        "missing_steps": level.missing_steps,
        "missing_by_step": {str(step): n for step, n in sorted(level.missing_by_step.items())},
        "p50_by_step_s": {
            str(step): stats.percentile(delays, 0.5)
            for step, delays in sorted(level.by_step.items())
        },
        "stuck_subscribers": level.stuck_subscribers,
        "api_cpu_seconds": level.api_cpu_seconds,
        "relay_cpu_seconds": level.relay_cpu_seconds,
        "client_cpu_seconds": level.client_cpu_seconds,
        "wall_seconds": level.wall_seconds,
        "subscriber_server_peak_rss": level.subscriber_server_peak_rss,
    }


def targets_met(level: dict[str, Any]) -> bool | None:
    count, p50, p99 = level["subscribers"], level["added_p50_s"], level["added_p99_s"]
    if level.get("replicas", 1) != 1:
        return None
    if count == 100:
        return bool(p50 <= 0.001 and p99 <= 0.005)
    if count == 1000:
        return bool(p99 <= 0.025)
    if count == 10_000:
        return bool(p99 <= 0.100)
    return None


def cpu_line(level: dict[str, Any]) -> str:
    parts = [f"service CPU {level['api_cpu_seconds']:.2f}s"]
    if level.get("replicas", 1) > 1:
        parts.append(f"relaying replica CPU {level['relay_cpu_seconds']:.2f}s")
    if level.get("client_cpu_seconds"):
        parts.append(f"subscriber workers CPU {level['client_cpu_seconds']:.2f}s")
    parts.append(f"over {level['wall_seconds']:.1f}s")
    peak_mib = level["subscriber_server_peak_rss"] / 2**20
    parts.append(f"peak RSS of the subscribers' replica {peak_mib:.0f} MiB")
    return ", ".join(parts)


def print_floor(level: dict[str, Any], floor: dict[str, Any]) -> None:
    """The floor's line under the service's level: its added latency and the service's ratio."""
    delay = floor["delay"]
    print(
        f"        floor (minimal relay, same stack): delay p50 {stats.ms(delay['p50'])}"
        f" p99 {stats.ms(delay['p99'])} -> added p50 {stats.ms(floor['added_p50_s'])}"
        f" p99 {stats.ms(floor['added_p99_s'])}  (samples {delay['count']},"
        f" merged steps {floor['missing_steps']}, stuck {floor['stuck_subscribers']},"
        f" CPU {floor['api_cpu_seconds']:.2f}s)"
    )
    print(
        f"        service added / floor added: p50 x{level['added_over_floor_p50']:.1f},"
        f" p99 x{level['added_over_floor_p99']:.1f}"
    )


def with_floor(level: dict[str, Any], floor: dict[str, Any]) -> dict[str, Any]:
    """The service's level report with the floor's beside it and the ratios of added latency."""
    level["floor"] = floor
    level["added_over_floor_p50"] = stats.ratio(level["added_p50_s"], floor["added_p50_s"])
    level["added_over_floor_p99"] = stats.ratio(level["added_p99_s"], floor["added_p99_s"])
    return level


def print_level(level: dict[str, Any]) -> None:
    delay, met = level["delay"], targets_met(level)
    print(
        f"  {level['subscribers']:>5} subscribers: delay p50 {stats.ms(delay['p50'])}"
        f" p99 {stats.ms(delay['p99'])} -> added p50 {stats.ms(level['added_p50_s'])}"
        f" p99 {stats.ms(level['added_p99_s'])}; x{level['p50_ratio']:.1f} p50,"
        f" x{level['p99_ratio']:.1f} p99 of baseline  (samples {delay['count']},"
        f" merged steps {level['missing_steps']}, stuck subscribers {level['stuck_subscribers']})"
        + ("" if met is None else f"  target {stats.verdict(met)}")
    )
    slowest = sorted(level["p50_by_step_s"].items(), key=lambda item: -item[1])[:3]
    print("        slowest steps (p50): " + ", ".join(f"{s} {stats.ms(d)}" for s, d in slowest))
    if level["missing_by_step"]:
        merged = ", ".join(f"step {step}: {n}" for step, n in level["missing_by_step"].items())
        print(f"        merged (subscribers that never saw the step): {merged}")
    preview = level["after_preview"]
    print(
        f"        steps right after a stored preview: p50 {stats.ms(preview['p50'])}"
        f" (samples {preview['count']}); {cpu_line(level)}"
    )
    ahead = level["ahead_of_progress"]
    if ahead["count"]:
        print(
            f"        each step's first frame (progress_state) was sent ahead of its progress"
            f" frame by p50 {stats.ms(ahead['p50'])}, p99 {stats.ms(ahead['p99'])}"
        )


async def measure(rig: Rig) -> dict[str, Any]:
    raw = await open_comfyui(rig.emulator.ws_url, rig.direct.client.client_id)
    try:
        base: list[float] = []
        levels = []
        for count in rig.config.subscribers:
            for _ in range(max(1, rig.config.baseline_prompts // len(rig.config.subscribers))):
                base.extend(await baseline_delays(rig, raw))
            levels.append((count, await measure_level(rig, count)))
        for _ in range(max(1, rig.config.baseline_prompts // 2)):
            base.extend(await baseline_delays(rig, raw))
    finally:
        await raw.close()
    base_summary = stats.summarize(base)
    print(
        f"  baseline (raw ComfyUI client): delay p50 {stats.ms(base_summary.p50)}"
        f" p99 {stats.ms(base_summary.p99)} (samples {base_summary.count})"
    )
    replicas = rig.config.replicas
    reports = []
    for count, (level, floor) in levels:
        report = level_report(count, level, base_summary, replicas)
        if floor is not None:
            report = with_floor(report, level_report(count, floor, base_summary, 1))
        reports.append(report)
    for report in reports:
        print_level(report)
        if "floor" in report:
            print_floor(report, report["floor"])
    return {"baseline": base_summary.as_dict(), "levels": reports}


async def warm_up(rig: Rig) -> None:
    """One short task end to end, so first-use costs stay out of the figures."""
    png = photo_png(1024, 1024)
    rig.image_id = await rig.service.upload_image(png)
    await rig.direct.upload(png)
    await rig.blocker.upload(png)
    if rig.floor_prompts is not None:
        await rig.floor_prompts.upload(png)
    await rig.service.generate(rig.image_id, steps=2)
    await rig.service.wait_finished(1, within=60)


@contextlib.asynccontextmanager
async def relaying_replica(
    work: Path, config: RelayConfig, database_url: str
) -> AsyncIterator[ChildServer | None]:
    """With two replicas: a second `kontext serve` on the same database and files, dispatch off
    and no backend, so every event it relays has come through PostgreSQL NOTIFY."""
    if config.replicas < 2:
        yield None
        return
    async with api_server(
        work,
        database_url=database_url,
        name="relay",
        storage_dir=work / "api-files",
        dispatch="false",
        migrate_on_start="false",
    ) as relay:
        yield relay


@contextlib.asynccontextmanager
async def floor_relay(
    work: Path, config: RelayConfig, emulator: RunningEmulator
) -> AsyncIterator[tuple[ChildServer, DirectPrompts] | None]:
    """The minimal relay and a client queueing prompts under its client id (None: no floor)."""
    if not config.floor:
        yield None
        return
    async with (
        floor_server(work, emulator.ws_url) as server,
        ComfyClient(emulator.url, client_id=FLOOR_CLIENT_ID) as client,
    ):
        yield server, DirectPrompts(client)


async def relay_latency(config: RelayConfig) -> dict[str, Any]:
    print(
        f"relay latency: {config.steps} steps x {config.step_seconds}s, {config.tasks} task(s)"
        f" per level, subscribers {list(config.subscribers)}, {config.replicas} replica(s)"
        + (
            f", subscribers in {config.client_processes} worker processes"
            if config.client_processes
            else ""
        )
    )
    database_url = bench_database_url()
    await fresh_database(database_url)
    with workspace("relay") as work:
        async with (
            running_emulator(
                EmulatorConfig(step_seconds=config.step_seconds, sleep_steps=True)
            ) as emulator,
            api_server(
                work, database_url=database_url, ready_path="/readyz", comfyui_urls=emulator.url
            ) as api,
            relaying_replica(work, config, database_url) as relay,
            httpx.AsyncClient(base_url=api.url, timeout=60) as http,
            ComfyClient(emulator.url, client_id="bench-raw") as raw_client,
            ComfyClient(emulator.url, client_id="bench-blocker") as blocker_client,
            floor_relay(work, config, emulator) as floor,
        ):
            rig = Rig(
                config=config,
                emulator=emulator,
                recorder=record_frames(emulator.state),
                api=api,
                relay=relay,
                service=Service(http),
                direct=DirectPrompts(raw_client),
                blocker=DirectPrompts(blocker_client),
                floor=floor[0] if floor else None,
                floor_prompts=floor[1] if floor else None,
            )
            await warm_up(rig)
            report = await measure(rig)
    report["config"] = config.__dict__
    save_report("relay_latency", report)
    return report


def parse_args(argv: list[str] | None = None) -> RelayConfig:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, nargs="+", default=[1, 100, 1000])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--step-seconds", type=float, default=0.25)
    parser.add_argument("--tasks", type=int, default=5, help="tasks per level (half at 1000+)")
    parser.add_argument("--baseline-prompts", type=int, default=6)
    parser.add_argument("--profile", action="store_true", help="py-spy the largest level")
    parser.add_argument(
        "--replicas",
        type=int,
        choices=(1, 2),
        default=1,
        help="2: subscribers on a second replica that only relays (PostgreSQL NOTIFY)",
    )
    parser.add_argument(
        "--client-processes",
        type=int,
        default=0,
        help="spread subscriber sockets over this many worker processes (0: this process)",
    )
    parser.add_argument(
        "--no-floor",
        action="store_true",
        help="skip the minimal relay's phase (bench/relay_floor.py) at each level",
    )
    args = parser.parse_args(argv)
    return RelayConfig(
        subscribers=tuple(args.subscribers),
        steps=args.steps,
        step_seconds=args.step_seconds,
        tasks=args.tasks,
        baseline_prompts=args.baseline_prompts,
        profile=args.profile,
        replicas=args.replicas,
        client_processes=args.client_processes,
        floor=not args.no_floor,
    )


def main(argv: list[str] | None = None) -> None:
    run(relay_latency(parse_args(argv)))


if __name__ == "__main__":
    main()
