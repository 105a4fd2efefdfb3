"""Resolving a request's raw parameters against a template: defaults applied, every rule checked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from workflows.checking import ValueRejected, check_value
from workflows.errors import InvalidParameters, ParameterProblem, ProblemReason
from workflows.template import ParameterSpec, ParameterType, ParameterValue, WorkflowTemplate

__all__ = [
    "InvalidParameters",
    "ParameterProblem",
    "ProblemReason",
    "ResolvedParameters",
    "check_given",
    "resolve_parameters",
]


@dataclass(frozen=True)
class ResolvedParameters:
    """Checked values by parameter name (images excluded), and the seed apart from them.

    `seed` None means the caller has yet to choose one (at random, 0..2^64-1); `bind` needs
    it concrete. `values` leaves out optional parameters that have no value.
    """

    values: Mapping[str, ParameterValue] = field(default_factory=dict)
    seed: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", MappingProxyType(dict(self.values)))

    def with_seed(self, seed: int) -> ResolvedParameters:
        return replace(self, seed=seed)


def _unknown(template: WorkflowTemplate, raw: Mapping[str, object]) -> list[ParameterProblem]:
    problems = []
    for name in raw:
        spec = template.parameter(name)
        if spec is None:
            message = "is not a parameter of this workflow."
        elif spec.type is ParameterType.IMAGE:
            message = "is an image: it is uploaded, not given as a value."
        else:
            continue
        problems.append(ParameterProblem(name, message, ProblemReason.UNKNOWN_PARAMETER))
    return problems


def _resolve_one(spec: ParameterSpec, given: object) -> ParameterValue | None:
    value = spec.default if given is None else given
    if value is None:
        if spec.required:
            raise ValueRejected(ProblemReason.MISSING, "is required.")
        return None
    return check_value(spec, value)


def resolve_parameters(template: WorkflowTemplate, raw: Mapping[str, object]) -> ResolvedParameters:
    """Apply defaults and check every value; raise InvalidParameters listing all problems.

    A value of None counts as not given. Bools are not numbers; whole-number parameters take
    ints only; float parameters take ints or floats and resolve to float; strings are stripped.
    """
    problems = _unknown(template, raw)
    values: dict[str, ParameterValue] = {}
    seed: int | None = None
    for spec in template.parameters:
        if spec.type is ParameterType.IMAGE:
            continue
        try:
            value = _resolve_one(spec, raw.get(spec.name))
        except ValueRejected as rejected:
            problems.append(ParameterProblem(spec.name, rejected.message, rejected.reason))
            continue
        if spec.type is ParameterType.SEED:
            seed = value if isinstance(value, int) else None
        elif value is not None:
            values[spec.name] = value
    if problems:
        raise InvalidParameters(problems)
    return ResolvedParameters(values=values, seed=seed)


def check_given(template: WorkflowTemplate, raw: Mapping[str, object]) -> dict[str, ParameterValue]:
    """Check only the values given, by the same rules as `resolve_parameters`; no defaults,
    nothing required. For partial sets of parameters (presets). A value of None is not given."""
    problems = _unknown(template, raw)
    values: dict[str, ParameterValue] = {}
    for spec in template.parameters:
        given = raw.get(spec.name)
        if given is None or spec.type is ParameterType.IMAGE:
            continue
        try:
            values[spec.name] = check_value(spec, given)
        except ValueRejected as rejected:
            problems.append(ParameterProblem(spec.name, rejected.message, rejected.reason))
    if problems:
        raise InvalidParameters(problems)
    return values
