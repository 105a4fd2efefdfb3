"""How long recent runs took, measured by the trackers: the ground for every finish estimate.

Kept in memory by one object the application owns (a restarted service learns again from its
first runs). Two things are measured per finished run: its whole length (from execution start
to the stored result) and its tail (from the last sampler step to the stored result: decoding,
saving and bringing the image home), the tail per backend, workflow and input resolution.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from statistics import fmean
from typing import TypeVar

RECENT_RUNS = 20

Key = TypeVar("Key")


@dataclass(frozen=True)
class RunKind:
    """What the cost of the nodes after sampling depends on."""

    backend: str
    workflow: str
    resolution: str


class RunTimes:
    def __init__(self, keep: int = RECENT_RUNS) -> None:
        self._keep = keep
        self._tails: dict[RunKind, deque[float]] = {}
        self._tails_by_backend: dict[str, deque[float]] = {}
        self._runs: dict[str, deque[float]] = {}

    def record(
        self, kind: RunKind, *, run_seconds: float | None, tail_seconds: float | None
    ) -> None:
        if run_seconds is not None and run_seconds >= 0:
            remember(self._runs, kind.backend, run_seconds, self._keep)
        if tail_seconds is not None and tail_seconds >= 0:
            remember(self._tails, kind, tail_seconds, self._keep)
            remember(self._tails_by_backend, kind.backend, tail_seconds, self._keep)

    def tail_seconds(self, kind: RunKind) -> float | None:
        """The recent cost of the nodes after sampling: of this kind of run, else of the
        backend's runs; None before the first measured run."""
        recent = self._tails.get(kind) or self._tails_by_backend.get(kind.backend)
        return fmean(recent) if recent else None

    def run_seconds(self, backend: str | None = None) -> float | None:
        """The mean length of recent runs on one backend, or on all of them."""
        if backend is not None:
            recent = list(self._runs.get(backend, ()))
        else:
            recent = [seconds for runs in self._runs.values() for seconds in runs]
        return fmean(recent) if recent else None


def remember(table: dict[Key, deque[float]], key: Key, seconds: float, keep: int) -> None:
    table.setdefault(key, deque(maxlen=keep)).append(seconds)
