"""The faults of a run, drawn from its seeded RNG and injected on schedule: websocket drops,
emulator kills (SIGKILL, then a restart that has forgotten queue and history) and API kills."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

from comfy.emulator.process import EmulatorProcess
from tests.chaos.config import FaultCounts
from tests.chaos.observer import Observer
from tests.chaos.processes import ApiProcess

logger = logging.getLogger(__name__)

DOWNTIME_RANGE = (0.2, 2.0)
JITTER_RANGE = (0.0, 0.08)
BUSY_WAIT_SECONDS = 2.0
HTTP_TIMEOUT = 5.0
DROP_ATTEMPTS = 25
DROP_RETRY_SECONDS = 0.2


class FaultKind(enum.StrEnum):
    API_KILL = "api_kills"
    EMULATOR_KILL = "emulator_kills"
    WS_DROP = "ws_drops"


@dataclass(frozen=True)
class Fault:
    at: float  # seconds after the run started
    kind: FaultKind
    target: int  # which emulator (unused for API kills)
    downtime: float
    jitter: float  # API kills: seconds after a submission went out (to cut requests mid-way)

    def describe(self) -> str:
        target = "" if self.kind is FaultKind.API_KILL else f" emulator#{self.target}"
        return f"t={self.at:.1f}s {self.kind.value}{target} downtime={self.downtime:.2f}s"


def plan_faults(
    rng: random.Random, counts: FaultCounts, window: float, emulators: int
) -> list[Fault]:
    """Every fault at a random moment of `window` seconds, in time order."""
    kinds = (
        [FaultKind.API_KILL] * counts.api_kills
        + [FaultKind.EMULATOR_KILL] * counts.emulator_kills
        + [FaultKind.WS_DROP] * counts.ws_drops
    )
    faults = [
        Fault(
            at=rng.uniform(0.05 * window, window),
            kind=kind,
            target=rng.randrange(emulators),
            downtime=rng.uniform(*DOWNTIME_RANGE),
            jitter=rng.uniform(*JITTER_RANGE),
        )
        for kind in kinds
    ]
    return sorted(faults, key=lambda fault: fault.at)


class FaultInjector:
    def __init__(
        self,
        api: ApiProcess,
        emulators: Sequence[EmulatorProcess],
        observer: Observer,
        submitting: Callable[[], bool],
    ) -> None:
        self._api = api
        self._submitting = submitting
        self._emulators = list(emulators)
        self._observer = observer
        self.done: Counter[FaultKind] = Counter()
        self.skipped: list[str] = []

    async def run(self, faults: Sequence[Fault], started: float) -> None:
        """Inject each fault at its time (or at once if the previous one took longer)."""
        for fault in faults:
            await asyncio.sleep(max(0.0, started + fault.at - time.monotonic()))
            logger.info("fault: %s", fault.describe())
            await self.inject(fault)

    async def inject(self, fault: Fault) -> None:
        if fault.kind is FaultKind.API_KILL:
            await self._when_submitting(fault.jitter)
            await self._api.kill()
            await asyncio.sleep(fault.downtime)
            await self._api.start()
        elif fault.kind is FaultKind.EMULATOR_KILL:
            emulator = self._emulators[fault.target]
            await self._observer.snapshot(emulator.url)
            await emulator.kill()
            await asyncio.sleep(fault.downtime)
            await emulator.start()
        elif not await self._drop_websockets(self._emulators[fault.target].url):
            self.skipped.append(fault.describe())
            return
        self.done[fault.kind] += 1

    async def _when_submitting(self, jitter: float) -> None:
        """Wait (a little, at most) for a request on its way, so that the kill may cut it."""
        deadline = time.monotonic() + BUSY_WAIT_SECONDS
        while not self._submitting() and time.monotonic() < deadline:
            await asyncio.sleep(0.002)
        await asyncio.sleep(jitter)

    async def _drop_websockets(self, url: str) -> bool:
        """Cut the API's socket to this emulator; wait a little if it is not connected now."""
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as http:
            for _ in range(DROP_ATTEMPTS):
                with contextlib.suppress(httpx.TransportError, ValueError):
                    response = await http.post(f"{url}/_emulator/drop-websockets")
                    if response.status_code == 200 and int(response.json()["dropped"]) > 0:
                        return True
                await asyncio.sleep(DROP_RETRY_SECONDS)
        return False
