"""Optional sampling profiles of a server process with py-spy, kept apart from the project venv
(install: `python3 -m venv bench/.venv-profile && bench/.venv-profile/bin/pip install py-spy`)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

from bench.runner import RESULTS_DIR

PY_SPY = Path(__file__).resolve().parent / ".venv-profile" / "bin" / "py-spy"
STOP_TIMEOUT = 30.0


class Profiler:
    def __init__(self, folder: Path | None = None, rate: int = 250) -> None:
        self.folder = folder or RESULTS_DIR / "profiles"
        self.rate = rate
        self.written: list[Path] = []

    @contextlib.asynccontextmanager
    async def recording(self, pid: int, name: str) -> AsyncIterator[None]:
        """Sample `pid` while the block runs; collapsed stacks go to <folder>/<name>.txt."""
        if not PY_SPY.exists():
            print(f"  (no profile: {PY_SPY} is not installed)")
            yield
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        output = self.folder / f"{name}.txt"
        command = [str(PY_SPY), "record", "--pid", str(pid), "--rate", str(self.rate)]
        command += ["--format", "raw", "--output", str(output), "--nonblocking"]
        process = await asyncio.create_subprocess_exec(
            *command, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
        )
        await asyncio.sleep(0.5)
        try:
            yield
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
            except TimeoutError:
                process.kill()
                await process.wait()
        if output.exists():
            self.written.append(output)
            print(f"  profile: {output}")
            print(top_frames(output))


def _stacks(path: Path) -> Counter[str]:
    stacks: Counter[str] = Counter()
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks[stack] += int(count)
    return stacks


def top_frames(path: Path, limit: int = 12) -> str:
    """Where the samples are: functions by own time, then by inclusive time below the share of
    the server's main loop (so the lines say something), as text."""
    stacks = _stacks(path)
    total = sum(stacks.values()) or 1
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for stack, count in stacks.items():
        frames = stack.split(";")
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    ceiling = 0.6 * total
    shown = [(f, n) for f, n in inclusive.most_common() if n < ceiling][:limit]
    lines = [f"    {total} samples; own time:"]
    lines += [f"    {100 * n / total:5.1f}%  {frame}" for frame, n in own.most_common(limit)]
    lines.append("    inclusive time:")
    lines += [f"    {100 * n / total:5.1f}%  {frame}" for frame, n in shown]
    return "\n".join(lines)
