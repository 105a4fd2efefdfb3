"""`taskProgress` subscribers spread over client processes, for counts one bench process cannot
receive fast enough (10,000 sockets each getting every step).

Each worker (`python -m bench.subscriber_pool`) opens its share of sockets (one each, like
browser tabs), subscribes them, says `ready` on stdout once every socket has its SNAPSHOT, then
waits for every `complete` and prints each subscriber's sampler-step arrivals (CLOCK_MONOTONIC,
stamped as the bytes reach the worker: one clock for every process of the machine).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.processes import PROJECT_ROOT, child_environment
from bench.relay_analysis import StepArrival, step_arrivals
from bench.runner import run
from bench.service import PROGRESS
from bench.stamped_ws import StampedConnection, collector_paused, open_graphql, subscribe
from bench.waiting import poll_until

READY_TIMEOUT = 600.0
CLOSE_TIMEOUT = 60.0
STREAM_LIMIT = 2**28  # one worker's result line: ~30 bytes per step per subscriber


@dataclass(frozen=True)
class WorkerOrder:
    url: str
    task_id: str
    count: int
    connect_concurrency: int = 50
    complete_timeout: float = 600.0


async def open_subscribers(order: WorkerOrder) -> list[StampedConnection]:
    """`order.count` sockets, each subscribed and past its first frame (the SNAPSHOT)."""
    gate = asyncio.Semaphore(order.connect_concurrency)
    opened: list[StampedConnection] = []

    async def one() -> None:
        async with gate:
            connection = await open_graphql(order.url)
            opened.append(connection)
            connection.capture(expected_completes=1)
            await subscribe(connection, PROGRESS, id=order.task_id)

    try:
        await asyncio.gather(*(one() for _ in range(order.count)))
        await poll_until(lambda: all(c.frames for c in opened), within=READY_TIMEOUT, every=0.05)
    except BaseException:
        await close_all(opened)
        raise
    return opened


async def close_all(connections: Sequence[StampedConnection]) -> None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(CLOSE_TIMEOUT):
            await asyncio.gather(*(c.close() for c in connections), return_exceptions=True)


def print_line(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message, separators=(",", ":")) + "\n")
    sys.stdout.flush()


async def serve_order(order: WorkerOrder) -> None:
    connections = await open_subscribers(order)
    try:
        with collector_paused():  # collected once before "ready", then off while stamping
            print_line({"ready": len(connections)})
            cpu_at_ready = time.process_time()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(order.complete_timeout):
                    await asyncio.gather(*(c.all_complete.wait() for c in connections))
            receiving_cpu = time.process_time() - cpu_at_ready
        complete = sum(1 for c in connections if c.all_complete.is_set())
        arrivals = [step_arrivals(c.frames) for c in connections]
        print_line({"complete": complete, "cpu_seconds": receiving_cpu, "arrivals": arrivals})
    finally:
        await close_all(connections)


@dataclass
class PoolResult:
    """Every subscriber's arrivals, how many saw `complete`, and the CPU seconds the workers
    spent receiving (from the moment they were ready to the last `complete`)."""

    arrivals: list[list[StepArrival]] = field(default_factory=list)
    complete: int = 0
    worker_cpu_seconds: float = 0.0


@dataclass
class SubscriberPool:
    """Worker processes holding subscribers, started by `subscriber_pool()`."""

    workers: list[asyncio.subprocess.Process]
    subscribers: int

    async def results(self, within: float) -> PoolResult:
        """Wait for every worker's arrivals (after the task's `complete` reached its sockets)."""
        result = PoolResult()
        async with asyncio.timeout(within):
            for line in await asyncio.gather(*(read_line(w) for w in self.workers)):
                result.complete += int(line["complete"])
                result.worker_cpu_seconds += float(line["cpu_seconds"])
                result.arrivals.extend(
                    [StepArrival(*arrival) for arrival in subscriber]
                    for subscriber in line["arrivals"]
                )
        return result


class WorkerFailed(RuntimeError):
    """A subscriber worker exited before saying what it was asked to."""


async def read_line(worker: asyncio.subprocess.Process) -> dict[str, Any]:
    assert worker.stdout is not None
    line = await worker.stdout.readline()
    if not line:
        await worker.wait()
        raise WorkerFailed(f"subscriber worker {worker.pid} exited ({worker.returncode})")
    message: dict[str, Any] = json.loads(line)
    return message


def shares(total: int, parts: int) -> list[int]:
    """`total` split into `parts` counts differing by at most one (no empty part)."""
    parts = max(1, min(parts, total))
    return [total // parts + (1 if index < total % parts else 0) for index in range(parts)]


def worker_command(order: WorkerOrder) -> list[str]:
    return [
        sys.executable,
        "-m",
        "bench.subscriber_pool",
        "--url",
        order.url,
        "--task-id",
        order.task_id,
        "--count",
        str(order.count),
        "--connect-concurrency",
        str(order.connect_concurrency),
        "--complete-timeout",
        str(order.complete_timeout),
    ]


async def stop_worker(worker: asyncio.subprocess.Process) -> None:
    if worker.returncode is None:
        worker.terminate()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(CLOSE_TIMEOUT):
            await worker.wait()
            return
    worker.kill()
    await worker.wait()


@contextlib.asynccontextmanager
async def subscriber_pool(
    url: str, task_id: str, count: int, processes: int, complete_timeout: float
) -> AsyncIterator[SubscriberPool]:
    """`count` subscribers to `task_id` over `processes` workers, each ready when yielded."""
    workers: list[asyncio.subprocess.Process] = []
    try:
        for share in shares(count, processes):
            order = WorkerOrder(url, task_id, share, complete_timeout=complete_timeout)
            workers.append(
                await asyncio.create_subprocess_exec(
                    *worker_command(order),
                    cwd=PROJECT_ROOT,
                    env=child_environment({}),
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=asyncio.subprocess.PIPE,
                    limit=STREAM_LIMIT,
                )
            )
        async with asyncio.timeout(READY_TIMEOUT + 60):
            await asyncio.gather(*(read_line(worker) for worker in workers))
        yield SubscriberPool(workers, count)
    finally:
        await asyncio.gather(*(stop_worker(worker) for worker in workers))


def parse_args(argv: list[str] | None = None) -> WorkerOrder:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="the service's http:// base URL")
    parser.add_argument("--task-id", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--connect-concurrency", type=int, default=50)
    parser.add_argument("--complete-timeout", type=float, default=600.0)
    args = parser.parse_args(argv)
    return WorkerOrder(
        url=args.url,
        task_id=args.task_id,
        count=args.count,
        connect_concurrency=args.connect_concurrency,
        complete_timeout=args.complete_timeout,
    )


def main(argv: list[str] | None = None) -> None:
    run(serve_order(parse_args(argv)))


if __name__ == "__main__":
    main()
