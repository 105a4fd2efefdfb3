"""What one chaos run does: how many tasks, which faults, how long it may take, where it works."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/chaos"


@dataclass(frozen=True)
class FaultCounts:
    """How many times each fault is injected during one run."""

    api_kills: int
    emulator_kills: int
    ws_drops: int

    @classmethod
    def for_tasks(cls, tasks: int) -> FaultCounts:
        """Three API kills, one emulator kill per 40 tasks and one socket drop per 20."""
        return cls(
            api_kills=3 if tasks >= 60 else 1,
            emulator_kills=max(1, tasks // 40),
            ws_drops=max(2, tasks // 20),
        )


@dataclass(frozen=True)
class ChaosConfig:
    workdir: Path
    tasks: int = 200
    seed: int = 0
    database_url: str = DEFAULT_POSTGRES
    faults: FaultCounts | None = None
    submitters: int = 6
    submit_interval: float = 0.5  # seconds between new submissions; also sets the fault window
    step_seconds: float = 0.02
    max_attempts: int = 5
    silence_seconds: float = 5.0
    settle_seconds: float = 120.0
    submit_seconds: float = 180.0

    @property
    def fault_counts(self) -> FaultCounts:
        return self.faults or FaultCounts.for_tasks(self.tasks)

    @property
    def storage_dir(self) -> Path:
        return self.workdir / "files"


def random_seed() -> int:
    return secrets.randbelow(1_000_000)


def sqlite_url(workdir: Path) -> str:
    return f"sqlite://{workdir / 'chaos.sqlite3'}"
