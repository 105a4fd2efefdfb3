"""The chaos run at CI size: 30 tasks through the API while the API is killed once, an emulator
is killed once and websockets are dropped twice; every invariant of the full run must hold."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from tests.chaos.config import ChaosConfig, FaultCounts, random_seed
from tests.chaos.database import split_postgres_url
from tests.chaos.run import run_chaos
from tests.support.databases import POSTGRES_DEFAULT, chosen_database

pytestmark = [pytest.mark.postgres_only, pytest.mark.slow]

CHAOS_DATABASE = "chaos_test"
TIME_LIMIT = 100.0


def chaos_database_url() -> str:
    """A database of its own on the suite's PostgreSQL server (the run wipes it)."""
    chosen = chosen_database()
    server, _ = split_postgres_url(POSTGRES_DEFAULT if chosen == "sqlite" else chosen)
    return f"{server.rsplit('/', 1)[0]}/{CHAOS_DATABASE}"


async def test_thirty_tasks_survive_kills_and_socket_drops_with_nothing_lost_rerun_or_left_behind(
    tmp_path: Path,
) -> None:
    seed = int(os.environ.get("KONTEXT_CHAOS_SEED") or random_seed())
    config = ChaosConfig(
        workdir=tmp_path,
        tasks=30,
        seed=seed,
        database_url=chaos_database_url(),
        faults=FaultCounts(api_kills=1, emulator_kills=1, ws_drops=2),
        settle_seconds=45.0,
        submit_seconds=30.0,
    )
    summary = await asyncio.wait_for(run_chaos(config), TIME_LIMIT)
    report = "\n".join([summary.line(), *summary.details, *summary.notes])
    print(report)  # shown by pytest -rP, and kept in CI logs
    assert summary.passed, report
    assert summary.accepted == 30, report
    assert summary.completed + summary.failed + summary.cancelled == 30, report
    assert (summary.api_kills, summary.emulator_kills) == (1, 1), report
    assert summary.ws_drops >= 1, report
