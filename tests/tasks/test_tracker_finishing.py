"""ComfyUI going away while a prompt is being finished is expected: a warning, no traceback, and
the task is left for the reconciliation to settle."""

from __future__ import annotations

import logging
import uuid
from typing import Any, cast

import pytest

from comfy.errors import ComfyUnavailable
from tasks.background import BackgroundTasks
from tasks.runtime.backends import Backend
from tasks.runtime.finisher import PromptFinisher
from tasks.runtime.progress import PromptRun
from tasks.runtime.run_times import RunTimes
from tasks.runtime.tracker import BackendTracker


class FailingFinisher:
    async def complete(self, task_id: uuid.UUID, prompt_id: str, backend: Backend) -> None:
        raise ComfyUnavailable("connection refused")


async def test_comfyui_unavailable_while_finishing_is_a_warning_and_the_tracker_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    woken: list[bool] = []
    stub: Any = object()
    backend = Backend(url="http://comfy", client=stub)
    backend.mark_finishing("p1")
    tracker = BackendTracker(
        backend=backend,
        templates=stub,
        changes=stub,
        outcomes=stub,
        finisher=cast(PromptFinisher, FailingFinisher()),
        previews=stub,
        reconciler=stub,
        run_times=RunTimes(),
        on_idle=lambda: woken.append(True),
        background=BackgroundTasks(),
    )
    run = PromptRun(prompt_id="p1", task_id=uuid.uuid4(), node_count=3, sampler_node="31")
    with caplog.at_level(logging.WARNING, logger="tasks.runtime.tracker"):
        await tracker._finish(run)
    assert woken == [True]
    assert backend.finishing == frozenset()  # the slot is free again
    assert [(r.levelname, r.exc_info) for r in caplog.records] == [("WARNING", None)]
    assert "connection refused" in caplog.records[0].getMessage()
