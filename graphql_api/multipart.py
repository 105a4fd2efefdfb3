"""The GraphQL multipart request spec, checked: `operations` is a JSON request (or a batch),
`map` names file parts and, for each, the paths where it replaces a null in `operations`.
Anything else is a MalformedMultipart with a sentence saying what (the view answers 400)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MAX_INDEX_DIGITS = 9


class MalformedMultipart(ValueError):
    """A multipart request that does not follow the spec."""


def operations_with_files(
    operations: object, files_map: object, files: Mapping[str, object]
) -> Any:
    """`operations` (parsed JSON, changed in place) with each mapped file put where the map
    says; `files` are the request's file parts by name."""
    if not isinstance(operations, dict | list):
        raise MalformedMultipart("The `operations` field must be a JSON object (or a list).")
    if not isinstance(files_map, dict):
        raise MalformedMultipart(
            "The `map` field must be a JSON object from file part names to lists of paths."
        )
    for name, paths in files_map.items():
        if not isinstance(paths, list) or not all(isinstance(path, str) for path in paths):
            raise MalformedMultipart(f"`map` entry {name!r} must be a list of paths.")
        if name not in files:
            raise MalformedMultipart(f"`map` names a file part {name!r} the request lacks.")
        for path in paths:
            place(operations, path, files[name])
    return operations


def place(operations: dict[str, Any] | list[Any], path: str, file: object) -> None:
    """Put `file` at `path` (dot-separated keys and list indexes), where a null must be."""
    *steps, last = path.split(".")
    container: object = operations
    for key in steps:
        container = child(container, key, path)
    if isinstance(container, dict) and last in container and container[last] is None:
        container[last] = file
        return
    if isinstance(container, list) and is_index(last, container) and container[int(last)] is None:
        container[int(last)] = file
        return
    raise MalformedMultipart(f"The map path {path!r} does not lead to a null in `operations`.")


def child(container: object, key: str, path: str) -> object:
    if isinstance(container, dict) and key in container:
        return container[key]
    if isinstance(container, list) and is_index(key, container):
        return container[int(key)]
    raise MalformedMultipart(f"The map path {path!r} does not exist in `operations`.")


def is_index(key: str, items: list[Any]) -> bool:
    return (
        key.isascii() and key.isdigit() and len(key) <= MAX_INDEX_DIGITS and int(key) < len(items)
    )
