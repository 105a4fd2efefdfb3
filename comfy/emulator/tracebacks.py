"""Traceback frames as ComfyUI 0.8.0 formats them, so emulated errors look like recorded ones."""

from __future__ import annotations

from pathlib import Path

COMFY = "<comfyui>"


def frame(
    path: str,
    line: int,
    function: str,
    code: str,
    underline: str | None = None,
    subscript: tuple[str, str] | None = None,
) -> str:
    """One `traceback.format_tb` entry, with Python 3.11's marker line under the failing part.

    `underline` is marked with carets; `subscript` = (value, index) marks `value[index]` as
    `~~~~^^^^`.
    """
    text = f'  File "{path}", line {line}, in {function}\n    {code}\n'
    if subscript is not None:
        value, index = subscript
        start = code.index(value + index)
        return text + "    " + " " * start + "~" * len(value) + "^" * len(index) + "\n"
    if underline is None:
        return text
    start = code.index(underline)
    return text + "    " + " " * start + "^" * len(underline) + "\n"


def _call(code: str, marker: str) -> str:
    return code[code.index(marker) :]


_EXECUTE = (
    "output_data, output_ui, has_subgraph, has_pending_tasks = await get_output_data("
    "prompt_id, unique_id, obj, input_data_all, execution_block_cb=execution_block_cb, "
    "pre_execute_cb=pre_execute_cb, v3_data=v3_data)"
)
_OUTPUT_DATA = (
    "return_values = await _async_map_node_over_list(prompt_id, unique_id, obj, input_data_all, "
    "obj.FUNCTION, allow_interrupt=True, execution_block_cb=execution_block_cb, "
    "pre_execute_cb=pre_execute_cb, v3_data=v3_data)"
)
_RECURSE = "r = await validate_inputs(prompt_id, prompt, o_id, validated)"
_ROOT_VALIDATE = "m = await validate_inputs(prompt_id, prompt, o, validated)"

NODE_EXECUTION = [
    frame(f"{COMFY}/execution.py", 518, "execute", _EXECUTE, _call(_EXECUTE, "await")),
    frame(
        f"{COMFY}/execution.py",
        329,
        "get_output_data",
        _OUTPUT_DATA,
        _call(_OUTPUT_DATA, "await"),
    ),
    frame(
        f"{COMFY}/execution.py",
        303,
        "_async_map_node_over_list",
        "await process_inputs(input_dict, i)",
    ),
    frame(f"{COMFY}/execution.py", 291, "process_inputs", "result = f(**inputs)", "f(**inputs)"),
]

VALIDATION_RECURSION = frame(
    f"{COMFY}/execution.py", 838, "validate_inputs", _RECURSE, _call(_RECURSE, "await")
)
VALIDATION_ROOT = frame(
    f"{COMFY}/execution.py", 1028, "validate_prompt", _ROOT_VALIDATE, _call(_ROOT_VALIDATE, "await")
)
LINKED_CLASS_LOOKUP = frame(
    f"{COMFY}/execution.py",
    818,
    "validate_inputs",
    "o_class_type = prompt[o_id]['class_type']",
    subscript=("prompt", "[o_id]"),
)
LINKED_SLOT_LOOKUP = frame(
    f"{COMFY}/execution.py",
    820,
    "validate_inputs",
    "received_type = r[val[1]]",
    subscript=("r", "[val[1]]"),
)
INPUTS_LOOKUP = frame(
    f"{COMFY}/execution.py",
    795,
    "validate_inputs",
    "inputs = prompt[unique_id]['inputs']",
    subscript=("prompt[unique_id]", "['inputs']"),
)


def load_vae_failure() -> list[str]:
    return [
        *NODE_EXECUTION,
        frame(
            f"{COMFY}/nodes.py",
            800,
            "load_vae",
            "sd = comfy.utils.load_torch_file(vae_path)",
            "comfy.utils.load_torch_file(vae_path)",
        ),
        frame(f"{COMFY}/comfy/utils.py", 80, "load_torch_file", "raise e"),
        frame(
            f"{COMFY}/comfy/utils.py",
            64,
            "load_torch_file",
            'with safetensors.safe_open(ckpt, framework="pt", device=device.type) as f:',
            'safetensors.safe_open(ckpt, framework="pt", device=device.type)',
        ),
    ]


def load_image_failure() -> list[str]:
    return [
        *NODE_EXECUTION,
        frame(
            f"{COMFY}/nodes.py",
            1664,
            "load_image",
            "img = node_helpers.pillow(Image.open, image_path)",
            "node_helpers.pillow(Image.open, image_path)",
        ),
        frame(f"{COMFY}/node_helpers.py", 31, "pillow", "x = fn(arg)", "fn(arg)"),
        frame(
            "<rig>/venv/lib/python3.11/site-packages/PIL/Image.py",
            3730,
            "open",
            "raise UnidentifiedImageError(msg)",
        ),
    ]


def emulated_failure(node_type: str) -> list[str]:
    return [*NODE_EXECUTION, frame(f"{COMFY}/nodes.py", 1, node_type, "raise emulated_fault()")]


def input_path(path: Path, folder: Path) -> str:
    """Show an input file the way the recordings do (`<comfyui>/input/name.png`)."""
    shown = path.relative_to(folder).as_posix() if path.is_relative_to(folder) else path.name
    return f"{COMFY}/input/{shown}"
