"""Turning a decoded `*.bindings.json` document into a `WorkflowTemplate` (shape only).

Whether the manifest fits its graph is `consistency`'s job; this module only insists on the
right keys with the right JSON types, and refuses keys it does not know.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workflows.fields import FieldReader
from workflows.template import (
    ModelSlot,
    NodeInput,
    ParameterSpec,
    ParameterType,
    ParameterValue,
    WorkflowTemplate,
)

MANIFEST_FORMAT = 1
PARAMETER_TYPES = {kind.value: kind for kind in ParameterType}


def _target(reader: FieldReader) -> NodeInput:
    return NodeInput(node=reader.text("node"), input=reader.text("input"))


def _parameter_type(reader: FieldReader) -> ParameterType:
    name = reader.text("type")
    if name and name not in PARAMETER_TYPES:
        reader.problem(f"type {name!r} is not one of {', '.join(PARAMETER_TYPES)}")
    return PARAMETER_TYPES.get(name, ParameterType.STRING)


def _default(reader: FieldReader) -> ParameterValue | None:
    value = reader.raw("default")
    if value is None or (isinstance(value, str | int | float) and not isinstance(value, bool)):
        return value
    reader.problem("'default' must be a string, a number or null")
    return None


def _parameter(reader: FieldReader) -> ParameterSpec:
    spec = ParameterSpec(
        name=reader.text("name"),
        type=_parameter_type(reader),
        target=_target(reader),
        description=reader.text("description"),
        required=reader.flag("required"),
        default=_default(reader),
        minimum=reader.number("minimum"),
        maximum=reader.number("maximum"),
        step=reader.number("step"),
        choices=reader.strings("choices"),
        min_length=reader.integer("min_length"),
        max_length=reader.integer("max_length"),
        remove_node_when_absent=reader.flag("remove_node_when_absent"),
    )
    reader.finish()
    return spec


def _model_slot(reader: FieldReader) -> ModelSlot:
    slot = ModelSlot(
        name=reader.text("name"),
        target=_target(reader),
        default=reader.text("default"),
        description=reader.text("description"),
    )
    reader.finish()
    return slot


def _check_format(root: FieldReader) -> None:
    version = root.integer("format")
    if version != MANIFEST_FORMAT:
        root.problem(f"'format' must be {MANIFEST_FORMAT}, got {version!r}")


def _prefix_target(root: FieldReader) -> NodeInput:
    reader = root.child("filename_prefix")
    target = _target(reader)
    reader.finish()
    return target


def parse_template(
    document: object, graph: Mapping[str, Any], where: str, problems: list[str]
) -> WorkflowTemplate:
    """The template `document` describes; every shape problem is appended to `problems`."""
    root = FieldReader(document, where, problems)
    _check_format(root)
    root.optional_text("graph")
    template = WorkflowTemplate(
        name=root.text("name"),
        title=root.text("title"),
        description=root.text("description"),
        graph=graph,
        output_node=root.text("output_node"),
        sampler_node=root.text("sampler_node"),
        filename_prefix=_prefix_target(root),
        required_node_types=frozenset(root.strings("required_node_types")),
        parameters=tuple(_parameter(item) for _, item in root.children("parameters")),
        models=tuple(_model_slot(item) for _, item in root.children("models")),
    )
    root.finish()
    return template
