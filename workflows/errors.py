"""The exceptions of the workflows library.

WorkflowError
 ├── ManifestError        a template's manifest or graph is broken (raised when templates load)
 ├── UnknownWorkflow      no template of that name
 ├── InvalidParameters    a request's parameters break the template's rules (all problems)
 └── BindingError         values that cannot be written into the graph (all problems)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum


class ProblemReason(StrEnum):
    """Why a parameter value was refused: a stable code for clients."""

    MISSING = "MISSING"
    WRONG_TYPE = "WRONG_TYPE"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    EMPTY = "EMPTY"
    TOO_SHORT = "TOO_SHORT"
    TOO_LONG = "TOO_LONG"
    NOT_A_CHOICE = "NOT_A_CHOICE"
    UNKNOWN_PARAMETER = "UNKNOWN_PARAMETER"


@dataclass(frozen=True)
class ParameterProblem:
    """One thing wrong with one parameter: its name, a sentence, and a reason code."""

    name: str
    message: str
    reason: ProblemReason = ProblemReason.WRONG_TYPE


def _joined(problems: Iterable[str]) -> str:
    return "; ".join(problems)


class WorkflowError(Exception):
    """Base of every error this library raises."""


class ManifestError(WorkflowError, ValueError):
    """A manifest or its graph is broken; `problems` lists everything found in `source`."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        super().__init__(f"{source}: {_joined(problems)}")
        self.source = source
        self.problems = tuple(problems)


class UnknownWorkflow(WorkflowError, LookupError):
    """No template has this name."""

    def __init__(self, name: str, known: Sequence[str]) -> None:
        super().__init__(f"No workflow named {name!r}; known: {', '.join(known) or 'none'}.")
        self.name = name
        self.known = tuple(known)


class InvalidParameters(WorkflowError, ValueError):
    """A request's parameters break the template's rules; `problems` holds every one of them."""

    def __init__(self, problems: Sequence[ParameterProblem]) -> None:
        super().__init__(_joined(f"{p.name}: {p.message}" for p in problems))
        self.problems = list(problems)


class BindingError(WorkflowError, ValueError):
    """The values handed to `bind` cannot be written into the graph; `problems` lists why."""

    def __init__(self, template: str, problems: Sequence[str]) -> None:
        super().__init__(f"cannot bind {template}: {_joined(problems)}")
        self.template = template
        self.problems = tuple(problems)
