"""Fixtures shared by the tests of the domain."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tasks.background import BackgroundTasks


@pytest.fixture
async def background() -> AsyncIterator[BackgroundTasks]:
    """The owner of background work for one test, closed after it."""
    owner = BackgroundTasks()
    yield owner
    await owner.aclose()
