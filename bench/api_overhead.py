"""Read-path overhead: `history(first: 50)` over a long history in PostgreSQL and `task(id)`,
each against its floor measured in the same run. `task(id)` against `{ __typename }` on the same
server (HTTP, middleware and GraphQL with no data). `history` against the executor floor
(`bench/executor_floor.py`): Strawberry executing the same page document with the service's own
types over a page built in memory, in this process, on one core. `history` and `page` ask for
the same page again and again, as a client refreshing its list does: over 100,000 ended tasks
the service gives the kept answer again once its reads come back equal (graphql_api/reuse.py);
`walk` asks for a new page each time (256 pages in turn), so every answer is executed. Phases
alternate (floor, history, page, walk, task, executor, floor, …) so noise hits all alike.

    python -m bench.api_overhead [--tasks 100000] [--connections 16] [--seconds 5] [--rounds 3]
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx

from bench import stats
from bench.database import bench_database_url, fresh_database
from bench.executor_floor import execute_pages
from bench.history_data import write_history
from bench.http_load import LoadResult, Target, graphql_ok, run_load
from bench.processes import ChildServer, api_server
from bench.profiling import Profiler
from bench.runner import run, save_report, workspace

FLOOR = "{ __typename }"
EXECUTOR = "executor"  # the executor floor's phase
HISTORY_TARGET = 0.8  # of the executor floor
TASK_TARGET = 0.5  # of { __typename }
NODE_FIELDS = """id status description progress step totalSteps createdAt finishedAt
  parameters { seed steps } result { imageUrl width height } error { code message }"""
HISTORY = (
    "query($first: Int!) { history(first: $first) { totalCount"
    " pageInfo { hasNextPage endCursor } edges { cursor node { " + NODE_FIELDS + " } } } }"
)
# The same page without `totalCount` (which counts every row of the owner's history).
HISTORY_PAGE = HISTORY.replace(" totalCount", "", 1)
# `history` a page further each time, in turn over more pages than the service keeps answers
# for (graphql_api/reuse.py: KEPT_ANSWERS): every answer executed.
WALK = HISTORY.replace("$first: Int!)", "$first: Int!, $after: String)", 1).replace(
    "history(first: $first)", "history(first: $first, after: $after)", 1
)
WALKED_PAGES = 256
TASK = "query($id: ID!) { task(id: $id) { " + NODE_FIELDS + " } }"


@dataclass(frozen=True)
class OverheadConfig:
    tasks: int = 100_000
    connections: int = 16
    seconds: float = 5.0
    rounds: int = 3
    page: int = 50
    profile: bool = False


def body_of(query: str, **variables: Any) -> bytes:
    return json.dumps({"query": query, "variables": variables}).encode()


def workloads(
    config: OverheadConfig, task_ids: list[UUID], cursors: list[str | None]
) -> dict[str, Callable[[], bytes]]:
    rng = random.Random(11)
    floor, history = body_of(FLOOR), body_of(HISTORY, first=config.page)
    page = body_of(HISTORY_PAGE, first=config.page)
    walk = itertools.cycle([body_of(WALK, first=config.page, after=after) for after in cursors])
    return {
        "floor": lambda: floor,
        "history": lambda: history,
        "page": lambda: page,
        "walk": lambda: next(walk),
        "task": lambda: body_of(TASK, id=str(rng.choice(task_ids))),
    }


async def page_cursors(api: ChildServer, config: OverheadConfig) -> list[str | None]:
    """Where each of the first `WALKED_PAGES` pages starts (None: the first)."""
    cursors: list[str | None] = [None]
    async with httpx.AsyncClient(base_url=api.url, timeout=30) as http:
        while len(cursors) < WALKED_PAGES:
            variables = {"first": config.page, "after": cursors[-1]}
            answer = await http.post("/graphql", json={"query": WALK, "variables": variables})
            cursors.append(answer.json()["data"]["history"]["pageInfo"]["endCursor"])
    return cursors


async def phase(
    target: Target, make_body: Callable[[], bytes], config: OverheadConfig, seconds: float
) -> LoadResult:
    return await run_load(
        target, make_body, graphql_ok, connections=config.connections, seconds=seconds
    )


async def measure(
    api: ChildServer, config: OverheadConfig, task_ids: list[UUID]
) -> dict[str, list[LoadResult]]:
    target = Target("127.0.0.1", api.port, "/graphql")
    loads = workloads(config, task_ids, await page_cursors(api, config))
    variables = {"first": config.page}
    for make_body in loads.values():  # warm-up: first-use costs out of the figures
        await phase(target, make_body, config, 1.0)
    await execute_pages(HISTORY_PAGE, variables, 1.0, config.page)
    results: dict[str, list[LoadResult]] = {name: [] for name in (*loads, EXECUTOR)}
    for _ in range(config.rounds):
        for name, make_body in loads.items():
            results[name].append(await phase(target, make_body, config, config.seconds))
        executed = await execute_pages(HISTORY_PAGE, variables, config.seconds, config.page)
        results[EXECUTOR].append(executed)
    if config.profile:
        for name in ("history", "task"):
            async with Profiler().recording(api.pid, f"api-overhead-{name}"):
                await phase(target, loads[name], config, config.seconds)
    return results


def summary(results: list[LoadResult]) -> dict[str, Any]:
    latencies = [value for result in results for value in result.latencies]
    elapsed = sum(result.elapsed for result in results)
    errors = sum(result.errors for result in results)
    first_error = next((r.first_error for r in results if r.first_error), None)
    return {
        "requests": len(latencies),
        "rate_per_s": len(latencies) / elapsed if elapsed else 0.0,
        "latency": stats.summarize(latencies).as_dict(),
        "errors": errors,
        "first_error": first_error,
    }


def floor_of(name: str) -> str:
    """The floor each query is measured against."""
    return EXECUTOR if name in ("history", "page", "walk") else "floor"


def target_of(name: str) -> float | None:
    if name in ("history", "page"):
        return HISTORY_TARGET
    return TASK_TARGET if name == "task" else None


def show(name: str, found: dict[str, Any], floor_name: str, floor_rate: float) -> None:
    latency = found["latency"]
    share = stats.ratio(found["rate_per_s"], floor_rate)
    target = target_of(name)
    verdict = "" if target is None else f"  target >= {target}: {stats.verdict(share >= target)}"
    print(
        f"  {name:<8} {found['rate_per_s']:8.1f} req/s  p50 {stats.ms(latency['p50'])}"
        f"  p99 {stats.ms(latency['p99'])}  = {share:.3f} of {floor_name}"
        f"  ({found['requests']} requests, {found['errors']} errors){verdict}"
    )
    if found["first_error"]:
        print(f"           first error: {found['first_error']}")


async def api_overhead(config: OverheadConfig) -> dict[str, Any]:
    print(
        f"api overhead: {config.tasks} tasks in PostgreSQL, {config.connections} connections,"
        f" {config.rounds} x {config.seconds}s per query"
    )
    database_url = bench_database_url()
    await fresh_database(database_url)
    history = await write_history(database_url, config.tasks)
    with workspace("overhead") as work:
        async with api_server(work, database_url=database_url, dispatch="false") as api:
            results = await measure(api, config, history.task_ids)
    found = {name: summary(runs) for name, runs in results.items()}
    ratios = {
        name: stats.ratio(entry["rate_per_s"], found[floor_of(name)]["rate_per_s"])
        for name, entry in found.items()
    }
    for name, entry in found.items():
        floor_name = floor_of(name)
        show(name, entry, floor_name, found[floor_name]["rate_per_s"])
    report = {
        "queries": found,
        # history and page: share of the executor floor; the others: of { __typename }.
        "ratios": ratios,
        "floors": {name: floor_of(name) for name in found},
        "typename_ratios": {
            name: stats.ratio(entry["rate_per_s"], found["floor"]["rate_per_s"])
            for name, entry in found.items()
        },
        "config": config.__dict__,
    }
    save_report("api_overhead", report)
    return report


def parse_args(argv: list[str] | None = None) -> OverheadConfig:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0, help="per phase")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="py-spy history and task(id)")
    args = parser.parse_args(argv)
    return OverheadConfig(
        tasks=args.tasks,
        connections=args.connections,
        seconds=args.seconds,
        rounds=args.rounds,
        profile=args.profile,
    )


def main(argv: list[str] | None = None) -> None:
    run(api_overhead(parse_args(argv)))


if __name__ == "__main__":
    main()
