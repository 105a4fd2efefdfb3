"""What a ComfyUI server can run, read from its /object_info: node types and model files.

The same reading serves a backend's readiness, `kontext check-workflow --comfyui` and the
dispatcher's choice of a backend for a template.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from comfy.object_info import input_choices
from workflows.template import RequiredModel, WorkflowTemplate

SHOWN_CHOICES = 20


def missing_model(object_info: Mapping[str, Any], model: RequiredModel) -> str | None:
    """Why the server cannot load this model file; None when it can (or cannot tell)."""
    choices = input_choices(object_info, model.node_type, model.input)
    if choices is None or model.file_name in choices:
        return None
    shown = ", ".join(choices[:SHOWN_CHOICES]) or "none"
    if len(choices) > SHOWN_CHOICES:
        shown += f", … ({len(choices)} in all)"
    return (
        f"missing model file {model.file_name!r} (model slot {model.slot}, "
        f"{model.node_type}.{model.input}); the server offers: {shown}"
    )


def missing_requirements(
    object_info: Mapping[str, Any], node_types: Iterable[str], models: Iterable[RequiredModel]
) -> list[str]:
    """Every node type and model file the server lacks, as sentences; empty when it has all."""
    missing = sorted(set(node_types) - set(object_info))
    problems = [f"missing node types: {', '.join(missing)}"] if missing else []
    problems += [
        problem
        for model in sorted(models, key=lambda m: (m.slot, m.node_type, m.file_name))
        if (problem := missing_model(object_info, model)) is not None
    ]
    return problems


def template_problems_on(
    object_info: Mapping[str, Any], template: WorkflowTemplate, chosen: Mapping[str, str]
) -> list[str]:
    """Why the server cannot run `template` (with the configured model files); empty if it can."""
    return missing_requirements(
        object_info, template.required_node_types, template.required_models(chosen)
    )
