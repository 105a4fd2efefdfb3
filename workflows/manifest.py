"""Loading one template: a `<name>.bindings.json` manifest and the API-format graph it names.

A broken manifest never loads: `load_template` raises `ManifestError` listing every problem
(unknown keys, wrong types, bindings to missing nodes or inputs, bad ranges or defaults).
The file reads are blocking; load templates once, at start-up, off the event loop.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from workflows.consistency import template_problems
from workflows.errors import ManifestError
from workflows.parsing import parse_template
from workflows.template import (
    SEED_BITS,
    SEED_MAX,
    ModelSlot,
    NodeInput,
    ParameterSpec,
    ParameterType,
    ParameterValue,
    WorkflowTemplate,
)

__all__ = [
    "MANIFEST_SUFFIX",
    "SEED_BITS",
    "SEED_MAX",
    "ManifestError",
    "ModelSlot",
    "NodeInput",
    "ParameterSpec",
    "ParameterType",
    "ParameterValue",
    "WorkflowTemplate",
    "load_template",
]

MANIFEST_SUFFIX = ".bindings.json"


def _read_json(path: Path, source: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(source, [f"cannot read {path.name}: {exc}"]) from exc


def graph_path(manifest_path: Path, document: dict[str, Any]) -> Path:
    """The graph file: the manifest's `graph` (a file name beside it) or `<name>.json`."""
    named = document.get("graph")
    if named is None:
        return manifest_path.with_name(manifest_path.name.removesuffix(MANIFEST_SUFFIX) + ".json")
    if not isinstance(named, str) or Path(named).name != named or named in ("", ".", ".."):
        raise ManifestError(str(manifest_path), [f"'graph' must be a file name, got {named!r}"])
    return manifest_path.with_name(named)


def load_template(manifest_path: Path) -> WorkflowTemplate:
    """Read, parse and check one manifest and its graph."""
    source = str(manifest_path)
    document = _read_json(manifest_path, source)
    if not isinstance(document, dict):
        raise ManifestError(source, ["the manifest must be a JSON object"])
    graph = _read_json(graph_path(manifest_path, document), source)
    problems: list[str] = []
    graph_nodes = graph if isinstance(graph, dict) else {}
    template = parse_template(document, graph_nodes, "manifest", problems)
    if not isinstance(graph, dict):
        problems.append("the graph file must hold a JSON object of nodes")
    problems = problems or template_problems(template)
    if problems:
        raise ManifestError(source, problems)
    return template
