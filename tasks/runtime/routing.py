"""Which waiting task goes to which backend: only where it can run, warm models first, and
never so that one template's tasks starve another's.

A task goes to a backend whose /object_info offers its template's node types and model files.
Among those with room, one that ran the same model files last is preferred (no model load).
When every backend with room would have to switch models for the oldest task, a younger task
within the first `WINDOW` that is warm there may go first, or the task waits for its busy warm
backend; but it is passed over at most `MAX_PASSES` times: then it goes wherever it can, so no
template waits behind another for long.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from uuid import UUID

from tasks.runtime.backends import Backend
from tasks.store.claims import Waiting

WINDOW = 16
"""How many of the oldest waiting tasks are looked at in one choice."""
MAX_PASSES = 8
"""How often a task may be passed over (for a younger one that finds a warm backend, or to
wait for its own busy warm backend) before it goes wherever it can."""


@dataclass(frozen=True)
class Route:
    task: Waiting
    backend: Backend
    passed_over: Waiting | None = None
    """The older task this one went ahead of (to count its passes)."""


ModelsOf = Callable[[str], frozenset[str]]


def _least_loaded(backends: Sequence[Backend], loads: Counter[str]) -> Backend:
    return min(backends, key=lambda b: loads[b.name])


def _warm(backend: Backend, models: frozenset[str]) -> bool:
    return bool(models) and backend.loaded_models == models


def _cost(backend: Backend, models: frozenset[str], loads: Counter[str]) -> tuple[int, int, int]:
    """Warm first, then one with nothing loaded, then a model switch; then the least loaded;
    then the backend that can run the fewest templates (keeping the others for theirs)."""
    switch = 0 if _warm(backend, models) else 1 if not backend.loaded_models else 2
    return switch, loads[backend.name], len(backend.runnable)


def choose(
    waiting: Sequence[Waiting],
    room: Sequence[Backend],
    loads: Counter[str],
    models_of: ModelsOf,
    passes: Counter[UUID],
    *,
    ready: Sequence[Backend] = (),
    prefer_warm: bool = True,
) -> Route | None:
    """The next task to send and where, from `waiting` (oldest first), the backends with
    `room` and all `ready` ones; None when no waiting task should go anywhere now.

    A task whose only place with room would switch models, while a busy `ready` backend holds
    its models, waits for that one: each such round counts in `passes` (updated here), and
    after `MAX_PASSES` it takes the switch. `prefer_warm` False is plain least-loaded routing
    in arrival order."""
    for index, task in enumerate(waiting[:WINDOW]):
        able = [b for b in room if b.can_run(task.workflow)]
        if not able:
            continue
        if not prefer_warm:
            return Route(task, _least_loaded(able, loads))
        models = models_of(task.workflow)
        best = min(able, key=lambda b: _cost(b, models, loads))
        if _cost(best, models, loads)[0] < 2 or passes[task.id] >= MAX_PASSES:
            return Route(task, best)
        ahead = _warm_younger(waiting[index + 1 : WINDOW], able, models_of)
        if ahead is not None:
            return Route(ahead.task, ahead.backend, passed_over=task)
        if any(_warm(b, models) and b.can_run(task.workflow) for b in ready):
            passes[task.id] += 1  # its warm backend is busy: wait for it a little
            continue
        return Route(task, best)
    return None


def _warm_younger(
    younger: Sequence[Waiting], able: Sequence[Backend], models_of: ModelsOf
) -> Route | None:
    for task in younger:
        models = models_of(task.workflow)
        warm = [b for b in able if b.can_run(task.workflow) and _warm(b, models)]
        if warm:
            return Route(task, warm[0])
    return None
