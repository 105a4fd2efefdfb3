"""One chaos run from start to verdict: two emulators and the API as real processes, tasks
submitted while faults are injected, a bounded wait for the system to settle, then the checks."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import shutil
import time
from collections import Counter
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from comfy.emulator.process import EmulatorProcess
from tests.chaos.config import ChaosConfig
from tests.chaos.database import Probe, open_probe, prepare_database
from tests.chaos.faults import Fault, FaultInjector, FaultKind, plan_faults
from tests.chaos.observer import Observer
from tests.chaos.processes import ApiProcess, api_settings
from tests.chaos.report import Summary
from tests.chaos.results import check_results
from tests.chaos.submitter import Submitter
from tests.chaos.verify import (
    check_cancels,
    check_reruns,
    check_tasks,
    read_snapshot,
    verify_storage,
)
from tests.chaos.webhooks import (
    API_SETTINGS,
    FLAKY_SHARE,
    check_webhooks,
    enable_webhooks,
    settle_webhooks,
)
from tests.chaos.workload import TaskSpec, plan_tasks, reference_images
from tests.support.webhooks import Receiver, running_receiver

logger = logging.getLogger(__name__)

EMULATORS = 2
REFERENCE_IMAGES = 6
REPLAY_SHARE = 10  # every tenth accepted request is sent again at the end
SETTLE_POLL_SECONDS = 0.5
ACTIVE = "('PENDING', 'PROCESSING')"


@contextlib.asynccontextmanager
async def in_background(job: Coroutine[Any, Any, None]) -> AsyncIterator[None]:
    task = asyncio.create_task(job)
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def settle(probe: Probe, seconds: float) -> float:
    """Wait until no task is pending or processing, at most `seconds`; returns the time taken."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        rows = await probe.fetch(f"SELECT COUNT(*) AS n FROM task WHERE status IN {ACTIVE}")
        if int(rows[0]["n"]) == 0:
            break
        await asyncio.sleep(SETTLE_POLL_SECONDS)
    return time.monotonic() - started


def logged_errors(path: Path) -> Counter[str]:
    """ERROR lines of the API's JSON log, by message."""
    found: Counter[str] = Counter()
    for line in path.read_text(errors="replace").splitlines():
        with contextlib.suppress(ValueError):
            entry = json.loads(line)
            if isinstance(entry, dict) and entry.get("level") in ("ERROR", "CRITICAL"):
                found[str(entry.get("message"))[:160]] += 1
    return found


def fresh_workdir(workdir: Path) -> None:
    for name in ("files", "api.log", *(f"emulator-{n}" for n in range(EMULATORS))):
        target = workdir / name
        if target.is_dir():
            shutil.rmtree(target)
        target.unlink(missing_ok=True)
    workdir.mkdir(parents=True, exist_ok=True)


@dataclass(frozen=True)
class Rig:
    """The processes of one run and the database probe, all owned by `run_chaos`."""

    config: ChaosConfig
    api: ApiProcess
    emulators: list[EmulatorProcess]
    probe: Probe
    receiver: Receiver


async def start_emulators(
    stack: contextlib.AsyncExitStack, config: ChaosConfig
) -> list[EmulatorProcess]:
    options = ("--step-seconds", str(config.step_seconds), "--log-level", "WARNING")
    return [
        await stack.enter_async_context(EmulatorProcess(config.workdir / f"emulator-{n}", *options))
        for n in range(EMULATORS)
    ]


def service_settings(config: ChaosConfig, emulators: list[EmulatorProcess]) -> dict[str, str]:
    settings = api_settings(
        database_url=config.database_url,
        storage_dir=config.storage_dir,
        comfyui_urls=[emulator.url for emulator in emulators],
        max_attempts=config.max_attempts,
        silence_seconds=config.silence_seconds,
    )
    return {**settings, **API_SETTINGS}


