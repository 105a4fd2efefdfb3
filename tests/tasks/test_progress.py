from __future__ import annotations

import uuid

import pytest

from tasks.runtime.progress import PromptRun


def run() -> PromptRun:
    return PromptRun(prompt_id="p", task_id=uuid.uuid4(), node_count=13, sampler_node="31")


def test_progress_counts_nodes_and_sampler_steps_and_never_goes_back() -> None:
    prompt = run()
    prompt.cached([])
    seen = []
    for node in ["39", "142", "146", "124", "38", "6", "135", "177", "35", "37", "31"]:
        prompt.executing(node)
        seen.append(prompt.update_percent())
    for step in range(1, 5):
        assert prompt.sampled("31", step, 4)
        seen.append(prompt.update_percent())
    prompt.executing("8")
    seen.append(prompt.update_percent())
    prompt.executing("136")
    seen.append(prompt.update_percent())
    assert seen == sorted(seen)
    assert seen[-1] == 100 * 15 / 16  # every node but the running SaveImage
    prompt.executing(None)
    assert prompt.update_percent() == 99.0
    assert prompt.step == 4 and prompt.total_steps == 4


def test_a_fully_cached_run_jumps_to_the_end_without_steps() -> None:
    prompt = run()
    prompt.cached(
        ["39", "142", "146", "124", "38", "6", "135", "177", "35", "37", "31", "8", "136"]
    )
    assert prompt.update_percent() == 99.0


def test_progress_from_other_nodes_is_not_a_sampler_step() -> None:
    prompt = run()
    assert not prompt.sampled("8", 1, 1)
    assert prompt.step == 0


def test_previews_are_throttled() -> None:
    prompt = run()
    assert prompt.preview_due(10.0, 0.5)
    assert not prompt.preview_due(10.2, 0.5)
    assert prompt.preview_due(10.6, 0.5)


def bound_run(steps: int) -> PromptRun:
    """The default prompt as bound: 14 nodes (no second image), its steps known at dispatch."""
    return PromptRun(
        prompt_id="p", task_id=uuid.uuid4(), node_count=14, sampler_node="31", total_steps=steps
    )


BEFORE_SAMPLING = ["39", "142", "146", "42", "124", "38", "6", "135", "177", "35", "37"]


def test_the_bar_moves_linearly_with_the_bound_steps_from_the_first_one() -> None:
    prompt = bound_run(20)
    prompt.cached([])
    for node in [*BEFORE_SAMPLING, "31"]:
        prompt.executing(node)
        prompt.update_percent()
    units = len(BEFORE_SAMPLING) + 20 + 2
    assert prompt.update_percent() == pytest.approx(100 * len(BEFORE_SAMPLING) / units)  # not 73
    for step in range(1, 21):
        prompt.sampled("31", step, 20, now=float(step))
        assert prompt.update_percent() == pytest.approx(100 * (len(BEFORE_SAMPLING) + step) / units)


def test_cached_nodes_count_as_done() -> None:
    prompt = bound_run(20)
    prompt.cached(BEFORE_SAMPLING)
    assert prompt.update_percent() == pytest.approx(100 * len(BEFORE_SAMPLING) / 33)


def test_a_sampler_reporting_other_steps_than_planned_never_moves_the_bar_back() -> None:
    prompt = bound_run(20)
    prompt.cached(BEFORE_SAMPLING)
    prompt.executing("31")
    for step in range(1, 11):
        prompt.sampled("31", step, 20, now=float(step))
        prompt.update_percent()
    held = prompt.percent
    prompt.sampled("31", 1, 40, now=11.0)
    assert prompt.update_percent() == held
    assert prompt.total_steps == 40


def test_the_step_rate_is_measured_from_the_second_step_on() -> None:
    prompt = bound_run(20)
    prompt.sampled("31", 1, 20, now=10.0)
    assert prompt.sampling.seconds_per_step() is None  # the first step holds the warm-up
    prompt.sampled("31", 2, 20, now=10.5)
    prompt.sampled("31", 3, 20, now=11.0)
    assert prompt.sampling.seconds_per_step() == 0.5
    assert prompt.sampling.done_at is None
    prompt.sampled("31", 20, 20, now=19.5)
    assert prompt.sampling.done_at == 19.5
