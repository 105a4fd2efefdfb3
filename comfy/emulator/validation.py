"""POST /prompt validation, reproducing ComfyUI 0.8.0's verdicts, order and in-place conversions.

Blocking (it looks at the input folder): run it in a thread.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from comfy.emulator import tracebacks
from comfy.emulator import validation_errors as errors
from comfy.emulator.catalogue import InputSpec, NodeCatalogue, NodeSpec
from comfy.emulator.environment import Environment
from comfy.emulator.validation_errors import ErrorDict, ValidationCrash

Outcome = tuple[bool, list[ErrorDict], str]
CONVERTERS: dict[str, type] = {"INT": int, "FLOAT": float, "STRING": str, "BOOLEAN": bool}


class MalformedPrompt(Exception):
    """ComfyUI crashes on this body (it answers a plain-text 500)."""


@dataclass
class Verdict:
    ok: bool
    error: ErrorDict | None = None
    outputs: list[str] = field(default_factory=list)
    node_errors: dict[str, Any] = field(default_factory=dict)


class PromptValidator:
    def __init__(self, catalogue: NodeCatalogue, environment: Environment) -> None:
        self.catalogue = catalogue
        self.environment = environment

    def validate(self, prompt: object, targets: object = None) -> Verdict:
        if not isinstance(prompt, dict):
            raise MalformedPrompt("prompt is not an object")
        outputs, problem = self._find_outputs(prompt, targets)
        if problem is not None:
            return Verdict(False, problem)
        if not outputs:
            return Verdict(False, errors.no_outputs())
        return _Run(self, prompt).check(outputs)

    def _find_outputs(
        self, prompt: dict[str, Any], targets: object
    ) -> tuple[list[str], ErrorDict | None]:
        outputs: list[str] = []
        for node_id, node in prompt.items():
            if not _has_class_type(node):
                message = "Cannot execute because a node is missing the class_type property."
                return [], errors.invalid_prompt(message, node_id)
            spec = self._spec_of(node["class_type"])
            if spec is None:
                message = f"Cannot execute because node {node['class_type']} does not exist."
                return [], errors.invalid_prompt(message, node_id)
            if spec.output_node and _targeted(node_id, targets):
                outputs.append(node_id)
        return outputs, None

    def _spec_of(self, class_type: object) -> NodeSpec | None:
        if not isinstance(class_type, Hashable):
            raise MalformedPrompt("class_type is not hashable")
        return self.catalogue.get(class_type)


class _Run:
    """One validation pass; `validated` remembers every node's outcome, in completion order."""

    def __init__(self, validator: PromptValidator, prompt: dict[str, Any]) -> None:
        self.catalogue = validator.catalogue
        self.environment = validator.environment
        self.prompt = prompt
        self.validated: dict[str, Outcome] = {}

    def check(self, outputs: list[str]) -> Verdict:
        good: list[str] = []
        failed: list[ErrorDict] = []
        node_errors: dict[str, Any] = {}
        for output in outputs:
            valid, reasons = self._check_output(output)
            if valid:
                good.append(output)
                continue
            failed.extend(reasons)
            self._collect(output, node_errors)
        if not good:
            return Verdict(False, errors.outputs_failed(failed), [], node_errors)
        return Verdict(True, None, good, node_errors)

    def _check_output(self, output: str) -> tuple[bool, list[ErrorDict]]:
        try:
            valid, reasons, _ = self.node(output)
        except ValidationCrash as crash:
            reasons = [errors.root_exception(crash)]
            self.validated[output] = (False, reasons, output)
            return False, reasons
        return valid, reasons

    def _collect(self, output: str, node_errors: dict[str, Any]) -> None:
        for node_id, (valid, reasons, _) in self.validated.items():
            if valid or not reasons:
                continue
            if node_id not in node_errors:
                class_type = self.prompt[node_id]["class_type"]
                node_errors[node_id] = {
                    "errors": reasons,
                    "dependent_outputs": [],
                    "class_type": class_type,
                }
            node_errors[node_id]["dependent_outputs"].append(output)

    def node(self, node_id: str) -> Outcome:
        if node_id in self.validated:
            return self.validated[node_id]
        spec, inputs = self._node_inputs(node_id)
        found: list[ErrorDict] = []
        valid = True
        for input_spec in (*spec.section("required"), *spec.section("optional")):
            valid = self._check_input(spec, input_spec, inputs, found) and valid
        found.extend(self._custom(spec, inputs))
        outcome: Outcome = (not found and valid, found, node_id)
        self.validated[node_id] = outcome
        return outcome

    def _node_inputs(self, node_id: str) -> tuple[NodeSpec, dict[str, Any]]:
        node = self.prompt[node_id]
        try:
            inputs = node["inputs"]
        except KeyError as exc:
            raise ValidationCrash(exc, tracebacks.INPUTS_LOOKUP) from exc
        spec = self.catalogue.get(node["class_type"])
        if spec is None or not isinstance(inputs, dict):
            raise MalformedPrompt(f"node {node_id} cannot be validated")
        return spec, inputs

    def _check_input(
        self, spec: NodeSpec, input_spec: InputSpec, inputs: dict[str, Any], found: list[ErrorDict]
    ) -> bool:
        name = input_spec.name
        if name not in inputs:
            if input_spec.section == "required":
                found.append(errors.required_missing(name))
            return True
        value = inputs[name]
        config = input_spec.validation_config(self.environment)
        if isinstance(value, list):
            return self._check_link(input_spec, config, value, found)
        problem = self._check_value(spec, input_spec, config, inputs)
        if problem is not None:
            found.append(problem)
        return True

    def _check_link(
        self,
        input_spec: InputSpec,
        config: tuple[Any, dict[str, Any]],
        link: list[Any],
        found: list[ErrorDict],
    ) -> bool:
        if len(link) != 2:
            found.append(errors.bad_link(input_spec.name, config, link))
            return True
        received = self._linked_type(link)
        if not _compatible(received, config[0]):
            found.append(errors.type_mismatch(input_spec.name, config, received, link))
            return True
        try:
            valid, _, _ = self.node(link[0])
        except ValidationCrash as crash:
            reasons = [errors.inner_exception(input_spec.name, config, crash, link)]
            self.validated[link[0]] = (False, reasons, link[0])
            return False
        return valid

    def _linked_type(self, link: list[Any]) -> Any:
        try:
            class_type = self.prompt[link[0]]["class_type"]
        except (KeyError, TypeError) as exc:
            raise ValidationCrash(exc, tracebacks.LINKED_CLASS_LOOKUP) from exc
        source = self.catalogue.get(class_type)
        if source is None:
            raise MalformedPrompt(f"linked node {link[0]} has no known class")
        try:
            return source.outputs[link[1]]
        except (IndexError, TypeError) as exc:
            raise ValidationCrash(exc, tracebacks.LINKED_SLOT_LOOKUP) from exc

    def _check_value(
        self,
        spec: NodeSpec,
        input_spec: InputSpec,
        config: tuple[Any, dict[str, Any]],
        inputs: dict[str, Any],
    ) -> ErrorDict | None:
        name = input_spec.name
        raw = inputs[name]
        if isinstance(raw, dict) and "__value__" in raw:
            raw = inputs[name] = raw["__value__"]
        converter = CONVERTERS.get(input_spec.io_type)
        if converter is not None:
            try:
                inputs[name] = converter(raw)
            except (TypeError, ValueError) as exc:
                return errors.conversion_failed(name, input_spec.io_type, config, raw, exc)
        if name in spec.validated_inputs:
            return None
        return self._check_limits(input_spec, config, inputs[name])

    def _check_limits(
        self, input_spec: InputSpec, config: tuple[Any, dict[str, Any]], value: Any
    ) -> ErrorDict | None:
        extra, name = config[1], input_spec.name
        if "min" in extra and value < extra["min"]:
            return errors.below_min(name, config, value, extra["min"])
        if "max" in extra and value > extra["max"]:
            return errors.above_max(name, config, value, extra["max"])
        if input_spec.is_combo:
            options = input_spec.options(self.environment)
            if value not in options:
                return errors.not_in_list(name, config, value, options)
        return None

    def _custom(self, spec: NodeSpec, inputs: dict[str, Any]) -> list[ErrorDict]:
        if spec.custom_validation is None:
            return []
        checked = [name for name in spec.validated_inputs if name in inputs]
        if len(checked) != len(spec.validated_inputs):
            return []
        verdict = spec.custom_validation(inputs, self.environment)
        if verdict is True:
            return []
        return [errors.custom_failed(name, verdict) for name in checked]


def _has_class_type(node: object) -> bool:
    if isinstance(node, dict):
        return "class_type" in node
    if isinstance(node, (str, list, tuple)) and "class_type" not in node:
        return False
    raise MalformedPrompt("node is not an object")


def _targeted(node_id: str, targets: object) -> bool:
    if targets is None:
        return True
    if not isinstance(targets, Sequence):
        raise MalformedPrompt("partial_execution_targets is not a list")
    return node_id in targets


def _compatible(received: Any, expected: Any) -> bool:
    if received == expected:
        return True
    if not isinstance(received, str) or not isinstance(expected, str):
        return False
    if "*" in (received, expected):
        return True
    if "," not in received and "," not in expected:
        return False
    return bool(_type_set(received) & _type_set(expected))


def _type_set(types: str) -> set[str]:
    return {part.strip() for part in types.split(",")}