async def run_chaos(config: ChaosConfig) -> Summary:
    rng = random.Random(config.seed)
    await asyncio.to_thread(fresh_workdir, config.workdir)
    await prepare_database(config.database_url)
    images = await reference_images(REFERENCE_IMAGES)
    specs = plan_tasks(rng, config.tasks, len(images), config.seed)
    window = config.tasks * config.submit_interval
    faults = plan_faults(rng, config.fault_counts, window, EMULATORS)
    for fault in faults:
        logger.info("planned fault: %s", fault.describe())
    async with contextlib.AsyncExitStack() as stack:
        emulators = await start_emulators(stack, config)
        settings = service_settings(config, emulators)
        api = await stack.enter_async_context(ApiProcess(settings, config.workdir / "api.log"))
        probe = await stack.enter_async_context(open_probe(config.database_url))
        receiver = await stack.enter_async_context(running_receiver())
        receiver.flaky, receiver.rng = FLAKY_SHARE, random.Random(config.seed)
        return await drive(Rig(config, api, emulators, probe, receiver), specs, faults, images)


async def drive(rig: Rig, specs: list[TaskSpec], faults: list[Fault], images: list[str]) -> Summary:
    """Submit while injecting faults, replay some requests, settle, then check everything."""
    config = rig.config
    observer = Observer(rig.probe, [emulator.url for emulator in rig.emulators])
    window = config.tasks * config.submit_interval
    submitter = Submitter(
        rig.api.url, images, deadline=time.monotonic() + window + config.submit_seconds
    )
    injector = FaultInjector(rig.api, rig.emulators, observer, lambda: submitter.in_flight > 0)
    secret = await enable_webhooks(rig.api.url, rig.receiver)
    async with in_background(observer.run()):
        started = time.monotonic()
        async with asyncio.TaskGroup() as group:
            group.create_task(injector.run(faults, started))
            group.create_task(
                submitter.submit_all(specs, config.submitters, config.submit_interval)
            )
        await submitter.check_replays(list(submitter.log.accepted.values())[::REPLAY_SHARE])
        waited = await settle(rig.probe, config.settle_seconds)
        for emulator in rig.emulators:
            await observer.snapshot(emulator.url)
    delivered = await settle_webhooks(rig.probe, config.settle_seconds)
    summary = Summary(seed=config.seed)
    summary.note(
        f"ran {time.monotonic() - started:.1f}s; settled {waited:.1f}s after,"
        f" webhooks {delivered:.1f}s after that"
    )
    await verify(summary, rig, observer, submitter, injector)
    await check_webhooks(summary, await read_snapshot(rig.probe), rig.probe, rig.receiver, secret)
    return summary


async def verify(
    summary: Summary,
    rig: Rig,
    observer: Observer,
    submitter: Submitter,
    injector: FaultInjector,
) -> None:
    log = submitter.log
    accepted = {item.task_id: item.spec.idempotency_key for item in log.accepted.values()}
    snapshot = await read_snapshot(rig.probe)
    check_tasks(summary, snapshot, accepted)
    check_reruns(summary, snapshot, observer.seen)
    check_cancels(summary, snapshot, submitter.canceller.log)
    await verify_storage(summary, snapshot, rig.config.storage_dir)
    await check_results(summary, rig.api.url, [t["id"] for t in snapshot.completed()])
    summary.refused = len(log.refused)
    summary.duplicates += len(log.replay_mismatches)
    for index, why in sorted(log.refused.items())[:10]:
        summary.problem(f"refused: request {index}: {why}")
    for mismatch in log.replay_mismatches[:10]:
        summary.problem(f"replay returned another task: {mismatch}")
    summary.api_kills = injector.done[FaultKind.API_KILL]
    summary.emulator_kills = injector.done[FaultKind.EMULATOR_KILL]
    summary.ws_drops = injector.done[FaultKind.WS_DROP]
    replayed = sum(1 for item in log.accepted.values() if item.replayed)
    summary.note(
        f"submissions: {log.connection_retries} connection retries, {replayed} answered as"
        f" replays, {len(log.server_errors)} server errors {dict(Counter(log.server_errors))}"
    )
    if injector.skipped:
        summary.note(f"faults skipped (target down): {injector.skipped}")
    errors = await asyncio.to_thread(logged_errors, rig.api.log_path)
    if errors:
        summary.note(f"API logged errors: {dict(errors.most_common(8))}")
