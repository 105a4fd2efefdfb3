"""The ComfyUI side reads and writes tasks through the store: no module of tasks/runtime imports
the ORM or the models, and only the runtime's own background owner starts asyncio tasks."""

from __future__ import annotations

import ast
from pathlib import Path

import tasks.runtime

RUNTIME = Path(tasks.runtime.__file__).parent
FORBIDDEN = ("tortoise", "tasks.store.models")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            modules.add(node.module)
    return modules


def test_no_runtime_module_imports_the_orm_or_the_models() -> None:
    offenders = {
        path.name: sorted(
            module
            for module in imported_modules(path)
            if any(module == f or module.startswith(f + ".") for f in FORBIDDEN)
        )
        for path in sorted(RUNTIME.glob("*.py"))
    }
    assert {name: found for name, found in offenders.items() if found} == {}
    assert len(offenders) > 10  # the walk found the runtime's modules


def test_no_runtime_module_starts_a_bare_asyncio_task() -> None:
    bare = [
        path.name for path in sorted(RUNTIME.glob("*.py")) if "create_task(" in path.read_text()
    ]
    assert bare == []
