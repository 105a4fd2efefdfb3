"""The error objects POST /prompt answers with, shaped exactly as ComfyUI 0.8.0 shapes them."""

from __future__ import annotations

from typing import Any

from comfy.emulator import tracebacks

ErrorDict = dict[str, Any]
InputConfig = tuple[Any, dict[str, Any]] | None


class ValidationCrash(Exception):
    """A Python exception inside ComfyUI's validator (missing node, bad slot, ...)."""

    def __init__(self, cause: Exception, frame: str) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.frame = frame

    @property
    def type_name(self) -> str:
        kind = type(self.cause)
        module = kind.__module__
        return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"


def whole_prompt(kind: str, message: str, details: str = "") -> ErrorDict:
    return {"type": kind, "message": message, "details": details, "extra_info": {}}


def invalid_prompt(message: str, node_id: str) -> ErrorDict:
    return whole_prompt("invalid_prompt", message, f"Node ID '#{node_id}'")


def no_outputs() -> ErrorDict:
    return whole_prompt("prompt_no_outputs", "Prompt has no outputs")


def no_prompt() -> ErrorDict:
    return whole_prompt("no_prompt", "No prompt provided", "No prompt provided")


def outputs_failed(reasons: list[ErrorDict]) -> ErrorDict:
    details = "\n".join(f"{reason['message']}: {reason['details']}" for reason in reasons)
    return whole_prompt(
        "prompt_outputs_failed_validation", "Prompt outputs failed validation", details
    )


def required_missing(name: str) -> ErrorDict:
    return _error("required_input_missing", "Required input is missing", name, {"input_name": name})


def bad_link(name: str, config: InputConfig, value: Any) -> ErrorDict:
    return _error(
        "bad_linked_input",
        "Bad linked input, must be a length-2 list of [node_id, slot_index]",
        name,
        {"input_name": name, "input_config": _shown(config), "received_value": value},
    )


def type_mismatch(name: str, config: InputConfig, received: Any, link: list[Any]) -> ErrorDict:
    expected = config[0] if config is not None else None
    return _error(
        "return_type_mismatch",
        "Return type mismatch between linked nodes",
        f"{name}, received_type({received}) mismatch input_type({expected})",
        {
            "input_name": name,
            "input_config": _shown(config),
            "received_type": received,
            "linked_node": link,
        },
    )


def inner_exception(
    name: str, config: InputConfig, crash: ValidationCrash, link: list[Any]
) -> ErrorDict:
    return _error(
        "exception_during_inner_validation",
        "Exception when validating inner node",
        str(crash),
        {
            "input_name": name,
            "input_config": _shown(config),
            "exception_message": str(crash),
            "exception_type": crash.type_name,
            "traceback": [tracebacks.VALIDATION_RECURSION, crash.frame],
            "linked_node": link,
        },
    )


def root_exception(crash: ValidationCrash) -> ErrorDict:
    return _error(
        "exception_during_validation",
        "Exception when validating node",
        str(crash),
        {
            "exception_type": crash.type_name,
            "traceback": [tracebacks.VALIDATION_ROOT, crash.frame],
        },
    )


def conversion_failed(
    name: str, io_type: str, config: InputConfig, value: Any, cause: Exception
) -> ErrorDict:
    return _error(
        "invalid_input_type",
        f"Failed to convert an input value to a {io_type} value",
        f"{name}, {value}, {cause}",
        {
            "input_name": name,
            "input_config": _shown(config),
            "received_value": value,
            "exception_message": str(cause),
        },
    )


def below_min(name: str, config: InputConfig, value: Any, limit: Any) -> ErrorDict:
    message = f"Value {value} smaller than min of {limit}"
    return _ranged("value_smaller_than_min", message, name, config, value)


def above_max(name: str, config: InputConfig, value: Any, limit: Any) -> ErrorDict:
    message = f"Value {value} bigger than max of {limit}"
    return _ranged("value_bigger_than_max", message, name, config, value)


def not_in_list(name: str, config: InputConfig, value: Any, options: list[str]) -> ErrorDict:
    long_list = len(options) > 20
    listed = f"(list of length {len(options)})" if long_list else str(options)
    return _error(
        "value_not_in_list",
        "Value not in list",
        f"{name}: '{value}' not in {listed}",
        {
            "input_name": name,
            "input_config": None if long_list else _shown(config),
            "received_value": value,
        },
    )


def custom_failed(name: str, reason: str | bool) -> ErrorDict:
    details = name if reason is False else f"{name} - {reason}"
    return _error(
        "custom_validation_failed",
        "Custom validation failed for node",
        details,
        {"input_name": name},
    )


def _ranged(kind: str, message: str, name: str, config: InputConfig, value: Any) -> ErrorDict:
    extra = {"input_name": name, "input_config": _shown(config), "received_value": value}
    return _error(kind, message, name, extra)


def _error(kind: str, message: str, details: str, extra: dict[str, Any]) -> ErrorDict:
    return {"type": kind, "message": message, "details": details, "extra_info": extra}


def _shown(config: InputConfig) -> list[Any] | None:
    return None if config is None else [config[0], config[1]]
