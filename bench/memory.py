"""Memory of the service process (a child, so its RSS is its own, read from /proc/<pid>/status):

1. idle `taskProgress` subscriptions: RSS with 1,000 and 10,000 of them, per subscription.
   graphql-transport-ws multiplexes; the service keeps Strawberry's default limit of 100
   operations per connection, so each client connection carries 100 subscriptions.
2. peak RSS while a task whose output is a 24-megapixel PNG finishes. The emulator's
   FluxKontextImageScale always yields ~1 MP, so when the emulator reports the SaveImage output
   (its `executed` frame, stamped in this process before it is sent) the file on its disk is
   swapped for a 6000x4000 photo-like PNG: the service downloads, stores and thumbnails that.

    python -m bench.memory [--subscriptions 1000 10000] [--per-connection 100]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench import stats
from bench.database import bench_database_url, fresh_database
from bench.emulation import RecordingHub, SentFrame, record_frames
from bench.pictures import cached_photo_png, photo_png
from bench.processes import (
    ChildServer,
    api_server,
    peak_rss_bytes,
    reset_peak_rss,
    rss_bytes,
)
from bench.runner import run, save_report, workspace
from bench.service import GENERATE, PROGRESS, Service
from bench.stamped_ws import StampedConnection, open_graphql, subscribe
from bench.waiting import poll_until
from comfy.emulator import EmulatorConfig, running_emulator

KIB = 1024
MIB = 1024 * 1024
SETTLE_SECONDS = 2.0
OUTPUT_NODE = "136"
BIG_SIZE = (6000, 4000)


@dataclass(frozen=True)
class MemoryConfig:
    subscriptions: tuple[int, ...] = (1000, 10_000)
    per_connection: int = 100
    tasks: int = 10
    big_output: bool = True


async def pending_tasks(service: Service, count: int) -> list[str]:
    """Tasks that stay PENDING (dispatch is off), for subscriptions to watch."""
    image = {"base64": base64.b64encode(photo_png(96, 64)).decode()}
    ids = []
    for _ in range(count):
        data = await service.execute(
            GENERATE, input={"referenceImage": image, "description": "make it red"}
        )
        ids.append(str(data["generateImage"]["task"]["id"]))
    return ids


async def open_subscriptions(
    api: ChildServer, task_ids: list[str], count: int, per_connection: int
) -> list[StampedConnection]:
    connections: list[StampedConnection] = []
    remaining = count
    while remaining > 0:
        batch = min(per_connection, remaining)
        connection = await open_graphql(api.url)
        connection.capture()
        connections.append(connection)
        for index in range(batch):
            await subscribe(
                connection, PROGRESS, id=task_ids[(count - remaining + index) % len(task_ids)]
            )
        remaining -= batch
    await poll_until(
        lambda: sum(len(c.frames) for c in connections) >= count, within=300, every=0.1
    )
    refused = [raw for c in connections for _, raw in c.frames if b'"type":"error"' in raw]
    if refused:
        raise RuntimeError(f"{len(refused)} subscription(s) refused: {refused[0][:200]!r}")
    return connections


async def settled_rss(pid: int) -> int:
    await asyncio.sleep(SETTLE_SECONDS)
    return rss_bytes(pid)


async def idle_subscriptions(work: Path, config: MemoryConfig) -> dict[str, Any]:
    database_url = bench_database_url()
    await fresh_database(database_url)
    levels = []
    async with (
        api_server(work, database_url=database_url, dispatch="false", name="api-idle") as api,
        httpx.AsyncClient(base_url=api.url, timeout=60) as http,
    ):
        task_ids = await pending_tasks(Service(http), config.tasks)
        warm = await open_subscriptions(api, task_ids, 1, 1)  # first-use costs out
        idle = await settled_rss(api.pid)
        opened: list[StampedConnection] = []
        current = 0
        try:
            for target in sorted(config.subscriptions):
                more = target - current
                opened += await open_subscriptions(api, task_ids, more, config.per_connection)
                current = target
                rss = await settled_rss(api.pid)
                levels.append(level_report(target, idle, rss, len(opened)))
        finally:
            await asyncio.gather(*(c.close() for c in opened + warm), return_exceptions=True)
    return {"idle_rss_bytes": idle, "levels": levels}


def level_report(count: int, idle: int, rss: int, connections: int) -> dict[str, Any]:
    per = (rss - idle) / count
    print(
        f"  {count:>6} idle subscriptions on {connections} connections: RSS"
        f" {rss / MIB:.1f} MiB (idle process {idle / MIB:.1f} MiB) ->"
        f" {per / KIB:.1f} KiB per subscription (target <= 30 KB:"
        f" {stats.verdict(per <= 30 * 1000)})"
    )
    return {"subscriptions": count, "rss_bytes": rss, "per_subscription_bytes": per}


class OutputSwap:
    """When the emulator reports the SaveImage output, the file it names is replaced."""

    def __init__(self, recorder: RecordingHub, output_dir: Path, replacement: Path) -> None:
        self.output_dir = output_dir
        self.replacement = replacement
        self.swapped = asyncio.Event()
        recorder.listeners.append(self)

    def __call__(self, frame: SentFrame) -> None:
        if frame.kind != "executed" or frame.data.get("node") != OUTPUT_NODE:
            return
        if self.swapped.is_set() or not self.replacement.exists():
            return
        saved = (frame.data.get("output") or {}).get("images", [{}])[0]
        target = self.output_dir / saved.get("subfolder", "") / saved["filename"]
        os.replace(self.replacement, target)  # a rename: instant, before the frame is sent
        self.swapped.set()


async def sample_peak(pid: int, peak: list[int]) -> None:
    """RSS every 5 ms (a cross-check of VmHWM, and the figure where clear_refs is refused)."""
    while True:
        peak[0] = max(peak[0], rss_bytes(pid))
        await asyncio.sleep(0.005)


RESULT = "query($id: ID!) { task(id: $id) { status result { width height bytes } } }"


async def finish_big_output(
    service: Service, api: ChildServer, image_id: str, swap: OutputSwap
) -> dict[str, Any]:
    idle = await settled_rss(api.pid)
    reset = reset_peak_rss(api.pid)
    sampled = [idle]
    sampler = asyncio.create_task(sample_peak(api.pid, sampled))
    try:
        task_id = await service.generate(image_id, steps=2)
        await service.wait_finished(2, within=300)
    finally:
        sampler.cancel()
        await asyncio.gather(sampler, return_exceptions=True)
    task = (await service.execute(RESULT, id=task_id))["task"]
    if not swap.swapped.is_set() or task["status"] != "COMPLETED":
        raise RuntimeError(f"the 24 MP output was not produced: {task}")
    peak = max(peak_rss_bytes(api.pid), sampled[0]) if reset else sampled[0]
    return {"idle_rss_bytes": idle, "peak_rss_bytes": peak, "vmhwm_reset": reset,
            "sampled_peak_bytes": sampled[0], "result": task["result"]}  # fmt: skip


async def big_output(work: Path) -> dict[str, Any]:
    source = await asyncio.to_thread(cached_photo_png, *BIG_SIZE)
    size = source.stat().st_size
    database_url = bench_database_url()
    await fresh_database(database_url)
    async with (
        running_emulator(EmulatorConfig(step_seconds=0.05)) as emulator,
        api_server(
            work,
            database_url=database_url,
            ready_path="/readyz",
            name="api-big",
            comfyui_urls=emulator.url,
        ) as api,  # fmt: skip
        httpx.AsyncClient(base_url=api.url, timeout=60) as http,
    ):
        recorder = record_frames(emulator.state)
        service = Service(http)
        image_id = await service.upload_image(photo_png(1024, 1024))
        await service.generate(image_id, steps=2)  # warm-up: an ordinary task end to end
        await service.wait_finished(1, within=120)
        ready = work / "big-ready.png"
        await asyncio.to_thread(shutil.copyfile, source, ready)
        swap = OutputSwap(recorder, emulator.state.files.folder("output"), ready)
        found = await finish_big_output(service, api, image_id, swap)
    above = found["peak_rss_bytes"] - found["idle_rss_bytes"]
    ratio = above / size
    result = found["result"]
    print(
        f"  {result['width']}x{result['height']} output PNG of {size / MIB:.1f} MiB: peak RSS"
        f" {found['peak_rss_bytes'] / MIB:.1f} MiB, {above / MIB:.1f} MiB above the idle process"
        f" = {ratio:.2f} x the file (target <= 2: {stats.verdict(ratio <= 2)})"
    )
    return {**found, "file_bytes": size, "above_idle_bytes": above, "ratio_to_file": ratio}


async def memory(config: MemoryConfig) -> dict[str, Any]:
    print(
        f"memory: idle subscriptions {list(config.subscriptions)}"
        f" ({config.per_connection} per connection), then a 24 MP output"
    )
    with workspace("memory") as work:
        report: dict[str, Any] = {"subscriptions": await idle_subscriptions(work, config)}
        if config.big_output:
            report["big_output"] = await big_output(work)
    report["config"] = config.__dict__
    save_report("memory", report)
    return report


def parse_args(argv: list[str] | None = None) -> MemoryConfig:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscriptions", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--per-connection", type=int, default=100)
    parser.add_argument("--no-big-output", action="store_true")
    args = parser.parse_args(argv)
    return MemoryConfig(
        subscriptions=tuple(args.subscriptions),
        per_connection=args.per_connection,
        big_output=not args.no_big_output,
    )


def main(argv: list[str] | None = None) -> None:
    run(memory(parse_args(argv)))


if __name__ == "__main__":
    main()
