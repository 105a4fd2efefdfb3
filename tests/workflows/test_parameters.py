"""Resolving request parameters: defaults, types, ranges, choices, lengths; all problems at once."""

from __future__ import annotations

import math

import pytest

from workflows.errors import ProblemReason
from workflows.parameters import InvalidParameters, check_given, resolve_parameters
from workflows.template import WorkflowTemplate

R = ProblemReason


def problems_of(template: WorkflowTemplate, raw: dict[str, object]) -> list[tuple[str, str]]:
    with pytest.raises(InvalidParameters) as caught:
        resolve_parameters(template, raw)
    return [(p.name, p.reason) for p in caught.value.problems]


def test_defaults_fill_what_is_not_given(kontext: WorkflowTemplate) -> None:
    params = resolve_parameters(kontext, {"description": "make it red"})
    assert dict(params.values) == {
        "description": "make it red",
        "steps": 20,
        "cfg": 1.0,
        "guidance": 2.5,
        "sampler": "euler",
        "scheduler": "simple",
        "denoise": 1.0,
    }
    assert params.seed is None


def test_none_counts_as_not_given(kontext: WorkflowTemplate) -> None:
    params = resolve_parameters(kontext, {"description": "x", "steps": None, "seed": None})
    assert (params.values["steps"], params.seed) == (20, None)


def test_given_values_are_kept_and_normalised(kontext: WorkflowTemplate) -> None:
    params = resolve_parameters(
        kontext,
        {"description": "  red  ", "cfg": 2, "seed": 2**64 - 1, "steps": 150, "denoise": 0},
    )
    assert params.values["description"] == "red"
    assert params.values["cfg"] == 2.0 and type(params.values["cfg"]) is float
    assert params.values["steps"] == 150
    assert params.values["denoise"] == 0.0
    assert params.seed == 2**64 - 1
    assert params.with_seed(5).seed == 5


def test_resolved_values_cannot_be_changed(kontext: WorkflowTemplate) -> None:
    params = resolve_parameters(kontext, {"description": "x"})
    with pytest.raises(TypeError):
        params.values["steps"] = 3  # type: ignore[index]


BAD_VALUES = [
    ({"steps": 0}, "steps", R.OUT_OF_RANGE),
    ({"steps": 10000}, "steps", R.OUT_OF_RANGE),
    ({"seed": -1}, "seed", R.OUT_OF_RANGE),
    ({"seed": 2**64}, "seed", R.OUT_OF_RANGE),
    ({"cfg": 100.5}, "cfg", R.OUT_OF_RANGE),
    ({"denoise": 1.01}, "denoise", R.OUT_OF_RANGE),
    ({"guidance": -0.1}, "guidance", R.OUT_OF_RANGE),
    ({"description": ""}, "description", R.EMPTY),
    ({"description": " \n\t "}, "description", R.EMPTY),
    ({"description": "x" * 100_000}, "description", R.TOO_LONG),
    ({"description": "x" * 2001}, "description", R.TOO_LONG),
    ({"description": 5}, "description", R.WRONG_TYPE),
    ({"sampler": "nope"}, "sampler", R.NOT_A_CHOICE),
    ({"scheduler": "Karras"}, "scheduler", R.NOT_A_CHOICE),
    ({"sampler": 1}, "sampler", R.NOT_A_CHOICE),
    ({"steps": "20"}, "steps", R.WRONG_TYPE),
    ({"steps": True}, "steps", R.WRONG_TYPE),
    ({"seed": False}, "seed", R.WRONG_TYPE),
    ({"steps": 20.0}, "steps", R.WRONG_TYPE),
    ({"seed": 1.5}, "seed", R.WRONG_TYPE),
    ({"cfg": "1.0"}, "cfg", R.WRONG_TYPE),
    ({"cfg": True}, "cfg", R.WRONG_TYPE),
    ({"cfg": math.nan}, "cfg", R.WRONG_TYPE),
    ({"guidance": math.inf}, "guidance", R.WRONG_TYPE),
    ({"colour": "red"}, "colour", R.UNKNOWN_PARAMETER),
    ({"image": "a.png"}, "image", R.UNKNOWN_PARAMETER),
]


@pytest.mark.parametrize(("raw", "name", "reason"), BAD_VALUES)
def test_bad_values_are_refused_with_a_reason(
    kontext: WorkflowTemplate, raw: dict[str, object], name: str, reason: ProblemReason
) -> None:
    assert problems_of(kontext, {"description": "ok", **raw}) == [(name, reason)]


def test_a_2000_character_description_is_the_longest_accepted(kontext: WorkflowTemplate) -> None:
    params = resolve_parameters(kontext, {"description": "x" * 2000})
    assert len(str(params.values["description"])) == 2000


def test_the_description_is_required(kontext: WorkflowTemplate) -> None:
    assert problems_of(kontext, {}) == [("description", R.MISSING)]


def test_every_problem_is_reported_at_once(kontext: WorkflowTemplate) -> None:
    raw = {
        "description": "   ",
        "steps": 0,
        "cfg": "high",
        "seed": -1,
        "sampler": "nope",
        "colour": "red",
    }
    assert problems_of(kontext, raw) == [
        ("colour", R.UNKNOWN_PARAMETER),
        ("description", R.EMPTY),
        ("steps", R.OUT_OF_RANGE),
        ("cfg", R.WRONG_TYPE),
        ("seed", R.OUT_OF_RANGE),
        ("sampler", R.NOT_A_CHOICE),
    ]


def test_problems_read_as_sentences(kontext: WorkflowTemplate) -> None:
    with pytest.raises(InvalidParameters) as caught:
        resolve_parameters(kontext, {"description": "x", "steps": 0, "sampler": "nope"})
    messages = {p.name: p.message for p in caught.value.problems}
    assert messages["steps"] == "must be at least 1."
    assert messages["sampler"].startswith("must be one of: euler, euler_cfg_pp,")
    assert "steps: must be at least 1." in str(caught.value)


@pytest.mark.parametrize(("raw", "name", "reason"), BAD_VALUES)
def test_a_partial_set_is_refused_by_the_same_rules(
    kontext: WorkflowTemplate, raw: dict[str, object], name: str, reason: ProblemReason
) -> None:
    with pytest.raises(InvalidParameters) as refused:
        check_given(kontext, raw)
    assert [(p.name, p.reason) for p in refused.value.problems] == [(name, reason)]


def test_a_partial_set_keeps_only_the_values_given(kontext: WorkflowTemplate) -> None:
    assert check_given(kontext, {}) == {}
    given = {"steps": 4, "cfg": 2, "seed": None, "sampler": "heun", "denoise": 1}
    assert check_given(kontext, given) == {
        "steps": 4,
        "cfg": 2.0,
        "sampler": "heun",
        "denoise": 1.0,
    }
    assert isinstance(check_given(kontext, {"cfg": 2})["cfg"], float)
