"""Every benchmark in reduced but meaningful sizes (about 10 minutes on 2 cores), each figure
printed as it comes and every target summed up at the end.

    bench/run.sh            (the same as: .venv/bin/python -m bench.run_all)
    bench/run.sh --check    the same, exiting 1 when a target is MISSED
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench import stats
from bench.api_overhead import OverheadConfig, api_overhead, target_of
from bench.gpu_busy import SERVICE_CPU_TARGET_MS, BusyConfig, gpu_busy
from bench.intake import INTAKE_TARGET, IntakeConfig, intake
from bench.memory import MemoryConfig, memory
from bench.relay_latency import RelayConfig, relay_latency
from bench.runner import machine, run

Row = tuple[str, str, str, bool]


def relay_rows(report: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for level in report["levels"]:
        p50, p99 = level["added_p50_s"], level["added_p99_s"]
        figure = f"+{stats.ms(p50)} p50, +{stats.ms(p99)} p99"
        if "floor" in level:  # the minimal relay on the same stack, same run (relay_floor.py)
            floor = level["floor"]
            figure += (
                f" (floor +{stats.ms(floor['added_p50_s'])}, +{stats.ms(floor['added_p99_s'])})"
            )
        if level["subscribers"] == 100:
            rows.append(("relay, 100 subscribers", figure, "<= 1 ms p50, <= 5 ms p99",
                         p50 <= 0.001 and p99 <= 0.005))  # fmt: skip
        if level["subscribers"] == 1000:
            rows.append(("relay, 1,000 subscribers", figure, "<= 25 ms p99", p99 <= 0.025))
    return rows


def busy_rows(report: dict[str, Any]) -> list[Row]:
    found = report["ratios"]
    n = report["config"]["backends"]
    one, many = found["throughput_1"], found["throughput_n_vs_n_x_direct_1"]
    floor_one = (  # the minimal service on the same stack, same runs (task_floor.py)
        f" (floor {report['floor']['median']['floor_throughput_1']:.3f})"
        if "floor" in report
        else ""
    )
    rows: list[Row] = [
        ("GPU busy, 1 backend", f"{one:.3f} of direct{floor_one}", ">= 0.98", one >= 0.98),
        (f"GPU busy, {n} backends", f"{many:.3f} of {n} x direct", ">= 0.95", many >= 0.95),
    ]
    if "floor" in report:  # the minimal service on the same stack, same run (task_floor.py)
        cpu = report["floor"]["median"]
        service, floor = cpu["service_ms_per_task"], cpu["floor_ms_per_task"]
        rows.append(("service CPU per task, 1 backend",
                     f"{service:.1f} ms (floor {floor:.1f} ms, x{cpu['ratio']:.2f})",
                     f"<= {SERVICE_CPU_TARGET_MS:.0f} ms", service <= SERVICE_CPU_TARGET_MS))  # fmt: skip
    return rows


def overhead_rows(report: dict[str, Any]) -> list[Row]:
    found = report["ratios"]
    floors = {"executor": "executor floor", "floor": "{ __typename }"}
    return [
        (f"{name} vs {floors[report['floors'][name]]}", f"{found[name]:.3f}",
         f">= {target_of(name)}", found[name] >= (target_of(name) or 0))
        for name in ("history", "page", "task")
        if name in found
    ]  # fmt: skip


def intake_rows(report: dict[str, Any]) -> list[Row]:
    share = report["ratio"]
    return [("generateImage upload vs read + decode", f"{share:.3f}", f">= {INTAKE_TARGET}",
             share >= INTAKE_TARGET)]  # fmt: skip


def memory_rows(report: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for level in report["subscriptions"]["levels"]:
        per = level["per_subscription_bytes"]
        rows.append((f"{level['subscriptions']} idle subscriptions",
                     f"{per / 1024:.1f} KiB each", "<= 30 KB", per <= 30_000))  # fmt: skip
    big = report.get("big_output")
    if big:
        ratio = big["ratio_to_file"]
        rows.append(("24 MP output, peak above idle", f"{ratio:.2f} x file", "<= 2", ratio <= 2))
    return rows


Step = tuple[str, Callable[[], Awaitable[dict[str, Any]]], Callable[[dict[str, Any]], list[Row]]]


def steps(quick: bool) -> list[Step]:
    scale = 1 if quick else 2
    return [
        ("relay latency", lambda: relay_latency(RelayConfig(tasks=scale, baseline_prompts=4)),
         relay_rows),
        ("gpu busy", lambda: gpu_busy(BusyConfig(prompts=40 * scale, rounds=1)), busy_rows),
        ("api overhead", lambda: api_overhead(OverheadConfig(seconds=3.0, rounds=2)),
         overhead_rows),
        ("intake", lambda: intake(IntakeConfig(seconds=3.0, rounds=2)), intake_rows),
        ("memory", lambda: memory(MemoryConfig()), memory_rows),
    ]  # fmt: skip


async def run_all(quick: bool) -> list[Row]:
    print(f"machine: {machine()}")
    rows: list[Row] = []
    for name, start, rows_of in steps(quick):
        began = time.monotonic()
        report = await start()
        rows += rows_of(report)
        print(f"  ({name}: {time.monotonic() - began:.0f}s)\n")
    width = max(len(row[0]) for row in rows)
    print("summary (ratios measured side by side in this run):")
    for name, figure, target, met in rows:
        print(f"  {name:<{width}}  {figure:<32} target {target:<26} {stats.verdict(met)}")
    return rows


def missed(rows: list[Row]) -> list[str]:
    """The names of the targets a run missed."""
    return [name for name, _figure, _target, met in rows if not met]


def exit_status(rows: list[Row], *, check: bool) -> int:
    """0, unless `check` is asked and a target was missed (then 1, naming each one)."""
    names = missed(rows)
    if not check or not names:
        return 0
    print(f"check: {len(names)} target(s) MISSED: {', '.join(names)}")
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller still (a smoke run)")
    parser.add_argument(
        "--check", action="store_true", help="exit with status 1 when any target is MISSED"
    )
    args = parser.parse_args(argv)
    return exit_status(run(run_all(args.quick)), check=args.check)


if __name__ == "__main__":
    raise SystemExit(main())
