"""Peak resident memory of this process (the service runs in it), per measured step."""

from __future__ import annotations

import re
from pathlib import Path

STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")
PEAK = re.compile(r"VmHWM:\s+(\d+) kB")
RESIDENT = re.compile(r"VmRSS:\s+(\d+) kB")


def read_kb(pattern: re.Pattern[str]) -> int:
    found = pattern.search(STATUS.read_text())
    assert found is not None, f"{pattern.pattern} missing from {STATUS}"
    return int(found.group(1))


class PeakMemory:
    """`start()` before a step, `growth_mb()` after: how far the peak rose above the start.

    Linux resets the peak (VmHWM) when "5" is written to clear_refs; where that is refused, the
    growth is measured against the earlier peak, a weaker but still safe bound."""

    def __init__(self) -> None:
        self._baseline = 0

    def start(self) -> None:
        try:
            CLEAR_REFS.write_text("5")
            self._baseline = read_kb(RESIDENT)
        except OSError:
            self._baseline = read_kb(PEAK)

    def growth_mb(self) -> float:
        return max(0, read_kb(PEAK) - self._baseline) / 1024
