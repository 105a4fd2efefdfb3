"""The node catalogue: input/output declarations of every emulated node type, and /object_info."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from comfy.emulator.values import NodeResult

Section = Literal["required", "optional"]


class ChoiceSource(Protocol):
    """Lists that change while the server runs (model folders, uploaded images)."""

    def choices(self, source: str) -> list[str]: ...


class NodeContext(Protocol):
    """What a running node may use besides its inputs."""

    @property
    def node_id(self) -> str: ...

    @property
    def prompt(self) -> Mapping[str, Any]: ...

    @property
    def extra_data(self) -> Mapping[str, Any]: ...

    @property
    def environment(self) -> Any: ...

    async def sampler_step(self, value: int, total: int, preview: Callable[[], bytes]) -> None:
        """Wait one step (interruptible), then report it; `preview` renders a JPEG if wanted."""


NodeFunction = Callable[[dict[str, Any], NodeContext], Awaitable[NodeResult]]
CustomValidator = Callable[[dict[str, Any], Any], "str | bool"]
ChangeProbe = Callable[[dict[str, Any], Any], str]


@dataclass(frozen=True)
class InputSpec:
    """One input. `io_type` is the ComfyUI type; combos list `choices` or name a `choices_from`."""

    name: str
    io_type: str
    extra: Mapping[str, Any] | None = None
    section: Section = "required"
    choices: tuple[str, ...] = ()
    choices_from: str | None = None
    schema_v3: bool = False
    """V3 nodes show combos as ["COMBO", {..., "options": [...]}] and always carry a dict."""

    @property
    def is_combo(self) -> bool:
        return self.io_type == "COMBO"

    def options(self, source: ChoiceSource) -> list[str]:
        if self.choices_from is not None:
            return source.choices(self.choices_from)
        return list(self.choices)

    def config(self, source: ChoiceSource) -> list[Any]:
        """The [type, extra] pair as /object_info shows it."""
        extra = dict(self.extra or {})
        if self.is_combo and self.schema_v3:
            extra["options"] = self.options(source)
            return ["COMBO", extra]
        head: Any = self.options(source) if self.is_combo else self.io_type
        if self.extra is None and not self.schema_v3:
            return [head]
        return [head, extra]

    def validation_config(self, source: ChoiceSource) -> tuple[Any, dict[str, Any]]:
        """The (type, extra) pair validation reports as `input_config`."""
        shown = self.config(source)
        return shown[0], (shown[1] if len(shown) > 1 else {})


@dataclass(frozen=True)
class NodeSpec:
    name: str
    display_name: str
    category: str
    description: str
    inputs: tuple[InputSpec, ...]
    outputs: tuple[str, ...]
    run: NodeFunction
    python_module: str = "nodes"
    output_names: tuple[str, ...] | None = None
    output_tooltips: tuple[str, ...] | None = None
    output_node: bool = False
    hidden: tuple[tuple[str, str], ...] = ()
    custom_validation: CustomValidator | None = None
    """Like VALIDATE_INPUTS: its inputs skip range and list checks; returns True or a reason."""
    validated_inputs: tuple[str, ...] = ()
    change_probe: ChangeProbe | None = None
    """Like IS_CHANGED: its result joins the cache signature."""

    def section(self, section: Section) -> tuple[InputSpec, ...]:
        return tuple(spec for spec in self.inputs if spec.section == section)

    def find_input(self, name: str) -> InputSpec | None:
        return next((spec for spec in self.inputs if spec.name == name), None)

    def object_info(self, source: ChoiceSource) -> dict[str, Any]:
        info: dict[str, Any] = {"input": {}, "input_order": {}}
        for section in ("required", "optional"):
            specs = self.section(section)
            if specs or section == "required":
                info["input"][section] = {spec.name: spec.config(source) for spec in specs}
                info["input_order"][section] = [spec.name for spec in specs]
        if self.hidden:
            info["input"]["hidden"] = dict(self.hidden)
            info["input_order"]["hidden"] = [name for name, _ in self.hidden]
        info.update(self._describe_outputs())
        return info

    def _describe_outputs(self) -> dict[str, Any]:
        described: dict[str, Any] = {
            "output": list(self.outputs),
            "output_is_list": [False] * len(self.outputs),
            "output_name": list(self.output_names or self.outputs),
            "name": self.name,
            "display_name": self.display_name,
            "description": self.description,
            "python_module": self.python_module,
            "category": self.category,
            "output_node": self.output_node,
        }
        if self.output_tooltips is not None:
            described["output_tooltips"] = list(self.output_tooltips)
        return described


@dataclass(frozen=True)
class NodeCatalogue:
    specs: Mapping[str, NodeSpec] = field(default_factory=dict)

    @classmethod
    def of(cls, specs: Iterable[NodeSpec]) -> NodeCatalogue:
        return cls({spec.name: spec for spec in specs})

    def get(self, class_type: object) -> NodeSpec | None:
        if not isinstance(class_type, str):
            return None
        return self.specs.get(class_type)

    def object_info(self, source: ChoiceSource) -> dict[str, Any]:
        return {name: spec.object_info(source) for name, spec in self.specs.items()}
