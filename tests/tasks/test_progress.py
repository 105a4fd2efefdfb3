from __future__ import annotations

import uuid

from tasks.progress import PromptRun


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
