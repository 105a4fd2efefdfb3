"""Reading typed fields out of decoded JSON, collecting every problem instead of stopping at one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__


class FieldReader:
    """Typed access to one JSON object; `where` names it in problems; `finish` flags unread keys."""

    def __init__(self, data: object, where: str, problems: list[str]) -> None:
        self._where = where
        self._problems = problems
        self._seen: set[str] = set()
        self._data: dict[str, Any] = data if isinstance(data, dict) else {}
        if not isinstance(data, dict):
            self.problem(f"must be an object, got {_kind(data)}")

    def problem(self, message: str) -> None:
        self._problems.append(f"{self._where}: {message}")

    def raw(self, key: str) -> object:
        self._seen.add(key)
        return self._data.get(key)

    def _typed(self, key: str, types: tuple[type, ...], label: str) -> Any:
        value = self.raw(key)
        if value is None:
            return None
        if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
            self.problem(f"{key!r} must be {label}, got {_kind(value)}")
            return None
        return value

    def text(self, key: str) -> str:
        """A required non-empty string ("" after reporting a problem)."""
        value: str | None = self._typed(key, (str,), "a string")
        if value is None and self._data.get(key) is None:
            self.problem(f"{key!r} is required")
        elif value == "":
            self.problem(f"{key!r} must not be empty")
        return value or ""

    def optional_text(self, key: str, default: str = "") -> str:
        value = self._typed(key, (str,), "a string")
        return default if value is None else str(value)

    def flag(self, key: str) -> bool:
        return bool(self._typed(key, (bool,), "true or false"))

    def integer(self, key: str) -> int | None:
        value = self._typed(key, (int,), "a whole number")
        return None if value is None else int(value)

    def number(self, key: str) -> int | float | None:
        value: int | float | None = self._typed(key, (int, float), "a number")
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        values = self._typed(key, (list,), "a list of strings") or []
        if not all(isinstance(item, str) for item in values):
            self.problem(f"{key!r} must hold only strings")
            return ()
        return tuple(values)

    def child(self, key: str) -> FieldReader:
        return FieldReader(self.raw(key), f"{self._where}.{key}", self._problems)

    def children(self, key: str) -> Iterator[tuple[int, FieldReader]]:
        values = self._typed(key, (list,), "a list of objects") or []
        for index, item in enumerate(values):
            yield index, FieldReader(item, f"{self._where}.{key}[{index}]", self._problems)

    def finish(self) -> None:
        """Report keys nobody read: a misspelt key must not be ignored silently."""
        for key in sorted(set(self._data) - self._seen):
            self.problem(f"unknown key {key!r}")
