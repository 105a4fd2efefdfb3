"""Checking a request's parameters against a template's manifest, all problems at once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from workflows.manifest import ParameterSpec, WorkflowTemplate


@dataclass(frozen=True)
class ParameterProblem:
    name: str
    message: str
    reason: str = "INVALID"


class InvalidParameters(ValueError):
    def __init__(self, problems: list[ParameterProblem]) -> None:
        super().__init__("; ".join(f"{p.name}: {p.message}" for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class ResolvedParameters:
    """Every non-image parameter with defaults applied. `seed` None means: pick a random one."""

    values: Mapping[str, Any] = field(default_factory=dict)
    seed: int | None = None

    def with_seed(self, seed: int) -> ResolvedParameters:
        return ResolvedParameters(values=self.values, seed=seed)


class _Problem(Exception):
    def __init__(self, message: str, reason: str = "INVALID") -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason


def _number(spec: ParameterSpec, value: object) -> int | float:
    integral = spec.type in ("int", "seed")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Problem(f"must be {'a whole number' if integral else 'a number'}.", "WRONG_TYPE")
    if integral and not isinstance(value, int):
        raise _Problem("must be a whole number.", "WRONG_TYPE")
    if spec.minimum is not None and value < spec.minimum:
        raise _Problem(f"must be at least {spec.minimum}, got {value}.", "OUT_OF_RANGE")
    if spec.maximum is not None and value > spec.maximum:
        raise _Problem(f"must be at most {spec.maximum}, got {value}.", "OUT_OF_RANGE")
    return float(value) if spec.type == "float" else value


def _text(spec: ParameterSpec, value: object) -> str:
    if not isinstance(value, str):
        raise _Problem("must be text.", "WRONG_TYPE")
    if spec.required and not value.strip():
        raise _Problem("must not be empty.", "EMPTY")
    if spec.max_length is not None and len(value) > spec.max_length:
        raise _Problem(f"is limited to {spec.max_length} characters, got {len(value)}.", "TOO_LONG")
    return value.strip()


def _choice(spec: ParameterSpec, value: object) -> str:
    if not isinstance(value, str) or value not in spec.choices:
        shown = ", ".join(spec.choices[:12]) + (", …" if len(spec.choices) > 12 else "")
        raise _Problem(f"{value!r} is not one of: {shown}.", "NOT_A_CHOICE")
    return value


def _check(spec: ParameterSpec, value: object) -> Any:
    if spec.type in ("int", "float", "seed"):
        return _number(spec, value)
    if spec.type == "enum":
        return _choice(spec, value)
    return _text(spec, value)


def resolve_parameters(template: WorkflowTemplate, raw: Mapping[str, object]) -> ResolvedParameters:
    specs = {p.name: p for p in template.parameters if p.type != "image"}
    problems = [
        ParameterProblem(name, "is not a parameter of this workflow.", "UNKNOWN_PARAMETER")
        for name in raw
        if name not in specs
    ]
    values: dict[str, Any] = {}
    for name, spec in specs.items():
        value = raw.get(name, spec.default)
        if value is None:
            if spec.required:
                problems.append(ParameterProblem(name, "is required.", "MISSING"))
            values[name] = None
            continue
        try:
            values[name] = _check(spec, value)
        except _Problem as problem:
            problems.append(ParameterProblem(name, problem.message, problem.reason))
    if problems:
        raise InvalidParameters(problems)
    seed = values.pop("seed", None)
    return ResolvedParameters(values=values, seed=seed)
