"""Binding: a template's graph with a request's values written in, ready for ComfyUI's POST /prompt.

`bind` is pure: it checks everything first, then returns a new graph and never touches the
template. Where each value goes comes from the manifest; no node id lives in this code.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from workflows.checking import ValueRejected, check_value
from workflows.errors import BindingError
from workflows.graph import Graph, remove_nodes
from workflows.parameters import ResolvedParameters
from workflows.template import NodeInput, ParameterSpec, WorkflowTemplate

__all__ = ["BindingError", "ModelFiles", "bind", "check_model_files"]

ModelFiles = Mapping[str, str]
"""Model file names by slot name (e.g. {"unet": "flux1-dev-kontext_fp16.safetensors"})."""


@dataclass
class _Plan:
    writes: list[tuple[NodeInput, object]] = field(default_factory=list)
    removals: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)

    def absent(self, spec: ParameterSpec, what: str) -> None:
        if spec.required:
            self.problems.append(f"{what} {spec.name!r} is required")
        elif spec.remove_node_when_absent:
            self.removals.add(spec.target.node)

    def checked(self, spec: ParameterSpec, value: object, what: str) -> None:
        try:
            self.writes.append((spec.target, check_value(spec, value)))
        except ValueRejected as rejected:
            self.problems.append(f"{what} {spec.name!r} {rejected.message}")


def _plan_values(template: WorkflowTemplate, params: ResolvedParameters, plan: _Plan) -> None:
    specs = {spec.name: spec for spec in template.value_parameters}
    plan.problems += [f"no parameter {name!r}" for name in params.values if name not in specs]
    for name, spec in specs.items():
        value = params.values.get(name, spec.default)
        if value is None:
            plan.absent(spec, "parameter")
        else:
            plan.checked(spec, value, "parameter")


def _plan_seed(template: WorkflowTemplate, params: ResolvedParameters, plan: _Plan) -> None:
    spec = template.seed_parameter
    if spec is not None and params.seed is None:
        plan.problems.append(f"seed {spec.name!r} must be chosen before binding")
    elif spec is not None:
        plan.checked(spec, params.seed, "seed")


def _plan_images(template: WorkflowTemplate, images: Mapping[str, str], plan: _Plan) -> None:
    specs = {spec.name: spec for spec in template.image_parameters}
    plan.problems += [f"no image parameter {name!r}" for name in images if name not in specs]
    for name, spec in specs.items():
        if images.get(name) is None:
            plan.absent(spec, "image")
        else:
            plan.checked(spec, images[name], "image")


def _plan_models(template: WorkflowTemplate, models: ModelFiles, plan: _Plan) -> None:
    slots = {slot.name: slot for slot in template.models}
    plan.problems += [f"no model slot {name!r}" for name in models if name not in slots]
    for name, slot in slots.items():
        file_name = models.get(name, slot.default)
        if isinstance(file_name, str) and file_name.strip():
            plan.writes.append((slot.target, file_name))
        else:
            plan.problems.append(f"model slot {name!r} needs a file name")


def _plan_prefix(template: WorkflowTemplate, prefix: str, plan: _Plan) -> None:
    path = PurePosixPath(prefix) if isinstance(prefix, str) else None
    if path is None or not prefix.strip() or path.is_absolute() or ".." in path.parts:
        plan.problems.append(f"filename prefix {prefix!r} must be a relative name")
    else:
        plan.writes.append((template.filename_prefix, prefix))


def _apply(template: WorkflowTemplate, plan: _Plan) -> Graph:
    graph: Graph = copy.deepcopy(dict(template.graph))
    for target, value in plan.writes:
        graph[target.node]["inputs"][target.input] = value
    remove_nodes(graph, plan.removals)
    return graph


def bind(
    template: WorkflowTemplate,
    params: ResolvedParameters,
    *,
    images: Mapping[str, str],
    models: ModelFiles | None = None,
    filename_prefix: str,
) -> dict[str, Any]:
    """The API-format prompt for `template` with every value written where the manifest says.

    `params` comes from `resolve_parameters` (its values are checked again) with a concrete
    seed; `images` maps image parameters to the names ComfyUI gave the uploads; `models`
    overrides the slots' default file names. An optional image that is not given takes its
    loader node, and every link to it, out of the graph. Raises BindingError listing all problems.
    """
    plan = _Plan()
    _plan_values(template, params, plan)
    _plan_seed(template, params, plan)
    _plan_images(template, images, plan)
    _plan_models(template, models or {}, plan)
    _plan_prefix(template, filename_prefix, plan)
    if plan.problems:
        raise BindingError(template.name, plan.problems)
    return _apply(template, plan)


def check_model_files(template: WorkflowTemplate, models: ModelFiles) -> None:
    """Refuse model settings that name unknown slots or empty file names (for start-up checks)."""
    plan = _Plan()
    _plan_models(template, models, plan)
    if plan.problems:
        raise BindingError(template.name, plan.problems)
