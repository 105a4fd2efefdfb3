"""Whether a parsed template's manifest fits its graph and makes sense on its own terms."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Hashable, Iterable, Iterator
from typing import TypeVar

from workflows.checking import ValueRejected, check_value
from workflows.graph import class_types, graph_problems, is_link
from workflows.template import SEED_MAX, NodeInput, ParameterSpec, ParameterType, WorkflowTemplate

NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
TEMPLATE_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


Item = TypeVar("Item", bound=Hashable)


def _duplicates(values: Iterable[Item]) -> list[Item]:
    return [value for value, count in Counter(values).items() if count > 1]


def _targets(template: WorkflowTemplate) -> Iterator[tuple[str, NodeInput]]:
    for spec in template.parameters:
        yield f"parameter {spec.name!r}", spec.target
    for slot in template.models:
        yield f"model slot {slot.name!r}", slot.target
    yield "filename_prefix", template.filename_prefix


def _target_problems(template: WorkflowTemplate) -> Iterator[str]:
    for owner, target in _targets(template):
        node = template.graph.get(target.node)
        if node is None:
            yield f"{owner} targets node {target.node}, which is not in the graph"
        elif target.input not in node["inputs"]:
            yield f"{owner} targets {target}, but node {target.node} has no input {target.input!r}"
        elif is_link(node["inputs"][target.input]):
            yield f"{owner} targets {target}, which is a link, not a value"
    for target in _duplicates(target for _, target in _targets(template)):
        yield f"{target} is bound more than once"


def _node_problems(template: WorkflowTemplate) -> Iterator[str]:
    for role, node_id in (
        ("output_node", template.output_node),
        ("sampler_node", template.sampler_node),
    ):
        if node_id not in template.graph:
            yield f"{role} {node_id} is not in the graph"
    used, listed = class_types(template.graph), template.required_node_types
    for node_type in sorted(used - listed):
        yield f"node type {node_type} is used by the graph but not in required_node_types"
    for node_type in sorted(listed - used):
        yield f"node type {node_type} is in required_node_types but not used by the graph"


def _name_problems(template: WorkflowTemplate) -> Iterator[str]:
    if not TEMPLATE_NAME_PATTERN.fullmatch(template.name):
        yield f"template name {template.name!r} is not a plain identifier"
    for name in [spec.name for spec in template.parameters] + [s.name for s in template.models]:
        if not NAME_PATTERN.fullmatch(name):
            yield f"name {name!r} is not an identifier"
    for name in _duplicates(spec.name for spec in template.parameters):
        yield f"parameter {name!r} is declared more than once"
    for name in _duplicates(slot.name for slot in template.models):
        yield f"model slot {name!r} is declared more than once"
    if sum(spec.type is ParameterType.SEED for spec in template.parameters) > 1:
        yield "a template has at most one seed parameter"


def _misplaced_rules(spec: ParameterSpec) -> Iterator[str]:
    numeric = spec.type.is_numeric
    if not numeric and (spec.minimum, spec.maximum, spec.step) != (None, None, None):
        yield "minimum, maximum and step are for numbers only"
    if spec.type is not ParameterType.ENUM and spec.choices:
        yield "choices are for enums only"
    if spec.type is not ParameterType.STRING and (spec.min_length, spec.max_length) != (None, None):
        yield "min_length and max_length are for strings only"


def _range_problems(spec: ParameterSpec) -> Iterator[str]:
    low, high = spec.minimum, spec.maximum
    if low is None or high is None:
        yield "needs both minimum and maximum"
        return
    if spec.type.is_integral and not (isinstance(low, int) and isinstance(high, int)):
        yield "whole-number parameters need whole-number bounds"
    if low > high:
        yield "minimum is above maximum"
    if spec.type is ParameterType.SEED and (low < 0 or high > SEED_MAX):
        yield f"a seed lies within 0..{SEED_MAX}"
    if spec.step is not None and spec.step <= 0:
        yield "step must be positive"


def _kind_problems(spec: ParameterSpec) -> Iterator[str]:
    if spec.type.is_numeric:
        yield from _range_problems(spec)
    elif spec.type is ParameterType.ENUM:
        if not spec.choices:
            yield "an enum needs choices"
        if _duplicates(spec.choices):
            yield "choices repeat"
    elif spec.type is ParameterType.STRING:
        if spec.max_length is None or spec.max_length < 1:
            yield "a string needs a positive max_length"
        elif spec.min_length is not None and not 0 <= spec.min_length <= spec.max_length:
            yield "min_length must lie within 0..max_length"


def _default_problems(spec: ParameterSpec) -> Iterator[str]:
    if spec.default is None:
        return
    if spec.required or spec.type is ParameterType.IMAGE:
        yield "a required parameter or an image has no default"
        return
    try:
        check_value(spec, spec.default)
    except ValueRejected as rejected:
        yield f"its default {spec.default!r} {rejected.message}"


def _absence_problems(spec: ParameterSpec, template: WorkflowTemplate) -> Iterator[str]:
    if spec.remove_node_when_absent:
        if spec.required or spec.default is not None:
            yield "remove_node_when_absent is for optional parameters without a default"
        if spec.target.node in (template.output_node, template.sampler_node):
            yield "remove_node_when_absent would remove the output or sampler node"
    elif spec.type is ParameterType.IMAGE and not spec.required:
        yield "an optional image needs remove_node_when_absent"


def _literal_problems(spec: ParameterSpec, template: WorkflowTemplate) -> Iterator[str]:
    """The value the exported graph holds where the parameter writes must be of its type:
    a number input bound as text (or the reverse) is a manifest pointing at the wrong input."""
    node = template.graph.get(spec.target.node)
    literal = node["inputs"].get(spec.target.input) if node is not None else None
    if literal is None or is_link(literal):
        return
    if spec.type.is_integral:
        fits = isinstance(literal, int) and not isinstance(literal, bool)
        wanted = "a whole number"
    elif spec.type is ParameterType.FLOAT:
        fits = isinstance(literal, int | float) and not isinstance(literal, bool)
        wanted = "a number"
    else:
        fits, wanted = isinstance(literal, str), "text"
    if not fits:
        yield f"is {spec.type.value} but the graph holds {literal!r} there, not {wanted}"


def _parameter_problems(template: WorkflowTemplate) -> Iterator[str]:
    for spec in template.parameters:
        where = f"node {spec.target}, parameter {spec.name!r}"
        for rules in (_misplaced_rules, _kind_problems, _default_problems):
            yield from (f"{where}: {p}" for p in rules(spec))
        yield from (f"{where}: {p}" for p in _absence_problems(spec, template))
        yield from (f"{where}: {p}" for p in _literal_problems(spec, template))


def template_problems(template: WorkflowTemplate) -> list[str]:
    """Everything wrong with a template; empty when it can be bound safely."""
    structure = graph_problems(template.graph)
    if structure:
        return structure
    checks = (_name_problems, _node_problems, _target_problems, _parameter_problems)
    return [problem for check in checks for problem in check(template)]
