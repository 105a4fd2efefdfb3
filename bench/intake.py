"""Intake: `generateImage` with a 1-megapixel PNG sent by the GraphQL multipart spec (the service
with dispatch off, so only intake is measured), against its floor: a bare Starlette endpoint,
served the same way, that reads the same upload and decodes it once, completely (every upload
must be decoded once to be refused safely). The bare read alone is shown too, and so is the
durable floor: read, decode, the file fsynced and one row committed in PostgreSQL (what the
service cannot skip without risking an accepted upload). Phases alternate to share the
machine's noise.

Every request carries a different PNG (same pixels, one text chunk apart), as real uploads
are different files; `--same-image` sends one file again and again instead.

    python -m bench.intake [--connections 8] [--seconds 5] [--rounds 3]
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import stats
from bench.bare_upload import DECODE_PATH, DURABLE_PATH, READ_PATH
from bench.database import bench_database_url, database_name, fresh_database
from bench.http_load import LoadResult, Target, graphql_ok, run_load
from bench.multipart import CONTENT_TYPE, upload_body
from bench.pictures import photo_png, with_marker
from bench.processes import (
    ChildServer,
    api_server,
    child_server,
    cpu_seconds,
    database_cpu_since,
    database_sessions_cpu,
    free_port,
)
from bench.profiling import Profiler
from bench.runner import run, save_report, workspace

GENERATE = """mutation($input: GenerateImageInput!) {
  generateImage(input: $input) { task { id status } } }"""
VARIABLES = {"input": {"referenceImage": {"upload": None}, "description": "make it red"}}
FILE_PATH = "variables.input.referenceImage.upload"
PREFLIGHT = ((b"Apollo-Require-Preflight", b"true"),)
FLOOR = "read+decode"
DURABLE = "durable"
INTAKE_TARGET = 0.8  # of the floor


@dataclass(frozen=True)
class Endpoint:
    server: ChildServer
    path: str
    database: str


@dataclass(frozen=True)
class Phase:
    """One phase's load, and the CPU the server process and its PostgreSQL sessions used."""

    load: LoadResult
    process_cpu: float
    database_cpu: float


@dataclass(frozen=True)
class IntakeConfig:
    connections: int = 8
    seconds: float = 5.0
    rounds: int = 3
    same_image: bool = False
    profile: bool = False


def body_factory(png: bytes, same_image: bool) -> Callable[[], bytes]:
    counter = itertools.count()
    if same_image:
        body = upload_body(GENERATE, VARIABLES, FILE_PATH, png)
        return lambda: body
    return lambda: upload_body(GENERATE, VARIABLES, FILE_PATH, with_marker(png, next(counter)))


@contextlib.asynccontextmanager
async def bare_server(work: Path, database_url: str) -> AsyncIterator[ChildServer]:
    port = free_port()
    files = work / "durable"
    files.mkdir(exist_ok=True)
    command = [sys.executable, "-m", "bench.bare_upload", "--port", str(port)]
    command += ["--directory", str(files), "--database-url", database_url]
    async with child_server(command, port=port, env={}, log_path=work / "bare.log") as server:
        yield server


async def phase(endpoint: Endpoint, make_body: Callable[[], bytes], config: IntakeConfig,
                seconds: float) -> Phase:  # fmt: skip
    target = Target("127.0.0.1", endpoint.server.port, endpoint.path, CONTENT_TYPE, PREFLIGHT)
    process_before = cpu_seconds(endpoint.server.pid)
    database_before = database_sessions_cpu(endpoint.database)
    load = await run_load(
        target, make_body, graphql_ok, connections=config.connections, seconds=seconds
    )
    return Phase(
        load,
        process_cpu=cpu_seconds(endpoint.server.pid) - process_before,
        database_cpu=database_cpu_since(database_before, endpoint.database),
    )


def summary(phases: list[Phase]) -> dict[str, Any]:
    results = [entry.load for entry in phases]
    latencies = [value for result in results for value in result.latencies]
    elapsed = sum(result.elapsed for result in results)
    accepted = len(latencies)
    return {
        "accepted": accepted,
        "rate_per_s": accepted / elapsed if elapsed else 0.0,
        "latency": stats.summarize(latencies).as_dict(),
        "errors": sum(result.errors for result in results),
        "first_error": next((r.first_error for r in results if r.first_error), None),
        # CPU per accepted upload: the server process (every thread) and its database sessions.
        "process_cpu_ms": 1000 * sum(p.process_cpu for p in phases) / accepted if accepted else 0.0,
        "database_cpu_ms": 1000 * sum(p.database_cpu for p in phases) / accepted
        if accepted
        else 0.0,
    }


