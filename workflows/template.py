"""What a workflow template is: an API-format graph and the public face its manifest gives it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

ParameterValue = str | int | float
SEED_BITS = 64
SEED_MAX = 2**SEED_BITS - 1
"""A seed is an unsigned 64-bit integer, as ComfyUI's samplers take it: 0..SEED_MAX."""


class ParameterType(StrEnum):
    STRING = "string"
    INT = "int"
    FLOAT = "float"
    SEED = "seed"
    ENUM = "enum"
    IMAGE = "image"

    @property
    def is_integral(self) -> bool:
        return self in (ParameterType.INT, ParameterType.SEED)

    @property
    def is_numeric(self) -> bool:
        return self in (ParameterType.INT, ParameterType.SEED, ParameterType.FLOAT)


@dataclass(frozen=True)
class NodeInput:
    """One input of one node of the graph: where a value gets written."""

    node: str
    input: str

    def __str__(self) -> str:
        return f"{self.node}.{self.input}"


@dataclass(frozen=True)
class ParameterSpec:
    """A public parameter: what callers may set, its rules, and the graph input it fills.

    Strings are stripped of surrounding whitespace before their length is checked. A `seed`
    whose value is None is for the caller to choose (at random). An image's value is the
    name ComfyUI gave the uploaded file. `remove_node_when_absent`: when an optional
    parameter gets no value, the target node and every link to it leave the graph.
    """

    name: str
    type: ParameterType
    target: NodeInput
    description: str
    required: bool = False
    default: ParameterValue | None = None
    minimum: int | float | None = None
    maximum: int | float | None = None
    step: int | float | None = None
    choices: tuple[str, ...] = ()
    min_length: int | None = None
    max_length: int | None = None
    remove_node_when_absent: bool = False


@dataclass(frozen=True)
class ModelSlot:
    """A model file the graph loads: a deployment setting, never a request parameter."""

    name: str
    target: NodeInput
    default: str
    description: str


@dataclass(frozen=True)
class RequiredModel:
    """A model file a backend must offer: the loader node type, its input and the file."""

    slot: str
    node_type: str
    input: str
    file_name: str


@dataclass(frozen=True)
class WorkflowTemplate:
    """A runnable template. `graph` is shared: never change it; `bind` returns a bound copy."""

    name: str
    title: str
    description: str
    graph: Mapping[str, Any]
    output_node: str
    sampler_node: str
    filename_prefix: NodeInput
    required_node_types: frozenset[str]
    parameters: tuple[ParameterSpec, ...]
    models: tuple[ModelSlot, ...] = ()

    def parameter(self, name: str) -> ParameterSpec | None:
        return next((spec for spec in self.parameters if spec.name == name), None)

    def model_slot(self, name: str) -> ModelSlot | None:
        return next((slot for slot in self.models if slot.name == name), None)

    def required_models(self, chosen: Mapping[str, str]) -> frozenset[RequiredModel]:
        """The model files this template loads, with the chosen file names (else the defaults)."""
        return frozenset(
            RequiredModel(
                slot=slot.name,
                node_type=str(self.graph[slot.target.node]["class_type"]),
                input=slot.target.input,
                file_name=chosen.get(slot.name, slot.default),
            )
            for slot in self.models
        )

    @property
    def value_parameters(self) -> tuple[ParameterSpec, ...]:
        """The parameters `resolve_parameters` takes (all but seeds and images)."""
        excluded = (ParameterType.IMAGE, ParameterType.SEED)
        return tuple(spec for spec in self.parameters if spec.type not in excluded)

    @property
    def image_parameters(self) -> tuple[ParameterSpec, ...]:
        return tuple(spec for spec in self.parameters if spec.type is ParameterType.IMAGE)

    @property
    def seed_parameter(self) -> ParameterSpec | None:
        return next((s for s in self.parameters if s.type is ParameterType.SEED), None)

    @property
    def node_types(self) -> frozenset[str]:
        """Every node type the graph uses (equal to `required_node_types`, checked at load)."""
        return frozenset(str(node["class_type"]) for node in self.graph.values())
