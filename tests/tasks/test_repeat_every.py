"""A periodic loop (the watchdog's and the janitor's) outlives a failed run."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest

from tasks.background import repeat_every


async def test_a_failed_run_is_logged_and_the_next_one_still_happens(
    caplog: pytest.LogCaptureFixture,
) -> None:
    runs: list[int] = []
    third = asyncio.Event()

    async def flaky() -> None:
        runs.append(len(runs))
        if len(runs) == 1:
            raise RuntimeError("database went away")
        if len(runs) == 3:
            third.set()

    with caplog.at_level(logging.ERROR, logger="tasks.background"):
        loop = asyncio.create_task(repeat_every(0.001, flaky, "test sweep"))
        try:
            await asyncio.wait_for(third.wait(), 5)
        finally:
            loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await loop
    assert len(runs) >= 3
    [record] = caplog.records
    assert record.getMessage() == "test sweep failed; retrying later"
    assert record.exc_info is not None and "database went away" in str(record.exc_info[1])
