"""What every benchmark's entry point shares: its event loop, a scratch folder, its report file."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import tempfile
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import uvloop

T = TypeVar("T")
RESULTS_DIR = Path(__file__).resolve().parent / "results"


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run on uvloop, the loop `kontext serve` uses, so client overhead stays small."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


@contextlib.contextmanager
def workspace(name: str) -> Iterator[Path]:
    """A scratch folder for server logs and storage, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix=f"kontext-bench-{name}-") as folder:
        yield Path(folder)


def machine() -> dict[str, Any]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
    return {
        "cpus": len(os.sched_getaffinity(0)),
        "cpu_model": cpu,
        "memory_gib": round(int(memory) / 1024 / 1024, 1),
        "python": platform.python_version(),
        "load_average_1m": os.getloadavg()[0],
    }


def save_report(name: str, report: dict[str, Any]) -> Path:
    """bench/results/<name>.json (git-ignored): the figures of the latest run."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **report}, indent=2, default=str) + "\n")
    return path
