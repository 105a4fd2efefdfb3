"""Checking one value against one parameter's rules; the same rules for requests and manifests."""

from __future__ import annotations

import math

from workflows.errors import ProblemReason
from workflows.template import ParameterSpec, ParameterType, ParameterValue

CHOICES_SHOWN = 12


class ValueRejected(Exception):
    """A value breaks its parameter's rules."""

    def __init__(self, reason: ProblemReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def _in_range(spec: ParameterSpec, value: int | float) -> int | float:
    if spec.minimum is not None and value < spec.minimum:
        raise ValueRejected(ProblemReason.OUT_OF_RANGE, f"must be at least {spec.minimum}.")
    if spec.maximum is not None and value > spec.maximum:
        raise ValueRejected(ProblemReason.OUT_OF_RANGE, f"must be at most {spec.maximum}.")
    return value


def _integer(spec: ParameterSpec, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueRejected(ProblemReason.WRONG_TYPE, "must be a whole number.")
    return int(_in_range(spec, value))


def _real(spec: ParameterSpec, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueRejected(ProblemReason.WRONG_TYPE, "must be a number.")
    if not math.isfinite(value):
        raise ValueRejected(ProblemReason.WRONG_TYPE, "must be a finite number.")
    return float(_in_range(spec, value))


def _text(spec: ParameterSpec, value: object) -> str:
    if not isinstance(value, str):
        raise ValueRejected(ProblemReason.WRONG_TYPE, "must be text.")
    text = value.strip()
    if not text and (spec.required or (spec.min_length or 0) > 0):
        raise ValueRejected(ProblemReason.EMPTY, "must not be empty.")
    if spec.min_length is not None and len(text) < spec.min_length:
        raise ValueRejected(ProblemReason.TOO_SHORT, f"needs {spec.min_length} characters.")
    if spec.max_length is not None and len(text) > spec.max_length:
        message = f"is limited to {spec.max_length} characters, got {len(text)}."
        raise ValueRejected(ProblemReason.TOO_LONG, message)
    return text


def _choice(spec: ParameterSpec, value: object) -> str:
    if isinstance(value, str) and value in spec.choices:
        return value
    shown = ", ".join(spec.choices[:CHOICES_SHOWN])
    more = ", …" if len(spec.choices) > CHOICES_SHOWN else ""
    raise ValueRejected(ProblemReason.NOT_A_CHOICE, f"must be one of: {shown}{more}.")


def _file_name(spec: ParameterSpec, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueRejected(ProblemReason.WRONG_TYPE, "must be the name of an uploaded image.")
    return value


def check_value(spec: ParameterSpec, value: object) -> ParameterValue:
    """The value as it goes into the graph (strings stripped, floats as float), or ValueRejected."""
    if spec.type.is_integral:
        return _integer(spec, value)
    if spec.type is ParameterType.FLOAT:
        return _real(spec, value)
    if spec.type is ParameterType.ENUM:
        return _choice(spec, value)
    if spec.type is ParameterType.IMAGE:
        return _file_name(spec, value)
    return _text(spec, value)
