"""Routing: a task goes only where its template can run, warm backends first, and a task
passed over for warm younger ones is passed over a bounded number of times."""

from __future__ import annotations

import uuid
from collections import Counter

from tasks.runtime.backends import Backend, Requirements, TemplateNeeds
from tasks.runtime.routing import MAX_PASSES, choose
from tasks.store.claims import Waiting

MODELS = {"basic": frozenset({"kontext.safetensors"}), "other": frozenset({"other.safetensors"})}


def backend(name: str, loaded: str | None = None, cannot: tuple[str, ...] = ()) -> Backend:
    return Backend(
        url=name,
        client=None,  # type: ignore[arg-type]
        connected=True,
        problem=None,
        cannot_run={workflow: "missing model file" for workflow in cannot},
        loaded_models=MODELS[loaded] if loaded else frozenset(),
    )


def waiting(*workflows: str) -> list[Waiting]:
    return [Waiting(id=uuid.uuid4(), workflow=workflow) for workflow in workflows]


def models_of(workflow: str) -> frozenset[str]:
    return MODELS[workflow]


def test_a_task_goes_only_where_its_template_can_run() -> None:
    only_basic = backend("a", cannot=("other",))
    queue = waiting("other", "basic")
    route = choose(queue, [only_basic], Counter(), models_of, Counter())
    assert route is not None and (route.task, route.backend) == (queue[1], only_basic)
    assert choose(queue[:1], [only_basic], Counter(), models_of, Counter()) is None


def test_the_warm_backend_is_preferred_over_the_least_loaded() -> None:
    cold, warm = backend("a", loaded="other"), backend("b", loaded="basic")
    route = choose(waiting("basic"), [cold, warm], Counter({"b": 1}), models_of, Counter())
    assert route is not None and route.backend is warm
    plain = choose(
        waiting("basic"), [cold, warm], Counter({"b": 1}), models_of, Counter(), prefer_warm=False
    )
    assert plain is not None and plain.backend is cold


def test_a_younger_warm_task_goes_first_but_the_oldest_only_waits_so_long() -> None:
    free = backend("a", loaded="other")
    queue = waiting("basic", "other")
    passes: Counter[uuid.UUID] = Counter()
    for _ in range(MAX_PASSES):
        route = choose(queue, [free], Counter(), models_of, passes)
        assert route is not None and route.task == queue[1] and route.passed_over == queue[0]
        passes[queue[0].id] += 1
    route = choose(queue, [free], Counter(), models_of, passes)
    assert route is not None and route.task == queue[0]


def test_a_task_waits_a_little_for_its_busy_warm_backend_rather_than_switch_another() -> None:
    busy_warm, free_cold = backend("a", loaded="basic"), backend("b", loaded="other")
    queue = waiting("basic")
    passes: Counter[uuid.UUID] = Counter()
    for _ in range(MAX_PASSES):
        route = choose(queue, [free_cold], Counter(), models_of, passes, ready=[busy_warm])
        assert route is None
    route = choose(queue, [free_cold], Counter(), models_of, passes, ready=[busy_warm])
    assert route is not None and route.backend is free_cold


def test_among_equals_the_backend_that_runs_fewer_templates_is_chosen() -> None:
    specialist = backend("a", cannot=("other",))
    specialist.requirements = generalist_requirements()
    generalist = backend("b")
    generalist.requirements = generalist_requirements()
    route = choose(waiting("basic"), [generalist, specialist], Counter(), models_of, Counter())
    assert route is not None and route.backend is specialist


def generalist_requirements() -> Requirements:
    needs = TemplateNeeds(frozenset(), frozenset())
    return Requirements(templates={"basic": needs, "other": needs})
