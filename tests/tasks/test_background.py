"""The one owner of background work: scopes close their own work, the owner closes everything,
and `first_of` stops the others once one ends."""

from __future__ import annotations

import asyncio
import logging

import pytest

from tasks.background import BackgroundTasks


async def forever() -> None:
    await asyncio.Event().wait()


async def test_a_scope_closes_its_own_work_and_leaves_the_owners_running() -> None:
    owner = BackgroundTasks()
    kept = owner.start(forever(), "kept")
    scope = owner.scope()
    scoped = scope.start(forever(), "scoped")
    await scope.aclose()
    assert scoped.cancelled()
    assert not kept.done()
    await owner.aclose()
    assert kept.cancelled()


async def test_closing_the_owner_closes_the_work_of_its_scopes() -> None:
    owner = BackgroundTasks()
    inner = owner.scope().scope()
    deep = inner.start(forever(), "deep")
    await owner.aclose()
    assert deep.cancelled()


async def test_first_of_stops_the_others_once_one_ends() -> None:
    owner = BackgroundTasks()
    started = asyncio.Event()
    stopped: list[str] = []

    async def waits(name: str) -> None:
        try:
            started.set()
            await asyncio.Event().wait()
        finally:
            stopped.append(name)

    async def ends() -> None:
        await started.wait()

    await owner.first_of({"a": waits("a"), "b": waits("b"), "ends": ends()})
    assert sorted(stopped) == ["a", "b"]
    await owner.aclose()


async def test_a_crash_is_logged_with_the_work_s_name(caplog: pytest.LogCaptureFixture) -> None:
    owner = BackgroundTasks()

    async def crashes() -> None:
        raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR, logger="tasks.background"):
        task = owner.start(crashes(), "sending task 1")
        await asyncio.gather(task, return_exceptions=True)
        await asyncio.sleep(0)  # done callbacks run on the next turn of the loop
    assert [r.getMessage() for r in caplog.records] == ["background task sending task 1 crashed"]
    await owner.aclose()
