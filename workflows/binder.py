"""Binding: a template's graph with a request's values written in. Pure: it returns a new graph."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from workflows.manifest import InputRef, WorkflowTemplate
from workflows.parameters import ResolvedParameters


class BindingError(ValueError):
    """The values cannot be bound (a required image missing, an unknown model slot, no seed)."""


def _set(graph: dict[str, Any], ref: InputRef, value: object) -> None:
    graph[ref.node]["inputs"][ref.input] = value


def _bind_images(
    template: WorkflowTemplate, graph: dict[str, Any], images: Mapping[str, str]
) -> None:
    for spec in template.parameters:
        if spec.type != "image":
            continue
        name = images.get(spec.name)
        if name is not None:
            _set(graph, spec.target, name)
            continue
        if spec.required:
            raise BindingError(f"image {spec.name!r} is required")
        for node_id in spec.remove_when_absent:
            graph.pop(node_id, None)
        for ref in spec.unlink:
            graph[ref.node]["inputs"].pop(ref.input, None)


def bind(
    template: WorkflowTemplate,
    params: ResolvedParameters,
    *,
    images: Mapping[str, str],
    models: Mapping[str, str] | None = None,
    filename_prefix: str,
) -> dict[str, Any]:
    if params.seed is None:
        raise BindingError("a concrete seed is needed to bind")
    graph = copy.deepcopy(template.graph)
    for spec in template.parameters:
        if spec.type == "seed":
            _set(graph, spec.target, params.seed)
        elif spec.type != "image" and params.values.get(spec.name) is not None:
            _set(graph, spec.target, params.values[spec.name])
    _bind_images(template, graph, images)
    slots = {slot.slot: slot for slot in template.models}
    for slot_name, file_name in (models or {}).items():
        if slot_name not in slots:
            raise BindingError(f"no model slot {slot_name!r} in {template.name}")
        _set(graph, slots[slot_name].target, file_name)
    _set(graph, template.filename_prefix, filename_prefix)
    return graph
