"""Shared helpers for the workflows tests: the accepted graph and template copies to break."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workflows.registry import PACKAGE_DIR

KONTEXT = "flux_kontext_dev_basic"
ACCEPTED_PATH = Path(__file__).parent / "accepted_by_comfyui_0_8_0.api.json"

# The values the accepted graph carries where the binder writes.
ACCEPTED_VALUES: dict[str, Any] = {
    "description": (
        "Using this elegant style, create a portrait of a swan wearing a pearl tiara and lace "
        "collar, maintaining the same refined quality and soft color tones."
    ),
    "seed": 784381637916598,
    "image": "ref.png",
    "filename_prefix": "ComfyUI",
}


def accepted_graph() -> dict[str, Any]:
    graph: dict[str, Any] = json.loads(ACCEPTED_PATH.read_text())
    return graph


def kontext_manifest() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((PACKAGE_DIR / f"{KONTEXT}.bindings.json").read_text())
    return document


def kontext_graph() -> dict[str, Any]:
    graph: dict[str, Any] = json.loads((PACKAGE_DIR / f"{KONTEXT}.json").read_text())
    return graph


def write_kontext_copy(
    folder: Path,
    edit_manifest: Callable[[dict[str, Any]], object] = lambda _: None,
    edit_graph: Callable[[dict[str, Any]], object] = lambda _: None,
) -> Path:
    """The shipped template's two files copied into `folder`, each edited first."""
    manifest, graph = kontext_manifest(), kontext_graph()
    edit_manifest(manifest)
    edit_graph(graph)
    (folder / f"{KONTEXT}.bindings.json").write_text(json.dumps(manifest))
    (folder / f"{KONTEXT}.json").write_text(json.dumps(graph))
    return folder


def copy_kontext(folder: Path) -> None:
    for name in (f"{KONTEXT}.json", f"{KONTEXT}.bindings.json"):
        shutil.copy(PACKAGE_DIR / name, folder / name)


def parameter(manifest: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(p for p in manifest["parameters"] if p["name"] == name)
    return found


def link_sources(graph: dict[str, Any]) -> list[str]:
    return [
        value[0]
        for node in graph.values()
        for value in node["inputs"].values()
        if isinstance(value, list)
    ]
