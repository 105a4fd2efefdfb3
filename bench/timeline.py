"""Prompt execution spans per backend, and what they say: makespan, throughput, idle gaps."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from bench import stats


@dataclass(frozen=True)
class Timeline:
    """Execution (start, end) per prompt per backend, seconds since the epoch, and when the
    first prompt was submitted."""

    submitted_at: float
    runs: dict[str, list[tuple[float, float]]]
    service_cpu_seconds: float | None = None
    emulator_cpu_seconds: float | None = None
    """All the run's emulators together, from the first submission to the last prompt's end."""
    database_cpu_seconds: float | None = None
    """The service's PostgreSQL sessions over the same span."""

    @property
    def count(self) -> int:
        return sum(len(spans) for spans in self.runs.values())

    @property
    def makespan(self) -> float:
        return max(end for spans in self.runs.values() for _, end in spans) - self.submitted_at

    @property
    def throughput(self) -> float:
        return self.count / self.makespan

    @property
    def first_start(self) -> float:
        """From the first submission to the first prompt's execution start."""
        return min(start for spans in self.runs.values() for start, _ in spans) - self.submitted_at

    def gaps(self) -> list[float]:
        found = []
        for spans in self.runs.values():
            ordered = sorted(spans)
            found += [nxt[0] - cur[1] for cur, nxt in itertools.pairwise(ordered)]
        return found

    def report(self) -> dict[str, Any]:
        gaps = self.gaps()
        executions = [end - start for spans in self.runs.values() for start, end in spans]
        busy = sum(executions)
        return {
            "prompts": self.count,
            "makespan_s": self.makespan,
            "throughput_per_s": self.throughput,
            "gaps": stats.summarize(gaps).as_dict(),
            "idle_s": sum(gaps),
            "busy_fraction": busy / (self.makespan * len(self.runs)),
            "service_cpu_s": self.service_cpu_seconds,
            "service_cpu_ms_per_task": per_prompt_ms(self.service_cpu_seconds, self.count),
            "emulator_cpu_s": self.emulator_cpu_seconds,
            "emulator_cpu_ms_per_prompt": per_prompt_ms(self.emulator_cpu_seconds, self.count),
            "database_cpu_s": self.database_cpu_seconds,
            "database_cpu_ms_per_task": per_prompt_ms(self.database_cpu_seconds, self.count),
            "execution_mean_s": busy / len(executions) if executions else None,
            "first_start_s": self.first_start,
        }


def per_prompt_ms(seconds: float | None, count: int) -> float | None:
    return None if seconds is None or not count else 1000 * seconds / count
