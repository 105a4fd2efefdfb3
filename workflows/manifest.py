"""Workflow templates: an API-format ComfyUI graph plus a declarative manifest of its parameters."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

ParameterType = Literal["string", "int", "float", "seed", "enum", "image"]
PARAMETER_TYPES: frozenset[str] = frozenset({"string", "int", "float", "seed", "enum", "image"})


class ManifestError(ValueError):
    """A template's manifest does not fit its graph (raised when templates load)."""


@dataclass(frozen=True)
class InputRef:
    node: str
    input: str


@dataclass(frozen=True)
class ParameterSpec:
    name: str
    type: ParameterType
    target: InputRef
    description: str
    required: bool = False
    default: Any = None
    minimum: float | int | None = None
    maximum: float | int | None = None
    choices: tuple[str, ...] = ()
    max_length: int | None = None
    remove_when_absent: tuple[str, ...] = ()
    unlink: tuple[InputRef, ...] = ()


@dataclass(frozen=True)
class ModelSlot:
    slot: str
    target: InputRef
    description: str


@dataclass(frozen=True)
class WorkflowTemplate:
    name: str
    title: str
    description: str
    graph: dict[str, Any]
    output_node: str
    sampler_node: str
    filename_prefix: InputRef
    parameters: tuple[ParameterSpec, ...]
    models: tuple[ModelSlot, ...] = field(default=())

    def parameter(self, name: str) -> ParameterSpec | None:
        return next((p for p in self.parameters if p.name == name), None)

    @property
    def node_types(self) -> frozenset[str]:
        return frozenset(str(node["class_type"]) for node in self.graph.values())


def _ref(data: dict[str, Any]) -> InputRef:
    return InputRef(node=str(data["node"]), input=str(data["input"]))


def _parameter(data: dict[str, Any]) -> ParameterSpec:
    if data["type"] not in PARAMETER_TYPES:
        raise ManifestError(f"parameter {data['name']!r} has unknown type {data['type']!r}")
    return ParameterSpec(
        name=data["name"],
        type=data["type"],
        target=_ref(data),
        description=data.get("description", ""),
        required=bool(data.get("required", False)),
        default=data.get("default"),
        minimum=data.get("minimum"),
        maximum=data.get("maximum"),
        choices=tuple(data.get("choices", ())),
        max_length=data.get("max_length"),
        remove_when_absent=tuple(data.get("remove_when_absent", ())),
        unlink=tuple(_ref(item) for item in data.get("unlink", ())),
    )


def load_template(manifest_path: Path) -> WorkflowTemplate:
    """Read a `<name>.bindings.json` manifest and the graph it names, and check they agree."""
    try:
        data = json.loads(manifest_path.read_text())
        graph = json.loads((manifest_path.parent / data["graph"]).read_text())
        template = WorkflowTemplate(
            name=data["name"],
            title=data.get("title", data["name"]),
            description=data.get("description", ""),
            graph=graph,
            output_node=str(data["output_node"]),
            sampler_node=str(data["sampler_node"]),
            filename_prefix=_ref(data["filename_prefix"]),
            parameters=tuple(_parameter(item) for item in data["parameters"]),
            models=tuple(
                ModelSlot(slot=m["slot"], target=_ref(m), description=m.get("description", ""))
                for m in data.get("models", ())
            ),
        )
    except (OSError, KeyError, TypeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"{manifest_path.name}: {exc!r}") from exc
    check_template(template)
    return template


def check_template(template: WorkflowTemplate) -> None:
    refs = [p.target for p in template.parameters] + [m.target for m in template.models]
    refs += [template.filename_prefix] + [u for p in template.parameters for u in p.unlink]
    for ref in refs:
        node = template.graph.get(ref.node)
        if node is None or ref.input not in node.get("inputs", {}):
            raise ManifestError(f"{template.name}: no input {ref.input!r} on node {ref.node!r}")
    for node_id in (template.output_node, template.sampler_node):
        if node_id not in template.graph:
            raise ManifestError(f"{template.name}: no node {node_id!r} in the graph")