async def measure(
    endpoints: dict[str, Endpoint], png: bytes, config: IntakeConfig
) -> dict[str, list[Phase]]:
    make_body = body_factory(png, config.same_image)
    for endpoint in endpoints.values():
        await phase(endpoint, make_body, config, 1.0)
    results: dict[str, list[Phase]] = {name: [] for name in endpoints}
    for _ in range(config.rounds):
        for name, endpoint in endpoints.items():
            results[name].append(await phase(endpoint, make_body, config, config.seconds))
    if config.profile:
        service = endpoints["generateImage"]
        async with Profiler().recording(service.server.pid, "intake"):
            await phase(service, make_body, config, config.seconds)
    return results


def show(name: str, found: dict[str, Any], floor_rate: float) -> None:
    latency = found["latency"]
    share = stats.ratio(found["rate_per_s"], floor_rate)
    verdict = (
        f"  target >= {INTAKE_TARGET}: {stats.verdict(share >= INTAKE_TARGET)}"
        if name == "generateImage"
        else ""
    )
    print(
        f"  {name:<14} {found['rate_per_s']:7.1f} accepted/s  p50 {stats.ms(latency['p50'])}"
        f"  p99 {stats.ms(latency['p99'])}  = {share:.3f} of {FLOOR}"
        f"  ({found['accepted']} accepted, {found['errors']} errors){verdict}"
    )
    print(
        f"                 CPU per upload: process {found['process_cpu_ms']:.1f} ms,"
        f" PostgreSQL {found['database_cpu_ms']:.1f} ms"
    )
    if found["first_error"]:
        print(f"                 first error: {found['first_error']}")


async def intake(config: IntakeConfig) -> dict[str, Any]:
    png = photo_png(1024, 1024)
    print(
        f"intake: {len(png) / 1e6:.2f} MB 1-megapixel PNG, {config.connections} connections,"
        f" {config.rounds} x {config.seconds}s, {'one' if config.same_image else 'a new'} file"
        " per request"
    )
    database_url = bench_database_url()
    database = database_name(database_url)
    await fresh_database(database_url)
    with workspace("intake") as work:
        async with (
            bare_server(work, database_url) as bare,
            api_server(work, database_url=database_url, dispatch="false") as api,
        ):
            endpoints = {
                "bare": Endpoint(bare, READ_PATH, database),
                FLOOR: Endpoint(bare, DECODE_PATH, database),
                DURABLE: Endpoint(bare, DURABLE_PATH, database),
                "generateImage": Endpoint(api, "/graphql", database),
            }
            results = await measure(endpoints, png, config)
    found = {name: summary(runs) for name, runs in results.items()}
    floor_rate = found[FLOOR]["rate_per_s"]
    for name, entry in found.items():
        show(name, entry, floor_rate)
    print(
        f"  generateImage = {stats.ratio(found['generateImage']['rate_per_s'], found[DURABLE]['rate_per_s']):.3f}"
        " of the durable floor"
    )
    service_rate = found["generateImage"]["rate_per_s"]
    report = {
        "png_bytes": len(png),
        "endpoints": found,
        "ratio": stats.ratio(service_rate, floor_rate),  # of the floor: read + one decode
        "ratio_to_bare_read": stats.ratio(service_rate, found["bare"]["rate_per_s"]),
        # The share of the floor that durability alone leaves: a bound on `ratio`'s reach.
        "durable_of_floor": stats.ratio(found[DURABLE]["rate_per_s"], floor_rate),
        "ratio_to_durable": stats.ratio(service_rate, found[DURABLE]["rate_per_s"]),
        "config": config.__dict__,
    }
    save_report("intake", report)
    return report


def parse_args(argv: list[str] | None = None) -> IntakeConfig:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0, help="per phase")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--same-image", action="store_true")
    parser.add_argument("--profile", action="store_true", help="py-spy generateImage")
    args = parser.parse_args(argv)
    return IntakeConfig(
        connections=args.connections,
        seconds=args.seconds,
        rounds=args.rounds,
        same_image=args.same_image,
        profile=args.profile,
    )


def main(argv: list[str] | None = None) -> None:
    run(intake(parse_args(argv)))


if __name__ == "__main__":
    main()
